use super::event_filter::CompiledEventFilter;
use super::runner::run_task;
use crate::commands::{self, Command};
use crate::context::Context;
use crate::state::{config_changed, write_state};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use switchyard_core::filter::Query;
use switchyard_core::model::Task;
use switchyard_core::{EntityKind, Event, EventType, Resource, topics};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub struct TaskService {
    ctx: Arc<Context>,
    dropped: Arc<AtomicU64>,
}

struct Running {
    doc: Value,
    filter: Option<CompiledEventFilter>,
    tx: mpsc::Sender<Event>,
    cancel: CancellationToken,
    join: tokio::task::JoinHandle<()>,
}

impl TaskService {
    pub fn new(ctx: Arc<Context>) -> Self {
        TaskService {
            ctx,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Events dropped because a task's queue was full.
    pub fn dropped(&self) -> Arc<AtomicU64> {
        self.dropped.clone()
    }

    pub async fn run(self, cancel: CancellationToken) {
        let bus = self.ctx.bus.clone();
        let (mut events, mut commands) = match async {
            Ok::<_, switchyard_core::bus::BusError>((
                bus.subscribe(topics::ALL_EVENTS).await?,
                bus.subscribe(&topics::service("task", ">")).await?,
            ))
        }
        .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "task service cannot subscribe");
                return;
            }
        };
        let mut running: HashMap<String, Running> = HashMap::new();
        self.reload_all(&mut running).await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                Some(m) = events.next() => {
                    let filters = running.values().filter_map(|r| r.filter.as_ref());
                    if !worth_decoding(&m.subject, filters) {
                        continue;
                    }
                    let Ok(e) = m.json::<Event>() else { continue };
                    if e.entity_type == EntityKind::Task {
                        self.on_task_event(&mut running, e).await;
                    } else {
                        self.dispatch(&running, &e);
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

    fn dispatch(&self, running: &HashMap<String, Running>, e: &Event) {
        for (id, r) in running {
            if r.filter.as_ref().is_some_and(|f| f.matches(e))
                && let Err(mpsc::error::TrySendError::Full(_)) = r.tx.try_send(e.clone())
            {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(task = %id, dropped_total = n, "task queue full; event dropped");
                }
            }
        }
    }

    async fn on_task_event(&self, running: &mut HashMap<String, Running>, e: Event) {
        if e.event_type == EventType::Deleted {
            stop(running, &e.entity_id).await;
            return;
        }
        let changed = running
            .get(&e.entity_id)
            .is_none_or(|r| config_changed(&r.doc, &e.entity));
        if changed {
            self.restart(running, &e.entity_id).await;
        }
    }

    async fn reload_all(&self, running: &mut HashMap<String, Running>) {
        let ids: Vec<String> = running.keys().cloned().collect();
        for id in ids {
            stop(running, &id).await;
        }
        match self.ctx.store.find::<Task>(&Query::all()).await {
            Ok(p) => {
                for t in p.data {
                    self.start(running, t).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot list tasks"),
        }
    }

    async fn restart(&self, running: &mut HashMap<String, Running>, id: &str) {
        stop(running, id).await;
        match self.ctx.store.get::<Task>(id).await {
            Ok(Some(t)) => self.start(running, t).await,
            Ok(None) => {}
            Err(e) => tracing::error!(task = id, error = %e, "cannot read task"),
        }
    }

    async fn start(&self, running: &mut HashMap<String, Running>, t: Task) {
        let Ok(doc) = switchyard_core::store::to_document(&t) else {
            return;
        };
        let watch = t.enabled && t.trigger_on_event;
        let filter = if watch {
            match CompiledEventFilter::new(&t.event_filter) {
                Ok(f) => Some(f),
                Err(e) => {
                    let mut state = t.state.clone();
                    state.message = e;
                    let _ = write_state(
                        &self.ctx.store,
                        self.ctx.bus.as_ref(),
                        Task::KIND,
                        &t.id,
                        &state,
                    )
                    .await;
                    None
                }
            }
        } else {
            None
        };
        let runs = (t.enabled && (filter.is_some() || !t.trigger_on_event))
            || (!t.enabled && t.state.re_enable_at.is_some());
        let (tx, rx) = mpsc::channel(self.ctx.config.task.queue_capacity.max(1));
        let cancel = CancellationToken::new();
        let join = if runs {
            tokio::spawn(run_task(self.ctx.clone(), t.clone(), rx, cancel.clone()))
        } else {
            tokio::spawn(async {})
        };
        running.insert(
            t.id.clone(),
            Running {
                doc,
                filter,
                tx,
                cancel,
                join,
            },
        );
    }
}

/// Whether an event on `subject` (`event.<kind>.<type>`) can concern this service: a task's own
/// event (its configuration changed), or one some running task's filter may match. Everything
/// else is skipped before decoding: most events are field updates no task watches, and decoding
/// each of them was a seventh of the server's CPU under ingest (fleet S1 profile). A subject that
/// does not parse is decoded, so nothing is skipped by mistake.
fn worth_decoding<'a>(
    subject: &str,
    mut filters: impl Iterator<Item = &'a CompiledEventFilter>,
) -> bool {
    let mut parts = subject.strip_prefix("event.").unwrap_or("").split('.');
    let (Some(kind), Some(event_type), None) = (parts.next(), parts.next(), parts.next()) else {
        return true;
    };
    let Ok(kind) = kind.parse::<EntityKind>() else {
        return true;
    };
    kind == EntityKind::Task || filters.any(|f| f.may_match(kind, event_type))
}

async fn stop(running: &mut HashMap<String, Running>, id: &str) {
    if let Some(r) = running.remove(id) {
        r.cancel.cancel();
        drop(r.tx);
        crate::run_end::finish(r.join).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::model::EventFilter;

    fn filter(entity_types: &[&str], event_types: &[&str]) -> CompiledEventFilter {
        let f = EventFilter {
            entity_types: entity_types.iter().map(|s| s.to_string()).collect(),
            event_types: event_types.iter().map(|s| s.to_string()).collect(),
            ..EventFilter::default()
        };
        CompiledEventFilter::new(&f).expect("valid filter")
    }

    #[test]
    fn events_no_task_watches_are_not_decoded() {
        assert!(!worth_decoding("event.field.updated", std::iter::empty()));
        let node_only = filter(&["node"], &[]);
        assert!(!worth_decoding(
            "event.field.updated",
            [&node_only].into_iter()
        ));
        let created = filter(&["field"], &["created"]);
        assert!(!worth_decoding(
            "event.field.updated",
            [&created].into_iter()
        ));
        // Never a kind tasks may not watch, whatever the filter says.
        let any = filter(&[], &[]);
        assert!(!worth_decoding("event.handler.updated", [&any].into_iter()));
    }

    #[test]
    fn events_a_task_may_want_are_decoded() {
        assert!(worth_decoding("event.task.updated", std::iter::empty()));
        let any = filter(&[], &[]);
        assert!(worth_decoding("event.field.updated", [&any].into_iter()));
        let node_only = filter(&["node"], &[]);
        let field_updated = filter(&["field"], &["updated"]);
        assert!(worth_decoding(
            "event.field.updated",
            [&node_only, &field_updated].into_iter()
        ));
    }

    #[test]
    fn subjects_that_do_not_parse_are_decoded() {
        for s in [
            "event.field",
            "event.nothing.updated",
            "events.x.y",
            "event.field.updated.x",
        ] {
            assert!(worth_decoding(s, std::iter::empty()), "{s}");
        }
    }
}
