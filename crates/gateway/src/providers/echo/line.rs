//! The echo provider's line format. Pure.

use switchyard_core::{Message, Payload};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Set {
        node: String,
        source: String,
        key: String,
        value: String,
        /// The device's echo of an acknowledged send.
        ack: bool,
    },
    Awake {
        node: String,
    },
}

/// Parses one line (without its newline), or says why not.
pub fn parse_line(bytes: &[u8]) -> Result<Line, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    let fields: Vec<&str> = text.split(';').collect();
    let id = |what: &str, s: &str, may_be_empty: bool| -> Result<String, String> {
        let bad = s.contains(['.', '*', '>']) || s.chars().any(char::is_whitespace);
        if bad || (s.is_empty() && !may_be_empty) {
            Err(format!("bad {what} id {s:?}"))
        } else {
            Ok(s.to_string())
        }
    };
    match fields.as_slice() {
        [node, "awake"] => Ok(Line::Awake {
            node: id("node", node, false)?,
        }),
        [node, source, key, value] | [node, source, key, value, "ack"] => Ok(Line::Set {
            node: id("node", node, false)?,
            source: id("source", source, true)?,
            key: id("field", key, false)?,
            value: value.to_string(),
            ack: fields.len() == 5,
        }),
        _ => Err(format!(
            "expected `node;source;key;value[;ack]` or `node;awake`, got {} field(s)",
            fields.len()
        )),
    }
}

/// One payload of a `set` as a line.
pub fn encode_set(msg: &Message, payload: &Payload) -> Result<String, String> {
    let parts = [&msg.node_id, &msg.source_id, &payload.key, &payload.value];
    if parts.iter().any(|p| p.contains([';', '\n', '\r'])) {
        return Err("`;` or a line break in a node, source, key or value".into());
    }
    let mut line = parts.map(String::as_str).join(";");
    if msg.is_ack_enabled {
        line.push_str(";ack");
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::MessageType;

    #[test]
    fn parses_sets_echoes_and_wake_ups() {
        assert_eq!(
            parse_line(b"1;2;temp;21.5").unwrap(),
            Line::Set {
                node: "1".into(),
                source: "2".into(),
                key: "temp".into(),
                value: "21.5".into(),
                ack: false
            }
        );
        assert!(matches!(
            parse_line(b"1;2;temp;21.5;ack").unwrap(),
            Line::Set { ack: true, .. }
        ));
        assert_eq!(
            parse_line(b"7;awake").unwrap(),
            Line::Awake { node: "7".into() }
        );
        assert!(matches!(
            parse_line(b"1;;battery;80").unwrap(),
            Line::Set { .. }
        ));
        for bad in [
            &b"1;2;3"[..],
            b"",
            b"1;2;3;4;5",
            b"1.1;2;t;1",
            b";2;t;1",
            &[0xff, b';'],
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn encodes_and_refuses_what_would_break_a_line() {
        let mut m = Message::new(MessageType::Set, "gw", "1", "2");
        let p = Payload::new("V_STATUS", "1");
        assert_eq!(encode_set(&m, &p).unwrap(), "1;2;V_STATUS;1");
        m.is_ack_enabled = true;
        assert_eq!(encode_set(&m, &p).unwrap(), "1;2;V_STATUS;1;ack");
        assert!(encode_set(&m, &Payload::new("k", "a;b")).is_err());
    }
}
