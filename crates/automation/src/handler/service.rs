use super::handlers;
use super::plugin::{HandlerPlugin, Param, text};
use crate::commands::{self, Command};
use crate::context::Context;
use crate::notify::HandlerNotification;
use crate::state::{config_changed, write_state};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::Subscription;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::{Handler, State, Status};
use switchyard_core::{Event, EventType, Resource, topics};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub struct HandlerService {
    ctx: Arc<Context>,
}

struct Running {
    doc: Value,
    tx: mpsc::Sender<HandlerNotification>,
    cancel: CancellationToken,
    join: tokio::task::JoinHandle<()>,
}

impl HandlerService {
    pub fn new(ctx: Arc<Context>) -> Self {
        HandlerService { ctx }
    }

    /// Runs until `cancel` fires, then stops every handler (pending delayed actions stay stored).
    pub async fn run(self, cancel: CancellationToken) {
        let bus = self.ctx.bus.clone();
        let subs = async {
            Ok::<_, switchyard_core::bus::BusError>((
                bus.subscribe(topics::HANDLER_NOTIFY).await?,
                bus.subscribe("event.handler.>").await?,
                bus.subscribe(&topics::service("handler", ">")).await?,
            ))
        };
        let (mut notify, mut events, mut commands): (Subscription, Subscription, Subscription) =
            match subs.await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "handler service cannot subscribe");
                    return;
                }
            };
        let mut running: HashMap<String, Running> = HashMap::new();
        self.reload_all(&mut running).await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                Some(m) = notify.next() => match m.json::<HandlerNotification>() {
                    Ok(n) => self.dispatch(&running, n),
                    Err(e) => tracing::warn!(error = %e, "bad handler notification"),
                },
                Some(m) = events.next() => {
                    if let Ok(e) = m.json::<Event>() {
                        self.on_event(&mut running, e).await;
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

    fn dispatch(&self, running: &HashMap<String, Running>, n: HandlerNotification) {
        let Some(r) = running.get(&n.handler_id) else {
            tracing::debug!(handler = %n.handler_id, "notification for a handler that is not running");
            return;
        };
        if let Err(mpsc::error::TrySendError::Full(n)) = r.tx.try_send(n) {
            let ctx = self.ctx.clone();
            let cap = ctx.config.handler.queue_capacity;
            tokio::spawn(async move {
                let state = State::new(
                    Status::Error,
                    format!(
                        "{cap} notifications already waiting; dropped one from {}",
                        n.source
                    ),
                    ctx.clock.now(),
                );
                let _ = write_state(
                    &ctx.store,
                    ctx.bus.as_ref(),
                    Handler::KIND,
                    &n.handler_id,
                    &state,
                )
                .await;
            });
        }
    }

    async fn on_event(&self, running: &mut HashMap<String, Running>, e: Event) {
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
        let all = match self
            .ctx
            .store
            .find::<Handler>(&Query::all().filter(Filter::eq("enabled", true)))
            .await
        {
            Ok(p) => p.data,
            Err(e) => {
                tracing::error!(error = %e, "cannot list handlers");
                return;
            }
        };
        let ids: Vec<String> = running.keys().cloned().collect();
        for id in ids {
            stop(running, &id).await;
        }
        for h in all {
            self.start(running, h).await;
        }
    }

    async fn restart(&self, running: &mut HashMap<String, Running>, id: &str) {
        stop(running, id).await;
        match self.ctx.store.get::<Handler>(id).await {
            Ok(Some(h)) if h.enabled => self.start(running, h).await,
            Ok(_) => {}
            Err(e) => tracing::error!(handler = id, error = %e, "cannot read handler"),
        }
    }

    async fn start(&self, running: &mut HashMap<String, Running>, h: Handler) {
        let doc = match switchyard_core::store::to_document(&h) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(handler = %h.id, error = %e, "bad handler");
                return;
            }
        };
        let now = self.ctx.clock.now();
        let plugin = match handlers::build(&h, self.ctx.clone()).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(handler = %h.id, error = %e, "handler not started");
                let state = State::new(Status::Error, e.to_string(), now);
                let _ = write_state(
                    &self.ctx.store,
                    self.ctx.bus.as_ref(),
                    Handler::KIND,
                    &h.id,
                    &state,
                )
                .await;
                // Remember the config so that our own state write does not retry forever.
                let (tx, _) = mpsc::channel(1);
                running.insert(
                    h.id.clone(),
                    Running {
                        doc,
                        tx,
                        cancel: CancellationToken::new(),
                        join: tokio::spawn(async {}),
                    },
                );
                return;
            }
        };
        let timeout = match text(&h.spec, "timeout") {
            t if t.trim().is_empty() => self.ctx.duration(&self.ctx.config.handler.timeout),
            t => self.ctx.duration(&t),
        };
        let (tx, rx) = mpsc::channel(self.ctx.config.handler.queue_capacity.max(1));
        let cancel = CancellationToken::new();
        let join = tokio::spawn(run_handler(
            self.ctx.clone(),
            h.id.clone(),
            plugin,
            rx,
            cancel.clone(),
            timeout,
        ));
        running.insert(
            h.id.clone(),
            Running {
                doc,
                tx,
                cancel,
                join,
            },
        );
    }
}

async fn stop(running: &mut HashMap<String, Running>, id: &str) {
    if let Some(r) = running.remove(id) {
        r.cancel.cancel();
        drop(r.tx);
        crate::run_end::finish(r.join).await;
    }
}

async fn run_handler(
    ctx: Arc<Context>,
    id: String,
    mut plugin: Box<dyn HandlerPlugin>,
    mut rx: mpsc::Receiver<HandlerNotification>,
    cancel: CancellationToken,
    timeout: Duration,
) {
    loop {
        let n = tokio::select! {
            _ = cancel.cancelled() => break,
            n = rx.recv() => match n {
                Some(n) => n,
                None => break,
            },
        };
        let state = deliver(&ctx, plugin.as_mut(), &n, timeout).await;
        if let Err(e) = write_state(&ctx.store, ctx.bus.as_ref(), Handler::KIND, &id, &state).await
        {
            tracing::warn!(handler = %id, error = %e, "cannot store handler state");
        }
    }
    plugin.stop().await;
}

async fn deliver(
    ctx: &Context,
    plugin: &mut dyn HandlerPlugin,
    n: &HandlerNotification,
    timeout: Duration,
) -> State {
    let templates = ctx.templates().await;
    let data = Value::Object(n.variables.clone());
    let (mut delivered, mut errors) = (0usize, Vec::new());
    for (name, p) in &n.parameters {
        let Value::Object(fields) = p else { continue };
        let kind = text(fields, "type");
        if !plugin.accepts(&kind) {
            continue;
        }
        let fields = match templates.render_value(&Value::Object(fields.clone()), &data) {
            Ok(Value::Object(f)) => f,
            Ok(_) => continue,
            Err(e) => {
                errors.push(format!("{name}: {e}"));
                continue;
            }
        };
        let param = Param {
            name: name.clone(),
            kind,
            fields,
        };
        match tokio::time::timeout(timeout, plugin.post(&param, &n.variables)).await {
            Ok(Ok(())) => delivered += 1,
            Ok(Err(e)) => errors.push(format!("{name}: {e}")),
            Err(_) => errors.push(format!("{name}: no result within {timeout:?}")),
        }
    }
    let now = ctx.clock.now();
    if errors.is_empty() {
        State::new(
            Status::Ok,
            format!("delivered {delivered} parameter(s) from {}", n.source),
            now,
        )
    } else {
        tracing::warn!(source = %n.source, errors = ?errors, "handler delivery failed");
        State::new(Status::Error, errors.join("; "), now)
    }
}
