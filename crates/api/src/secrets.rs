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

/// Keys that are secrets only at the top of one provider's config, though their names are not
/// secret elsewhere: the Philips Hue bridge's `username` is its app key (an MQTT `username` is
/// not a secret). `provider` is a gateway's `provider` object.
pub fn provider_secret_keys(
    kind: EntityKind,
    provider: &serde_json::Map<String, Value>,
) -> &'static [&'static str] {
    if kind != EntityKind::Gateway {
        return &[];
    }
    match provider.get("type").and_then(Value::as_str) {
        Some("philips_hue") => &["username"],
        _ => &[],
    }
}

fn mask_provider_keys(kind: EntityKind, obj: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Object(p)) = obj.get_mut("provider") {
        for key in provider_secret_keys(kind, p) {
            if let Some(v) = p.get_mut(*key)
                && !v.is_null()
                && !v.is_object()
                && !v.is_array()
            {
                *v = Value::String(MASK.into());
            }
        }
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
                mask_provider_keys(kind, obj);
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
    if let (Some(Value::Object(n)), Some(Value::Object(o))) =
        (new.get_mut("provider"), old.get("provider"))
    {
        for key in provider_secret_keys(kind, n) {
            if n.get(*key).and_then(Value::as_str) == Some(MASK)
                && let Some(prev) = o.get(*key)
            {
                n.insert((*key).to_string(), prev.clone());
            }
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
        // A Hue bridge's `username` is its app key; an MQTT broker's username is no secret.
        let hue = json!({"id": "hue", "provider": {"type": "philips_hue", "username": "k3y",
            "host": "10.0.0.2", "protocol": {"username": "not-hue"}}});
        let view = public_view(EntityKind::Gateway, hue.clone());
        assert_eq!(view["provider"]["username"], MASK);
        assert_eq!(view["provider"]["host"], "10.0.0.2");
        assert_eq!(view["provider"]["protocol"]["username"], "not-hue");
        let mut back = view.clone();
        restore_masked(EntityKind::Gateway, &mut back, &hue);
        assert_eq!(back, hue);
        let mqtt = json!({"id": "m", "provider": {"type": "tasmota", "username": "bob"}});
        assert_eq!(public_view(EntityKind::Gateway, mqtt.clone()), mqtt);
        let user = public_view(EntityKind::User, json!({"id": "u", "password": "$argon2"}));
        assert!(user.get("password").is_none());
    }
}
