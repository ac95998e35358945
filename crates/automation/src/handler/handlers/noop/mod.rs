//! `noop`: accepts every parameter and does nothing (for trying out tasks and schedules).

use crate::error::AutomationError;
use crate::handler::{HandlerPlugin, Param};
use async_trait::async_trait;
use serde_json::{Map, Value};

pub struct Noop;

#[async_trait]
impl HandlerPlugin for Noop {
    fn accepts(&self, _kind: &str) -> bool {
        true
    }

    async fn post(
        &mut self,
        param: &Param,
        _vars: &Map<String, Value>,
    ) -> Result<(), AutomationError> {
        tracing::debug!(param = %param.name, "noop handler");
        Ok(())
    }
}
