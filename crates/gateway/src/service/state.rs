//! A gateway's `state` in storage, and the `event.gateway.updated` that announces it.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::model::{Gateway, State, Status};
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::store::{Store, to_document};
use switchyard_core::{EntityKind, Event, EventType};

/// Longest state message stored (an error text from a device can be long).
const MAX_MESSAGE: usize = 512;

pub(crate) struct StateWriter {
    bus: Arc<dyn Bus>,
    store: Store,
    gateway_id: String,
    last: Option<(Status, String, DateTime<Utc>)>,
    failures: RateLimitedLog,
}

impl StateWriter {
    pub fn new(bus: Arc<dyn Bus>, store: Store, gateway_id: String) -> Self {
        StateWriter {
            bus,
            store,
            gateway_id,
            last: None,
            failures: RateLimitedLog::new(Duration::from_secs(10)),
        }
    }

    /// Stores the state when it differs from the last one written (`since` moves only when the
    /// status does) and publishes the updated gateway. A deleted gateway is not written back.
    pub async fn set(&mut self, status: Status, message: impl Into<String>) {
        let mut message: String = message.into();
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let since = match &self.last {
            Some((s, m, _)) if *s == status && *m == message => return,
            Some((s, _, since)) if *s == status => *since,
            _ => Utc::now(),
        };
        self.last = Some((status, message.clone(), since));
        match status {
            Status::Up => tracing::info!(gateway = %self.gateway_id, %message, "gateway up"),
            _ => tracing::warn!(gateway = %self.gateway_id, ?status, %message, "gateway not up"),
        }
        let mut gateway = match self.store.get::<Gateway>(&self.gateway_id).await {
            Ok(Some(g)) => g,
            Ok(None) => return,
            Err(e) => return self.failed(&e.to_string()),
        };
        gateway.state = State::new(status, message, since);
        // `update`, not `upsert`: a gateway deleted meanwhile stays deleted.
        if let Err(e) = self.store.update(&gateway).await {
            return self.failed(&e.to_string());
        }
        let doc = match to_document(&gateway) {
            Ok(d) => d,
            Err(e) => return self.failed(&e.to_string()),
        };
        let event = Event::new(
            EventType::Updated,
            EntityKind::Gateway,
            &self.gateway_id,
            doc,
        );
        if let Err(e) = self.bus.publish_json(&event.subject(), &event).await {
            self.failed(&e.to_string());
        }
    }

    fn failed(&self, error: &str) {
        self.failures.log(|suppressed| {
            tracing::warn!(gateway = %self.gateway_id, %error, suppressed, "cannot record gateway state")
        });
    }
}
