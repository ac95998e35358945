//! The outbound half: a set from Switchyard into the node's command frames, written on the
//! node's open connection.

use super::node::NodeHandle;
use crate::error::{GatewayError, TransportError};
use crate::provider::Provider;
use async_trait::async_trait;
use std::collections::BTreeMap;
use switchyard_core::Message;

pub(super) struct EsphomeProvider {
    pub nodes: BTreeMap<String, NodeHandle>,
}

#[async_trait]
impl Provider for EsphomeProvider {
    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        let Some(node) = self.nodes.get(&msg.node_id) else {
            return Err(GatewayError::Unsupported(format!(
                "node {:?} is not in this gateway's `nodes`",
                msg.node_id
            )));
        };
        let frames = node
            .entities()
            .commands(msg)
            .map_err(|e| GatewayError::Unsupported(e.to_string()))?;
        for f in frames {
            node.send(&f)
                .await
                .map_err(|e| TransportError::Send(format!("node {:?}: {e}", msg.node_id)))?;
        }
        Ok(())
    }
}
