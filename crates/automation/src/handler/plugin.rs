use crate::error::AutomationError;
use async_trait::async_trait;
use serde_json::{Map, Value};

/// One rendered handler parameter: its name in the task or schedule, and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    /// `type` of the parameter (`email`, `webhook`, `resource_by_quick_id`, …).
    pub kind: String,
    pub fields: Map<String, Value>,
}

impl Param {
    /// A field by name (exact, else case-insensitive, as MyController decodes specs).
    pub fn get(&self, key: &str) -> Option<&Value> {
        get(&self.fields, key)
    }

    pub fn text(&self, key: &str) -> String {
        text(&self.fields, key)
    }
}

pub fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

pub fn text(map: &Map<String, Value>, key: &str) -> String {
    match get(map, key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A list given as a JSON array or as a comma-separated string.
pub fn list(map: &Map<String, Value>, key: &str) -> Vec<String> {
    match get(map, key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(switchyard_core::value::to_payload_string)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// A kind of handler. The config (the handler's `spec`) is read by the plugin's `build` in its
/// folder under `handlers/`; the service calls `post` once per matching parameter.
#[async_trait]
pub trait HandlerPlugin: Send {
    /// Whether this handler takes parameters of type `kind`; others are ignored.
    fn accepts(&self, kind: &str) -> bool;

    /// Delivers one parameter. `variables` are those of the evaluation that fired.
    async fn post(
        &mut self,
        param: &Param,
        variables: &Map<String, Value>,
    ) -> Result<(), AutomationError>;

    /// Releases connections and background work before the handler is dropped or reloaded.
    async fn stop(&mut self) {}
}
