//! The client of one node: dial, hello, connect (password), device info, list entities,
//! subscribe states, then read states, answer pings, ping when idle, and dial again after
//! `reconnectDelay` when the connection ends. The node's state (`up`/`down`) follows the
//! connection; the gateway stays up while its nodes come and go.

use super::entity::{self, Entities, Inbound, NODE_STATE};
use super::frame::{self, Decoded, Frame};
use super::messages::{self as pb, API_VERSION, id};
use super::noise::{self, Handshake, Transport};
use crate::context::ProviderContext;
use bytes::BytesMut;
use parking_lot::Mutex;
use prost::Message as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchyard_core::Payload;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::time::{Instant, timeout};

pub(super) struct NodeSettings {
    pub node_id: String,
    pub address: String,
    pub password: String,
    pub timeout: Duration,
    pub alive_check: Duration,
    pub reconnect_delay: Duration,
    /// The Noise PSK (`encryptionKey`); `None` speaks plaintext.
    pub psk: Option<[u8; 32]>,
}

/// The write half of an open connection and, when encrypted, its sending cipher.
struct Conn {
    write: OwnedWriteHalf,
    noise: Option<Transport>,
}

type Writer = Arc<tokio::sync::Mutex<Option<Conn>>>;

/// What the outbound half holds of a node: its entities and its open connection, if any.
pub(super) struct NodeHandle {
    entities: Arc<Mutex<Entities>>,
    writer: Writer,
}

impl NodeHandle {
    pub fn entities(&self) -> Entities {
        self.entities.lock().clone()
    }

    pub async fn send(&self, f: &Frame) -> Result<(), String> {
        write(&self.writer, f).await
    }
}

async fn write(writer: &Writer, f: &Frame) -> Result<(), String> {
    let mut w = writer.lock().await;
    let Some(w) = w.as_mut() else {
        return Err("not connected".into());
    };
    let bytes = match w.noise.as_mut() {
        Some(t) => t.encrypt(f).map_err(|e| e.to_string())?,
        None => frame::encode(f.message_type, &f.payload),
    };
    w.write.write_all(&bytes).await.map_err(|e| e.to_string())
}

pub(super) struct NodeClient {
    settings: NodeSettings,
    ctx: ProviderContext,
    entities: Arc<Mutex<Entities>>,
    writer: Writer,
    /// Whether the node was reported up on this connection (so `down` follows only an `up`).
    up: AtomicBool,
}

/// The read half and what it has buffered.
struct Reader {
    read: OwnedReadHalf,
    buf: BytesMut,
    /// Noise framing (`0x01`, u16 length) rather than plaintext.
    noise_framing: bool,
    /// The receiving cipher once the handshake is done.
    noise: Option<Transport>,
}

impl NodeClient {
    pub fn new(settings: NodeSettings, ctx: ProviderContext) -> (NodeClient, NodeHandle) {
        let entities = Arc::new(Mutex::new(Entities::default()));
        let writer: Writer = Arc::new(tokio::sync::Mutex::new(None));
        let handle = NodeHandle {
            entities: entities.clone(),
            writer: writer.clone(),
        };
        (
            NodeClient {
                settings,
                ctx,
                entities,
                writer,
                up: AtomicBool::new(false),
            },
            handle,
        )
    }

    pub fn node_id(&self) -> &str {
        &self.settings.node_id
    }

    /// Keeps the node connected until the provider is cancelled.
    pub async fn run(self) {
        let cancel = self.ctx.cancel().clone();
        loop {
            let why = tokio::select! {
                _ = cancel.cancelled() => None,
                r = self.session() => Some(r),
            };
            self.writer.lock().await.take();
            let was_up = self.up.swap(false, Ordering::Relaxed);
            let Some(why) = why else {
                return;
            };
            let why = why.err().unwrap_or_else(|| "connection closed".into());
            tracing::warn!(
                gateway = self.ctx.gateway_id(),
                node = self.settings.node_id,
                "esphome node {}: {why}; dialling again in {:?}",
                self.settings.address,
                self.settings.reconnect_delay
            );
            if was_up {
                self.emit_state("down").await;
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.settings.reconnect_delay) => {}
            }
        }
    }

    async fn emit_state(&self, state: &str) {
        self.ctx
            .emit(entity::node_message(
                &self.settings.node_id,
                vec![Payload::new(NODE_STATE, state)],
            ))
            .await;
    }

    /// One connection, from dialling to its end (always an `Err` with the reason).
    async fn session(&self) -> Result<(), String> {
        let s = &self.settings;
        let stream = timeout(s.timeout, TcpStream::connect(&s.address))
            .await
            .map_err(|_| format!("no answer from {} within {:?}", s.address, s.timeout))?
            .map_err(|e| format!("cannot connect to {}: {e}", s.address))?;
        let _ = stream.set_nodelay(true);
        let (read, mut w) = stream.into_split();
        let mut reader = Reader {
            read,
            buf: BytesMut::with_capacity(1024),
            noise_framing: s.psk.is_some(),
            noise: None,
        };
        let mut send_noise = None;
        if let Some(psk) = &s.psk {
            let (hs, hello) = Handshake::start(psk).map_err(|e| e.to_string())?;
            w.write_all(&hello)
                .await
                .map_err(|e| format!("write: {e}"))?;
            let step = |what: &'static str| {
                let t = s.timeout;
                move |_| format!("no {what} from the device within {t:?}")
            };
            let server_hello = timeout(s.timeout, self.next_frame(&mut reader))
                .await
                .map_err(step("server hello"))??;
            let name = Handshake::server_hello(&server_hello.payload).map_err(|e| e.to_string())?;
            let answer = timeout(s.timeout, self.next_frame(&mut reader))
                .await
                .map_err(step("handshake answer"))??;
            let (tx, rx) = hs
                .finish(&answer.payload)
                .map_err(|e| e.to_string())?
                .split();
            tracing::debug!(node = s.node_id, "noise handshake with {name:?} done");
            reader.noise = Some(rx);
            send_noise = Some(tx);
        }
        *self.writer.lock().await = Some(Conn {
            write: w,
            noise: send_noise,
        });

        self.send(
            id::HELLO_REQUEST,
            &pb::HelloRequest {
                client_info: "switchyard".into(),
                api_version_major: API_VERSION.0,
                api_version_minor: API_VERSION.1,
            },
        )
        .await?;
        let hello = self.expect(&mut reader, id::HELLO_RESPONSE).await?;
        let hello = pb::HelloResponse::decode(hello.payload.as_slice())
            .map_err(|e| format!("bad HelloResponse: {e}"))?;
        if hello.api_version_major != API_VERSION.0 {
            return Err(format!(
                "the device speaks API {}.{}, this client {}.{}",
                hello.api_version_major, hello.api_version_minor, API_VERSION.0, API_VERSION.1
            ));
        }
        self.send(
            id::CONNECT_REQUEST,
            &pb::ConnectRequest {
                password: s.password.clone(),
            },
        )
        .await?;
        let connect = self.expect(&mut reader, id::CONNECT_RESPONSE).await?;
        let connect = pb::ConnectResponse::decode(connect.payload.as_slice())
            .map_err(|e| format!("bad ConnectResponse: {e}"))?;
        if connect.invalid_password {
            return Err("the device refused the password (check `password`)".into());
        }
        *self.entities.lock() = Entities::default();
        self.send(id::DEVICE_INFO_REQUEST, &pb::Empty {}).await?;
        self.send(id::LIST_ENTITIES_REQUEST, &pb::Empty {}).await?;
        self.emit_state("up").await;
        self.up.store(true, Ordering::Relaxed);

        let mut ticker = tokio::time::interval(s.alive_check);
        ticker.tick().await;
        let mut last_heard = Instant::now();
        loop {
            let f = tokio::select! {
                f = self.next_frame(&mut reader) => f?,
                _ = ticker.tick() => {
                    if last_heard.elapsed() >= s.alive_check * 2 {
                        return Err(format!("no answer to pings for {:?}", s.alive_check * 2));
                    }
                    self.send(id::PING_REQUEST, &pb::Empty {}).await?;
                    continue;
                }
            };
            last_heard = Instant::now();
            let result = self.entities.lock().receive(&s.node_id, &f);
            match result {
                Ok(Inbound::Messages(messages)) => {
                    for m in messages {
                        self.ctx.emit(m).await;
                    }
                }
                Ok(Inbound::Reply(reply)) => self.write(&reply).await?,
                Ok(Inbound::ListDone) => {
                    self.send(id::SUBSCRIBE_STATES_REQUEST, &pb::Empty {})
                        .await?
                }
                Ok(Inbound::Disconnect) => {
                    let _ = self.send(id::DISCONNECT_RESPONSE, &pb::Empty {}).await;
                    return Err("the device closed the connection".into());
                }
                Ok(Inbound::Ignored) => {}
                Err(e) => self.reject(e),
            }
        }
    }

    fn reject(&self, reason: impl std::fmt::Display) {
        self.ctx.reject(format_args!(
            "esphome node {}: {reason}",
            self.settings.node_id
        ));
    }

    async fn send(&self, message_type: u32, msg: &impl prost::Message) -> Result<(), String> {
        self.write(&entity::frame(message_type, msg)).await
    }

    async fn write(&self, f: &Frame) -> Result<(), String> {
        write(&self.writer, f).await
    }

    /// The next frame of type `want` within the timeout, answering pings meanwhile.
    async fn expect(&self, reader: &mut Reader, want: u32) -> Result<Frame, String> {
        let deadline = Instant::now() + self.settings.timeout;
        loop {
            let f = tokio::time::timeout_at(deadline, self.next_frame(reader))
                .await
                .map_err(|_| {
                    format!(
                        "no message of type {want} within {:?}",
                        self.settings.timeout
                    )
                })??;
            match f.message_type {
                t if t == want => return Ok(f),
                id::PING_REQUEST => self.send(id::PING_RESPONSE, &pb::Empty {}).await?,
                id::DISCONNECT_REQUEST => return Err("the device closed the connection".into()),
                other => self.reject(format!(
                    "message of type {other} while waiting for type {want}; ignored"
                )),
            }
        }
    }

    /// The next well-formed frame; bad ones are rejected (counted) and skipped.
    async fn next_frame(&self, reader: &mut Reader) -> Result<Frame, String> {
        loop {
            loop {
                let decoded = if reader.noise_framing {
                    noise::decode_frame(&reader.buf)
                } else {
                    frame::decode(&reader.buf)
                };
                let Some(d) = decoded else { break };
                match d {
                    Decoded::Frame(f, n) => {
                        let _ = reader.buf.split_to(n);
                        let Some(t) = reader.noise.as_mut() else {
                            return Ok(f);
                        };
                        match t.decrypt(&f.payload) {
                            Ok(f) => return Ok(f),
                            // The nonces are out of step or the key is wrong: nothing after
                            // this can be read.
                            Err(e @ noise::NoiseError::Decrypt) => return Err(e.to_string()),
                            Err(e) => self.reject(e),
                        }
                    }
                    Decoded::Bad(e, n) => {
                        let _ = reader.buf.split_to(n.min(reader.buf.len()));
                        if e == frame::FrameError::EncryptionRequired {
                            return Err(e.to_string());
                        }
                        self.reject(e);
                    }
                }
            }
            if reader.buf.len() > noise::MAX_CIPHERTEXT.max(frame::MAX_PAYLOAD) + 16 {
                reader.buf.clear();
            }
            let n = reader
                .read
                .read_buf(&mut reader.buf)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("the device closed the connection".into());
            }
        }
    }
}
