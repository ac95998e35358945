//! The system settings (`system_settings`): location, unit system, node-state job, login message,
//! language. Reading answers the defaults when nothing was stored yet.

use super::resources::announce;
use crate::error::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_core::model::{Settings, SystemSettings};
use switchyard_core::store::to_document;
use switchyard_core::value::parse_duration;
use switchyard_core::{EntityKind, Event, EventType};

pub async fn system_settings(state: &ApiState) -> Result<SystemSettings, ApiError> {
    let stored = state.store.get::<Settings>(Settings::SYSTEM).await?;
    Ok(stored
        .and_then(|s| serde_json::from_value(Value::Object(s.spec)).ok())
        .unwrap_or_default())
}

fn document(spec: &SystemSettings, modified_on: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    json!({"id": Settings::SYSTEM, "spec": spec, "modifiedOn": modified_on})
}

pub async fn get_settings(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let stored = state.store.get::<Settings>(Settings::SYSTEM).await?;
    let modified = stored.as_ref().and_then(|s| s.modified_on);
    Ok(Json(document(&system_settings(&state).await?, modified)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SettingsInput {
    #[serde(default)]
    id: Option<String>,
    spec: Value,
    #[serde(default, rename = "modifiedOn")]
    _modified_on: Option<serde::de::IgnoredAny>,
}

fn validate(spec: &SystemSettings) -> Vec<(String, String)> {
    let mut bad = Vec::new();
    if !["", "metric", "imperial"].contains(&spec.unit_system.as_str()) {
        bad.push(("spec.unitSystem".into(), "metric or imperial".into()));
    }
    for (key, v) in [
        ("executionInterval", &spec.node_state_job.execution_interval),
        ("inactiveDuration", &spec.node_state_job.inactive_duration),
    ] {
        if !matches!(parse_duration(v), Ok(d) if d > chrono::Duration::zero()) {
            bad.push((
                format!("spec.nodeStateJob.{key}"),
                format!("`{v}` is not a positive duration"),
            ));
        }
    }
    for (key, range) in [("latitude", 90.0), ("longitude", 180.0)] {
        if let Some(v) = spec.geo_location.get(key)
            && !v.is_null()
        {
            let n = v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
            if !n.is_some_and(|n: f64| n.abs() <= range) {
                bad.push((
                    format!("spec.geoLocation.{key}"),
                    format!("a number from -{range} to {range}"),
                ));
            }
        }
    }
    bad
}

/// Replaces the system settings: `{id: "system_settings", spec: {…}}` (or just the spec).
pub async fn update_settings(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("body is not JSON: {e}")))?;
    let (prefix, spec_value) = match serde_json::from_value::<SettingsInput>(value.clone()) {
        Ok(input) => {
            if input.id.as_deref().is_some_and(|id| id != Settings::SYSTEM) {
                return Err(ApiError::invalid(
                    "invalid_resource",
                    vec![(
                        "id".into(),
                        format!("only `{}` can be set here", Settings::SYSTEM),
                    )],
                ));
            }
            ("spec.", input.spec)
        }
        Err(_) => ("", value),
    };
    let spec: SystemSettings = serde_path_to_error::deserialize(spec_value).map_err(|e| {
        ApiError::invalid(
            "invalid_resource",
            vec![(format!("{prefix}{}", e.path()), e.inner().to_string())],
        )
    })?;
    let bad = validate(&spec);
    if !bad.is_empty() {
        return Err(ApiError::invalid("invalid_resource", bad));
    }
    let now = chrono::Utc::now();
    let spec_doc = match to_document(&spec)? {
        Value::Object(m) => m,
        _ => Default::default(),
    };
    let settings = Settings {
        id: Settings::SYSTEM.into(),
        spec: spec_doc,
        modified_on: Some(now),
    };
    let existed = state
        .store
        .get::<Settings>(Settings::SYSTEM)
        .await?
        .is_some();
    state.store.upsert(&settings).await?;
    let doc = document(&spec, Some(now));
    let event_type = if existed {
        EventType::Updated
    } else {
        EventType::Created
    };
    announce(
        &state,
        &[Event::new(
            event_type,
            EntityKind::Settings,
            Settings::SYSTEM,
            doc.clone(),
        )],
    )
    .await;
    Ok(Json(doc))
}
