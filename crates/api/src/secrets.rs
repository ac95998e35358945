//! Secrets inside provider and handler configs (passwords, tokens, keys) never leave the server
//! in clear: answers and websocket events carry [`MASK`] instead. A client that sends a resource
//! back unchanged sends the mask, and [`restore_masked`] puts the stored secret back.

use serde_json::Value;
use switchyard_core::EntityKind;

pub const MASK: &str = "********";

/// Key names (compared case-insensitively, `_` and `-` ignored) whose values are secrets (also
/// what the server encrypts at rest).
const SECRET_KEYS: [&str; 11] = [
    "password",
    "token",
    "accesstoken",
    "authorization",
    "authentication",
    "jwtaccesssecret",
    "encryptionkey",
    "secret",
    "apikey",
    "privatekey",
    "clientsecret",
];

pub fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_KEYS.contains(&k.as_str())
}

/// The parts of a resource that hold configuration with possible secrets.
pub fn secret_roots(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::Gateway => &["provider", "messageLogger"],
        EntityKind::Handler => &["spec"],
        EntityKind::Task => &["evaluationConfig"],
        EntityKind::Schedule => &["customVariableConfig"],
        _ => &[],
    }
}

fn mask_value(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_key(k) && !v.is_null() && !v.is_object() && !v.is_array() {
                    *v = Value::String(MASK.into());
                } else {
                    mask_value(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        _ => {}
    }
}

/// What a client may see of a stored resource: secrets masked, password hashes and token
/// hashes removed.
pub fn public_view(kind: EntityKind, mut doc: Value) -> Value {
    if let Some(obj) = doc.as_object_mut() {
        match kind {
            EntityKind::User => {
                obj.remove("password");
            }
            EntityKind::ServiceToken => {
                if let Some(t) = obj.get_mut("token").and_then(Value::as_object_mut) {
                    t.remove("token");
                }
            }
            _ => {
                for root in secret_roots(kind) {
                    if let Some(v) = obj.get_mut(*root) {
                        mask_value(v);
                    }
                }
            }
        }
    }
    doc
}

fn restore(new: &mut Value, old: &Value) {
    if let (Value::Object(n), Value::Object(o)) = (new, old) {
        for (k, v) in n.iter_mut() {
            match (v.as_str(), o.get(k)) {
                (Some(MASK), Some(prev)) if is_secret_key(k) => *v = prev.clone(),
                (_, Some(prev)) => restore(v, prev),
                _ => {}
            }
        }
    }
}

/// Puts the stored secrets back where an update carries the mask.
pub fn restore_masked(kind: EntityKind, new: &mut Value, old: &Value) {
    for root in secret_roots(kind) {
        if let (Some(n), Some(o)) = (new.get_mut(*root), old.get(*root)) {
            restore(n, o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_and_restored() {
        let stored = json!({"id": "gw", "provider": {"type": "mqtt", "Password": "p4ss",
            "protocol": {"broker": "tcp://x", "access_token": "t0k", "port": 1}}});
        let view = public_view(EntityKind::Gateway, stored.clone());
        assert_eq!(view["provider"]["Password"], MASK);
        assert_eq!(view["provider"]["protocol"]["access_token"], MASK);
        assert_eq!(view["provider"]["protocol"]["broker"], "tcp://x");
        let mut back = view.clone();
        back["provider"]["protocol"]["broker"] = json!("tcp://y");
        restore_masked(EntityKind::Gateway, &mut back, &stored);
        assert_eq!(back["provider"]["Password"], "p4ss");
        assert_eq!(back["provider"]["protocol"]["access_token"], "t0k");
        assert_eq!(back["provider"]["protocol"]["broker"], "tcp://y");
        let user = public_view(EntityKind::User, json!({"id": "u", "password": "$argon2"}));
        assert!(user.get("password").is_none());
    }
}
