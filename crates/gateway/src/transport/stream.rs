//! A framed byte stream (serial port, TCP socket) as a [`Connection`].

use super::framing::{LineSplitter, Split};
use super::{Connection, FrameSink, FrameSource, Framing, Inbound, RawFrame, TransportContext};
use crate::error::TransportError;
use crate::message_logger::{Direction, MessageLogger};
use async_trait::async_trait;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;

/// Bytes read from the stream at once.
const READ_CHUNK: usize = 4096;
/// A write that takes longer than this means the peer stopped reading: the connection is lost.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn connection<R, W>(
    reader: R,
    writer: W,
    name: String,
    ctx: &TransportContext,
    framing: Framing,
    transmit_pre_delay: Duration,
) -> Connection
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    Connection {
        sink: Arc::new(StreamSink {
            writer: Mutex::new(writer),
            name: name.clone(),
            delimiter: framing.delimiter,
            traffic: ctx.traffic.clone(),
            transmit_pre_delay,
        }),
        source: Box::new(StreamSource {
            reader,
            name,
            splitter: LineSplitter::new(framing),
            ready: VecDeque::new(),
            traffic: ctx.traffic.clone(),
            buf: vec![0; READ_CHUNK],
        }),
    }
}

struct StreamSink<W> {
    writer: Mutex<W>,
    name: String,
    delimiter: u8,
    traffic: MessageLogger,
    transmit_pre_delay: Duration,
}

#[async_trait]
impl<W: AsyncWrite + Send + Unpin> FrameSink for StreamSink<W> {
    async fn send(&self, frame: RawFrame) -> Result<(), TransportError> {
        let mut bytes = Vec::with_capacity(frame.payload.len() + 1);
        bytes.extend_from_slice(&frame.payload);
        bytes.push(self.delimiter);
        let mut writer = self.writer.lock().await;
        if !self.transmit_pre_delay.is_zero() {
            tokio::time::sleep(self.transmit_pre_delay).await;
        }
        let write = async {
            writer.write_all(&bytes).await?;
            writer.flush().await
        };
        match tokio::time::timeout(WRITE_TIMEOUT, write).await {
            Ok(Ok(())) => {
                self.traffic.log(Direction::Out, &self.name, &frame.payload);
                Ok(())
            }
            Ok(Err(e)) => Err(TransportError::Lost(format!(
                "writing to {}: {e}",
                self.name
            ))),
            Err(_) => Err(TransportError::Lost(format!(
                "writing to {} took over {WRITE_TIMEOUT:?}",
                self.name
            ))),
        }
    }
}

struct StreamSource<R> {
    reader: R,
    name: String,
    splitter: LineSplitter,
    /// What the last read completed; at most one read's worth (`READ_CHUNK` frames).
    ready: VecDeque<Split>,
    traffic: MessageLogger,
    buf: Vec<u8>,
}

#[async_trait]
impl<R: AsyncRead + Send + Unpin> FrameSource for StreamSource<R> {
    async fn next(&mut self) -> Result<Inbound, TransportError> {
        loop {
            if let Some(split) = self.ready.pop_front() {
                return Ok(match split {
                    Split::Frame(payload) => {
                        self.traffic.log(Direction::In, &self.name, &payload);
                        Inbound::Frame(RawFrame::line(payload))
                    }
                    Split::TooLong => Inbound::Rejected(format!(
                        "line longer than {} bytes without a delimiter; discarded",
                        self.splitter_max()
                    )),
                });
            }
            // Cancel-safe: nothing is consumed until the read completes.
            let n = self
                .reader
                .read(&mut self.buf)
                .await
                .map_err(|e| TransportError::Lost(format!("reading {}: {e}", self.name)))?;
            if n == 0 {
                return Err(TransportError::Lost(format!("{} closed", self.name)));
            }
            let mut out = Vec::new();
            self.splitter.push(&self.buf[..n], &mut out);
            self.ready.extend(out);
        }
    }
}

impl<R> StreamSource<R> {
    fn splitter_max(&self) -> usize {
        self.splitter.max_len()
    }
}
