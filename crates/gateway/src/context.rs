//! What a running provider gets from the runtime.

use crate::ack::AckWaiters;
use crate::message_logger::MessageLogger;
use crate::provider::ProviderState;
use crate::stats::GatewayStats;
use crate::transport::TransportContext;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::Message;
use switchyard_core::bus::Bus;
use switchyard_core::model::Gateway;
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::store::Store;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Messages from devices waiting to be published to the processor, per gateway.
pub const INBOUND_QUEUE_CAPACITY: usize = 1024;
/// How long [`ProviderContext::emit`] waits for room in a full inbound queue before it drops the
/// message. While it waits the provider reads nothing more, so a fast device is slowed through the
/// transport's own flow control (serial and TCP buffers, MQTT's in-flight window) first.
pub const INBOUND_WAIT: Duration = Duration::from_secs(1);

/// Handed to [`crate::ProviderConfig::start`]; cheap to clone into the provider's tasks.
#[derive(Clone)]
pub struct ProviderContext {
    pub(crate) gateway: Arc<Gateway>,
    pub(crate) store: Store,
    pub(crate) bus: Arc<dyn Bus>,
    pub(crate) cancel: CancellationToken,
    pub(crate) inbound: mpsc::Sender<Message>,
    pub(crate) acks: Arc<AckWaiters>,
    pub(crate) state: Arc<watch::Sender<Option<ProviderState>>>,
    pub(crate) stats: Arc<GatewayStats>,
    pub(crate) traffic: MessageLogger,
    pub(crate) reject_log: Arc<RateLimitedLog>,
    pub(crate) data_dir: Arc<PathBuf>,
}

impl ProviderContext {
    /// The gateway as configured when this provider started (its id, labels such as `timezone`).
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    pub fn gateway_id(&self) -> &str {
        &self.gateway.id
    }

    /// Storage, for reads a provider needs (the node ids in use, a node's labels). What
    /// providers learn goes to the processor as messages; the one write is a reservation that
    /// must be durable before the device is answered (MySensors' I_ID_REQUEST stores the node
    /// before handing out its id).
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    /// Fires when the provider must stop (gateway stopped, reconfigured, or restarting).
    pub fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Hands a message from a device to the processor. The runtime fills in `gatewayId`,
    /// `isReceived` and (when unset) `timestamp`. Waits up to [`INBOUND_WAIT`] when the inbound
    /// queue ([`INBOUND_QUEUE_CAPACITY`]) is full, then drops the message, counts it and returns
    /// false.
    pub async fn emit(&self, msg: Message) -> bool {
        match self.inbound.send_timeout(msg, INBOUND_WAIT).await {
            Ok(()) => true,
            Err(_) => {
                self.stats.add_inbound_dropped();
                self.reject_log.log(|suppressed| {
                    tracing::warn!(
                        gateway = %self.gateway.id, suppressed,
                        "inbound queue full; dropped a message from a device"
                    )
                });
                false
            }
        }
    }

    /// Reports that the device echoed the message sent with this ack key
    /// ([`crate::AckRequest::key`]). False when no send waits for it.
    pub fn acknowledge(&self, key: &str) -> bool {
        self.acks.acknowledge(key)
    }

    /// Reports the connection's state. `Down` or `Error` make the runtime stop this provider and
    /// restart it after `reconnectDelay`.
    pub fn report_state(&self, state: ProviderState) {
        self.state.send_replace(Some(state));
    }

    /// Bad input from a device: counted for the gateway and logged (at most once a second, with
    /// the count of lines held back). The provider carries on.
    pub fn reject(&self, reason: impl Display) {
        self.stats.add_rejected();
        self.reject_log.log(|suppressed| {
            tracing::warn!(gateway = %self.gateway.id, %reason, suppressed, "rejected device input")
        });
    }

    /// The raw traffic logger (a no-op unless the gateway's `messageLogger` is set).
    pub fn traffic_log(&self) -> &MessageLogger {
        &self.traffic
    }

    /// The server's data directory (uploaded firmware lives in `<data_dir>/firmware/<id>`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// What a transport needs to connect for this gateway.
    pub fn transport_context(&self) -> TransportContext {
        TransportContext {
            gateway_id: self.gateway.id.clone(),
            traffic: self.traffic.clone(),
            stats: self.stats.clone(),
        }
    }
}
