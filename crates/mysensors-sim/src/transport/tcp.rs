//! An Ethernet gateway: a TCP server the controller connects to. One controller at a time; a new
//! connection replaces the current one (a controller that reconnects must not wait for the old
//! socket to time out).

use super::GatewaySide;
use super::lines::{Ended, serve};
use crate::error::SimError;
use crate::event::SimEvent;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub async fn bind(listen: SocketAddr) -> Result<TcpListener, SimError> {
    TcpListener::bind(listen)
        .await
        .map_err(|e| SimError::io(format!("listen on {listen}"), e))
}

pub async fn run(listener: TcpListener, mut side: GatewaySide, cancel: CancellationToken) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "waiting for a controller");
        side.radio.shared().emit(SimEvent::Listening { addr });
    }
    let mut next: Option<(TcpStream, SocketAddr)> = None;
    loop {
        let (stream, peer) = match next.take() {
            Some(conn) => conn,
            None => tokio::select! {
                _ = cancel.cancelled() => return,
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!("accept: {e}");
                        side.drop_outbound_for(super::RECONNECT_DELAY, &cancel).await;
                        continue;
                    }
                },
                // Nodes keep running between controllers; what they send meanwhile is lost.
                _ = side.drop_outbound_for(std::time::Duration::from_secs(3600), &cancel) => continue,
            },
        };
        // Nagle would hold small frames back for the controller's delayed ACK.
        let _ = stream.set_nodelay(true);
        tracing::info!(%peer, "controller connected");
        match serve(stream, &mut side, listener.accept(), &cancel).await {
            Ended::Cancelled => return,
            Ended::Closed(reason) => side.controller_down(format!("{peer}: {reason}")),
            Ended::Preempted(Ok(conn)) => {
                side.controller_down(format!("{peer}: replaced by {}", conn.1));
                next = Some(conn);
            }
            Ended::Preempted(Err(e)) => side.controller_down(format!("accept: {e}")),
        }
    }
}
