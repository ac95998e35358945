//! Which processes run which services, and whether they are still there.
//!
//! Every process publishes an [`Announcement`] on `process.announce` every `interval` (and
//! `process.goodbye` when it stops cleanly). The core's [`Processes`] keeps the latest of each
//! (shown in `/api/status`). A process not heard from for `down_after` is down: the gateways
//! it announced get the state `down` ("process `<name>` stopped announcing"). When it announces
//! again, the gateways still carrying that state get `up` back; a restarted process's gateway
//! service then reports their real state itself.

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::{Bus, BusError, BusExt, BusMessage};
use switchyard_core::model::{Gateway, State, Status};
use switchyard_core::store::Store;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub const ANNOUNCE: &str = "process.announce";
pub const GOODBYE: &str = "process.goodbye";
const ALL: &str = "process.>";
/// Processes remembered; an announcement from one more is ignored (and logged) until one goes.
const MAX_PROCESSES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    pub name: String,
    pub services: Vec<String>,
    /// Gateways this process runs now.
    pub gateways: Vec<String>,
    pub started: DateTime<Utc>,
}

/// Publishes `describe()` every `interval` until cancelled, then says goodbye.
pub async fn announce(
    bus: Arc<dyn Bus>,
    interval: Duration,
    describe: impl Fn() -> Announcement + Send + Sync + 'static,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {
                if let Err(e) = bus.publish_json(ANNOUNCE, &describe()).await {
                    tracing::debug!(error = %e, "could not announce this process");
                }
            }
        }
    }
    let _ = bus.publish_json(GOODBYE, &describe()).await;
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessStatus {
    #[serde(flatten)]
    pub announcement: Announcement,
    pub up: bool,
    pub last_seen: DateTime<Utc>,
}

struct Entry {
    announcement: Announcement,
    heard: Instant,
    last_seen: DateTime<Utc>,
    up: bool,
}

/// The core's list of processes.
#[derive(Clone)]
pub struct Processes {
    entries: Arc<Mutex<BTreeMap<String, Entry>>>,
    store: Store,
    down_after: Duration,
}

impl Processes {
    pub fn new(store: Store, down_after: Duration) -> Self {
        Processes {
            entries: Arc::default(),
            store,
            down_after,
        }
    }

    pub fn snapshot(&self) -> Vec<ProcessStatus> {
        self.entries
            .lock()
            .values()
            .map(|e| ProcessStatus {
                announcement: e.announcement.clone(),
                up: e.up,
                last_seen: e.last_seen,
            })
            .collect()
    }

    /// Subscribes, then follows announcements until `cancel`.
    pub async fn start(
        self,
        bus: Arc<dyn Bus>,
        cancel: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError> {
        let mut messages = bus.subscribe(ALL).await?;
        let check_every = (self.down_after / 4).max(Duration::from_millis(100));
        Ok(tokio::spawn(async move {
            let mut tick = tokio::time::interval(check_every);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    m = messages.next() => match m {
                        Some(m) => self.on_message(m).await,
                        None => break,
                    },
                    _ = tick.tick() => self.check().await,
                }
            }
        }))
    }

    async fn on_message(&self, m: BusMessage) {
        let Ok(announcement) = m.json::<Announcement>() else {
            tracing::debug!(subject = %m.subject, "not a process announcement; ignored");
            return;
        };
        let name = announcement.name.clone();
        let goodbye = m.subject == GOODBYE;
        let (back, gone) = {
            let mut entries = self.entries.lock();
            if !entries.contains_key(&name) && entries.len() >= MAX_PROCESSES {
                tracing::warn!(process = %name, "too many processes announced; ignored");
                return;
            }
            let entry = entries.entry(name.clone()).or_insert_with(|| Entry {
                announcement: announcement.clone(),
                heard: Instant::now(),
                last_seen: Utc::now(),
                up: false,
            });
            let was_up = entry.up;
            entry.announcement = announcement;
            entry.heard = Instant::now();
            entry.last_seen = Utc::now();
            entry.up = !goodbye;
            let gateways = entry.announcement.gateways.clone();
            match (was_up, entry.up) {
                (false, true) => (gateways, Vec::new()),
                (true, false) => (Vec::new(), gateways),
                _ => (Vec::new(), Vec::new()),
            }
        };
        if goodbye {
            tracing::info!(process = %name, "process stopped");
            self.mark_down(&name, gone, "stopped").await;
        } else {
            self.mark_back(&name, back).await;
        }
    }

    async fn check(&self) {
        let now = Instant::now();
        let quiet: Vec<(String, Vec<String>)> = {
            let mut entries = self.entries.lock();
            entries
                .values_mut()
                .filter(|e| e.up && now.saturating_duration_since(e.heard) > self.down_after)
                .map(|e| {
                    e.up = false;
                    (e.announcement.name.clone(), e.announcement.gateways.clone())
                })
                .collect()
        };
        for (name, gateways) in quiet {
            tracing::warn!(process = %name, down_after = ?self.down_after, "process stopped announcing; its gateways are down");
            self.mark_down(&name, gateways, "stopped announcing").await;
        }
    }

    fn down_message(name: &str, why: &str) -> String {
        format!("process `{name}` {why}")
    }

    async fn mark_down(&self, name: &str, gateways: Vec<String>, why: &str) {
        let message = Self::down_message(name, why);
        for id in gateways {
            self.set_state(&id, |_| true, Status::Down, &message).await;
        }
    }

    async fn mark_back(&self, name: &str, gateways: Vec<String>) {
        let ours = Self::down_message(name, "");
        let message = format!("process `{name}` is back");
        for id in gateways {
            let ours = ours.clone();
            self.set_state(
                &id,
                move |s| s.status == Status::Down && s.message.starts_with(&ours),
                Status::Up,
                &message,
            )
            .await;
        }
    }

    async fn set_state(
        &self,
        id: &str,
        only_if: impl Fn(&State) -> bool,
        status: Status,
        message: &str,
    ) {
        let gateway = match self.store.get::<Gateway>(id).await {
            Ok(Some(g)) => g,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(gateway = id, error = %e, "cannot read gateway to mark its state");
                return;
            }
        };
        if !only_if(&gateway.state) {
            return;
        }
        let mut gateway = gateway;
        gateway.state = State::new(status, message, Utc::now());
        if let Err(e) = self.store.upsert(&gateway).await {
            tracing::warn!(gateway = id, error = %e, "cannot mark gateway state");
        }
    }
}
