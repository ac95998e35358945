//! The wire form of frames on this gateway's transport: `node;child;command;ack;type;payload`
//! lines on serial and Ethernet, `<prefix>/node/child/command/ack/type` topics on MQTT (the
//! transport adds the `publish` prefix and strips nothing: the last five segments are read).

use super::protocol::{ProtocolError, RawFrame, parse_line, parse_mqtt};
use crate::error::GatewayError;
use crate::transport::{FrameSink, RawFrame as WireFrame};
use std::sync::Arc;

pub(crate) struct Link {
    sink: Arc<dyn FrameSink>,
    mqtt: bool,
}

impl Link {
    pub fn new(sink: Arc<dyn FrameSink>, mqtt: bool) -> Self {
        Link { sink, mqtt }
    }

    pub fn encode(&self, frame: &RawFrame) -> WireFrame {
        if self.mqtt {
            WireFrame::publish(frame.mqtt_topic(""), frame.payload.clone())
        } else {
            WireFrame::line(frame.to_string())
        }
    }

    pub fn decode(&self, wire: &WireFrame) -> Result<RawFrame, ProtocolError> {
        if self.mqtt {
            parse_mqtt(&wire.topic, &wire.payload)
        } else {
            parse_line(&wire.payload)
        }
    }

    pub async fn send(&self, frame: &RawFrame) -> Result<(), GatewayError> {
        self.sink.send(self.encode(frame)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::mysensors::protocol::Command;
    use crate::transport::Nowhere;

    #[test]
    fn lines_and_topics() {
        let frame = RawFrame::new(4, 1, Command::Set, 2, "1").with_ack(true);
        let line = Link::new(Arc::new(Nowhere), false);
        let wire = line.encode(&frame);
        assert_eq!(
            (wire.topic.as_str(), &wire.payload[..]),
            ("", &b"4;1;1;1;2;1"[..])
        );
        assert_eq!(line.decode(&wire).unwrap(), frame);

        let mqtt = Link::new(Arc::new(Nowhere), true);
        let wire = mqtt.encode(&frame);
        assert_eq!(
            (wire.topic.as_str(), &wire.payload[..]),
            ("4/1/1/1/2", &b"1"[..])
        );
        let received = WireFrame::publish("mygateway1-out/4/1/1/1/2", "1");
        assert_eq!(mqtt.decode(&received).unwrap(), frame);
        assert!(
            mqtt.decode(&WireFrame::publish("mygateway1-out/4/1", "1"))
                .is_err()
        );
        assert!(line.decode(&WireFrame::line("4;1;1")).is_err());
    }
}
