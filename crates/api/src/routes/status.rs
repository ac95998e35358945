use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// Version, uptime and each service's state. Open without login, so monitors can poll it; it
/// shows no resource data.
pub async fn status(State(state): State<ApiState>) -> Json<Value> {
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started.elapsed().as_secs(),
        "services": (state.status)(),
    }))
}
