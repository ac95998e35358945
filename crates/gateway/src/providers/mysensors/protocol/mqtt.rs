//! The MQTT form: topic `<prefix>/<node>/<child>/<command>/<ack>/<type>`, payload in the body.
//! The prefix is whatever the gateway was built with (`MY_MQTT_PUBLISH_TOPIC_PREFIX`) and may
//! span several segments, so only the last five segments are read.

use super::error::ProtocolError;
use super::line::{RawFrame, frame_from_fields, utf8};

/// Parses a message a MySensors MQTT gateway published. The body follows the line rules (UTF-8,
/// no line breaks, length bounds) so that every frame can also be written as a line.
pub fn parse_mqtt(topic: &str, body: &[u8]) -> Result<RawFrame, ProtocolError> {
    let mut segments = topic.rsplitn(6, '/');
    let mut next = || segments.next();
    match (next(), next(), next(), next(), next()) {
        (Some(type_code), Some(ack), Some(command), Some(child), Some(node)) => {
            frame_from_fields([node, child, command, ack, type_code], utf8(body)?)
        }
        _ => Err(ProtocolError::TopicSegments {
            found: topic.split('/').count(),
        }),
    }
}

impl RawFrame {
    /// The topic to publish this frame on; the payload is the body. A trailing `/` on the prefix is
    /// ignored, an empty prefix gives a topic without one.
    pub fn mqtt_topic(&self, prefix: &str) -> String {
        let prefix = prefix.trim_end_matches('/');
        let sep = if prefix.is_empty() { "" } else { "/" };
        format!(
            "{prefix}{sep}{}/{}/{}/{}/{}",
            self.node_id,
            self.child_id,
            self.command.code(),
            u8::from(self.ack),
            self.type_code
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::mysensors::protocol::Command;
    use crate::providers::mysensors::protocol::error::FrameField;
    use proptest::prelude::*;

    #[test]
    fn reads_the_last_five_segments_whatever_the_prefix() {
        let f = parse_mqtt("home/radio/mygateway1-out/11/1/1/0/0", b"21.5").unwrap();
        assert_eq!(f, RawFrame::new(11, 1, Command::Set, 0, "21.5"));
        let f = parse_mqtt("11/1/1/1/0", b"21.5").unwrap();
        assert!(f.ack);
        let f = parse_mqtt("gw/3/1/1/0/49", b"55.7;13.0;18").unwrap();
        assert_eq!(f.payload, "55.7;13.0;18");
    }

    #[test]
    fn rejects_bad_topics_and_bodies_with_reasons() {
        assert_eq!(
            parse_mqtt("a/b/gw/1/1/0/0/0", b"").map(|f| f.node_id),
            Ok(1)
        );
        assert_eq!(
            parse_mqtt("1/1/0/0", b""),
            Err(ProtocolError::TopicSegments { found: 4 })
        );
        assert_eq!(
            parse_mqtt("", b""),
            Err(ProtocolError::TopicSegments { found: 1 })
        );
        assert!(matches!(
            parse_mqtt("gw/x/1/1/0/0", b""),
            Err(ProtocolError::NotANumber {
                field: FrameField::NodeId,
                ..
            })
        ));
        assert_eq!(
            parse_mqtt("gw/1/1/9/0/0", b""),
            Err(ProtocolError::UnknownCommand(9))
        );
        assert_eq!(
            parse_mqtt("gw/1/1/1/0/0", b"\xc3"),
            Err(ProtocolError::NotUtf8 { valid_up_to: 0 })
        );
        assert_eq!(
            parse_mqtt("gw/1/1/1/0/0", b"a\r\nb"),
            Err(ProtocolError::LineBreakInPayload)
        );
    }

    #[test]
    fn topic_uses_the_given_prefix() {
        let f = RawFrame::new(5, 255, Command::Internal, 6, "M");
        assert_eq!(f.mqtt_topic("mygateway1-in"), "mygateway1-in/5/255/3/0/6");
        assert_eq!(f.mqtt_topic("a/b/"), "a/b/5/255/3/0/6");
        assert_eq!(f.mqtt_topic(""), "5/255/3/0/6");
    }

    proptest! {
        #[test]
        fn mqtt_round_trip(
            frame in crate::providers::mysensors::protocol::line::tests::any_frame(),
            prefix in "[a-z0-9_-]{0,8}(/[a-z0-9_-]{1,8}){0,3}",
        ) {
            let topic = frame.mqtt_topic(&prefix);
            prop_assert_eq!(parse_mqtt(&topic, frame.payload.as_bytes())?, frame);
        }
    }
}
