//! The MySensors network behind one gateway, as the provider sees it: the link to the gateway,
//! the settings, and the state the controller's answers need (id assignment, firmware updates).
//! Shared by the inbound loop (which answers node requests) and the outbound half.

use super::config::Settings;
use super::link::Link;
use super::ota::Ota;
use super::protocol::mapping::{AckPolicy, discover_request};
use super::protocol::{BROADCAST_ID, RawFrame};
use crate::context::ProviderContext;
use crate::error::GatewayError;
use std::time::Duration;
use switchyard_core::model::Node;
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::{Message, MessageType, Payload, QuickId};

/// Failures that are not the device's fault (storage, a lost link), logged at most once a second
/// for all MySensors gateways.
pub(crate) static FAILURE_LOG: RateLimitedLog = RateLimitedLog::new(Duration::from_secs(1));

pub(crate) struct Network {
    pub ctx: ProviderContext,
    pub link: Link,
    pub settings: Settings,
    pub policy: AckPolicy,
    /// Held while an id is chosen and reserved, so two requests never get the same id.
    pub id_lock: tokio::sync::Mutex<()>,
    pub ota: Ota,
}

impl Network {
    pub fn new(ctx: ProviderContext, link: Link, settings: Settings) -> Self {
        Network {
            ctx,
            link,
            policy: AckPolicy {
                internal: settings.internal_ack,
                stream: settings.stream_ack,
            },
            settings,
            id_lock: tokio::sync::Mutex::new(()),
            ota: Ota::default(),
        }
    }

    pub fn gateway_id(&self) -> &str {
        self.ctx.gateway_id()
    }

    pub fn warn(&self, what: impl std::fmt::Display) {
        FAILURE_LOG.log(|suppressed| {
            tracing::warn!(gateway = %self.gateway_id(), %what, suppressed, "mysensors")
        });
    }

    /// The stored node, if any.
    pub async fn node(&self, node_id: u8) -> Result<Option<Node>, GatewayError> {
        let id = QuickId::compose(&[self.gateway_id(), &node_id.to_string()]);
        Ok(self.ctx.store().get::<Node>(&id).await?)
    }

    /// A node label, or `None` when the node or the label is missing (a storage failure is
    /// logged and counts as missing: the caller falls back to its default).
    pub async fn node_label(&self, node_id: u8, label: &str) -> Option<String> {
        match self.node(node_id).await {
            Ok(node) => node.and_then(|n| n.labels.get(label).cloned()),
            Err(e) => {
                self.warn(format!("reading node {node_id}: {e}"));
                None
            }
        }
    }

    /// Node properties learned by the controller itself (OTA progress), to the processor like
    /// anything a node says.
    pub async fn set_node(&self, node_id: u8, payloads: Vec<Payload>) {
        let mut msg = Message::new(MessageType::Set, self.gateway_id(), node_id.to_string(), "");
        msg.payloads = payloads;
        self.ctx.emit(msg).await;
    }

    /// Sends an answer or request of the controller's own, without asking for an echo: the
    /// inbound loop sends these, and it is the one that would read the echo.
    pub async fn send_unacknowledged(&self, frame: &RawFrame) {
        if let Err(e) = self.link.send(frame).await {
            self.warn(format!("sending {frame}: {e}"));
        }
    }

    /// Asks every node for its parent (I_DISCOVER_REQUEST): the answers show who is alive.
    pub async fn discover(&self) {
        let frame = discover_request();
        debug_assert_eq!(frame.node_id, BROADCAST_ID);
        self.send_unacknowledged(&frame).await;
    }
}
