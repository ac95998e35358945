//! The entity-kind messages of ESPHome's `api.proto` beyond sensor, binary_sensor and switch:
//! what a light, text_sensor, fan, cover, climate, number, select, button and lock list, report
//! and accept. Written by hand with prost's derive like [`super::messages`] (field numbers as in
//! `api.proto`; fields not read are left out). Enums are `int32` on the wire.

use prost::Message;

#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesLightResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(bool, tag = "5")]
    pub legacy_supports_brightness: bool,
    #[prost(bool, tag = "6")]
    pub legacy_supports_rgb: bool,
    #[prost(bool, tag = "8")]
    pub legacy_supports_color_temperature: bool,
    #[prost(float, tag = "9")]
    pub min_mireds: f32,
    #[prost(float, tag = "10")]
    pub max_mireds: f32,
    /// `ColorMode`s, each a set of capability bits ([`color_mode`]).
    #[prost(int32, repeated, tag = "12")]
    pub supported_color_modes: Vec<i32>,
}

/// The capability bits of `ColorMode` (`COLOR_MODE_RGB` = 35 = on/off | brightness | rgb).
pub mod color_mode {
    pub const ON_OFF: i32 = 1;
    pub const BRIGHTNESS: i32 = 2;
    pub const COLOR_TEMPERATURE: i32 = 8;
    pub const RGB: i32 = 32;
}

#[derive(Clone, PartialEq, Message)]
pub struct TextStateResponse {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(string, tag = "2")]
    pub state: String,
    #[prost(bool, tag = "3")]
    pub missing_state: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesFanResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(bool, tag = "5")]
    pub supports_oscillation: bool,
    #[prost(bool, tag = "6")]
    pub supports_speed: bool,
    #[prost(bool, tag = "7")]
    pub supports_direction: bool,
    #[prost(int32, tag = "8")]
    pub supported_speed_count: i32,
    #[prost(string, repeated, tag = "12")]
    pub supported_preset_modes: Vec<String>,
}

/// `FanDirection`: forward 0, reverse 1.
pub const FAN_DIRECTION_REVERSE: i32 = 1;

#[derive(Clone, PartialEq, Message)]
pub struct FanStateResponse {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(bool, tag = "2")]
    pub state: bool,
    #[prost(bool, tag = "3")]
    pub oscillating: bool,
    #[prost(int32, tag = "5")]
    pub direction: i32,
    /// 1 ..= `supported_speed_count`.
    #[prost(int32, tag = "6")]
    pub speed_level: i32,
    /// Empty: no preset.
    #[prost(string, tag = "7")]
    pub preset_mode: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct FanCommandRequest {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(bool, tag = "2")]
    pub has_state: bool,
    #[prost(bool, tag = "3")]
    pub state: bool,
    #[prost(bool, tag = "6")]
    pub has_oscillating: bool,
    #[prost(bool, tag = "7")]
    pub oscillating: bool,
    #[prost(bool, tag = "8")]
    pub has_direction: bool,
    #[prost(int32, tag = "9")]
    pub direction: i32,
    #[prost(bool, tag = "10")]
    pub has_speed_level: bool,
    #[prost(int32, tag = "11")]
    pub speed_level: i32,
    #[prost(bool, tag = "12")]
    pub has_preset_mode: bool,
    #[prost(string, tag = "13")]
    pub preset_mode: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesCoverResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(bool, tag = "6")]
    pub supports_position: bool,
    #[prost(bool, tag = "7")]
    pub supports_tilt: bool,
    #[prost(bool, tag = "12")]
    pub supports_stop: bool,
}

/// `CoverOperation`: idle 0, opening 1, closing 2.
pub const COVER_OPERATIONS: [&str; 3] = ["idle", "opening", "closing"];

#[derive(Clone, PartialEq, Message)]
pub struct CoverStateResponse {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    /// 0.0 (closed) ..= 1.0 (open).
    #[prost(float, tag = "3")]
    pub position: f32,
    #[prost(float, tag = "4")]
    pub tilt: f32,
    #[prost(int32, tag = "5")]
    pub current_operation: i32,
}

#[derive(Clone, PartialEq, Message)]
pub struct CoverCommandRequest {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(bool, tag = "4")]
    pub has_position: bool,
    #[prost(float, tag = "5")]
    pub position: f32,
    #[prost(bool, tag = "6")]
    pub has_tilt: bool,
    #[prost(float, tag = "7")]
    pub tilt: f32,
    #[prost(bool, tag = "8")]
    pub stop: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesClimateResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(bool, tag = "5")]
    pub supports_current_temperature: bool,
    #[prost(bool, tag = "6")]
    pub supports_two_point_target_temperature: bool,
    #[prost(int32, repeated, tag = "7")]
    pub supported_modes: Vec<i32>,
    #[prost(float, tag = "8")]
    pub visual_min_temperature: f32,
    #[prost(float, tag = "9")]
    pub visual_max_temperature: f32,
    #[prost(bool, tag = "12")]
    pub supports_action: bool,
    #[prost(int32, repeated, tag = "13")]
    pub supported_fan_modes: Vec<i32>,
    #[prost(int32, repeated, tag = "14")]
    pub supported_swing_modes: Vec<i32>,
    #[prost(string, repeated, tag = "15")]
    pub supported_custom_fan_modes: Vec<String>,
    #[prost(int32, repeated, tag = "16")]
    pub supported_presets: Vec<i32>,
    #[prost(string, repeated, tag = "17")]
    pub supported_custom_presets: Vec<String>,
    /// `ClimateFeature` bits (newer firmware): 2 supports, 4 requires two-point targets.
    #[prost(uint32, tag = "27")]
    pub feature_flags: u32,
    /// `TemperatureUnit`: celsius 0, fahrenheit 1, kelvin 2.
    #[prost(int32, tag = "28")]
    pub temperature_unit: i32,
}

/// `ClimateMode` by number.
pub const CLIMATE_MODES: [&str; 7] = [
    "off",
    "heat_cool",
    "cool",
    "heat",
    "fan_only",
    "dry",
    "auto",
];

/// `ClimateAction` by number (1 is unused).
pub const CLIMATE_ACTIONS: [&str; 8] = [
    "off",
    "",
    "cooling",
    "heating",
    "idle",
    "drying",
    "fan",
    "defrosting",
];

/// `ClimateFanMode` by number.
pub const CLIMATE_FAN_MODES: [&str; 10] = [
    "on", "off", "auto", "low", "medium", "high", "middle", "focus", "diffuse", "quiet",
];

/// `ClimateSwingMode` by number.
pub const CLIMATE_SWING_MODES: [&str; 4] = ["off", "both", "vertical", "horizontal"];

/// `ClimatePreset` by number.
pub const CLIMATE_PRESETS: [&str; 8] = [
    "none", "home", "away", "boost", "comfort", "eco", "sleep", "activity",
];

/// `ClimateFeature` bits that mean two target temperatures (low and high).
pub const CLIMATE_TWO_POINT_FLAGS: u32 = 2 | 4;

/// `TemperatureUnit` by number, as a field unit.
pub const TEMPERATURE_UNITS: [&str; 3] = ["°C", "°F", "K"];

#[derive(Clone, PartialEq, Message)]
pub struct ClimateStateResponse {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(int32, tag = "2")]
    pub mode: i32,
    #[prost(float, tag = "3")]
    pub current_temperature: f32,
    #[prost(float, tag = "4")]
    pub target_temperature: f32,
    #[prost(float, tag = "5")]
    pub target_temperature_low: f32,
    #[prost(float, tag = "6")]
    pub target_temperature_high: f32,
    #[prost(int32, tag = "8")]
    pub action: i32,
    #[prost(int32, tag = "9")]
    pub fan_mode: i32,
    #[prost(int32, tag = "10")]
    pub swing_mode: i32,
    #[prost(string, tag = "11")]
    pub custom_fan_mode: String,
    #[prost(int32, tag = "12")]
    pub preset: i32,
    #[prost(string, tag = "13")]
    pub custom_preset: String,
    #[prost(bool, tag = "17")]
    pub missing_state: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct ClimateCommandRequest {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(bool, tag = "2")]
    pub has_mode: bool,
    #[prost(int32, tag = "3")]
    pub mode: i32,
    #[prost(bool, tag = "4")]
    pub has_target_temperature: bool,
    #[prost(float, tag = "5")]
    pub target_temperature: f32,
    #[prost(bool, tag = "6")]
    pub has_target_temperature_low: bool,
    #[prost(float, tag = "7")]
    pub target_temperature_low: f32,
    #[prost(bool, tag = "8")]
    pub has_target_temperature_high: bool,
    #[prost(float, tag = "9")]
    pub target_temperature_high: f32,
    #[prost(bool, tag = "12")]
    pub has_fan_mode: bool,
    #[prost(int32, tag = "13")]
    pub fan_mode: i32,
    #[prost(bool, tag = "14")]
    pub has_swing_mode: bool,
    #[prost(int32, tag = "15")]
    pub swing_mode: i32,
    #[prost(bool, tag = "16")]
    pub has_custom_fan_mode: bool,
    #[prost(string, tag = "17")]
    pub custom_fan_mode: String,
    #[prost(bool, tag = "18")]
    pub has_preset: bool,
    #[prost(int32, tag = "19")]
    pub preset: i32,
    #[prost(bool, tag = "20")]
    pub has_custom_preset: bool,
    #[prost(string, tag = "21")]
    pub custom_preset: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesNumberResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(float, tag = "6")]
    pub min_value: f32,
    #[prost(float, tag = "7")]
    pub max_value: f32,
    #[prost(float, tag = "8")]
    pub step: f32,
    #[prost(string, tag = "11")]
    pub unit_of_measurement: String,
}

/// `NumberStateResponse` has the fields of `SensorStateResponse`; the command has key and state.
#[derive(Clone, PartialEq, Message)]
pub struct NumberCommandRequest {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(float, tag = "2")]
    pub state: f32,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesSelectResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(string, repeated, tag = "6")]
    pub options: Vec<String>,
}

/// `SelectStateResponse` has the fields of [`TextStateResponse`].
#[derive(Clone, PartialEq, Message)]
pub struct SelectCommandRequest {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(string, tag = "2")]
    pub state: String,
}

/// `ButtonCommandRequest` (and any message that is just the entity key).
#[derive(Clone, PartialEq, Message)]
pub struct KeyOnly {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListEntitiesLockResponse {
    #[prost(string, tag = "1")]
    pub object_id: String,
    #[prost(fixed32, tag = "2")]
    pub key: u32,
    #[prost(string, tag = "3")]
    pub name: String,
    #[prost(bool, tag = "9")]
    pub supports_open: bool,
    #[prost(bool, tag = "10")]
    pub requires_code: bool,
}

/// `LockState` by number.
pub const LOCK_STATES: [&str; 8] = [
    "none",
    "locked",
    "unlocked",
    "jammed",
    "locking",
    "unlocking",
    "opening",
    "open",
];

#[derive(Clone, PartialEq, Message)]
pub struct LockStateResponse {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(int32, tag = "2")]
    pub state: i32,
}

/// `LockCommand`: unlock 0, lock 1, open 2.
pub const LOCK_COMMANDS: [&str; 3] = ["unlock", "lock", "open"];

#[derive(Clone, PartialEq, Message)]
pub struct LockCommandRequest {
    #[prost(fixed32, tag = "1")]
    pub key: u32,
    #[prost(int32, tag = "2")]
    pub command: i32,
    #[prost(bool, tag = "3")]
    pub has_code: bool,
    #[prost(string, tag = "4")]
    pub code: String,
}
