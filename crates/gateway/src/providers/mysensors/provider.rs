//! The outbound half: messages for nodes become frames, with the echo the runtime waits for.

use super::network::Network;
use super::protocol::mapping::{actions, message_to_frame};
use super::requests::request_of_action;
use crate::error::GatewayError;
use crate::provider::{AckRequest, Provider};
use async_trait::async_trait;
use std::sync::Arc;
use switchyard_core::{Message, MessageType};

pub(crate) struct MySensorsProvider {
    network: Arc<Network>,
}

impl MySensorsProvider {
    pub fn new(network: Arc<Network>) -> Self {
        MySensorsProvider { network }
    }
}

fn node_id(msg: &Message) -> Result<u8, GatewayError> {
    msg.node_id
        .parse::<u8>()
        .ok()
        .filter(|id| *id != super::protocol::BROADCAST_ID)
        .ok_or_else(|| {
            GatewayError::Unsupported(format!(
                "node id {:?} is not a MySensors node id (0..=254)",
                msg.node_id.chars().take(16).collect::<String>()
            ))
        })
}

#[async_trait]
impl Provider for MySensorsProvider {
    /// Set and req frames always ask for an echo; internal and stream frames when configured;
    /// broadcasts never ([`super::protocol::mapping::AckPolicy`]).
    fn ack_request(&self, msg: &Message) -> Option<AckRequest> {
        let frame = self.network.policy.apply(message_to_frame(msg).ok()?);
        frame.ack.then(|| AckRequest {
            key: frame.echo_key(),
            timeout: self.network.settings.ack_timeout,
            attempts: self.network.settings.attempts,
        })
    }

    fn max_in_flight(&self) -> usize {
        self.network.settings.max_in_flight
    }

    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        if msg.message_type == MessageType::Action
            && let Some(payload) = msg.payloads.first()
        {
            match payload.key.as_str() {
                actions::FIRMWARE_UPDATE => {
                    return self.network.firmware_update(node_id(msg)?).await;
                }
                actions::RESET => return self.network.reset(node_id(msg)?).await,
                _ => {}
            }
            if let Some(request) = request_of_action(msg) {
                self.network.answer_action(&request).await;
                return Ok(());
            }
        }
        let frame = message_to_frame(msg).map_err(|e| GatewayError::Unsupported(e.to_string()))?;
        self.network
            .link
            .send(&self.network.policy.apply(frame))
            .await
    }
}
