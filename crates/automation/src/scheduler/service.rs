use super::runner::run_schedule;
use crate::commands::{self, Command};
use crate::context::Context;
use crate::state::config_changed;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::Schedule;
use switchyard_core::{Event, EventType, topics};
use tokio_util::sync::CancellationToken;

pub struct SchedulerService {
    ctx: Arc<Context>,
}

struct Running {
    doc: Value,
    sun: bool,
    cancel: CancellationToken,
    join: tokio::task::JoinHandle<()>,
}

impl SchedulerService {
    pub fn new(ctx: Arc<Context>) -> Self {
        SchedulerService { ctx }
    }

    pub async fn run(self, cancel: CancellationToken) {
        let bus = self.ctx.bus.clone();
        let (mut events, mut settings, mut commands) = match async {
            Ok::<_, switchyard_core::bus::BusError>((
                bus.subscribe("event.schedule.>").await?,
                bus.subscribe("event.settings.>").await?,
                bus.subscribe(&topics::service("scheduler", ">")).await?,
            ))
        }
        .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "scheduler cannot subscribe");
                return;
            }
        };
        let mut running: HashMap<String, Running> = HashMap::new();
        self.reload_all(&mut running).await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                Some(m) = events.next() => {
                    let Ok(e) = m.json::<Event>() else { continue };
                    if e.event_type == EventType::Deleted {
                        stop(&mut running, &e.entity_id).await;
                    } else if running.get(&e.entity_id).is_none_or(|r| config_changed(&r.doc, &e.entity)) {
                        self.restart(&mut running, &e.entity_id).await;
                    }
                }
                // The location may have moved: sun times are computed again.
                Some(_) = settings.next() => {
                    let sun: Vec<String> = running.iter().filter(|(_, r)| r.sun).map(|(k, _)| k.clone()).collect();
                    for id in sun {
                        self.restart(&mut running, &id).await;
                    }
                }
                Some(m) = commands.next() => match commands::parse(&m) {
                    Some(Command::Reload(ids)) => for id in ids { self.restart(&mut running, &id).await },
                    Some(Command::Stop(ids)) => for id in ids { stop(&mut running, &id).await },
                    Some(Command::ReloadAll) => self.reload_all(&mut running).await,
                    None => {}
                },
                else => break,
            }
        }
        let ids: Vec<String> = running.keys().cloned().collect();
        for id in ids {
            stop(&mut running, &id).await;
        }
    }

    async fn reload_all(&self, running: &mut HashMap<String, Running>) {
        let ids: Vec<String> = running.keys().cloned().collect();
        for id in ids {
            stop(running, &id).await;
        }
        match self
            .ctx
            .store
            .find::<Schedule>(&Query::all().filter(Filter::eq("enabled", true)))
            .await
        {
            Ok(p) => {
                for s in p.data {
                    self.start(running, s);
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list schedules"),
        }
    }

    async fn restart(&self, running: &mut HashMap<String, Running>, id: &str) {
        stop(running, id).await;
        match self.ctx.store.get::<Schedule>(id).await {
            Ok(Some(s)) => self.start(running, s),
            Ok(None) => {}
            Err(e) => tracing::error!(schedule = id, error = %e, "cannot read schedule"),
        }
    }

    fn start(&self, running: &mut HashMap<String, Running>, s: Schedule) {
        let Ok(doc) = switchyard_core::store::to_document(&s) else {
            return;
        };
        let cancel = CancellationToken::new();
        let join = if s.enabled {
            tokio::spawn(run_schedule(self.ctx.clone(), s.clone(), cancel.clone()))
        } else {
            tokio::spawn(async {})
        };
        running.insert(
            s.id.clone(),
            Running {
                doc,
                sun: matches!(s.schedule_type.as_str(), "sunrise" | "sunset"),
                cancel,
                join,
            },
        );
    }
}

async fn stop(running: &mut HashMap<String, Running>, id: &str) {
    if let Some(r) = running.remove(id) {
        r.cancel.cancel();
        crate::run_end::finish(r.join).await;
    }
}
