//! Turning bus bytes into a message we are willing to process, or a reason we are not.

use crate::config::ProcessorConfig;
use crate::stats::Rejection;
use switchyard_core::quick_id::validate_id_segment;
use switchyard_core::{Message, MessageType};

pub(crate) type Refusal = (Rejection, String);

pub(crate) fn decode(bytes: &[u8], cfg: &ProcessorConfig) -> Result<Message, Refusal> {
    if bytes.len() > cfg.max_message_bytes {
        return Err((
            Rejection::Oversized,
            format!(
                "message of {} bytes exceeds max_message_bytes {}",
                bytes.len(),
                cfg.max_message_bytes
            ),
        ));
    }
    let msg: Message = serde_json::from_slice(bytes)
        .map_err(|e| (Rejection::Undecodable, format!("not a message: {e}")))?;
    check(&msg, cfg)?;
    Ok(msg)
}

fn check(msg: &Message, cfg: &ProcessorConfig) -> Result<(), Refusal> {
    let bad_id =
        |what: &str, e: switchyard_core::CoreError| (Rejection::BadId, format!("{what}: {e}"));
    validate_id_segment(&msg.gateway_id).map_err(|e| bad_id("gatewayId", e))?;
    if !msg.node_id.is_empty() {
        validate_id_segment(&msg.node_id).map_err(|e| bad_id("nodeId", e))?;
    }
    if !msg.source_id.is_empty() {
        if msg.node_id.is_empty() {
            return Err((Rejection::BadId, "sourceId given without nodeId".into()));
        }
        validate_id_segment(&msg.source_id).map_err(|e| bad_id("sourceId", e))?;
    }
    if msg.payloads.len() > cfg.max_payloads {
        return Err((
            Rejection::Oversized,
            format!(
                "{} payloads exceed max_payloads {}",
                msg.payloads.len(),
                cfg.max_payloads
            ),
        ));
    }
    for p in &msg.payloads {
        if p.value.len() > cfg.max_value_bytes {
            return Err((
                Rejection::Oversized,
                format!(
                    "value of `{}` has {} bytes, over max_value_bytes {}",
                    p.key,
                    p.value.len(),
                    cfg.max_value_bytes
                ),
            ));
        }
    }
    let needs_node = matches!(
        msg.message_type,
        MessageType::Set | MessageType::Request | MessageType::Presentation
    );
    if needs_node && msg.node_id.is_empty() {
        return Err((
            Rejection::BadId,
            format!("a {} message needs a nodeId", msg.message_type.as_str()),
        ));
    }
    if !msg.source_id.is_empty()
        && matches!(msg.message_type, MessageType::Set | MessageType::Request)
    {
        for p in &msg.payloads {
            validate_id_segment(&p.key).map_err(|e| bad_id("payload key (field id)", e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::Payload;

    fn bytes(m: &Message) -> Vec<u8> {
        serde_json::to_vec(m).unwrap()
    }

    #[test]
    fn refuses_with_reasons() {
        let cfg = ProcessorConfig::default();
        let ok = Message::new(MessageType::Set, "gw", "1", "2")
            .with_payload(Payload::new("V_TEMP", "1"));
        assert!(decode(&bytes(&ok), &cfg).is_ok());

        assert_eq!(
            decode(b"{nope", &cfg).unwrap_err().0,
            Rejection::Undecodable
        );
        assert_eq!(
            decode(b"[1,2]", &cfg).unwrap_err().0,
            Rejection::Undecodable
        );
        let mut m = ok.clone();
        m.gateway_id = String::new();
        assert_eq!(decode(&bytes(&m), &cfg).unwrap_err().0, Rejection::BadId);
        let mut m = ok.clone();
        m.node_id = String::new();
        assert_eq!(decode(&bytes(&m), &cfg).unwrap_err().0, Rejection::BadId);
        let mut m = ok.clone();
        m.payloads[0].key = "a.b".into();
        assert_eq!(decode(&bytes(&m), &cfg).unwrap_err().0, Rejection::BadId);
        let mut m = ok.clone();
        m.payloads[0].value = "x".repeat(cfg.max_value_bytes + 1);
        assert_eq!(
            decode(&bytes(&m), &cfg).unwrap_err().0,
            Rejection::Oversized
        );
        let huge = vec![b' '; cfg.max_message_bytes + 1];
        assert_eq!(decode(&huge, &cfg).unwrap_err().0, Rejection::Oversized);
    }
}
