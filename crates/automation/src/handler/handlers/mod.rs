//! Every handler type: one folder each, implementing [`HandlerPlugin`](super::HandlerPlugin).
//! To add one, add its folder and a line in [`build`].

pub mod backup;
pub mod email;
pub mod mqtt;
pub mod noop;
pub mod resource;
pub mod telegram;
pub mod webhook;

use super::HandlerPlugin;
use crate::context::Context;
use crate::error::AutomationError;
use std::sync::Arc;
use switchyard_core::model::Handler;

/// The running plugin for `handler`, from its `type` and `spec`.
pub async fn build(
    handler: &Handler,
    ctx: Arc<Context>,
) -> Result<Box<dyn HandlerPlugin>, AutomationError> {
    let spec = &handler.spec;
    Ok(match handler.handler_type.as_str() {
        "noop" => Box::new(noop::Noop),
        "webhook" => Box::new(webhook::Webhook::build(spec)?),
        "resource" => Box::new(resource::ResourceHandler::build(&handler.id, ctx).await?),
        "email" => Box::new(email::Email::build(spec)?),
        "telegram" => Box::new(telegram::Telegram::build(spec)?),
        "mqtt" => Box::new(mqtt::Mqtt::build(&handler.id, spec)?),
        "backup" => Box::new(backup::Backup::build(spec, ctx)?),
        other => {
            return Err(AutomationError::config(format!(
                "unknown handler type `{other}` (noop, webhook, resource, email, telegram, mqtt, backup)"
            )));
        }
    })
}
