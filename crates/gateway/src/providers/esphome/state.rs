//! An entity's state message into its fields. Pure. `Ok(None)`: the device has no state yet
//! (`missing_state`), nothing to report.

use super::entity::*;
use super::error::EsphomeError;
use super::frame::Frame;
use super::messages as pb;
use switchyard_core::Payload;

pub(super) fn binary(key: &str, state: bool) -> Payload {
    Payload::new(key, if state { "1" } else { "0" }).with_metric_type("binary")
}

fn text(key: &str, value: impl Into<String>) -> Payload {
    Payload::new(key, value).with_metric_type("string")
}

fn gauge(key: &str, value: f32, unit: &str) -> Payload {
    let p = Payload::new(key, value.to_string()).with_metric_type("gauge_float");
    if unit.is_empty() {
        p
    } else {
        p.with_unit(unit)
    }
}

/// 0.0 ..= 1.0 as a whole percent.
fn percent(key: &str, fraction: f32) -> Payload {
    gauge(key, (fraction.clamp(0.0, 1.0) * 100.0).round(), "%")
}

/// The name of enum value `v` in `names`, or the number when the device sent one this client
/// does not know (a newer firmware).
fn named(names: &[&str], v: i32) -> String {
    usize::try_from(v)
        .ok()
        .and_then(|i| names.get(i))
        .filter(|n| !n.is_empty())
        .map_or_else(|| v.to_string(), |n| n.to_string())
}

/// `#rrggbb` from ESPHome's 0.0 ..= 1.0 channels.
fn rgb_hex(r: f32, g: f32, b: f32) -> String {
    let byte = |c: f32| {
        if c.is_finite() {
            (c.clamp(0.0, 1.0) * 255.0).round() as u8
        } else {
            0
        }
    };
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

pub(super) fn payloads(e: &Entity, frame: &Frame) -> Result<Option<Vec<Payload>>, EsphomeError> {
    let caps = &e.caps;
    let finite = |key: &str, v: f32, unit: &str, out: &mut Vec<Payload>| {
        if v.is_finite() {
            out.push(gauge(key, v, unit));
        }
    };
    let mut out = Vec::new();
    match e.kind {
        Kind::Sensor | Kind::Number => {
            let s: pb::SensorStateResponse = decode(frame)?;
            if s.missing_state {
                return Ok(None);
            }
            finite(FIELD_VALUE, s.state, &caps.unit, &mut out);
        }
        Kind::BinarySensor | Kind::Switch => {
            let s: pb::BoolStateResponse = decode(frame)?;
            if s.missing_state {
                return Ok(None);
            }
            out.push(binary(FIELD_STATE, s.state));
        }
        Kind::TextSensor | Kind::Select => {
            let s: pb::TextStateResponse = decode(frame)?;
            if s.missing_state {
                return Ok(None);
            }
            let key = if e.kind == Kind::Select {
                FIELD_OPTION
            } else {
                FIELD_VALUE
            };
            out.push(text(key, s.state));
        }
        Kind::Light => {
            let s: pb::LightStateResponse = decode(frame)?;
            out.push(binary(FIELD_STATE, s.state));
            if caps.brightness && s.brightness.is_finite() {
                out.push(percent(FIELD_BRIGHTNESS, s.brightness));
            }
            if caps.rgb {
                out.push(text(FIELD_RGB, rgb_hex(s.red, s.green, s.blue)));
            }
            if caps.color_temperature && s.color_temperature > 0.0 {
                finite(
                    FIELD_COLOR_TEMPERATURE,
                    s.color_temperature.round(),
                    "mired",
                    &mut out,
                );
            }
        }
        Kind::Fan => {
            let s: pb::FanStateResponse = decode(frame)?;
            out.push(binary(FIELD_STATE, s.state));
            if caps.speed_count > 0 {
                let level = s.speed_level.clamp(0, caps.speed_count);
                out.push(percent(FIELD_SPEED, level as f32 / caps.speed_count as f32));
            }
            if caps.oscillation {
                out.push(binary(FIELD_OSCILLATING, s.oscillating));
            }
            if caps.direction {
                let d = if s.direction == pb::FAN_DIRECTION_REVERSE {
                    "reverse"
                } else {
                    "forward"
                };
                out.push(text(FIELD_DIRECTION, d));
            }
            if !caps.custom_presets.is_empty() {
                let preset = if s.preset_mode.is_empty() {
                    "none".to_string()
                } else {
                    s.preset_mode
                };
                out.push(text(FIELD_PRESET, preset));
            }
        }
        Kind::Cover => {
            let s: pb::CoverStateResponse = decode(frame)?;
            if s.position.is_finite() {
                let open = if s.position > 0.0 { "open" } else { "closed" };
                out.push(text(FIELD_STATE, open));
                if caps.position {
                    out.push(percent(FIELD_POSITION, s.position));
                }
            }
            if caps.tilt && s.tilt.is_finite() {
                out.push(percent(FIELD_TILT, s.tilt));
            }
            out.push(text(
                FIELD_OPERATION,
                named(&pb::COVER_OPERATIONS, s.current_operation),
            ));
        }
        Kind::Climate => {
            let s: pb::ClimateStateResponse = decode(frame)?;
            if s.missing_state {
                return Ok(None);
            }
            out.push(text(FIELD_MODE, named(&pb::CLIMATE_MODES, s.mode)));
            finite(
                FIELD_TARGET_TEMPERATURE,
                s.target_temperature,
                &caps.unit,
                &mut out,
            );
            if caps.current_temperature {
                finite(
                    FIELD_CURRENT_TEMPERATURE,
                    s.current_temperature,
                    &caps.unit,
                    &mut out,
                );
            }
            if caps.action {
                out.push(text(FIELD_ACTION, named(&pb::CLIMATE_ACTIONS, s.action)));
            }
            if caps.two_point {
                for (key, v) in [
                    (FIELD_TARGET_TEMPERATURE_LOW, s.target_temperature_low),
                    (FIELD_TARGET_TEMPERATURE_HIGH, s.target_temperature_high),
                ] {
                    finite(key, v, &caps.unit, &mut out);
                }
            }
            // A custom mode, when the device reports one, is the mode in force.
            if !caps.fan_modes.is_empty() || !caps.custom_fan_modes.is_empty() {
                let mode = if s.custom_fan_mode.is_empty() {
                    named(&pb::CLIMATE_FAN_MODES, s.fan_mode)
                } else {
                    s.custom_fan_mode
                };
                out.push(text(FIELD_FAN_MODE, mode));
            }
            if !caps.swing_modes.is_empty() {
                out.push(text(
                    FIELD_SWING_MODE,
                    named(&pb::CLIMATE_SWING_MODES, s.swing_mode),
                ));
            }
            if !caps.presets.is_empty() || !caps.custom_presets.is_empty() {
                let preset = if s.custom_preset.is_empty() {
                    named(&pb::CLIMATE_PRESETS, s.preset)
                } else {
                    s.custom_preset
                };
                out.push(text(FIELD_PRESET, preset));
            }
        }
        Kind::Lock => {
            let s: pb::LockStateResponse = decode(frame)?;
            out.push(text(FIELD_STATE, named(&pb::LOCK_STATES, s.state)));
        }
        // A button has no state; its state message type does not exist.
        Kind::Button => return Ok(None),
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_and_colours() {
        assert_eq!(named(&pb::LOCK_STATES, 1), "locked");
        assert_eq!(named(&pb::LOCK_STATES, 42), "42");
        assert_eq!(named(&pb::CLIMATE_ACTIONS, 1), "1");
        assert_eq!(named(&pb::CLIMATE_MODES, -1), "-1");
        assert_eq!(rgb_hex(1.0, 0.5, 0.0), "#ff8000");
        assert_eq!(rgb_hex(f32::NAN, 2.0, -1.0), "#00ff00");
    }
}
