//! The simulated ESPHome device of the end-to-end tests, written from the protocol description
//! (its own frame code and prost messages with api.proto's field numbers, not the provider's
//! codec): hello, connect with a password, device info, an entity of every kind the provider
//! maps, states, commands that change its state, are recorded for the test ([`Seen`]) and are
//! answered with the new state, pings both ways, and bad frames mixed in. Repeated enums are
//! written unpacked, as ESPHome's firmware writes them.

use prost::Message as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

pub const PASSWORD: &str = "s3cret";

/// What the device received, for the test to check.
#[derive(Debug, PartialEq)]
pub enum Seen {
    PingAnswered,
    Switch(bool),
    Light(bool, f32),
    /// red, green, blue (0.0–1.0), colour temperature (mireds), each when the command set it.
    Strip(Option<[f32; 3]>, Option<f32>),
    /// state, speed level, oscillating, direction, each when the command set it.
    Fan(Option<bool>, Option<i32>, Option<bool>, Option<i32>),
    /// position, tilt, stop.
    Cover(Option<f32>, Option<f32>, bool),
    /// mode, target temperature.
    Climate(Option<i32>, Option<f32>),
    Number(f32),
    Select(String),
    Button,
    /// `LockCommand`: unlock 0, lock 1, open 2.
    Lock(i32),
}

// Message ids (api.proto's `option (id)`).
const LIST_COVER: u32 = 13;
const LIST_FAN: u32 = 14;
const LIST_LIGHT: u32 = 15;
const LIST_TEXT_SENSOR: u32 = 18;
const COVER_STATE: u32 = 22;
const FAN_STATE: u32 = 23;
const LIGHT_STATE: u32 = 24;
const TEXT_SENSOR_STATE: u32 = 27;
const COVER_COMMAND: u32 = 30;
const FAN_COMMAND: u32 = 31;
const LIGHT_COMMAND: u32 = 32;
const SWITCH_COMMAND: u32 = 33;
const LIST_CLIMATE: u32 = 46;
const CLIMATE_STATE: u32 = 47;
const CLIMATE_COMMAND: u32 = 48;
const LIST_NUMBER: u32 = 49;
const NUMBER_STATE: u32 = 50;
const NUMBER_COMMAND: u32 = 51;
const LIST_SELECT: u32 = 52;
const SELECT_STATE: u32 = 53;
const SELECT_COMMAND: u32 = 54;
const LIST_LOCK: u32 = 58;
const LOCK_STATE: u32 = 59;
const LOCK_COMMAND: u32 = 60;
const LIST_BUTTON: u32 = 61;
const BUTTON_COMMAND: u32 = 62;

#[derive(Clone, PartialEq, prost::Message)]
struct ListLight {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(float, tag = "9")]
    min_mireds: f32,
    #[prost(float, tag = "10")]
    max_mireds: f32,
    #[prost(int32, repeated, packed = "false", tag = "12")]
    supported_color_modes: Vec<i32>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LightState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    state: bool,
    #[prost(float, tag = "3")]
    brightness: f32,
    #[prost(float, tag = "4")]
    red: f32,
    #[prost(float, tag = "5")]
    green: f32,
    #[prost(float, tag = "6")]
    blue: f32,
    #[prost(float, tag = "8")]
    color_temperature: f32,
    #[prost(int32, tag = "11")]
    color_mode: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LightCommand {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    has_state: bool,
    #[prost(bool, tag = "3")]
    state: bool,
    #[prost(bool, tag = "4")]
    has_brightness: bool,
    #[prost(float, tag = "5")]
    brightness: f32,
    #[prost(bool, tag = "6")]
    has_rgb: bool,
    #[prost(float, tag = "7")]
    red: f32,
    #[prost(float, tag = "8")]
    green: f32,
    #[prost(float, tag = "9")]
    blue: f32,
    #[prost(bool, tag = "12")]
    has_color_temperature: bool,
    #[prost(float, tag = "13")]
    color_temperature: f32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TextState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(string, tag = "2")]
    state: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListFan {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(bool, tag = "5")]
    supports_oscillation: bool,
    #[prost(bool, tag = "6")]
    supports_speed: bool,
    #[prost(bool, tag = "7")]
    supports_direction: bool,
    #[prost(int32, tag = "8")]
    supported_speed_count: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct FanState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    state: bool,
    #[prost(bool, tag = "3")]
    oscillating: bool,
    #[prost(int32, tag = "5")]
    direction: i32,
    #[prost(int32, tag = "6")]
    speed_level: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct FanCommand {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    has_state: bool,
    #[prost(bool, tag = "3")]
    state: bool,
    #[prost(bool, tag = "6")]
    has_oscillating: bool,
    #[prost(bool, tag = "7")]
    oscillating: bool,
    #[prost(bool, tag = "8")]
    has_direction: bool,
    #[prost(int32, tag = "9")]
    direction: i32,
    #[prost(bool, tag = "10")]
    has_speed_level: bool,
    #[prost(int32, tag = "11")]
    speed_level: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListCover {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(bool, tag = "6")]
    supports_position: bool,
    #[prost(bool, tag = "7")]
    supports_tilt: bool,
    #[prost(bool, tag = "12")]
    supports_stop: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CoverState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(float, tag = "3")]
    position: f32,
    #[prost(float, tag = "4")]
    tilt: f32,
    #[prost(int32, tag = "5")]
    current_operation: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct CoverCommand {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "4")]
    has_position: bool,
    #[prost(float, tag = "5")]
    position: f32,
    #[prost(bool, tag = "6")]
    has_tilt: bool,
    #[prost(float, tag = "7")]
    tilt: f32,
    #[prost(bool, tag = "8")]
    stop: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListClimate {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(bool, tag = "5")]
    supports_current_temperature: bool,
    #[prost(int32, repeated, packed = "false", tag = "7")]
    supported_modes: Vec<i32>,
    #[prost(float, tag = "8")]
    visual_min_temperature: f32,
    #[prost(float, tag = "9")]
    visual_max_temperature: f32,
    #[prost(bool, tag = "12")]
    supports_action: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ClimateState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(int32, tag = "2")]
    mode: i32,
    #[prost(float, tag = "3")]
    current_temperature: f32,
    #[prost(float, tag = "4")]
    target_temperature: f32,
    #[prost(int32, tag = "8")]
    action: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ClimateCommand {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    has_mode: bool,
    #[prost(int32, tag = "3")]
    mode: i32,
    #[prost(bool, tag = "4")]
    has_target_temperature: bool,
    #[prost(float, tag = "5")]
    target_temperature: f32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListNumber {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(float, tag = "6")]
    min_value: f32,
    #[prost(float, tag = "7")]
    max_value: f32,
    #[prost(float, tag = "8")]
    step: f32,
    #[prost(string, tag = "11")]
    unit_of_measurement: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListSelect {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, repeated, tag = "6")]
    options: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListLock {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(bool, tag = "9")]
    supports_open: bool,
}

/// Any message's key (field 1 of every state and command).
#[derive(Clone, PartialEq, prost::Message)]
struct Key1 {
    #[prost(fixed32, tag = "1")]
    key: u32,
}

/// `NumberCommandRequest`, and the key/value head of the select and lock commands.
#[derive(Clone, PartialEq, prost::Message)]
struct KeyFloat {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(float, tag = "2")]
    state: f32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct KeyEnum {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(int32, tag = "2")]
    state: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Str1 {
    #[prost(string, tag = "1")]
    s: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct HelloResponse {
    #[prost(uint32, tag = "1")]
    major: u32,
    #[prost(uint32, tag = "2")]
    minor: u32,
    #[prost(string, tag = "3")]
    server_info: String,
    #[prost(string, tag = "4")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Bool1 {
    #[prost(bool, tag = "1")]
    b: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct DeviceInfo {
    #[prost(bool, tag = "1")]
    uses_password: bool,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    mac_address: String,
    #[prost(string, tag = "4")]
    esphome_version: String,
    #[prost(string, tag = "13")]
    friendly_name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListEntity {
    #[prost(string, tag = "1")]
    object_id: String,
    #[prost(fixed32, tag = "2")]
    key: u32,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    unique_id: String,
    #[prost(string, tag = "6")]
    unit: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct KeyState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(bool, tag = "2")]
    state: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SensorState {
    #[prost(fixed32, tag = "1")]
    key: u32,
    #[prost(float, tag = "2")]
    state: f32,
}

enum Out {
    Msg(u32, Vec<u8>),
    Raw(Vec<u8>),
}

fn msg(t: u32, payload: &[u8]) -> Out {
    Out::Msg(t, payload.to_vec())
}

pub const NOISE_KEY: &str = "px7tsbK3C7bpXHr2OevEV2ZMg/FrNBw2+O2pNPbedtA=";

/// The device's end of a connection: plaintext, or Noise as the device's responder (snow), with
/// the framing written here.
struct Link {
    s: TcpStream,
    noise: Option<(snow::StatelessTransportState, u64, u64)>,
}

async fn read_noise_frame(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    assert_eq!(s.read_u8().await?, 1, "the client sent a non-noise frame");
    let len = s.read_u16().await?;
    let mut payload = vec![0; len as usize];
    s.read_exact(&mut payload).await?;
    Ok(payload)
}

fn noise_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

impl Link {
    async fn accept(mut s: TcpStream, key: Option<&str>) -> std::io::Result<Option<Link>> {
        use base64::Engine as _;
        let Some(key) = key else {
            return Ok(Some(Link { s, noise: None }));
        };
        let psk: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(key)
            .unwrap()
            .try_into()
            .unwrap();
        let mut hs = snow::Builder::new("Noise_NNpsk0_25519_ChaChaPoly_SHA256".parse().unwrap())
            .prologue(b"NoiseAPIInit\x00\x00")
            .unwrap()
            .psk(0, &psk)
            .unwrap()
            .build_responder()
            .unwrap();
        assert!(read_noise_frame(&mut s).await?.is_empty(), "client hello");
        let first = read_noise_frame(&mut s).await?;
        assert_eq!(first[0], 0);
        let mut hello = vec![1u8];
        hello.extend_from_slice(b"kitchen\0AA:BB:CC:DD:EE:FF\0");
        s.write_all(&noise_frame(&hello)).await?;
        let mut buf = [0u8; 256];
        if hs.read_message(&first[1..], &mut buf).is_err() {
            s.write_all(&noise_frame(b"\x01Handshake MAC failure"))
                .await?;
            return Ok(None);
        }
        let n = hs.write_message(&[], &mut buf[1..]).unwrap();
        s.write_all(&noise_frame(&buf[..n + 1])).await?;
        let state = hs.into_stateless_transport_mode().unwrap();
        Ok(Some(Link {
            s,
            noise: Some((state, 0, 0)),
        }))
    }

    async fn read(&mut self) -> std::io::Result<(u32, Vec<u8>)> {
        let Some((state, rx, _)) = self.noise.as_mut() else {
            return read_frame(&mut self.s).await;
        };
        let c = read_noise_frame(&mut self.s).await?;
        let mut plain = vec![0u8; c.len()];
        let n = state.read_message(*rx, &c, &mut plain).expect("decrypt");
        *rx += 1;
        let t = u16::from_be_bytes([plain[0], plain[1]]) as u32;
        let len = u16::from_be_bytes([plain[2], plain[3]]) as usize;
        assert_eq!(len + 4, n);
        Ok((t, plain[4..n].to_vec()))
    }

    async fn write(&mut self, out: &[Out]) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        for o in out {
            match (o, self.noise.as_mut()) {
                (Out::Raw(b), _) => bytes.extend_from_slice(b),
                (Out::Msg(t, p), None) => bytes.extend(frame(*t, p)),
                (Out::Msg(t, p), Some((state, _, tx))) => {
                    let mut plain = (*t as u16).to_be_bytes().to_vec();
                    plain.extend_from_slice(&(p.len() as u16).to_be_bytes());
                    plain.extend_from_slice(p);
                    let mut c = vec![0u8; plain.len() + 16];
                    let n = state.write_message(*tx, &plain, &mut c).unwrap();
                    *tx += 1;
                    bytes.extend(noise_frame(&c[..n]));
                }
            }
        }
        self.s.write_all(&bytes).await
    }
}

fn frame(t: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    for mut v in [payload.len() as u32, t] {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    out.extend_from_slice(payload);
    out
}

async fn read_varint(s: &mut TcpStream) -> std::io::Result<u32> {
    let mut v = 0u32;
    for i in 0..5 {
        let b = s.read_u8().await?;
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok(v)
}

async fn read_frame(s: &mut TcpStream) -> std::io::Result<(u32, Vec<u8>)> {
    assert_eq!(
        s.read_u8().await?,
        0,
        "the client sent a non-plaintext frame"
    );
    let len = read_varint(s).await?;
    let t = read_varint(s).await?;
    let mut payload = vec![0; len as usize];
    s.read_exact(&mut payload).await?;
    Ok((t, payload))
}

/// The device's state, kept across connections (a reconnect sees what the last command set).
pub struct Device {
    pub relay: bool,
    pub lamp: (bool, f32),
    /// rgb (0.0–1.0 each), colour temperature (mireds).
    pub strip: ([f32; 3], f32),
    /// state, speed level (1–3), oscillating, direction.
    pub fan: (bool, i32, bool, i32),
    /// position, tilt (0.0–1.0).
    pub cover: (f32, f32),
    /// `ClimateMode`, target temperature.
    pub climate: (i32, f32),
    pub number: f32,
    pub select: String,
    /// `LockState`.
    pub lock: i32,
}

impl Default for Device {
    fn default() -> Self {
        Device {
            relay: false,
            lamp: (false, 0.2),
            strip: ([1.0, 0.0, 0.0], 300.0),
            fan: (true, 1, false, 0),
            cover: (0.0, 0.0),
            climate: (3, 20.0),
            number: 10.0,
            select: "eco".into(),
            lock: 1,
        }
    }
}

fn entities() -> Vec<Out> {
    let head = |object_id: &str, key, name: &str, unit: &str| ListEntity {
        object_id: object_id.into(),
        key,
        name: name.into(),
        unit: unit.into(),
        ..Default::default()
    };
    vec![
        msg(
            16,
            &head("temp", 11, "Kitchen Temperature", "°C").encode_to_vec(),
        ),
        msg(12, &head("door", 12, "Door", "").encode_to_vec()),
        msg(17, &head("relay", 13, "Relay", "").encode_to_vec()),
        // No colour modes listed: an older firmware's dimmable light.
        msg(LIST_LIGHT, &head("lamp", 14, "Lamp", "").encode_to_vec()),
        msg(
            LIST_TEXT_SENSOR,
            &head("wifi", 15, "WiFi SSID", "").encode_to_vec(),
        ),
        msg(
            LIST_LIGHT,
            &ListLight {
                object_id: "strip".into(),
                key: 16,
                name: "Strip".into(),
                min_mireds: 153.0,
                max_mireds: 500.0,
                // COLOR_MODE_RGB, COLOR_MODE_COLOR_TEMPERATURE.
                supported_color_modes: vec![35, 11],
            }
            .encode_to_vec(),
        ),
        msg(
            LIST_FAN,
            &ListFan {
                object_id: "fan".into(),
                key: 17,
                name: "Fan".into(),
                supports_oscillation: true,
                supports_speed: true,
                supports_direction: true,
                supported_speed_count: 3,
            }
            .encode_to_vec(),
        ),
        msg(
            LIST_COVER,
            &ListCover {
                object_id: "blind".into(),
                key: 18,
                name: "Blind".into(),
                supports_position: true,
                supports_tilt: true,
                supports_stop: true,
            }
            .encode_to_vec(),
        ),
        msg(
            LIST_CLIMATE,
            &ListClimate {
                object_id: "hvac".into(),
                key: 19,
                name: "Thermostat".into(),
                supports_current_temperature: true,
                // off, heat, auto
                supported_modes: vec![0, 3, 6],
                visual_min_temperature: 7.0,
                visual_max_temperature: 30.0,
                supports_action: true,
            }
            .encode_to_vec(),
        ),
        msg(
            LIST_NUMBER,
            &ListNumber {
                object_id: "level".into(),
                key: 20,
                name: "Level".into(),
                min_value: 0.0,
                max_value: 50.0,
                step: 0.5,
                unit_of_measurement: "cm".into(),
            }
            .encode_to_vec(),
        ),
        msg(
            LIST_SELECT,
            &ListSelect {
                object_id: "preset".into(),
                key: 21,
                name: "Preset".into(),
                options: vec!["eco".into(), "comfort".into(), "boost".into()],
            }
            .encode_to_vec(),
        ),
        msg(
            LIST_BUTTON,
            &head("restart", 22, "Restart", "").encode_to_vec(),
        ),
        msg(
            LIST_LOCK,
            &ListLock {
                object_id: "front".into(),
                key: 23,
                name: "Front Door".into(),
                supports_open: true,
            }
            .encode_to_vec(),
        ),
        msg(19, &[]),
    ]
}

/// The state message of the entity with `key` (none for the button).
fn state_of(dev: &Device, key: u32) -> Option<Out> {
    Some(match key {
        11 => msg(25, &SensorState { key, state: 21.5 }.encode_to_vec()),
        12 => msg(21, &KeyState { key, state: true }.encode_to_vec()),
        13 => msg(
            26,
            &KeyState {
                key,
                state: dev.relay,
            }
            .encode_to_vec(),
        ),
        14 => msg(
            LIGHT_STATE,
            &LightState {
                key,
                state: dev.lamp.0,
                brightness: dev.lamp.1,
                ..Default::default()
            }
            .encode_to_vec(),
        ),
        15 => msg(
            TEXT_SENSOR_STATE,
            &TextState {
                key,
                state: "kitchen-ap".into(),
            }
            .encode_to_vec(),
        ),
        16 => {
            let ([red, green, blue], color_temperature) = dev.strip;
            msg(
                LIGHT_STATE,
                &LightState {
                    key,
                    state: true,
                    brightness: 1.0,
                    red,
                    green,
                    blue,
                    color_temperature,
                    color_mode: 35,
                }
                .encode_to_vec(),
            )
        }
        17 => msg(
            FAN_STATE,
            &FanState {
                key,
                state: dev.fan.0,
                speed_level: dev.fan.1,
                oscillating: dev.fan.2,
                direction: dev.fan.3,
            }
            .encode_to_vec(),
        ),
        18 => msg(
            COVER_STATE,
            &CoverState {
                key,
                position: dev.cover.0,
                tilt: dev.cover.1,
                current_operation: 0,
            }
            .encode_to_vec(),
        ),
        19 => msg(
            CLIMATE_STATE,
            &ClimateState {
                key,
                mode: dev.climate.0,
                current_temperature: 19.5,
                target_temperature: dev.climate.1,
                // heating while heating, else idle
                action: if dev.climate.0 == 3 { 3 } else { 4 },
            }
            .encode_to_vec(),
        ),
        20 => msg(
            NUMBER_STATE,
            &KeyFloat {
                key,
                state: dev.number,
            }
            .encode_to_vec(),
        ),
        21 => msg(
            SELECT_STATE,
            &TextState {
                key,
                state: dev.select.clone(),
            }
            .encode_to_vec(),
        ),
        23 => msg(
            LOCK_STATE,
            &KeyEnum {
                key,
                state: dev.lock,
            }
            .encode_to_vec(),
        ),
        _ => return None,
    })
}

fn decoded<M: prost::Message + Default>(p: &[u8], key: u32) -> M {
    let m = M::decode(p).expect("the client's command is protobuf");
    let got = Key1::decode(p).unwrap_or_default().key;
    assert_eq!(got, key, "command for the wrong key");
    m
}

fn opt<T>(has: bool, v: T) -> Option<T> {
    has.then_some(v)
}

/// A command into the device's state and what it records; the key whose state changed.
fn command(dev: &mut Device, t: u32, p: &[u8]) -> Option<(u32, Seen)> {
    Some(match t {
        SWITCH_COMMAND => {
            let c: KeyState = decoded(p, 13);
            dev.relay = c.state;
            (13, Seen::Switch(c.state))
        }
        LIGHT_COMMAND if Key1::decode(p).unwrap_or_default().key == 14 => {
            let c: LightCommand = decoded(p, 14);
            if c.has_state {
                dev.lamp.0 = c.state;
            }
            if c.has_brightness {
                dev.lamp.1 = c.brightness;
            }
            (14, Seen::Light(dev.lamp.0, dev.lamp.1))
        }
        LIGHT_COMMAND => {
            let c: LightCommand = decoded(p, 16);
            let rgb = opt(c.has_rgb, [c.red, c.green, c.blue]);
            let ct = opt(c.has_color_temperature, c.color_temperature);
            dev.strip = (rgb.unwrap_or(dev.strip.0), ct.unwrap_or(dev.strip.1));
            (16, Seen::Strip(rgb, ct))
        }
        FAN_COMMAND => {
            let c: FanCommand = decoded(p, 17);
            let seen = Seen::Fan(
                opt(c.has_state, c.state),
                opt(c.has_speed_level, c.speed_level),
                opt(c.has_oscillating, c.oscillating),
                opt(c.has_direction, c.direction),
            );
            if c.has_state {
                dev.fan.0 = c.state;
            }
            if c.has_speed_level {
                dev.fan = (true, c.speed_level, dev.fan.2, dev.fan.3);
            }
            if c.has_oscillating {
                dev.fan.2 = c.oscillating;
            }
            if c.has_direction {
                dev.fan.3 = c.direction;
            }
            (17, seen)
        }
        COVER_COMMAND => {
            let c: CoverCommand = decoded(p, 18);
            if c.has_position {
                dev.cover.0 = c.position;
            }
            if c.has_tilt {
                dev.cover.1 = c.tilt;
            }
            (
                18,
                Seen::Cover(
                    opt(c.has_position, c.position),
                    opt(c.has_tilt, c.tilt),
                    c.stop,
                ),
            )
        }
        CLIMATE_COMMAND => {
            let c: ClimateCommand = decoded(p, 19);
            if c.has_mode {
                dev.climate.0 = c.mode;
            }
            if c.has_target_temperature {
                dev.climate.1 = c.target_temperature;
            }
            (
                19,
                Seen::Climate(
                    opt(c.has_mode, c.mode),
                    opt(c.has_target_temperature, c.target_temperature),
                ),
            )
        }
        NUMBER_COMMAND => {
            let c: KeyFloat = decoded(p, 20);
            dev.number = c.state;
            (20, Seen::Number(c.state))
        }
        SELECT_COMMAND => {
            let c: TextState = decoded(p, 21);
            dev.select = c.state.clone();
            (21, Seen::Select(c.state))
        }
        BUTTON_COMMAND => {
            let _: Key1 = decoded(p, 22);
            (22, Seen::Button)
        }
        LOCK_COMMAND => {
            let c: KeyEnum = decoded(p, 23);
            // lock → LOCKED, unlock → UNLOCKED, open → OPEN
            dev.lock = match c.state {
                1 => 1,
                0 => 2,
                _ => 7,
            };
            (23, Seen::Lock(c.state))
        }
        _ => return None,
    })
}

/// One connection. Returns when the client goes away, or after the first command when
/// `drop_after_command` (a reboot).
pub async fn serve(
    s: TcpStream,
    key: Option<&str>,
    dev: &mut Device,
    seen: &mpsc::Sender<Seen>,
    drop_after_command: bool,
) -> std::io::Result<()> {
    let Some(mut link) = Link::accept(s, key).await? else {
        return Ok(()); // handshake refused
    };
    loop {
        let (t, p) = link.read().await?;
        let mut out = Vec::new();
        match t {
            1 => {
                let hello = Str1::decode(p.as_slice()).unwrap_or_default();
                assert!(!hello.s.is_empty(), "client_info");
                out.push(msg(
                    2,
                    &HelloResponse {
                        major: 1,
                        minor: 10,
                        server_info: "fake 2025.1".into(),
                        name: "kitchen".into(),
                    }
                    .encode_to_vec(),
                ));
            }
            3 => {
                let pw = Str1::decode(p.as_slice()).unwrap_or_default().s;
                out.push(msg(4, &Bool1 { b: pw != PASSWORD }.encode_to_vec()));
            }
            9 => out.push(msg(
                10,
                &DeviceInfo {
                    uses_password: true,
                    name: "kitchen".into(),
                    mac_address: "AA:BB:CC:DD:EE:FF".into(),
                    esphome_version: "2025.1.0".into(),
                    friendly_name: "Kitchen Node".into(),
                }
                .encode_to_vec(),
            )),
            11 => out.extend(entities()),
            20 => {
                // Garbage first: a payload that is not protobuf, a state for an unknown key and a
                // stray byte; the client must carry on.
                out.push(msg(25, &[0xff, 0xff, 0xff]));
                out.push(msg(
                    26,
                    &KeyState {
                        key: 999,
                        state: true,
                    }
                    .encode_to_vec(),
                ));
                out.push(Out::Raw(vec![0x42]));
                out.extend((11..=23).filter_map(|k| state_of(dev, k)));
                // The device pings the client too.
                out.push(msg(7, &[]));
            }
            7 => out.push(msg(8, &[])),
            8 => {
                let _ = seen.send(Seen::PingAnswered).await;
            }
            5 => {
                link.write(&[msg(6, &[])]).await?;
                return Ok(());
            }
            t => {
                if let Some((key, what)) = command(dev, t, &p) {
                    let _ = seen.send(what).await;
                    out.extend(state_of(dev, key));
                    link.write(&out).await?;
                    if drop_after_command {
                        return Ok(()); // a reboot: the connection just ends
                    }
                    continue;
                }
            }
        }
        link.write(&out).await?;
    }
}
