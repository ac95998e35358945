//! `/api/ws`: live events. The client authenticates with `?token=`, the `Authorization` header,
//! or a first message `{"token": "…"}` within [`AUTH_WAIT`]. It may then send
//! `{"subscribe": {…}}` (see [`subscription`]) and gets `{"type":"subscribed"}` once it applies,
//! or `{"unsubscribe": true}` to get everything again. The server pings every
//! `ws_ping_interval` and closes a client that has not answered for two intervals. A client
//! whose queue of `ws_queue` frames is full is closed with code 1008 and a reason.

mod hub;
pub mod subscription;

pub use hub::WsHub;

use crate::auth::{CurrentUser, authenticate};
use crate::state::ApiState;
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use subscription::Subscription;
use tokio::time::{Instant, timeout};

/// How long an unauthenticated socket may take to send its token.
pub const AUTH_WAIT: Duration = Duration::from_secs(10);
/// Largest message a client may send.
pub const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
/// Longest a single frame may take to go out before the client is given up.
const SEND_WAIT: Duration = Duration::from_secs(10);

/// Policy violation: used for "too slow", "no token", "no pong".
const CLOSE_POLICY: u16 = 1008;
const CLOSE_ERROR: u16 = 1011;

pub async fn upgrade(
    State(state): State<ApiState>,
    user: Option<Extension<CurrentUser>>,
    ws: WebSocketUpgrade,
) -> Response {
    let user = user.map(|Extension(u)| u);
    ws.max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| async move { connection(state, user, socket).await })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClientMessage {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    subscribe: Option<Subscription>,
    #[serde(default)]
    unsubscribe: Option<serde_json::Value>,
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.to_string()),
    }))
}

fn reply(kind: &str, data: serde_json::Value) -> Message {
    Message::Text(Utf8Bytes::from(
        json!({"type": kind, "data": data}).to_string(),
    ))
}

async fn first_message_auth(
    state: &ApiState,
    socket: &mut WebSocket,
) -> Result<CurrentUser, &'static str> {
    let msg = timeout(AUTH_WAIT, socket.recv())
        .await
        .map_err(|_| "no token: send {\"token\": \"…\"} first")?;
    let Some(Ok(Message::Text(text))) = msg else {
        return Err("no token: send {\"token\": \"…\"} first");
    };
    let token = serde_json::from_str::<ClientMessage>(&text)
        .ok()
        .and_then(|m| m.token)
        .ok_or("no token: send {\"token\": \"…\"} first")?;
    authenticate(state, &token)
        .await
        .map_err(|_| "unknown or expired token")
        .and_then(|u| {
            if u.access >= crate::auth::Access::Viewer {
                Ok(u)
            } else {
                Err("this needs the viewer role")
            }
        })
}

async fn connection(state: ApiState, user: Option<CurrentUser>, mut socket: WebSocket) {
    let user = match user {
        Some(u) => u,
        None => match first_message_auth(&state, &mut socket).await {
            Ok(u) => {
                let _ = socket
                    .send(reply("authenticated", json!({"username": u.username})))
                    .await;
                u
            }
            Err(reason) => {
                let _ = socket.send(close(CLOSE_POLICY, reason)).await;
                return;
            }
        },
    };
    let mut client = match state.ws.register().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "websocket: cannot subscribe to events");
            let _ = socket
                .send(close(CLOSE_ERROR, "events are not available"))
                .await;
            return;
        }
    };
    tracing::debug!(user = %user.username, "websocket connected");
    let (mut tx, mut rx) = socket.split();
    let interval = state.config.ws_ping_interval;
    let mut ping = tokio::time::interval_at(Instant::now() + interval, interval);
    let mut last_seen = Instant::now();
    let reason: Option<(u16, &str)> = loop {
        tokio::select! {
            frame = client.rx.recv() => match frame {
                Some(f) => {
                    if !matches!(timeout(SEND_WAIT, tx.send(Message::Text(f))).await, Ok(Ok(()))) {
                        break None;
                    }
                }
                None if client.kicked.load(Ordering::Relaxed) => {
                    break Some((CLOSE_POLICY, "too slow: the event queue of this client was full"));
                }
                None => break Some((CLOSE_ERROR, "the event stream ended")),
            },
            msg = rx.next() => {
                last_seen = Instant::now();
                let out = match msg {
                    Some(Ok(Message::Text(text))) => handle_client_message(&client, &text),
                    Some(Ok(Message::Binary(_))) => Some(reply("error", json!({"code": "invalid_message", "message": "send JSON text"}))),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(_)) => None,
                };
                if let Some(out) = out
                    && !matches!(timeout(SEND_WAIT, tx.send(out)).await, Ok(Ok(())))
                {
                    break None;
                }
            }
            _ = ping.tick() => {
                if last_seen.elapsed() > interval * 2 {
                    break Some((CLOSE_POLICY, "no answer to pings"));
                }
                if !matches!(timeout(SEND_WAIT, tx.send(Message::Ping(Default::default()))).await, Ok(Ok(()))) {
                    break None;
                }
            }
        }
    };
    if let Some((code, why)) = reason {
        let _ = timeout(SEND_WAIT, tx.send(close(code, why))).await;
    }
    tracing::debug!(user = %user.username, reason = ?reason, "websocket closed");
}

fn handle_client_message(client: &hub::ClientHandle, text: &str) -> Option<Message> {
    let msg: ClientMessage = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            return Some(reply(
                "error",
                json!({"code": "invalid_message", "message": format!("expected {{\"subscribe\": {{…}}}} or {{\"unsubscribe\": true}}: {e}")}),
            ));
        }
    };
    if let Some(sub) = msg.subscribe {
        if let Err(e) = sub.validate() {
            return Some(reply(
                "error",
                json!({"code": "invalid_subscription", "message": e}),
            ));
        }
        let data = serde_json::to_value(&sub).unwrap_or_default();
        *client.filter.write() = Some(sub);
        return Some(reply("subscribed", data));
    }
    if msg.unsubscribe.is_some() {
        *client.filter.write() = None;
        return Some(reply("subscribed", serde_json::Value::Null));
    }
    None
}
