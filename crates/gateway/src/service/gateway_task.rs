//! One gateway, supervised: start its provider, keep its state true, restart it after
//! `reconnectDelay` (backing off while starts keep failing), until it is stopped.

use super::Shared;
use super::backoff::{reconnect_delay, restart_delay};
use super::outbound::Outbound;
use super::state::StateWriter;
use crate::ack::AckWaiters;
use crate::context::{INBOUND_QUEUE_CAPACITY, ProviderContext};
use crate::error::{GatewayError, TransportError};
use crate::message_logger::{MessageLogger, MessageLoggerConfig};
use crate::provider::{Provider, ProviderConfig, ProviderState};
use crate::sleeping_queue::SleepingQueue;
use crate::stats::GatewayStats;
use bytes::Bytes;
use chrono::Utc;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::{Bus, BusError};
use switchyard_core::model::{Gateway, Status};
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::{Message, topics};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a stopping provider's inbound loop may take to end before it is aborted.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A running gateway, as the service holds it.
pub(crate) struct GatewayHandle {
    /// The configuration it runs with.
    pub config: Gateway,
    pub cancel: CancellationToken,
    /// The state written when it stops; `None` writes nothing (a deleted gateway).
    pub stop_message: Arc<Mutex<Option<String>>>,
    pub queue: Arc<Mutex<SleepingQueue>>,
    pub stats: Arc<GatewayStats>,
    pub task: JoinHandle<()>,
}

impl GatewayHandle {
    /// Stops the gateway and waits for it (aborting it after a bound).
    pub async fn stop(self, message: Option<&str>) {
        *self.stop_message.lock() = message.map(str::to_string);
        self.cancel.cancel();
        let mut task = self.task;
        if tokio::time::timeout(STOP_TIMEOUT * 2, &mut task)
            .await
            .is_err()
        {
            tracing::warn!(gateway = %self.config.id, "gateway did not stop in time; aborted");
            task.abort();
        }
    }
}

pub(crate) fn spawn(
    shared: Arc<Shared>,
    gateway: Gateway,
    cancel: CancellationToken,
) -> GatewayHandle {
    let run = GatewayRun {
        shared,
        gateway: Arc::new(gateway.clone()),
        cancel: cancel.clone(),
        stop_message: Arc::new(Mutex::new(Some("stopped".into()))),
        queue: Arc::new(Mutex::new(SleepingQueue::new())),
        stats: Arc::new(GatewayStats::default()),
    };
    GatewayHandle {
        config: gateway,
        cancel,
        stop_message: run.stop_message.clone(),
        queue: run.queue.clone(),
        stats: run.stats.clone(),
        task: tokio::spawn(run.run()),
    }
}

struct GatewayRun {
    shared: Arc<Shared>,
    gateway: Arc<Gateway>,
    cancel: CancellationToken,
    stop_message: Arc<Mutex<Option<String>>>,
    queue: Arc<Mutex<SleepingQueue>>,
    stats: Arc<GatewayStats>,
}

/// What the gateway needs before its provider can start; an error is a config problem.
struct Prepared {
    config: Box<dyn ProviderConfig>,
    reconnect_delay: Duration,
    traffic: MessageLogger,
}

impl GatewayRun {
    fn prepare(&self) -> Result<Prepared, String> {
        let reconnect_delay = reconnect_delay(&self.gateway.reconnect_delay)?;
        let config = self
            .shared
            .registry
            .config(&self.gateway.provider)
            .map_err(|e| e.to_string())?;
        let logger = MessageLoggerConfig::from_map(&self.gateway.message_logger)?;
        let traffic = MessageLogger::start(&logger, &self.shared.data_dir, &self.gateway.id)?;
        Ok(Prepared {
            config,
            reconnect_delay,
            traffic,
        })
    }

    async fn run(self) {
        let id = self.gateway.id.clone();
        let mut state = StateWriter::new(
            self.shared.bus.clone(),
            self.shared.store.clone(),
            id.clone(),
        );
        let prepared = match self.prepare() {
            Ok(p) => p,
            Err(reason) => {
                // Retrying cannot fix a config: wait for an edit (which restarts the gateway).
                state.set(Status::Error, reason).await;
                self.cancel.cancelled().await;
                return self.finish(&mut state).await;
            }
        };
        let subscription = match self.shared.bus.subscribe(&topics::to_gateway(&id)).await {
            Ok(s) => s,
            Err(e) => {
                state
                    .set(Status::Error, format!("subscribing to the bus: {e}"))
                    .await;
                self.cancel.cancelled().await;
                return self.finish(&mut state).await;
            }
        };
        let log = Arc::new(RateLimitedLog::new(Duration::from_secs(1)));
        let acks = Arc::new(AckWaiters::default());
        let (provider_tx, provider_rx) = watch::channel::<Option<Arc<dyn Provider>>>(None);
        let outbound = Outbound {
            gateway_id: id.clone(),
            store: self.shared.store.clone(),
            queue: self.queue.clone(),
            stats: self.stats.clone(),
            acks: acks.clone(),
            provider: provider_rx,
            queue_failed_message: self.gateway.queue_failed_message,
            log: log.clone(),
        };
        let outbound = tokio::spawn(outbound.run(subscription, self.cancel.clone()));
        let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_QUEUE_CAPACITY);
        let publisher = tokio::spawn(publish_inbound(
            self.shared.bus.clone(),
            id.clone(),
            inbound_rx,
            self.stats.clone(),
            log.clone(),
        ));

        let mut failed_starts = 0u32;
        loop {
            self.stats.add_restart();
            let attempt = self.cancel.child_token();
            let (state_tx, mut state_rx) = watch::channel(None);
            let ctx = ProviderContext {
                gateway: self.gateway.clone(),
                store: self.shared.store.clone(),
                bus: self.shared.bus.clone(),
                cancel: attempt.clone(),
                inbound: inbound_tx.clone(),
                acks: acks.clone(),
                state: Arc::new(state_tx),
                stats: self.stats.clone(),
                traffic: prepared.traffic.clone(),
                reject_log: log.clone(),
                data_dir: Arc::new(self.shared.data_dir.clone()),
            };
            let started = tokio::select! {
                _ = self.cancel.cancelled() => break,
                r = prepared.config.start(ctx) => r,
            };
            let delay = match started {
                Ok(running) => {
                    failed_starts = 0;
                    provider_tx.send_replace(Some(running.outbound));
                    // A provider that said while starting that it waits for its device (a first
                    // answer, a pairing) is not shown `up` before it reports so.
                    let waiting = match &*state_rx.borrow() {
                        Some(ProviderState::Waiting(m)) => Some(m.clone()),
                        _ => None,
                    };
                    match waiting {
                        Some(m) => state.set(Status::Down, m).await,
                        None => state.set(Status::Up, "connected").await,
                    }
                    let mut inbound = tokio::spawn(running.inbound);
                    let ended = loop {
                        tokio::select! {
                            _ = self.cancel.cancelled() => break None,
                            r = &mut inbound => break Some(ended_state(r)),
                            changed = state_rx.changed() => {
                                if changed.is_err() {
                                    // The provider dropped its context; only `inbound` is left.
                                    break Some(ended_state((&mut inbound).await));
                                }
                                let reported = state_rx.borrow_and_update().clone();
                                match reported {
                                    Some(ProviderState::Up(m)) => state.set(Status::Up, m).await,
                                    Some(ProviderState::Down(m)) => break Some((Status::Down, m)),
                                    Some(ProviderState::Error(m)) => break Some((Status::Error, m)),
                                    Some(ProviderState::Waiting(m)) => state.set(Status::Down, m).await,
                                    None => {}
                                }
                            }
                        }
                    };
                    // A stop request also ends the provider's loop (its token is a child of
                    // ours); that end is the stop, not a failure, and gets the stop's state.
                    let ended = if self.cancel.is_cancelled() {
                        None
                    } else {
                        ended
                    };
                    provider_tx.send_replace(None);
                    attempt.cancel();
                    if !inbound.is_finished()
                        && tokio::time::timeout(STOP_TIMEOUT, &mut inbound)
                            .await
                            .is_err()
                    {
                        inbound.abort();
                    }
                    match ended {
                        None => break,
                        Some((status, message)) => state.set(status, message).await,
                    }
                    prepared.reconnect_delay
                }
                Err(e) => {
                    failed_starts = failed_starts.saturating_add(1);
                    state.set(Status::Error, e.to_string()).await;
                    restart_delay(prepared.reconnect_delay, failed_starts)
                }
            };
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                _ = tokio::time::sleep(delay) => {}
            }
        }
        provider_tx.send_replace(None);
        drop(inbound_tx);
        let _ = outbound.await;
        if tokio::time::timeout(STOP_TIMEOUT, publisher).await.is_err() {
            tracing::warn!(gateway = %id, "inbound publisher did not finish in time");
        }
        self.finish(&mut state).await;
    }

    async fn finish(&self, state: &mut StateWriter) {
        let message = self.stop_message.lock().take();
        if let Some(message) = message {
            state.set(Status::Down, message).await;
        }
    }
}

/// The state a provider's ended inbound loop leaves: a lost connection is `down`, anything
/// else `error`.
fn ended_state(r: Result<Result<(), GatewayError>, tokio::task::JoinError>) -> (Status, String) {
    match r {
        Ok(Ok(())) => (Status::Down, "the provider stopped".into()),
        Ok(Err(e @ GatewayError::Transport(TransportError::Lost(_)))) => {
            (Status::Down, e.to_string())
        }
        Ok(Err(e)) => (Status::Error, e.to_string()),
        Err(e) => (Status::Error, format!("the provider failed: {e}")),
    }
}

/// Publishes what providers emit to the processor, stamped with the gateway. Ends when every
/// sender (the runtime's and the providers' contexts) is gone, after sending what is queued.
pub(crate) async fn publish_inbound(
    bus: Arc<dyn Bus>,
    gateway_id: String,
    mut rx: mpsc::Receiver<Message>,
    stats: Arc<GatewayStats>,
    log: Arc<RateLimitedLog>,
) {
    while let Some(mut msg) = rx.recv().await {
        if msg.gateway_id != gateway_id {
            msg.gateway_id.clone_from(&gateway_id);
        }
        msg.is_received = true;
        if msg.timestamp.is_none() {
            msg.timestamp = Some(Utc::now());
        }
        let published = match msg.encode() {
            Ok(bytes) => bus.publish(topics::TO_PROCESSOR, Bytes::from(bytes)).await,
            Err(e) => Err(BusError::Encode(e.to_string())),
        };
        match published {
            Ok(()) => stats.add_received(),
            Err(e) => {
                stats.add_inbound_dropped();
                log.log(|suppressed| {
                    tracing::warn!(gateway = %gateway_id, error = %e, suppressed, "cannot publish to the processor")
                });
            }
        }
    }
}
