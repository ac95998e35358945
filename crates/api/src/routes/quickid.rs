use crate::error::ApiError;
use crate::secrets::public_view;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Query as UrlQuery, State};
use serde_json::{Map, Value};
use switchyard_core::{EntityKind, QuickId};

/// Most ids in one lookup.
pub const MAX_IDS: usize = 200;

/// `GET /api/quickid?id=…&id=…` → `{quickId: resource}`, or the value at the quick-id's key
/// path. Unknown ids are left out of the answer; malformed ones are a 400.
pub async fn lookup(
    State(state): State<ApiState>,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let ids: Vec<String> = params
        .into_iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v)
        .collect();
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(ApiError::invalid(
            "invalid_query",
            vec![("id".into(), format!("give 1 to {MAX_IDS} `id` parameters"))],
        ));
    }
    let mut bad = Vec::new();
    let mut parsed = Vec::new();
    for (i, raw) in ids.iter().enumerate() {
        match raw.parse::<QuickId>() {
            // Users and tokens have their own, admin-only routes.
            Ok(q)
                if matches!(
                    q.kind,
                    EntityKind::User | EntityKind::ServiceToken | EntityKind::Settings
                ) =>
            {
                bad.push((
                    format!("id[{i}]"),
                    format!("{} is not looked up by quick-id", q.kind),
                ))
            }
            Ok(q) => parsed.push((raw.clone(), q)),
            Err(e) => bad.push((format!("id[{i}]"), e.to_string())),
        }
    }
    if !bad.is_empty() {
        return Err(ApiError::invalid("invalid_query", bad));
    }
    let mut out = Map::new();
    for (raw, q) in parsed {
        let Some(doc) = state.store.backend().get(q.kind, &q.id).await? else {
            continue;
        };
        let doc = public_view(q.kind, doc);
        let value = match &q.key_path {
            Some(kp) => switchyard_core::key_path::get(&doc, kp).cloned(),
            None => Some(doc),
        };
        if let Some(v) = value {
            out.insert(raw, v);
        }
    }
    Ok(Json(Value::Object(out)))
}
