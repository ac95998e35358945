//! One bus subscription on `event.>` for all websocket clients. For each event the hub picks the
//! clients whose subscription matches and hands each the frame with `try_send` into the client's
//! own bounded queue; it never waits. A client whose queue is full is removed at once (its
//! connection then closes with a reason), so a slow browser can never hold up the bus.

use super::subscription::{EventHead, Subscription};
use crate::secrets::public_view;
use axum::extract::ws::Utf8Bytes;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use switchyard_core::bus::{Bus, BusMessage};
use switchyard_core::{EntityKind, Event};
use tokio::sync::{OnceCell, mpsc};

struct Client {
    filter: Arc<RwLock<Option<Subscription>>>,
    tx: mpsc::Sender<Utf8Bytes>,
    kicked: Arc<AtomicBool>,
}

pub struct WsHub {
    bus: Arc<dyn Bus>,
    queue: usize,
    clients: RwLock<HashMap<u64, Client>>,
    next_id: AtomicU64,
    started: OnceCell<()>,
    sent: AtomicU64,
    kicked: AtomicU64,
}

/// A registered client: its queue of frames, its subscription, and whether the hub dropped it
/// for being slow. Dropping the handle unregisters.
pub struct ClientHandle {
    hub: Arc<WsHub>,
    id: u64,
    pub rx: mpsc::Receiver<Utf8Bytes>,
    pub filter: Arc<RwLock<Option<Subscription>>>,
    pub kicked: Arc<AtomicBool>,
}

impl Drop for ClientHandle {
    fn drop(&mut self) {
        self.hub.clients.write().remove(&self.id);
    }
}

/// Resources whose events carry secrets or hashes and so are re-serialized through
/// [`public_view`]; other events go out as the bus carried them.
fn needs_masking(entity_type: &str) -> bool {
    matches!(
        entity_type,
        "gateway" | "handler" | "task" | "schedule" | "user" | "service_token"
    )
}

/// The websocket frame of an event: `{"type":"event","data":<Event>}`.
fn frame(head: &EventHead, payload: &[u8]) -> Option<Utf8Bytes> {
    if needs_masking(&head.entity_type) {
        let mut event: Event = serde_json::from_slice(payload).ok()?;
        let kind: EntityKind = head.entity_type.parse().ok()?;
        event.entity = public_view(kind, std::mem::take(&mut event.entity));
        let text =
            serde_json::to_string(&serde_json::json!({"type": "event", "data": event})).ok()?;
        return Some(Utf8Bytes::from(text));
    }
    let data = std::str::from_utf8(payload).ok()?;
    Some(Utf8Bytes::from(format!(
        r#"{{"type":"event","data":{data}}}"#
    )))
}

impl WsHub {
    pub fn new(bus: Arc<dyn Bus>, queue: usize) -> Self {
        WsHub {
            bus,
            queue: queue.max(1),
            clients: RwLock::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            started: OnceCell::new(),
            sent: AtomicU64::new(0),
            kicked: AtomicU64::new(0),
        }
    }

    /// `{clients, sent, slowClientsDisconnected}` for `/api/status`.
    pub fn stats(&self) -> serde_json::Value {
        serde_json::json!({
            "clients": self.clients.read().len(),
            "sent": self.sent.load(Ordering::Relaxed),
            "slowClientsDisconnected": self.kicked.load(Ordering::Relaxed),
        })
    }

    async fn ensure_started(self: &Arc<Self>) -> Result<(), switchyard_core::bus::BusError> {
        self.started
            .get_or_try_init(|| async {
                let mut sub = self
                    .bus
                    .subscribe(switchyard_core::topics::ALL_EVENTS)
                    .await?;
                let hub = self.clone();
                tokio::spawn(async move {
                    while let Some(msg) = sub.next().await {
                        hub.dispatch(&msg);
                    }
                    tracing::info!("websocket hub: the bus closed");
                });
                Ok(())
            })
            .await
            .map(|_| ())
    }

    pub async fn register(
        self: &Arc<Self>,
    ) -> Result<ClientHandle, switchyard_core::bus::BusError> {
        self.ensure_started().await?;
        let (tx, rx) = mpsc::channel(self.queue);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let filter = Arc::new(RwLock::new(None));
        let kicked = Arc::new(AtomicBool::new(false));
        self.clients.write().insert(
            id,
            Client {
                filter: filter.clone(),
                tx,
                kicked: kicked.clone(),
            },
        );
        Ok(ClientHandle {
            hub: self.clone(),
            id,
            rx,
            filter,
            kicked,
        })
    }

    fn dispatch(&self, msg: &BusMessage) {
        // The hub stays subscribed once a console has connected; with none connected now, an
        // event is not worth even reading its head.
        if self.clients.read().is_empty() {
            return;
        }
        let Ok(head) = serde_json::from_slice::<EventHead>(&msg.payload) else {
            tracing::debug!(subject = %msg.subject, "websocket hub: not an event, skipped");
            return;
        };
        let mut text: Option<Option<Utf8Bytes>> = None;
        let mut gone = Vec::new();
        {
            let clients = self.clients.read();
            for (id, client) in clients.iter() {
                let wanted = client
                    .filter
                    .read()
                    .as_ref()
                    .is_none_or(|s| s.matches(&head));
                if !wanted {
                    continue;
                }
                let Some(f) = text.get_or_insert_with(|| frame(&head, &msg.payload)) else {
                    return;
                };
                match client.tx.try_send(f.clone()) {
                    Ok(()) => {
                        self.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        client.kicked.store(true, Ordering::Relaxed);
                        gone.push(*id);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => gone.push(*id),
                }
            }
        }
        if !gone.is_empty() {
            let mut clients = self.clients.write();
            for id in gone {
                if let Some(c) = clients.remove(&id)
                    && c.kicked.load(Ordering::Relaxed)
                {
                    self.kicked.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        client = id,
                        queue = self.queue,
                        "websocket client too slow: its queue is full, disconnecting it"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;
    use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
    use switchyard_core::EventType;
    use switchyard_core::bus::BusExt;

    async fn publish(bus: &dyn Bus, kind: EntityKind, id: &str) {
        let e = Event::new(
            EventType::Updated,
            kind,
            id,
            json!({"id": id, "password": "x"}),
        );
        bus.publish_json(&e.subject(), &e).await.unwrap();
    }

    #[tokio::test]
    async fn a_client_whose_queue_is_full_is_dropped_without_holding_the_bus() {
        let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::new(&EmbeddedBusConfig::default()).unwrap());
        let hub = Arc::new(WsHub::new(bus.clone(), 2));
        let mut slow = hub.register().await.unwrap();
        let mut fast = hub.register().await.unwrap();
        // The fast client reads each event as it comes; the slow one never reads.
        for i in 0..10 {
            publish(&*bus, EntityKind::Node, &format!("gw.{i}")).await;
            let frame = tokio::time::timeout(Duration::from_secs(5), fast.rx.recv()).await;
            assert!(frame.unwrap().is_some(), "the fast client gets event {i}");
        }
        assert!(slow.kicked.load(Ordering::Relaxed));
        assert!(slow.rx.recv().await.is_some() && slow.rx.recv().await.is_some());
        assert!(
            slow.rx.recv().await.is_none(),
            "its queue was closed after the two it could hold"
        );
        assert_eq!(hub.stats()["slowClientsDisconnected"], 1);
        assert_eq!(bus.stats().dropped, 0, "the bus never had to drop");
    }

    #[tokio::test]
    async fn subscriptions_filter_and_secrets_are_masked() {
        let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::new(&EmbeddedBusConfig::default()).unwrap());
        let hub = Arc::new(WsHub::new(bus.clone(), 16));
        let mut c = hub.register().await.unwrap();
        *c.filter.write() = Some(Subscription {
            quick_ids: vec!["user:*".into(), "field:gw.1.*".into()],
            ..Default::default()
        });
        publish(&*bus, EntityKind::Field, "gw.2.1.t").await;
        publish(&*bus, EntityKind::User, "ann").await;
        let f = tokio::time::timeout(Duration::from_secs(5), c.rx.recv())
            .await
            .unwrap()
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(f.as_str()).unwrap();
        assert_eq!(v["type"], "event");
        assert_eq!(v["data"]["entityQuickId"], "user:ann");
        assert!(v["data"]["entity"].get("password").is_none());
    }
}
