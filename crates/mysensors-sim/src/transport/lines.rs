//! One line connection (serial port, TCP client, in-memory stream): read lines into the radio,
//! write the nodes' frames as lines.

use super::GatewaySide;
use crate::line_buffer::{LineBuffer, Piece};
use crate::radio::gateway_ready;
use std::future::Future;
use std::sync::atomic::Ordering;
use switchyard_gateway::providers::mysensors::protocol::parse_line;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// Frames written to the stream in one go when several are waiting.
const WRITE_BATCH: u64 = 64;

/// Why a connection ended.
#[derive(Debug)]
pub enum Ended<P> {
    Cancelled,
    Closed(String),
    /// `preempt` finished first (a newer TCP client): its output.
    Preempted(P),
}

/// Serves one connection until it closes, `cancel` fires or `preempt` completes. Announces the
/// gateway (I_GATEWAY_READY) first, as a MySensors gateway does when it starts or a client
/// connects.
pub async fn serve<S, F>(
    stream: S,
    side: &mut GatewaySide,
    preempt: F,
    cancel: &CancellationToken,
) -> Ended<F::Output>
where
    S: AsyncRead + AsyncWrite,
    F: Future,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let stats = side.radio.shared().stats.clone();
    if let Err(e) = writer
        .write_all(gateway_ready().encode_line().as_bytes())
        .await
    {
        return Ended::Closed(format!("write: {e}"));
    }
    side.controller_up();
    let mut lines = LineBuffer::default();
    let mut pieces = Vec::new();
    let mut read_buf = vec![0u8; 4096];
    let mut write_buf = String::new();
    tokio::pin!(preempt);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ended::Cancelled,
            p = &mut preempt => return Ended::Preempted(p),
            read = reader.read(&mut read_buf) => {
                let n = match read {
                    Ok(0) => return Ended::Closed("end of stream".into()),
                    Ok(n) => n,
                    Err(e) => return Ended::Closed(format!("read: {e}")),
                };
                lines.push(&read_buf[..n], &mut pieces);
                for piece in pieces.drain(..) {
                    match piece {
                        Piece::Line(line) if line.trim_ascii().is_empty() => {}
                        Piece::Line(line) => match parse_line(&line) {
                            Ok(frame) => side.radio.deliver(frame),
                            Err(e) => side.radio.shared().garbage(format!(
                                "{e}: {:?}",
                                String::from_utf8_lossy(&line[..line.len().min(80)])
                            )),
                        },
                        Piece::Overlong(len) => side
                            .radio
                            .shared()
                            .garbage(format!("line of {len}+ bytes without a newline")),
                    }
                }
            }
            frame = side.outbound.recv() => {
                let Some(frame) = frame else { return Ended::Cancelled };
                write_buf.clear();
                write_buf.push_str(&frame.encode_line());
                let mut count: u64 = 1;
                while count < WRITE_BATCH {
                    let Ok(more) = side.outbound.try_recv() else { break };
                    write_buf.push_str(&more.encode_line());
                    count += 1;
                }
                let written = async {
                    writer.write_all(write_buf.as_bytes()).await?;
                    writer.flush().await
                };
                if let Err(e) = written.await {
                    stats.dropped_offline.fetch_add(count, Ordering::Relaxed);
                    return Ended::Closed(format!("write: {e}"));
                }
                stats.frames_out.fetch_add(count, Ordering::Relaxed);
            }
        }
    }
}
