use crate::auth::Sessions;
use std::sync::Arc;
use std::time::Instant;
use switchyard_core::bus::Bus;
use switchyard_core::store::Store;

/// What `/api/status` reports about the running services, supplied by the server's wiring.
pub type StatusSource = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub bus: Arc<dyn Bus>,
    pub sessions: Arc<Sessions>,
    pub started: Instant,
    pub status: StatusSource,
}
