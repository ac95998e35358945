//! Requests a node makes of the controller, answered here rather than by the processor: ids,
//! time, units, registration, and (in [`super::ota`]) firmware. They are answered straight from
//! the inbound loop because the answers need state the provider keeps (the firmware cache) or
//! must be decided in one place (ids), and because a node waits only briefly for them — a
//! smart-sleep node's request must not wait in its own sleeping queue. MyController loops them
//! through the processor as `action` messages; such actions reaching [`Network::answer_action`]
//! are answered the same way.

use super::network::Network;
use super::protocol::firmware::{FirmwareConfigRequest, FirmwareRequest};
use super::protocol::mapping::{
    UnitSystem, config_response, first_free_node_id, id_response, labels, time_response,
};
use super::protocol::{BROADCAST_ID, Command, InternalType, NODE_CHILD_ID, RawFrame, StreamType};
use crate::error::GatewayError;
use chrono::{DateTime, Offset, TimeZone, Utc};
use std::collections::BTreeSet;
use switchyard_core::bus::BusExt;
use switchyard_core::filter::{Filter, Query};
use switchyard_core::model::{Node, Settings, node_labels};
use switchyard_core::storage::StorageError;
use switchyard_core::store::to_document;
use switchyard_core::value::parse_bool;
use switchyard_core::{EntityKind, Event, EventType, Message, QuickId};

/// Gateway and node label naming the time zone I_TIME answers in (IANA name, e.g.
/// `Europe/Berlin`); without it the server's local time zone is used.
pub const TIMEZONE_LABEL: &str = node_labels::TIMEZONE;

/// Whether the controller answers `frame` itself (it then never reaches the processor).
pub(crate) fn is_request(frame: &RawFrame) -> bool {
    if frame.ack {
        return false;
    }
    match frame.command {
        Command::Internal => matches!(
            InternalType(frame.type_code),
            InternalType::I_ID_REQUEST
                | InternalType::I_TIME
                | InternalType::I_CONFIG
                | InternalType::I_REGISTRATION_REQUEST
                | InternalType::I_GATEWAY_READY
        ),
        Command::Stream => matches!(
            StreamType(frame.type_code),
            StreamType::ST_FIRMWARE_CONFIG_REQUEST | StreamType::ST_FIRMWARE_REQUEST
        ),
        _ => false,
    }
}

/// The request frame an `action` message from the processor stands for (MyController's loop:
/// key `I_TIME`, value the request's payload), if it is one.
pub(crate) fn request_of_action(msg: &Message) -> Option<RawFrame> {
    let payload = msg.payloads.first()?;
    let node_id = if msg.node_id.is_empty() {
        BROADCAST_ID
    } else {
        msg.node_id.parse().ok()?
    };
    let frame = if let Some(internal) = InternalType::from_name(&payload.key) {
        RawFrame::new(
            node_id,
            NODE_CHILD_ID,
            Command::Internal,
            internal.code(),
            "",
        )
    } else {
        let stream = StreamType::from_name(&payload.key)?;
        RawFrame::new(node_id, NODE_CHILD_ID, Command::Stream, stream.code(), "")
    };
    let frame = RawFrame {
        payload: payload.value.clone(),
        ..frame
    };
    is_request(&frame).then_some(frame)
}

/// Unix seconds as a clock in `zone` shows them (nodes keep local time without a zone).
pub(crate) fn local_seconds(now: DateTime<Utc>, zone: Option<&str>) -> Result<i64, String> {
    let offset = match zone.map(str::trim).filter(|z| !z.is_empty()) {
        None => chrono::Local
            .offset_from_utc_datetime(&now.naive_utc())
            .fix()
            .local_minus_utc(),
        Some(name) => {
            let tz: chrono_tz::Tz = name.parse().map_err(|_| {
                format!("time zone {name:?} is not an IANA name like Europe/Berlin")
            })?;
            tz.offset_from_utc_datetime(&now.naive_utc())
                .fix()
                .local_minus_utc()
        }
    };
    Ok(now.timestamp() + i64::from(offset))
}

impl Network {
    /// Answers a request ([`is_request`]). Bad requests are rejected (counted); failures to
    /// read storage or to send are logged, and the node will ask again.
    pub async fn answer(&self, frame: &RawFrame) {
        match frame.command {
            Command::Stream => match StreamType(frame.type_code) {
                StreamType::ST_FIRMWARE_CONFIG_REQUEST => {
                    match FirmwareConfigRequest::decode_hex(&frame.payload) {
                        Ok(request) => {
                            self.on_firmware_config_request(frame.node_id, request)
                                .await
                        }
                        Err(e) => self.ctx.reject(format!("{e}: {frame}")),
                    }
                }
                _ => match FirmwareRequest::decode_hex(&frame.payload) {
                    Ok(request) => self.on_firmware_request(frame.node_id, request).await,
                    Err(e) => self.ctx.reject(format!("{e}: {frame}")),
                },
            },
            _ => match InternalType(frame.type_code) {
                InternalType::I_ID_REQUEST => self.on_id_request().await,
                InternalType::I_TIME => self.on_time_request(frame.node_id).await,
                InternalType::I_CONFIG => self.on_config_request(frame.node_id).await,
                InternalType::I_REGISTRATION_REQUEST => {
                    // Controllers accept every node (MySensors' own default).
                    let answer = RawFrame::new(
                        frame.node_id,
                        NODE_CHILD_ID,
                        Command::Internal,
                        InternalType::I_REGISTRATION_RESPONSE.code(),
                        "1",
                    );
                    self.send_unacknowledged(&answer).await;
                }
                _ => tracing::info!(
                    gateway = %self.gateway_id(), message = %frame.payload, "MySensors gateway ready"
                ),
            },
        }
    }

    /// An `action` message that stands for a node request (see [`request_of_action`]).
    pub async fn answer_action(&self, frame: &RawFrame) {
        self.answer(frame).await;
    }

    async fn on_id_request(&self) {
        match self.assign_id().await {
            Ok(Some(id)) => {
                tracing::info!(gateway = %self.gateway_id(), node = id, "assigned a node id");
                self.send_unacknowledged(&id_response(id)).await;
            }
            Ok(None) => self.warn("I_ID_REQUEST: every id 1..=254 is in use; not answered"),
            Err(e) => self.warn(format!("I_ID_REQUEST not answered: {e}")),
        }
    }

    /// Picks the lowest id no node of this gateway has, and reserves it by storing the node
    /// before it is handed out: two requests never get the same id, and a restart keeps it.
    pub async fn assign_id(&self) -> Result<Option<u8>, GatewayError> {
        let _held = self.id_lock.lock().await;
        let store = self.ctx.store();
        let query = Query::all().filter(Filter::eq("gatewayId", self.gateway_id()));
        let mut used: BTreeSet<u8> = store
            .find::<Node>(&query)
            .await?
            .data
            .iter()
            .filter_map(|n| n.node_id.parse::<u8>().ok())
            .collect();
        while let Some(id) = first_free_node_id(used.iter().copied()) {
            let node_id = id.to_string();
            let now = Utc::now();
            let node = Node {
                id: QuickId::compose(&[self.gateway_id(), &node_id]),
                gateway_id: self.gateway_id().to_string(),
                node_id: node_id.clone(),
                name: node_id,
                modified_on: Some(now),
                ..Default::default()
            };
            match store.insert(&node).await {
                Ok(()) => {
                    self.announce_node(&node).await;
                    return Ok(Some(id));
                }
                // Created meanwhile (by the processor, for a node that already had this id).
                Err(StorageError::AlreadyExists { .. }) => {
                    used.insert(id);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    async fn announce_node(&self, node: &Node) {
        let doc = match to_document(node) {
            Ok(d) => d,
            Err(e) => return self.warn(format!("announcing node {}: {e}", node.id)),
        };
        let event = Event::new(EventType::Created, EntityKind::Node, &node.id, doc);
        if let Err(e) = self.ctx.bus().publish_json(&event.subject(), &event).await {
            self.warn(format!("announcing node {}: {e}", node.id));
        }
    }

    async fn on_time_request(&self, node_id: u8) {
        let zone = match self.node_label(node_id, TIMEZONE_LABEL).await {
            Some(z) => Some(z),
            None => self.ctx.gateway().labels.get(TIMEZONE_LABEL).cloned(),
        };
        let seconds = match local_seconds(Utc::now(), zone.as_deref()) {
            Ok(s) => s,
            Err(e) => {
                self.warn(format!(
                    "I_TIME for node {node_id}: {e}; answering in local time"
                ));
                local_seconds(Utc::now(), None).unwrap_or_else(|_| Utc::now().timestamp())
            }
        };
        self.send_unacknowledged(&time_response(node_id, seconds))
            .await;
    }

    async fn on_config_request(&self, node_id: u8) {
        let units = self.unit_system().await;
        self.send_unacknowledged(&config_response(node_id, units))
            .await;
    }

    /// The gateway label `ms_imperial_system` when set, else the system settings' `unitSystem`.
    async fn unit_system(&self) -> UnitSystem {
        let imperial = match self
            .ctx
            .gateway()
            .labels
            .get(labels::IMPERIAL_SYSTEM)
            .and_then(|v| parse_bool(v))
        {
            Some(imperial) => imperial,
            None => match self.ctx.store().get::<Settings>(Settings::SYSTEM).await {
                Ok(settings) => settings
                    .and_then(|s| s.spec.get("unitSystem").cloned())
                    .and_then(|v| v.as_str().map(|s| s.eq_ignore_ascii_case("imperial")))
                    .unwrap_or(false),
                Err(e) => {
                    self.warn(format!("reading system settings: {e}"));
                    false
                }
            },
        };
        if imperial {
            UnitSystem::Imperial
        } else {
            UnitSystem::Metric
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::{MessageType, Payload};

    fn frame(line: &str) -> RawFrame {
        super::super::protocol::parse_line(line.as_bytes()).unwrap()
    }

    #[test]
    fn which_frames_the_controller_answers() {
        for line in [
            "255;255;3;0;3;",
            "4;255;3;0;1;",
            "4;255;3;0;6;0",
            "4;255;3;0;26;2",
            "0;255;3;0;14;Gateway startup complete.",
            "4;255;4;0;0;0100020010003412FFFF",
            "4;255;4;0;2;010002000F00",
        ] {
            assert!(is_request(&frame(line)), "{line}");
        }
        for line in [
            "4;255;3;1;1;",
            "4;1;1;0;0;20",
            "4;255;3;0;0;87",
            "4;255;4;0;3;00",
        ] {
            assert!(!is_request(&frame(line)), "{line}");
        }
    }

    #[test]
    fn actions_from_the_processor_map_back_to_requests() {
        let msg = Message::new(MessageType::Action, "gw", "9", "")
            .with_payload(Payload::new("I_TIME", ""));
        assert_eq!(request_of_action(&msg), Some(frame("9;255;3;0;1;")));
        let msg = Message::new(MessageType::Action, "gw", "", "")
            .with_payload(Payload::new("I_ID_REQUEST", ""));
        assert_eq!(request_of_action(&msg), Some(frame("255;255;3;0;3;")));
        let msg = Message::new(MessageType::Action, "gw", "7", "")
            .with_payload(Payload::new("ST_FIRMWARE_REQUEST", "010002000F00"));
        assert_eq!(
            request_of_action(&msg),
            Some(frame("7;255;4;0;2;010002000F00"))
        );
        let msg = Message::new(MessageType::Action, "gw", "7", "")
            .with_payload(Payload::new("reboot", ""));
        assert_eq!(request_of_action(&msg), None);
        let msg = Message::new(MessageType::Action, "gw", "x", "")
            .with_payload(Payload::new("I_TIME", ""));
        assert_eq!(request_of_action(&msg), None);
    }

    #[test]
    fn time_in_a_zone() {
        let now = DateTime::parse_from_rfc3339("2026-07-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_seconds(now, Some("UTC")), Ok(now.timestamp()));
        assert_eq!(
            local_seconds(now, Some("Europe/Berlin")),
            Ok(now.timestamp() + 2 * 3600)
        );
        assert_eq!(
            local_seconds(now, Some("America/New_York")),
            Ok(now.timestamp() - 4 * 3600)
        );
        assert!(local_seconds(now, Some("Mars/Olympus")).is_err());
        assert!(local_seconds(now, None).is_ok());
    }
}
