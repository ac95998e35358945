//! `mqtt`: publishes to an MQTT broker (rumqttc).
//!
//! Spec: `broker` (`tcp://host:1883` or `mqtt://…`), `clientId` (default `switchyard-<handler>`),
//! `username`, `password`, `topic` (default topic), `qos` (0–2), `retain`. Parameter:
//! `{type: mqtt, topic, qos, retain, data}`; `data` is sent as is when text, as JSON otherwise.
//! The connection is kept open and re-established every few seconds while the broker is away;
//! a publish while disconnected is an error on the handler's state (nothing is queued blindly).

use crate::error::AutomationError;
use crate::handler::plugin::{get, text};
use crate::handler::{HandlerPlugin, Param};
use async_trait::async_trait;
use parking_lot::Mutex;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Publishes the client may hold before they reach the socket.
const CLIENT_QUEUE: usize = 64;
/// How long a delivery waits for the first connection.
const CONNECT_WAIT: Duration = Duration::from_secs(5);
const RECONNECT_DELAY: Duration = Duration::from_secs(3);

#[derive(Default)]
struct Link {
    connected: bool,
    last_error: String,
}

pub struct Mqtt {
    client: AsyncClient,
    link: Arc<Mutex<Link>>,
    topic: String,
    qos: QoS,
    retain: bool,
    cancel: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

fn qos(v: Option<&Value>) -> Result<QoS, AutomationError> {
    let n = match v {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .unwrap_or(99),
    };
    match n {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        _ => Err(AutomationError::config(format!(
            "mqtt: qos must be 0, 1 or 2, not {v:?}"
        ))),
    }
}

impl Mqtt {
    pub fn build(handler_id: &str, spec: &Map<String, Value>) -> Result<Self, AutomationError> {
        let broker = text(spec, "broker");
        let rest = broker
            .trim()
            .strip_prefix("tcp://")
            .or_else(|| broker.trim().strip_prefix("mqtt://"))
            .ok_or_else(|| {
                AutomationError::config(format!(
                    "mqtt: broker `{broker}` must be tcp://host:port or mqtt://host:port"
                ))
            })?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.trim_end_matches('/').parse::<u16>().map_err(|_| {
                    AutomationError::config(format!("mqtt: bad port in `{broker}`"))
                })?,
            ),
            None => (rest.trim_end_matches('/').to_string(), 1883),
        };
        let client_id = match text(spec, "clientId") {
            c if c.trim().is_empty() => format!("switchyard-{handler_id}"),
            c => c,
        };
        let mut opts = MqttOptions::new(client_id, host, port);
        opts.set_keep_alive(Duration::from_secs(30));
        let user = text(spec, "username");
        if !user.is_empty() {
            opts.set_credentials(user, text(spec, "password"));
        }
        let (client, mut eventloop) = AsyncClient::new(opts, CLIENT_QUEUE);
        let link = Arc::new(Mutex::new(Link::default()));
        let cancel = CancellationToken::new();
        let task = {
            let (link, cancel) = (link.clone(), cancel.clone());
            tokio::spawn(async move {
                loop {
                    let polled = tokio::select! {
                        _ = cancel.cancelled() => return,
                        p = eventloop.poll() => p,
                    };
                    match polled {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            let mut l = link.lock();
                            l.connected = true;
                            l.last_error.clear();
                        }
                        Ok(_) => {}
                        Err(e) => {
                            {
                                let mut l = link.lock();
                                l.connected = false;
                                l.last_error = e.to_string();
                            }
                            tokio::select! {
                                _ = cancel.cancelled() => return,
                                _ = tokio::time::sleep(RECONNECT_DELAY) => {}
                            }
                        }
                    }
                }
            })
        };
        Ok(Mqtt {
            client,
            link,
            topic: text(spec, "topic"),
            qos: qos(get(spec, "qos"))?,
            retain: get(spec, "retain")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            cancel,
            task: Some(task),
        })
    }

    async fn wait_connected(&self) -> Result<(), AutomationError> {
        let deadline = tokio::time::Instant::now() + CONNECT_WAIT;
        loop {
            {
                let l = self.link.lock();
                if l.connected {
                    return Ok(());
                }
                if tokio::time::Instant::now() >= deadline {
                    let why = if l.last_error.is_empty() {
                        "no answer"
                    } else {
                        &l.last_error
                    };
                    return Err(AutomationError::Handler(format!(
                        "mqtt: not connected: {why}"
                    )));
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[async_trait]
impl HandlerPlugin for Mqtt {
    fn accepts(&self, kind: &str) -> bool {
        kind == "mqtt"
    }

    async fn post(
        &mut self,
        param: &Param,
        _vars: &Map<String, Value>,
    ) -> Result<(), AutomationError> {
        self.wait_connected().await?;
        let topic = match param.text("topic") {
            t if t.trim().is_empty() => self.topic.clone(),
            t => t,
        };
        if topic.trim().is_empty() {
            return Err(AutomationError::Handler("mqtt: no topic".into()));
        }
        let qos = match param.get("qos") {
            Some(v) => qos(Some(v))?,
            None => self.qos,
        };
        let retain = param
            .get("retain")
            .and_then(Value::as_bool)
            .unwrap_or(self.retain);
        let data = match param.get("data") {
            Some(Value::String(s)) => s.clone().into_bytes(),
            Some(v) => v.to_string().into_bytes(),
            None => Vec::new(),
        };
        self.client
            .try_publish(topic, qos, retain, data)
            .map_err(|e| AutomationError::Handler(format!("mqtt: {e}")))
    }

    async fn stop(&mut self) {
        let _ = self.client.try_disconnect();
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Mqtt {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
