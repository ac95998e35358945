//! A set from Switchyard into an entity's command frames. Pure. Every value is checked before a
//! frame is made: a bad one fails the whole set with the reason and nothing is sent.
//!
//! Switch, number, select, button and lock: one command per payload. Light, fan, cover and
//! climate: one command carrying every field the message sets.

use super::entity::*;
use super::error::EsphomeError;
use super::frame::Frame;
use super::messages::{self as pb, id};
use switchyard_core::Payload;

fn unsupported(what: String) -> EsphomeError {
    EsphomeError::Unsupported(what)
}

fn bad_field(e: &Entity, key: &str) -> EsphomeError {
    let writable = match e.kind {
        Kind::Switch => "state",
        Kind::Light => "state, brightness, rgb, color_temperature",
        Kind::Fan => "state, speed, oscillating, direction, preset",
        Kind::Cover => "state (open/close/stop), position, tilt",
        Kind::Climate => {
            "mode, target_temperature, target_temperature_low/high, fan_mode, swing_mode, preset"
        }
        Kind::Number => "value",
        Kind::Select => "option",
        Kind::Button => "press",
        Kind::Lock => "state (lock/unlock/open, then the code if it wants one)",
        Kind::Sensor | Kind::BinarySensor | Kind::TextSensor => {
            return unsupported(format!(
                "a set of read-only {} {:?}",
                e.kind.name(),
                e.object_id
            ));
        }
    };
    unsupported(format!(
        "{} field {key:?} of {:?} (writable: {writable})",
        e.kind.name(),
        e.object_id
    ))
}

fn parse_bool(value: &str) -> Result<bool, EsphomeError> {
    switchyard_core::value::parse_bool(value.trim())
        .ok_or_else(|| EsphomeError::Value(format!("{value:?} is not on/off (true/false, 1/0)")))
}

fn number(p: &Payload) -> Result<f32, EsphomeError> {
    p.value
        .trim()
        .parse::<f32>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| EsphomeError::Value(format!("{} {:?} is not a number", p.key, p.value)))
}

/// A number within `min ..= max` (no range when both are 0 or the range is empty).
fn in_range(p: &Payload, min: f32, max: f32) -> Result<f32, EsphomeError> {
    let v = number(p)?;
    if max > min && !(min..=max).contains(&v) {
        return Err(EsphomeError::Value(format!(
            "{} {v} is outside {min}–{max}",
            p.key
        )));
    }
    Ok(v)
}

/// A percent (0–100) as ESPHome's 0.0 ..= 1.0.
fn fraction(p: &Payload) -> Result<f32, EsphomeError> {
    Ok(in_range(p, 0.0, 100.0)? / 100.0)
}

/// `#rrggbb`, `rrggbb` or `r,g,b` (0–255 each) as ESPHome's 0.0 ..= 1.0 channels.
fn rgb(value: &str) -> Result<[f32; 3], EsphomeError> {
    let bad = || {
        EsphomeError::Value(format!(
            "rgb {value:?} is not #rrggbb or r,g,b (0–255 each)"
        ))
    };
    let v = value.trim();
    let bytes: Vec<u8> = if v.contains(',') {
        v.split(',')
            .map(|c| c.trim().parse::<u8>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    } else {
        let hex = v.strip_prefix('#').unwrap_or(v);
        if hex.len() != 6 || !hex.is_ascii() {
            return Err(bad());
        }
        (0..3)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad()))
            .collect::<Result<_, _>>()?
    };
    let [r, g, b] = bytes[..] else {
        return Err(bad());
    };
    Ok([r, g, b].map(|c| f32::from(c) / 255.0))
}

/// The index of `value` in `names` (case-insensitive), for enum values.
fn pick(names: &[&str], value: &str, what: &str) -> Result<i32, EsphomeError> {
    let v = value.trim().to_ascii_lowercase();
    names
        .iter()
        .position(|n| !n.is_empty() && *n == v)
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| {
            let known: Vec<_> = names.iter().filter(|n| !n.is_empty()).collect();
            EsphomeError::Value(format!("{what} {value:?} is not one of {known:?}"))
        })
}

pub(super) fn frames(e: &Entity, payloads: &[Payload]) -> Result<Vec<Frame>, EsphomeError> {
    if payloads.is_empty() {
        return Err(EsphomeError::Value("a set with no field".into()));
    }
    let key = e.key;
    let caps = &e.caps;
    let each = |f: &dyn Fn(&Payload) -> Result<Frame, EsphomeError>| {
        payloads.iter().map(f).collect::<Result<Vec<_>, _>>()
    };
    match e.kind {
        Kind::Sensor | Kind::BinarySensor | Kind::TextSensor => Err(bad_field(e, "")),
        Kind::Switch => each(&|p| match p.key.as_str() {
            FIELD_STATE => Ok(frame(
                id::SWITCH_COMMAND_REQUEST,
                &pb::SwitchCommandRequest {
                    key,
                    state: parse_bool(&p.value)?,
                },
            )),
            other => Err(bad_field(e, other)),
        }),
        Kind::Number => each(&|p| match p.key.as_str() {
            FIELD_VALUE => Ok(frame(
                id::NUMBER_COMMAND_REQUEST,
                &pb::NumberCommandRequest {
                    key,
                    state: in_range(p, caps.min, caps.max)?,
                },
            )),
            other => Err(bad_field(e, other)),
        }),
        Kind::Select => each(&|p| match p.key.as_str() {
            FIELD_OPTION => {
                let v = p.value.trim();
                if !caps.options.is_empty() && !caps.options.iter().any(|o| o == v) {
                    return Err(EsphomeError::Value(format!(
                        "option {v:?} is not one of {:?}",
                        caps.options
                    )));
                }
                Ok(frame(
                    id::SELECT_COMMAND_REQUEST,
                    &pb::SelectCommandRequest {
                        key,
                        state: v.to_string(),
                    },
                ))
            }
            other => Err(bad_field(e, other)),
        }),
        Kind::Button => each(&|p| match p.key.as_str() {
            FIELD_PRESS => Ok(frame(id::BUTTON_COMMAND_REQUEST, &pb::KeyOnly { key })),
            other => Err(bad_field(e, other)),
        }),
        Kind::Lock => each(&|p| match p.key.as_str() {
            FIELD_STATE => {
                // `unlock 1234`: the command, then the code of a lock that wants one.
                let (word, code) = match p.value.trim().split_once(char::is_whitespace) {
                    Some((w, c)) => (w, c.trim()),
                    None => (p.value.trim(), ""),
                };
                let v = match word.to_ascii_lowercase().as_str() {
                    "locked" => "lock".to_string(),
                    "unlocked" => "unlock".to_string(),
                    other => other.to_string(),
                };
                let command = pick(&pb::LOCK_COMMANDS, &v, "lock command")?;
                if v == "open" && !caps.open {
                    return Err(unsupported(format!(
                        "open on lock {:?}, which does not support it",
                        e.object_id
                    )));
                }
                if caps.requires_code && code.is_empty() {
                    return Err(unsupported(format!(
                        "lock {:?} wants a code: send `{v} <code>`",
                        e.object_id
                    )));
                }
                Ok(frame(
                    id::LOCK_COMMAND_REQUEST,
                    &pb::LockCommandRequest {
                        key,
                        command,
                        has_code: !code.is_empty(),
                        code: code.to_string(),
                    },
                ))
            }
            other => Err(bad_field(e, other)),
        }),
        Kind::Light => {
            let mut c = pb::LightCommandRequest {
                key,
                ..Default::default()
            };
            for p in payloads {
                match p.key.as_str() {
                    FIELD_STATE => (c.has_state, c.state) = (true, parse_bool(&p.value)?),
                    FIELD_BRIGHTNESS if caps.brightness => {
                        (c.has_brightness, c.brightness) = (true, fraction(p)?)
                    }
                    FIELD_RGB if caps.rgb => {
                        [c.red, c.green, c.blue] = rgb(&p.value)?;
                        c.has_rgb = true;
                    }
                    FIELD_COLOR_TEMPERATURE if caps.color_temperature => {
                        c.color_temperature = in_range(p, caps.min, caps.max)?;
                        c.has_color_temperature = true;
                    }
                    other => return Err(bad_field(e, other)),
                }
            }
            Ok(vec![frame(id::LIGHT_COMMAND_REQUEST, &c)])
        }
        Kind::Fan => {
            let mut c = pb::FanCommandRequest {
                key,
                ..Default::default()
            };
            for p in payloads {
                match p.key.as_str() {
                    FIELD_STATE => (c.has_state, c.state) = (true, parse_bool(&p.value)?),
                    FIELD_PRESET if !caps.custom_presets.is_empty() => {
                        match caps.custom_presets.iter().find(|m| **m == p.value.trim()) {
                            Some(m) => (c.has_preset_mode, c.preset_mode) = (true, m.clone()),
                            None => {
                                return Err(unsupported(format!(
                                    "preset {:?} on fan {:?}, which offers {:?}",
                                    p.value, e.object_id, caps.custom_presets
                                )));
                            }
                        }
                    }
                    FIELD_SPEED if caps.speed_count > 0 => {
                        let f = fraction(p)?;
                        if f == 0.0 {
                            (c.has_state, c.state) = (true, false);
                        } else {
                            // The lowest level that reaches the percent (33% of 3 levels is 1).
                            let n = caps.speed_count as f32;
                            let level = ((f * n) - 1e-3).ceil().clamp(1.0, n);
                            (c.has_speed_level, c.speed_level) = (true, level as i32);
                        }
                    }
                    FIELD_OSCILLATING if caps.oscillation => {
                        (c.has_oscillating, c.oscillating) = (true, parse_bool(&p.value)?)
                    }
                    FIELD_DIRECTION if caps.direction => {
                        let d = pick(&["forward", "reverse"], &p.value, "direction")?;
                        (c.has_direction, c.direction) = (true, d);
                    }
                    other => return Err(bad_field(e, other)),
                }
            }
            Ok(vec![frame(id::FAN_COMMAND_REQUEST, &c)])
        }
        Kind::Cover => {
            let mut c = pb::CoverCommandRequest {
                key,
                ..Default::default()
            };
            for p in payloads {
                match p.key.as_str() {
                    FIELD_STATE => match p.value.trim().to_ascii_lowercase().as_str() {
                        "open" | "opened" => (c.has_position, c.position) = (true, 1.0),
                        "close" | "closed" => (c.has_position, c.position) = (true, 0.0),
                        "stop" => c.stop = true,
                        _ => {
                            return Err(EsphomeError::Value(format!(
                                "cover state {:?} is not open, close or stop",
                                p.value
                            )));
                        }
                    },
                    FIELD_POSITION if caps.position => {
                        (c.has_position, c.position) = (true, fraction(p)?)
                    }
                    FIELD_TILT if caps.tilt => (c.has_tilt, c.tilt) = (true, fraction(p)?),
                    other => return Err(bad_field(e, other)),
                }
            }
            Ok(vec![frame(id::COVER_COMMAND_REQUEST, &c)])
        }
        Kind::Climate => {
            let mut c = pb::ClimateCommandRequest {
                key,
                ..Default::default()
            };
            for p in payloads {
                match p.key.as_str() {
                    FIELD_MODE => {
                        let m = pick(&pb::CLIMATE_MODES, &p.value, "mode")?;
                        if !caps.modes.is_empty() && !caps.modes.contains(&m) {
                            return Err(unsupported(format!(
                                "mode {:?} on climate {:?}, which does not list it",
                                p.value, e.object_id
                            )));
                        }
                        (c.has_mode, c.mode) = (true, m);
                    }
                    FIELD_TARGET_TEMPERATURE => {
                        c.target_temperature = in_range(p, caps.min, caps.max)?;
                        c.has_target_temperature = true;
                    }
                    FIELD_TARGET_TEMPERATURE_LOW if caps.two_point => {
                        c.target_temperature_low = in_range(p, caps.min, caps.max)?;
                        c.has_target_temperature_low = true;
                    }
                    FIELD_TARGET_TEMPERATURE_HIGH if caps.two_point => {
                        c.target_temperature_high = in_range(p, caps.min, caps.max)?;
                        c.has_target_temperature_high = true;
                    }
                    FIELD_FAN_MODE
                        if !caps.fan_modes.is_empty() || !caps.custom_fan_modes.is_empty() =>
                    {
                        match listed(
                            e,
                            "fan mode",
                            &p.value,
                            &pb::CLIMATE_FAN_MODES,
                            &caps.fan_modes,
                            &caps.custom_fan_modes,
                        )? {
                            Listed::Standard(m) => (c.has_fan_mode, c.fan_mode) = (true, m),
                            Listed::Custom(m) => {
                                (c.has_custom_fan_mode, c.custom_fan_mode) = (true, m)
                            }
                        }
                    }
                    FIELD_SWING_MODE if !caps.swing_modes.is_empty() => {
                        // No custom swing modes exist, so the answer is a standard one.
                        if let Listed::Standard(m) = listed(
                            e,
                            "swing mode",
                            &p.value,
                            &pb::CLIMATE_SWING_MODES,
                            &caps.swing_modes,
                            &[],
                        )? {
                            (c.has_swing_mode, c.swing_mode) = (true, m);
                        }
                    }
                    FIELD_PRESET if !caps.presets.is_empty() || !caps.custom_presets.is_empty() => {
                        match listed(
                            e,
                            "preset",
                            &p.value,
                            &pb::CLIMATE_PRESETS,
                            &caps.presets,
                            &caps.custom_presets,
                        )? {
                            Listed::Standard(m) => (c.has_preset, c.preset) = (true, m),
                            Listed::Custom(m) => (c.has_custom_preset, c.custom_preset) = (true, m),
                        }
                    }
                    other => return Err(bad_field(e, other)),
                }
            }
            Ok(vec![frame(id::CLIMATE_COMMAND_REQUEST, &c)])
        }
    }
}

/// A climate option: one of the protocol's (by number) or one the device named itself.
enum Listed {
    Standard(i32),
    Custom(String),
}

/// `value` as one of the options the entity lists: a standard name it supports, else one of its
/// own (exact, case-sensitive, as the device named it). Refused with the options otherwise.
fn listed(
    e: &Entity,
    what: &str,
    value: &str,
    names: &[&str],
    supported: &[i32],
    custom: &[String],
) -> Result<Listed, EsphomeError> {
    if let Some(c) = custom.iter().find(|c| c.as_str() == value.trim()) {
        return Ok(Listed::Custom(c.clone()));
    }
    let offered = || {
        let mut all: Vec<String> = supported
            .iter()
            .filter_map(|n| usize::try_from(*n).ok().and_then(|n| names.get(n)))
            .map(|n| n.to_string())
            .collect();
        all.extend(custom.iter().cloned());
        all
    };
    match pick(names, value, what) {
        Ok(n) if supported.contains(&n) => Ok(Listed::Standard(n)),
        _ => Err(unsupported(format!(
            "{what} {value:?} on climate {:?}, which offers {:?}",
            e.object_id,
            offered()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_enum_names_parse() {
        assert_eq!(rgb("#ff8000").unwrap(), [1.0, 128.0 / 255.0, 0.0]);
        assert_eq!(rgb(" 0, 255 ,0 ").unwrap(), [0.0, 1.0, 0.0]);
        for bad in ["#ff80", "1,2", "1,2,300", "#gg0000", "#ffé000", ""] {
            assert!(rgb(bad).is_err(), "{bad}");
        }
        assert_eq!(pick(&pb::CLIMATE_MODES, "Heat", "mode").unwrap(), 3);
        let err = pick(&pb::CLIMATE_ACTIONS, "", "action").unwrap_err();
        // The unused enum number is not offered.
        assert!(err.to_string().contains(r#"["off", "cooling""#), "{err}");
    }
}
