//! The messages of ESPHome's `api.proto` this provider uses, written by hand with prost's derive
//! (field numbers and message ids as in ESPHome's `api.proto`; fields we do not read are left out,
//! prost skips them). No `protoc` at build time.

use prost::Message;

/// Message type ids (`option (id) = …` in `api.proto`).
pub mod id {
    pub const HELLO_REQUEST: u32 = 1;
    pub const HELLO_RESPONSE: u32 = 2;
    pub const CONNECT_REQUEST: u32 = 3;
    pub const CONNECT_RESPONSE: u32 = 4;
    pub const DISCONNECT_REQUEST: u32 = 5;
    pub const DISCONNECT_RESPONSE: u32 = 6;
    pub const PING_REQUEST: u32 = 7;
    pub const PING_RESPONSE: u32 = 8;
    pub const DEVICE_INFO_REQUEST: u32 = 9;
    pub const DEVICE_INFO_RESPONSE: u32 = 10;
    pub const LIST_ENTITIES_REQUEST: u32 = 11;
    pub const LIST_ENTITIES_BINARY_SENSOR_RESPONSE: u32 = 12;
    pub const LIST_ENTITIES_LIGHT_RESPONSE: u32 = 15;
    pub const LIST_ENTITIES_SENSOR_RESPONSE: u32 = 16;
    pub const LIST_ENTITIES_SWITCH_RESPONSE: u32 = 17;
    pub const LIST_ENTITIES_DONE_RESPONSE: u32 = 19;
    pub const SUBSCRIBE_STATES_REQUEST: u32 = 20;
    pub const BINARY_SENSOR_STATE_RESPONSE: u32 = 21;
    pub const LIGHT_STATE_RESPONSE: u32 = 24;
    pub const SENSOR_STATE_RESPONSE: u32 = 25;
    pub const SWITCH_STATE_RESPONSE: u32 = 26;
    pub const LIGHT_COMMAND_REQUEST: u32 = 32;
    pub const SWITCH_COMMAND_REQUEST: u32 = 33;
    pub const LIST_ENTITIES_COVER_RESPONSE: u32 = 13;
    pub const LIST_ENTITIES_FAN_RESPONSE: u32 = 14;
    pub const LIST_ENTITIES_TEXT_SENSOR_RESPONSE: u32 = 18;
    pub const COVER_STATE_RESPONSE: u32 = 22;
    pub const FAN_STATE_RESPONSE: u32 = 23;
    pub const TEXT_SENSOR_STATE_RESPONSE: u32 = 27;
    pub const COVER_COMMAND_REQUEST: u32 = 30;
    pub const FAN_COMMAND_REQUEST: u32 = 31;
    pub const LIST_ENTITIES_CLIMATE_RESPONSE: u32 = 46;
    pub const CLIMATE_STATE_RESPONSE: u32 = 47;
    pub const CLIMATE_COMMAND_REQUEST: u32 = 48;
    pub const LIST_ENTITIES_NUMBER_RESPONSE: u32 = 49;
    pub const NUMBER_STATE_RESPONSE: u32 = 50;
    pub const NUMBER_COMMAND_REQUEST: u32 = 51;
    pub const LIST_ENTITIES_SELECT_RESPONSE: u32 = 52;
    pub const SELECT_STATE_RESPONSE: u32 = 53;
    pub const SELECT_COMMAND_REQUEST: u32 = 54;
    pub const LIST_ENTITIES_LOCK_RESPONSE: u32 = 58;
    pub const LOCK_STATE_RESPONSE: u32 = 59;
    pub const LOCK_COMMAND_REQUEST: u32 = 60;
    pub const LIST_ENTITIES_BUTTON_RESPONSE: u32 = 61;
    pub const BUTTON_COMMAND_REQUEST: u32 = 62;
}

pub use super::kind_messages::*;

/// The native API version this client speaks.
pub const API_VERSION: (u32, u32) = (1, 10);

#[derive(Clone, PartialEq, Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub client_info: String,
    #[prost(uint32, tag = "2")]
    pub api_version_major: u32,
    #[prost(uint32, tag = "3")]
    pub api_version_minor: u32,
}

#[derive(Clone, PartialEq, Message)]
pub struct HelloResponse {
    #[prost(uint32, tag = "1")]
    pub api_version_major: u32,
    #[prost(uint32, tag = "2")]
    pub api_version_minor: u32,
    #[prost(string, tag = "3")]
    pub server_info: String,
    #[prost(string, tag = "4")]
    pub name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ConnectRequest {
    #[prost(string, tag = "1")]
    pub password: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ConnectResponse {
    #[prost(bool, tag = "1")]
    pub invalid_password: bool,
}

/// DisconnectRequest/Response, PingRequest/Response, DeviceInfoRequest, ListEntitiesRequest,
/// ListEntitiesDoneResponse and SubscribeStatesRequest carry no fields.
#[derive(Clone, PartialEq, Message)]
pub struct Empty {}

#[derive(Clone, PartialEq, Message)]
pub struct DeviceInfoResponse {
    #[prost(bool, tag = "1")]
    pub uses_password: bool,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub mac_address: String,
    #[prost(string, tag = "4")]
    pub esphome_version: String,
    #[prost(string, tag = "5")]
    pub compilation_time: String,
    #[prost(string, tag = "6")]
    pub model: String,
    #[prost(string, tag = "12")]
    pub manufacturer: String,
    #[prost(string, tag = "13")]
    pub friendly_name: String,
}

/// The fields every `ListEntities…Response` starts with, plus the sensor's unit (field 6 of
/// `ListEntitiesSensorResponse`; the other kinds use 6 for something we do not read).
#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesSensorResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub unique_id: String,
    #[prost(string, tag = "6")]
    pub unit_of_measurement: String,
    #[prost(int32, tag = "7")]
    pub accuracy_decimals: i32,
}

/// The shared head of `ListEntitiesBinarySensorResponse`, `…SwitchResponse`, `…LightResponse`.
#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, tag = "4")]
    pub unique_id: String,
}

/// `BinarySensorStateResponse` and `SwitchStateResponse` (same fields 1 and 2).
#[derive(Clone, PartialEq, Message)]
pub struct BoolStateResponse {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(bool, tag = "2")]
    pub state: bool,
    /// Binary sensors only.
    #[prost(bool, tag = "3")]
    pub missing_state: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct SensorStateResponse {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(float, tag = "2")]
    pub state: f32,
    #[prost(bool, tag = "3")]
    pub missing_state: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct LightStateResponse {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(bool, tag = "2")]
    pub state: bool,
    /// 0.0 ..= 1.0.
    #[prost(float, tag = "3")]
    pub brightness: f32,
    /// 0.0 ..= 1.0 each, the colour (ESPHome scales the largest to 1.0).
    #[prost(float, tag = "4")]
    pub red: f32,
    #[prost(float, tag = "5")]
    pub green: f32,
    #[prost(float, tag = "6")]
    pub blue: f32,
    /// Mireds.
    #[prost(float, tag = "8")]
    pub color_temperature: f32,
    #[prost(int32, tag = "11")]
    pub color_mode: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct SwitchCommandRequest {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(bool, tag = "2")]
    pub state: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct LightCommandRequest {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(bool, tag = "2")]
    pub has_state: bool,
    #[prost(bool, tag = "3")]
    pub state: bool,
    #[prost(bool, tag = "4")]
    pub has_brightness: bool,
    /// 0.0 ..= 1.0.
    #[prost(float, tag = "5")]
    pub brightness: f32,
    #[prost(bool, tag = "6")]
    pub has_rgb: bool,
    /// 0.0 ..= 1.0 each.
    #[prost(float, tag = "7")]
    pub red: f32,
    #[prost(float, tag = "8")]
    pub green: f32,
    #[prost(float, tag = "9")]
    pub blue: f32,
    #[prost(bool, tag = "12")]
    pub has_color_temperature: bool,
    /// Mireds.
    #[prost(float, tag = "13")]
    pub color_temperature: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_bytes_match_protobuf() {
        // key is fixed32 (tag 1, wire type 5), state a bool (tag 2, varint).
        let bytes = SwitchCommandRequest {
            key: 0x01020304,
            state: true,
        }
        .encode_to_vec();
        assert_eq!(bytes, vec![0x0d, 4, 3, 2, 1, 0x10, 1]);
        let hello = HelloRequest {
            client_info: "a".into(),
            api_version_major: 1,
            api_version_minor: 10,
        }
        .encode_to_vec();
        assert_eq!(hello, vec![0x0a, 1, b'a', 0x10, 1, 0x18, 10]);
    }
}
