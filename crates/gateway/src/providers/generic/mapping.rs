//! What goes into a script and what comes out of it: raw data as the script's `dataIn`, and its
//! result read back as messages (`onReceive`) or as a publish (`onSend`).

use super::http::Call;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
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

/// The globals of an `onSend` run: the message as `dataIn`, its node's config as `configIn`.
pub fn send_globals(msg: &Message, config_in: Value) -> Map<String, Value> {
    let mut g = Map::new();
    g.insert(
        "dataIn".into(),
        serde_json::to_value(msg).unwrap_or_else(|_| json!({})),
    );
    g.insert("configIn".into(), config_in);
    g
}

/// The payload of `dataOut`: text as it is, anything else as JSON.
fn payload(data: &Value) -> Vec<u8> {
    match data {
        Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    }
}

/// The publishes of an MQTT `onSend` result `{topicOut, dataOut}`: to `topicOut`, else to each
/// of the node's `topics`. `null` or no `dataOut` means nothing to send.
pub fn publishes(result: &Value, topics: &[String]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let Value::Object(o) = result else {
        return match result {
            Value::Null => Ok(Vec::new()),
            other => Err(format!(
                "expected {{topicOut, dataOut}}, got {}",
                kind(other)
            )),
        };
    };
    let Some(data) = o.get("dataOut") else {
        return Ok(Vec::new());
    };
    let topics = match o.get("topicOut") {
        Some(Value::String(t)) if !t.is_empty() && !t.contains(['+', '#']) => vec![t.clone()],
        None | Some(Value::Null) if !topics.is_empty() => topics.to_vec(),
        other => return Err(format!("topicOut {other:?} is not a topic")),
    };
    let payload = payload(data);
    Ok(topics.into_iter().map(|t| (t, payload.clone())).collect())
}

/// What an HTTP `onSend` result asks for.
#[derive(Debug, Default, PartialEq)]
pub struct HttpSend {
    /// The request to make (`execute: true`), the node's with the script's keys in its place.
    pub call: Option<Call>,
    /// `dataOut`: messages taken in as if the device had sent them (the new state).
    pub messages: Vec<Message>,
}

/// Reads an HTTP `onSend` result `{execute, url, method, headers, queryParameters, body,
/// dataOut}` over the node's request `base`.
pub fn http_send(result: &Value, base: Call) -> Result<HttpSend, String> {
    let Value::Object(o) = result else {
        return match result {
            Value::Null => Ok(HttpSend::default()),
            other => Err(format!("expected {{execute, …}}, got {}", kind(other))),
        };
    };
    let messages = match o.get("dataOut") {
        None => Vec::new(),
        Some(v) => messages(v)?,
    };
    let execute = match o.get("execute") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("execute is {}, not a boolean", kind(other))),
    };
    if !execute {
        return Ok(HttpSend {
            call: None,
            messages,
        });
    }
    let mut call = base;
    let text = |key: &str| match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{key} is {}, not text", kind(other))),
    };
    let map = |key: &str| -> Result<Option<BTreeMap<String, String>>, String> {
        match o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                    other => Err(format!("{key}.{k} is {}", kind(other))),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some(other) => Err(format!("{key} is {}, not an object", kind(other))),
        }
    };
    if let Some(url) = text("url")? {
        call.url = url;
    }
    if let Some(method) = text("method")? {
        call.method = Some(method);
    }
    if let Some(h) = map("headers")? {
        call.headers.extend(h);
    }
    if let Some(q) = map("queryParameters")? {
        call.query_parameters.extend(q);
    }
    if let Some(body) = o.get("body").filter(|b| !b.is_null()) {
        call.body = Some(body.clone());
    }
    if call.url.is_empty() {
        return Err("execute without a url (none in the result, none in `nodes`)".into());
    }
    call.check()?;
    Ok(HttpSend {
        call: Some(call),
        messages,
    })
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
            publishes(
                &json!({"topicOut": "dev/1/set", "dataOut": {"on": true}}),
                &[]
            )
            .unwrap(),
            vec![("dev/1/set".into(), br#"{"on":true}"#.to_vec())]
        );
        assert_eq!(
            publishes(&json!({"topicOut": "a", "dataOut": "ON"}), &[]).unwrap(),
            vec![("a".into(), b"ON".to_vec())]
        );
        // Without topicOut, to each of the node's topics; without either, an error.
        let node = ["n/1/a".to_string(), "n/1/b".to_string()];
        assert_eq!(
            publishes(&json!({"dataOut": 1}), &node).unwrap(),
            vec![
                ("n/1/a".into(), b"1".to_vec()),
                ("n/1/b".into(), b"1".to_vec())
            ]
        );
        assert!(publishes(&json!({"dataOut": 1}), &[]).is_err());
        assert!(publishes(&Value::Null, &node).unwrap().is_empty());
        assert!(publishes(&json!({"topicOut": "a/#", "dataOut": 1}), &[]).is_err());
        assert!(publishes(&json!(5), &[]).is_err());
    }

    #[test]
    fn http_send_results_become_requests_over_the_nodes() {
        let base = Call {
            url: "relay".into(),
            method: Some("POST".into()),
            headers: [("X-Key".to_string(), "k".to_string())].into(),
            ..Call::default()
        };
        // Not executed: nothing is called, the messages are still taken in.
        let s = http_send(
            &json!({"dataOut": [{"nodeId": "n", "sourceId": "s", "type": "set",
                                 "payloads": [{"key": "on", "value": true}]}]}),
            base.clone(),
        )
        .unwrap();
        assert_eq!((s.call, s.messages.len()), (None, 1));
        let s = http_send(
            &json!({"execute": true, "body": {"on": 1}, "queryParameters": {"ch": 2},
                    "headers": {"X-Extra": "e"}}),
            base.clone(),
        )
        .unwrap();
        let call = s.call.unwrap();
        assert_eq!(call.url, "relay");
        assert_eq!(call.body, Some(json!({"on": 1})));
        assert_eq!(call.query_parameters["ch"], "2");
        assert_eq!(call.headers.len(), 2);
        let s = http_send(
            &json!({"execute": true, "url": "other", "method": "PUT"}),
            base,
        )
        .unwrap()
        .call
        .unwrap();
        assert_eq!(
            (s.url.as_str(), s.method.as_deref()),
            ("other", Some("PUT"))
        );
        assert!(http_send(&json!({"execute": true}), Call::default()).is_err());
        assert!(http_send(&json!({"execute": "yes"}), Call::default()).is_err());
        assert!(
            http_send(
                &json!({"execute": true, "url": "u", "headers": {"bad name": "v"}}),
                Call::default()
            )
            .is_err()
        );
        assert_eq!(
            http_send(&Value::Null, Call::default()).unwrap(),
            HttpSend::default()
        );
    }
}
