use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

/// Version, uptime, the login message and each service's state. Open without login, so monitors
/// can poll it and the console can show the login message; it shows no resource data.
pub async fn status(State(state): State<ApiState>) -> Json<Value> {
    let settings = super::settings::system_settings(&state).await.ok();
    let login_message = settings
        .as_ref()
        .and_then(|s| s.login.get("message"))
        .cloned()
        .unwrap_or(Value::String(String::new()));
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started.elapsed().as_secs(),
        "loginMessage": login_message,
        "metricsDisabled": state.metrics.name() == "none",
        "services": (state.status)(),
        "websocket": state.ws.stats(),
    }))
}

pub async fn version() -> Json<Value> {
    Json(json!({
        "name": "switchyard",
        "version": env!("CARGO_PKG_VERSION"),
        "api": "MyController v2 compatible, see /api/openapi.json",
    }))
}
