//! Resource actions: what "set `field:gw.1.2.V_STATUS` to `toggle`" or "disable `task:t1`" means,
//! as a pure function of the quick-id, the payload and the resource as currently stored. The API's
//! action route and the automation's resource handler both call [`resolve`] and then carry out
//! the [`Action`] it returns, so the two can never disagree.

use crate::message::{Message, MessageType, Payload};
use crate::model::{Field, Node, node_labels};
use crate::value::{parse_bool, to_payload_string};
use crate::{CoreError, EntityKind, QuickId};
use serde_json::Value;

/// The payload that flips a binary field.
pub const TOGGLE: &str = "toggle";

/// What the stored resource looks like now; only what an action needs.
#[derive(Debug, Clone, Default)]
pub struct Current {
    /// The field, for a field action (toggle reads its current value).
    pub field: Option<Field>,
    /// The node that owns the field or is the target, for sleeping-node hints.
    pub node: Option<Node>,
}

/// What to do, once resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Publish `message` on `message.to_gateway.<gatewayId>`.
    Send(Message),
    /// Store `enabled` on a gateway, task, schedule or handler (and announce the change).
    SetEnabled {
        kind: EntityKind,
        id: String,
        enabled: bool,
    },
    /// Ask the service that runs the resource to reload it (`service.<name>.reload`, `[id]`).
    Reload { kind: EntityKind, id: String },
    /// Set `key_path` of a data repository's `data` to `value`.
    SetData {
        id: String,
        key_path: String,
        value: Value,
    },
}

/// The service name of a kind in `service.<name>.<command>` subjects.
pub fn service_name(kind: EntityKind) -> Option<&'static str> {
    match kind {
        EntityKind::Gateway => Some("gateway"),
        EntityKind::Task => Some("task"),
        EntityKind::Schedule => Some("scheduler"),
        EntityKind::Handler => Some("handler"),
        _ => None,
    }
}

fn invalid(q: &QuickId, reason: impl Into<String>) -> CoreError {
    CoreError::InvalidQuickId {
        id: q.to_string(),
        reason: reason.into(),
    }
}

/// Resolves an action on `target` with `payload`. `key_path` (or the quick-id's own key path) is
/// used by data repositories only.
pub fn resolve(
    target: &QuickId,
    payload: &str,
    key_path: Option<&str>,
    current: &Current,
) -> Result<Action, CoreError> {
    match target.kind {
        EntityKind::Field => field_set(target, payload, current),
        EntityKind::Node => {
            let (gw, node) = target
                .id
                .split_once('.')
                .ok_or_else(|| invalid(target, "a node id is `<gateway>.<node>`"))?;
            let action = payload.trim();
            if action.is_empty() {
                return Err(invalid(target, "a node action needs a name, e.g. `reboot`"));
            }
            let mut msg = Message::new(MessageType::Action, gw, node, "")
                .with_payload(Payload::new(action, ""));
            apply_sleep_hints(&mut msg, current.node.as_ref());
            Ok(Action::Send(msg))
        }
        EntityKind::Gateway | EntityKind::Task | EntityKind::Schedule | EntityKind::Handler => {
            let word = payload.trim().to_ascii_lowercase();
            if word == "reload" {
                return Ok(Action::Reload {
                    kind: target.kind,
                    id: target.id.clone(),
                });
            }
            match parse_bool(&word) {
                Some(enabled) => Ok(Action::SetEnabled {
                    kind: target.kind,
                    id: target.id.clone(),
                    enabled,
                }),
                None => Err(invalid(
                    target,
                    format!("payload `{payload}`: expected enable, disable or reload"),
                )),
            }
        }
        EntityKind::DataRepository => {
            let key_path = key_path
                .filter(|k| !k.is_empty())
                .or(target.key_path.as_deref())
                .ok_or_else(|| invalid(target, "a data repository action needs a key path"))?;
            let value = serde_json::from_str::<Value>(payload)
                .unwrap_or_else(|_| Value::String(payload.to_string()));
            Ok(Action::SetData {
                id: target.id.clone(),
                key_path: key_path.to_string(),
                value,
            })
        }
        other => Err(invalid(target, format!("no actions on a {other}"))),
    }
}

fn field_set(target: &QuickId, payload: &str, current: &Current) -> Result<Action, CoreError> {
    let parts: Vec<&str> = target.id.split('.').collect();
    let [gw, node, source, field] = parts[..] else {
        return Err(invalid(
            target,
            "a field id is `<gw>.<node>.<source>.<field>`",
        ));
    };
    let value = if payload.trim().eq_ignore_ascii_case(TOGGLE) {
        let now = current
            .field
            .as_ref()
            .map(|f| &f.current.value)
            .ok_or_else(|| invalid(target, "cannot toggle a field that does not exist yet"))?;
        let on = match now {
            Value::Bool(b) => *b,
            Value::Null => false,
            other => parse_bool(&to_payload_string(other)).ok_or_else(|| {
                invalid(
                    target,
                    format!("cannot toggle the non-binary value {other}"),
                )
            })?,
        };
        if on { "0" } else { "1" }.to_string()
    } else {
        payload.to_string()
    };
    let mut p = Payload::new(field, value);
    if let Some(f) = &current.field {
        p.metric_type = f.metric_type.as_str().to_string();
        p.unit = f.unit.clone();
    }
    let mut msg = Message::new(MessageType::Set, gw, node, source).with_payload(p);
    apply_sleep_hints(&mut msg, current.node.as_ref());
    Ok(Action::Send(msg))
}

/// Copies the node's labels (transport hints) and its sleeping flag and message validity.
fn apply_sleep_hints(msg: &mut Message, node: Option<&Node>) {
    let Some(node) = node else { return };
    msg.labels = node.labels.clone();
    msg.is_sleep_node = node
        .labels
        .get(node_labels::SLEEP_NODE)
        .and_then(|v| parse_bool(v))
        .unwrap_or(false);
    if let Some(v) = node.labels.get(node_labels::SLEEP_MESSAGE_VALIDITY) {
        msg.validity = v.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldValue;
    use serde_json::json;

    fn q(s: &str) -> QuickId {
        s.parse().unwrap()
    }

    #[test]
    fn field_set_and_toggle() {
        let a = resolve(&q("field:gw.1.2.V_STATUS"), "on", None, &Current::default()).unwrap();
        let Action::Send(m) = a else { panic!() };
        assert_eq!(
            (
                m.gateway_id.as_str(),
                m.node_id.as_str(),
                m.source_id.as_str()
            ),
            ("gw", "1", "2")
        );
        assert_eq!(m.payloads[0].key, "V_STATUS");
        assert_eq!(m.payloads[0].value, "on");
        assert_eq!(m.message_type, MessageType::Set);

        let mut node = Node::default();
        node.labels.insert("sleep_node".into(), "true".into());
        let cur = Current {
            field: Some(Field {
                current: FieldValue {
                    value: json!(true),
                    ..Default::default()
                },
                ..Default::default()
            }),
            node: Some(node),
        };
        let Action::Send(m) = resolve(&q("field:gw.1.2.V_STATUS"), "toggle", None, &cur).unwrap()
        else {
            panic!()
        };
        assert_eq!(m.payloads[0].value, "0");
        assert!(m.is_sleep_node);
        assert!(resolve(&q("field:gw.1.2.V"), "toggle", None, &Current::default()).is_err());
    }

    #[test]
    fn other_kinds() {
        let none = Current::default();
        assert!(matches!(
            resolve(&q("node:gw.1"), "reboot", None, &none).unwrap(),
            Action::Send(m) if m.message_type == MessageType::Action && m.payloads[0].key == "reboot"
        ));
        assert_eq!(
            resolve(&q("task:t1"), "disable", None, &none).unwrap(),
            Action::SetEnabled {
                kind: EntityKind::Task,
                id: "t1".into(),
                enabled: false
            }
        );
        assert!(matches!(
            resolve(&q("handler:h"), "reload", None, &none).unwrap(),
            Action::Reload { .. }
        ));
        assert!(resolve(&q("schedule:s"), "perhaps", None, &none).is_err());
        assert_eq!(
            resolve(&q("data_repository:d.a.b"), "{\"x\":1}", None, &none).unwrap(),
            Action::SetData {
                id: "d".into(),
                key_path: "a.b".into(),
                value: json!({"x": 1})
            }
        );
        assert!(resolve(&q("data_repository:d"), "1", None, &none).is_err());
        assert!(resolve(&q("firmware:f"), "1", None, &none).is_err());
    }
}
