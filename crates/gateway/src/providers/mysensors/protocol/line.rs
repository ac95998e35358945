//! The serial/Ethernet line format `node;child;command;ack;type;payload`.
//!
//! What is accepted, and why:
//! * Bytes, not `&str`: a radio glitch can produce any byte; non-UTF-8 is rejected with its offset.
//! * Trailing `\r` and `\n` (any mix) are stripped, since gateways on Windows hosts and some ESP
//!   builds send `\r\n`. A line break anywhere else is rejected: it would split the line on the wire.
//! * The payload is everything after the 5th `;`, so V_POSITION's `lat;lon;alt` survives.
//! * Numbers are plain decimal digits (leading zeros allowed, no signs or spaces), 0..=255.
//! * Commands 0..=4 only; 5..=7 are reserved in the core and anything else is garbage.
//! * Type codes outside the tables parse and keep their number.
//! * The payload may be up to 50 bytes: the radio carries 25, and binary payloads reach the
//!   controller hex-encoded (2×). Gateway and node log lines (I_LOG_MESSAGE, I_DEBUG) are longer
//!   by nature (the gateway formats up to 120 bytes per line), so for them 256 bytes are accepted.

use super::error::{FrameField, ProtocolError, quote};
use super::{Command, InternalType, MAX_PAYLOAD_BYTES, SensorType, StreamType, ValueType};
use std::fmt;

/// Longest payload accepted from a device for any frame but a log line.
pub const MAX_WIRE_PAYLOAD: usize = 2 * MAX_PAYLOAD_BYTES;
/// Longest payload accepted for I_LOG_MESSAGE and I_DEBUG.
pub const MAX_LOG_PAYLOAD: usize = 256;

/// One MySensors frame as it crosses the gateway, with the type still a number so that nothing a
/// device sends is lost. `ack` is the echo flag: set on a sent frame it asks for an echo; set on a
/// received frame it marks that echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub node_id: u8,
    pub child_id: u8,
    pub command: Command,
    pub ack: bool,
    pub type_code: u8,
    pub payload: String,
}

impl RawFrame {
    pub fn new(
        node_id: u8,
        child_id: u8,
        command: Command,
        type_code: u8,
        payload: impl Into<String>,
    ) -> Self {
        RawFrame {
            node_id,
            child_id,
            command,
            ack: false,
            type_code,
            payload: payload.into(),
        }
    }

    pub fn with_ack(mut self, ack: bool) -> Self {
        self.ack = ack;
        self
    }

    /// The V_ type, for set and req frames.
    pub fn value_type(&self) -> Option<ValueType> {
        matches!(self.command, Command::Set | Command::Req).then_some(ValueType(self.type_code))
    }

    /// The S_ type, for presentation frames.
    pub fn sensor_type(&self) -> Option<SensorType> {
        (self.command == Command::Presentation).then_some(SensorType(self.type_code))
    }

    /// The I_ type, for internal frames.
    pub fn internal_type(&self) -> Option<InternalType> {
        (self.command == Command::Internal).then_some(InternalType(self.type_code))
    }

    /// The ST_ type, for stream frames.
    pub fn stream_type(&self) -> Option<StreamType> {
        (self.command == Command::Stream).then_some(StreamType(self.type_code))
    }

    /// The line as written to a serial port or TCP socket, `\n`-terminated.
    ///
    /// A serial or Ethernet gateway splits what it receives at every `;` and keeps only the text up
    /// to the next one as payload, so a payload with `;` arrives cut short; over MQTT it does not.
    pub fn encode_line(&self) -> String {
        format!("{self}\n")
    }

    /// What identifies the echo of this frame: the gateway echoes node, child, command and type.
    pub fn echo_key(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.node_id,
            self.child_id,
            self.command.code(),
            self.type_code
        )
    }

    pub(crate) fn max_payload(command: Command, type_code: u8) -> usize {
        let is_log = command == Command::Internal
            && matches!(
                InternalType(type_code),
                InternalType::I_LOG_MESSAGE | InternalType::I_DEBUG
            );
        if is_log {
            MAX_LOG_PAYLOAD
        } else {
            MAX_WIRE_PAYLOAD
        }
    }
}

/// The line without its terminator, for logs.
impl fmt::Display for RawFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};{};{};{};{};{}",
            self.node_id,
            self.child_id,
            self.command.code(),
            u8::from(self.ack),
            self.type_code,
            self.payload
        )
    }
}

/// Parses one line from a serial or Ethernet gateway (terminator optional).
pub fn parse_line(line: &[u8]) -> Result<RawFrame, ProtocolError> {
    let text = utf8(line)?.trim_end_matches(['\r', '\n']);
    let mut fields = text.splitn(6, ';');
    let mut next = || fields.next();
    match (next(), next(), next(), next(), next(), next()) {
        (Some(node), Some(child), Some(command), Some(ack), Some(type_code), Some(payload)) => {
            frame_from_fields([node, child, command, ack, type_code], payload)
        }
        _ => Err(ProtocolError::FieldCount {
            found: text.split(';').count(),
        }),
    }
}

pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, ProtocolError> {
    std::str::from_utf8(bytes).map_err(|e| ProtocolError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })
}

/// Shared by the line and MQTT forms: `[node, child, command, ack, type]` plus the payload.
pub(crate) fn frame_from_fields(
    [node, child, command, ack, type_code]: [&str; 5],
    payload: &str,
) -> Result<RawFrame, ProtocolError> {
    let node_id = number(FrameField::NodeId, node)?;
    let child_id = number(FrameField::ChildId, child)?;
    let command_code = number(FrameField::Command, command)?;
    let command =
        Command::from_code(command_code).ok_or(ProtocolError::UnknownCommand(command_code))?;
    let ack = match ack {
        "0" => false,
        "1" => true,
        other => return Err(ProtocolError::InvalidAck(quote(other))),
    };
    let type_code = number(FrameField::Type, type_code)?;
    if payload.contains(['\r', '\n']) {
        return Err(ProtocolError::LineBreakInPayload);
    }
    let max = RawFrame::max_payload(command, type_code);
    if payload.len() > max {
        return Err(ProtocolError::PayloadTooLong {
            len: payload.len(),
            max,
        });
    }
    Ok(RawFrame {
        node_id,
        child_id,
        command,
        ack,
        type_code,
        payload: payload.to_string(),
    })
}

fn number(field: FrameField, text: &str) -> Result<u8, ProtocolError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ProtocolError::NotANumber {
            field,
            value: quote(text),
        });
    }
    let significant = text.trim_start_matches('0');
    let out_of_range = || ProtocolError::OutOfRange {
        field,
        value: quote(text),
        max: u8::MAX,
    };
    if significant.len() > 3 {
        return Err(out_of_range());
    }
    // All zeros leaves nothing to parse: that is 0.
    let value: u16 = significant.parse().unwrap_or(0);
    u8::try_from(value).map_err(|_| out_of_range())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(s: &str) -> Result<RawFrame, ProtocolError> {
        parse_line(s.as_bytes())
    }

    #[test]
    fn parses_a_temperature_report() {
        let f = parse("12;6;1;0;0;36.5\n").unwrap();
        assert_eq!(f, RawFrame::new(12, 6, Command::Set, 0, "36.5"));
        assert_eq!(f.value_type(), Some(ValueType::V_TEMP));
        assert_eq!(f.encode_line(), "12;6;1;0;0;36.5\n");
    }

    #[test]
    fn strips_crlf_and_keeps_semicolons_in_the_payload() {
        let f = parse("3;1;1;1;49;55.722526;13.017972;18\r\n").unwrap();
        assert_eq!(f.payload, "55.722526;13.017972;18");
        assert!(f.ack);
        assert_eq!(
            parse("0;255;3;0;14;Gateway startup complete.\r")
                .unwrap()
                .payload,
            "Gateway startup complete."
        );
    }

    #[test]
    fn empty_payload_and_leading_zeros_are_fine() {
        let f = parse("255;255;3;0;3;").unwrap();
        assert_eq!((f.node_id, f.child_id, f.payload.as_str()), (255, 255, ""));
        assert_eq!(
            parse("007;01;1;0;002;1").unwrap(),
            RawFrame::new(7, 1, Command::Set, 2, "1")
        );
    }

    #[test]
    fn unknown_type_codes_keep_their_number() {
        let f = parse("1;2;1;0;201;x").unwrap();
        assert_eq!(f.type_code, 201);
        assert_eq!(
            f.value_type().map(|v| v.to_string()),
            Some("V_UNKNOWN_201".into())
        );
    }

    #[test]
    fn every_rejection_has_its_reason() {
        assert_eq!(
            parse("1;2;1;0;0"),
            Err(ProtocolError::FieldCount { found: 5 })
        );
        assert_eq!(parse(""), Err(ProtocolError::FieldCount { found: 1 }));
        assert!(matches!(
            parse("a;2;1;0;0;1"),
            Err(ProtocolError::NotANumber {
                field: FrameField::NodeId,
                ..
            })
        ));
        assert!(matches!(
            parse("1;-2;1;0;0;1"),
            Err(ProtocolError::NotANumber {
                field: FrameField::ChildId,
                ..
            })
        ));
        assert!(matches!(
            parse("+1;2;1;0;0;1"),
            Err(ProtocolError::NotANumber {
                field: FrameField::NodeId,
                ..
            })
        ));
        assert!(matches!(
            parse(" 1;2;1;0;0;1"),
            Err(ProtocolError::NotANumber { .. })
        ));
        assert!(matches!(
            parse("256;2;1;0;0;1"),
            Err(ProtocolError::OutOfRange {
                field: FrameField::NodeId,
                ..
            })
        ));
        assert!(matches!(
            parse("1;1000;1;0;0;1"),
            Err(ProtocolError::OutOfRange {
                field: FrameField::ChildId,
                ..
            })
        ));
        assert!(matches!(
            parse("1;2;1;0;256;1"),
            Err(ProtocolError::OutOfRange {
                field: FrameField::Type,
                ..
            })
        ));
        assert!(matches!(
            parse("1;2;x;0;0;1"),
            Err(ProtocolError::NotANumber {
                field: FrameField::Command,
                ..
            })
        ));
        assert_eq!(parse("1;2;5;0;0;1"), Err(ProtocolError::UnknownCommand(5)));
        assert_eq!(
            parse("1;2;1;2;0;1"),
            Err(ProtocolError::InvalidAck("2".into()))
        );
        assert_eq!(
            parse("1;2;1;;0;1"),
            Err(ProtocolError::InvalidAck("".into()))
        );
        let long = format!("1;2;1;0;47;{}", "x".repeat(51));
        assert_eq!(
            parse(&long),
            Err(ProtocolError::PayloadTooLong { len: 51, max: 50 })
        );
        assert_eq!(
            parse("1;2;1;0;47;a\nb"),
            Err(ProtocolError::LineBreakInPayload)
        );
        assert_eq!(
            parse_line(b"1;2;1;0;47;\xff"),
            Err(ProtocolError::NotUtf8 { valid_up_to: 11 })
        );
    }

    #[test]
    fn log_lines_may_be_long() {
        let log = format!(
            "0;255;3;0;9;{}",
            "MCO:BGN:INIT GW,CP=RNNGA---,FQ=16,REL=255,VER=2.3.2 ".repeat(4)
        );
        assert!(parse(&log).is_ok());
        let too_long = format!("0;255;3;0;9;{}", "x".repeat(257));
        assert_eq!(
            parse(&too_long),
            Err(ProtocolError::PayloadTooLong { len: 257, max: 256 })
        );
    }

    #[test]
    fn echo_key_ignores_the_ack_flag() {
        let sent = RawFrame::new(4, 1, Command::Set, 2, "1").with_ack(true);
        let echo = parse("4;1;1;1;2;1").unwrap();
        assert_eq!(sent.echo_key(), echo.echo_key());
        assert_eq!(sent.echo_key(), "4-1-1-2");
    }

    pub(crate) fn any_frame() -> impl Strategy<Value = RawFrame> {
        (
            any::<u8>(),
            any::<u8>(),
            prop::sample::select(Command::ALL.to_vec()),
            any::<bool>(),
            any::<u8>(),
            "[^\r\n]{0,12}",
        )
            .prop_map(
                |(node_id, child_id, command, ack, type_code, payload)| RawFrame {
                    node_id,
                    child_id,
                    command,
                    ack,
                    type_code,
                    payload,
                },
            )
    }

    proptest! {
        #[test]
        fn line_round_trip(frame in any_frame()) {
            prop_assert_eq!(parse_line(frame.encode_line().as_bytes())?, frame.clone());
            prop_assert_eq!(parse_line(frame.to_string().as_bytes())?, frame);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = parse_line(&bytes);
        }
    }
}
