//! What goes into a script and what comes out of it: raw data as the script's `dataIn`, and its
//! result read back as messages (`onReceive`) or as a publish (`onSend`).

use serde_json::{Map, Value, json};
use switchyard_core::Message;

/// Most messages one script run may produce; more is a script error, not a flood.
pub const MAX_MESSAGES_PER_RUN: usize = 1000;

/// A payload as the script sees it: JSON when it parses as JSON, otherwise the text.
pub fn data_in(payload: &[u8]) -> Value {
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()))
}

/// The globals of an `onReceive` run.
pub fn receive_globals(payload: &[u8], extra: &[(&str, Value)]) -> Map<String, Value> {
    let mut g = Map::new();
    g.insert("dataIn".into(), data_in(payload));
    for (k, v) in extra {
        g.insert((*k).into(), v.clone());
    }
    g
}

/// An `onReceive` result into messages: `{dataOut: [message…]}`, a bare array, or one message.
/// Without a script, the payload itself must be that shape.
pub fn messages(result: &Value) -> Result<Vec<Message>, String> {
    let list = match result {
        Value::Object(o) if o.contains_key("dataOut") => &o["dataOut"],
        other => other,
    };
    let items: Vec<&Value> = match list {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![list],
        Value::Null => Vec::new(),
        other => return Err(format!("expected messages, got {}", kind(other))),
    };
    if items.len() > MAX_MESSAGES_PER_RUN {
        return Err(format!(
            "{} messages, more than {MAX_MESSAGES_PER_RUN}",
            items.len()
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let mut v = v.clone();
            // Scripts write values as numbers and booleans; messages carry them as text.
            if let Some(Value::Array(payloads)) = v.get_mut("payloads") {
                for p in payloads {
                    if let Some(value) = p.get_mut("value") {
                        let text = match &*value {
                            Value::String(_) => None,
                            Value::Null => Some(String::new()),
                            other => Some(other.to_string()),
                        };
                        if let Some(text) = text {
                            *value = Value::String(text);
                        }
                    }
                }
            }
            let mut m: Message =
                serde_json::from_value(v).map_err(|e| format!("message {i}: {e}"))?;
            if m.node_id.is_empty() {
                return Err(format!("message {i} has no nodeId"));
            }
            m.gateway_id.clear();
            m.is_received = true;
            Ok(m)
        })
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The globals of an `onSend` run: the message as `dataIn`.
pub fn send_globals(msg: &Message) -> Map<String, Value> {
    let mut g = Map::new();
    g.insert(
        "dataIn".into(),
        serde_json::to_value(msg).unwrap_or_else(|_| json!({})),
    );
    g
}

/// One publish from an `onSend` result `{topicOut, dataOut}` (`dataOut` text as it is, anything
/// else as JSON). `null` or `{}` means nothing to send.
pub fn publish(result: &Value) -> Result<Option<(String, Vec<u8>)>, String> {
    let Value::Object(o) = result else {
        return match result {
            Value::Null => Ok(None),
            other => Err(format!(
                "expected {{topicOut, dataOut}}, got {}",
                kind(other)
            )),
        };
    };
    let Some(data) = o.get("dataOut") else {
        return Ok(None);
    };
    let topic = match o.get("topicOut") {
        Some(Value::String(t)) if !t.is_empty() && !t.contains(['+', '#']) => t.clone(),
        other => return Err(format!("topicOut {other:?} is not a topic")),
    };
    let payload = match data {
        Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    };
    Ok(Some((topic, payload)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::MessageType;

    #[test]
    fn script_results_become_messages() {
        let out = messages(&json!({"dataOut": [
            {"nodeId": "n1", "sourceId": "s1", "type": "set",
             "payloads": [{"key": "temperature", "value": 21.5, "metricType": "gauge_float"},
                          {"key": "on", "value": true}]}
        ]}))
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].message_type, MessageType::Set);
        assert_eq!(out[0].payloads[0].value, "21.5");
        assert_eq!(out[0].payloads[1].value, "true");
        assert!(out[0].is_received);
        assert!(messages(&Value::Null).unwrap().is_empty());
        assert!(messages(&json!("x")).unwrap_err().contains("a string"));
        assert!(
            messages(&json!([{"sourceId": "s"}]))
                .unwrap_err()
                .contains("nodeId")
        );
        assert!(messages(&json!([{"nodeId": "n", "type": "explode"}])).is_err());
    }

    #[test]
    fn data_in_is_json_or_text() {
        assert_eq!(data_in(br#"{"t":1}"#), json!({"t": 1}));
        assert_eq!(data_in(b"21.5C"), json!("21.5C"));
    }

    #[test]
    fn send_results_become_publishes() {
        assert_eq!(
            publish(&json!({"topicOut": "dev/1/set", "dataOut": {"on": true}})).unwrap(),
            Some(("dev/1/set".into(), br#"{"on":true}"#.to_vec()))
        );
        assert_eq!(
            publish(&json!({"topicOut": "a", "dataOut": "ON"})).unwrap(),
            Some(("a".into(), b"ON".to_vec()))
        );
        assert_eq!(publish(&Value::Null).unwrap(), None);
        assert!(publish(&json!({"topicOut": "a/#", "dataOut": 1})).is_err());
        assert!(publish(&json!(5)).is_err());
    }
}
