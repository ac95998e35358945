//! Wiring: nodes, radio and one transport, run until cancelled.

use crate::config::{SimConfig, TransportConfig};
use crate::error::SimError;
use crate::event::{SimEvent, SimStats, StatsSnapshot};
use crate::node::Node;
use crate::radio::{EVENT_CAPACITY, OUTBOUND_CAPACITY, Radio, Shared};
use crate::transport::{GatewaySide, lines, mqtt, serial, tcp};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Mutex, broadcast, mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A simulated MySensors gateway with its nodes. Subscribe to [`events`](Self::events) before
/// calling a `run` method so nothing is missed.
pub struct Simulator {
    config: SimConfig,
    events: broadcast::Sender<SimEvent>,
    stats: Arc<SimStats>,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        config.validate()?;
        Ok(Simulator {
            config,
            events: broadcast::channel(EVENT_CAPACITY).0,
            stats: Arc::default(),
        })
    }

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Everything nodes and transport do, as it happens. A receiver more than
    /// [`EVENT_CAPACITY`] events behind gets `Lagged` and loses the oldest.
    pub fn events(&self) -> broadcast::Receiver<SimEvent> {
        self.events.subscribe()
    }

    /// Live counters (also returned by `run` at the end).
    pub fn stats(&self) -> Arc<SimStats> {
        self.stats.clone()
    }

    /// Runs over a real transport until `cancel`. Fails only on a bad configuration or a TCP
    /// address that cannot be bound; a controller or broker that goes away is waited for.
    pub async fn run(
        self,
        transport: TransportConfig,
        cancel: CancellationToken,
    ) -> Result<StatsSnapshot, SimError> {
        match transport {
            TransportConfig::Serial { path, baud_rate } => {
                self.run_with(cancel, |side, cancel| async move {
                    serial::run(&path, baud_rate, side, cancel).await
                })
                .await
            }
            TransportConfig::Tcp { listen } => {
                let listener = tcp::bind(listen).await?;
                self.run_with(cancel, |side, cancel| tcp::run(listener, side, cancel))
                    .await
            }
            TransportConfig::Mqtt {
                broker,
                publish_prefix,
                subscribe_prefix,
                client_id,
            } => {
                let link =
                    mqtt::MqttLink::new(&broker, &client_id, &publish_prefix, &subscribe_prefix)?;
                self.run_with(cancel, |side, cancel| link.run(side, cancel))
                    .await
            }
        }
    }

    /// Runs over one already-open byte stream speaking lines (an in-memory duplex in tests, so
    /// that timing can run on paused tokio time). Ends on `cancel` or when the stream closes.
    pub async fn run_on_stream<S>(
        self,
        stream: S,
        cancel: CancellationToken,
    ) -> Result<StatsSnapshot, SimError>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        self.run_with(cancel, |mut side, cancel| async move {
            let ended =
                lines::serve(stream, &mut side, std::future::pending::<()>(), &cancel).await;
            tracing::debug!(?ended, "stream ended");
        })
        .await
    }

    async fn run_with<F, Fut>(
        self,
        cancel: CancellationToken,
        transport: F,
    ) -> Result<StatsSnapshot, SimError>
    where
        F: FnOnce(GatewaySide, CancellationToken) -> Fut,
        Fut: Future<Output = ()>,
    {
        let (outbound_tx, outbound) = mpsc::channel(OUTBOUND_CAPACITY);
        let shared = Shared {
            outbound: outbound_tx,
            events: self.events.clone(),
            stats: self.stats.clone(),
        };
        let (up, up_rx) = watch::channel(false);
        let id_lock = Arc::new(Mutex::new(()));
        let nodes_cancel = cancel.child_token();
        let mut tasks = JoinSet::new();
        let mut links = Vec::with_capacity(self.config.nodes.len());
        for (index, node_config) in self.config.nodes.iter().enumerate() {
            let (node, link) = Node::new(
                index,
                node_config.clone(),
                self.config.seed,
                shared.clone(),
                id_lock.clone(),
            );
            links.push(link);
            tasks.spawn(node.run(up_rx.clone(), nodes_cancel.clone()));
        }
        let side = GatewaySide {
            radio: Radio::new(links, shared),
            outbound,
            up,
        };
        transport(side, cancel.clone()).await;
        nodes_cancel.cancel();
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined
                && e.is_panic()
            {
                tracing::error!("a node task panicked: {e}");
            }
        }
        Ok(self.stats.snapshot())
    }
}
