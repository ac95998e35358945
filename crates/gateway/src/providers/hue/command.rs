//! Controller → bridge: a message into the requests that carry it out.
//!
//! - `set` on a light's `state` source → `PUT lights/<id>/state` with `on`, `bri`, `hue`, `sat`,
//!   `ct`, `xy`, `alert`, `effect`, `transitiontime` (from fields `power`, `brightness`, `hue`,
//!   `saturation`, `color_temperature`, `color_x` with `color_y`, `alert`, `effect`,
//!   `transition` in tenths of a second);
//! - `set` on a group's `state` source → `PUT groups/<id>/action` with the same keys as a light
//!   (the bridge applies them to every light of the group);
//! - `set` on a sensor's `config` source `on` → `PUT sensors/<id>/config`;
//! - node action `refresh_node_info` → read that light, group or sensor again;
//! - gateway action `discover_nodes` → `POST lights` and `POST sensors` (the bridge searches
//!   for new devices), then everything is read again.

use super::parse::{
    CONFIG_SOURCE, GROUP_PREFIX, HueError, LIGHT_PREFIX, SENSOR_PREFIX, STATE_SOURCE,
};
use serde_json::{Map, Value, json};
use switchyard_core::value::parse_bool;
use switchyard_core::{Message, MessageType};

pub const REFRESH_NODE_INFO: &str = "refresh_node_info";
pub const DISCOVER_NODES: &str = "discover_nodes";

/// What the provider does for one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `PUT <path>` with this body, then read `refresh` again.
    Put {
        path: String,
        body: Value,
        refresh: String,
    },
    /// Read this path (`lights/1`, `groups/2`, `sensors/5`) again.
    Refresh(String),
    /// Ask the bridge to search for new lights and sensors, then read everything.
    Discover,
}

/// The bridge path of a node (`light_1` → `lights/1`, `group_2` → `groups/2`).
pub fn node_path(node: &str) -> Option<String> {
    let (kind, id) = if let Some(id) = node.strip_prefix(LIGHT_PREFIX) {
        ("lights", id)
    } else if let Some(id) = node.strip_prefix(SENSOR_PREFIX) {
        ("sensors", id)
    } else if let Some(id) = node.strip_prefix(GROUP_PREFIX) {
        ("groups", id)
    } else {
        return None;
    };
    (!id.is_empty() && id.len() <= 16 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| format!("{kind}/{id}"))
}

pub fn to_command(msg: &Message) -> Result<Command, HueError> {
    let unsupported = |s: String| HueError::Unsupported(s);
    match msg.message_type {
        MessageType::Action => {
            let action = msg.payloads.first().map(|p| p.key.as_str()).unwrap_or("");
            match action {
                DISCOVER_NODES => Ok(Command::Discover),
                REFRESH_NODE_INFO if msg.node_id.is_empty() => Ok(Command::Discover),
                REFRESH_NODE_INFO => node_path(&msg.node_id)
                    .map(Command::Refresh)
                    .ok_or_else(|| unsupported(format!("node {:?}", msg.node_id))),
                other => Err(unsupported(format!("action {other:?}"))),
            }
        }
        MessageType::Set => {
            let path = node_path(&msg.node_id)
                .ok_or_else(|| unsupported(format!("node {:?}", msg.node_id)))?;
            // A group's action takes the same keys as a light's state.
            let is_light = path.starts_with("lights/") || path.starts_with("groups/");
            let mut body = Map::new();
            for p in &msg.payloads {
                let (key, value) = if is_light && msg.source_id == STATE_SOURCE {
                    light_state(&p.key, &p.value)?
                } else if !is_light && msg.source_id == CONFIG_SOURCE && p.key == "on" {
                    ("on", Value::Bool(boolean(&p.value)?))
                } else {
                    return Err(unsupported(format!(
                        "field {}.{} is read-only",
                        msg.source_id, p.key
                    )));
                };
                body.insert(key.into(), value);
            }
            match (body.remove("color_x"), body.remove("color_y")) {
                (Some(x), Some(y)) => {
                    body.insert("xy".into(), json!([x, y]));
                }
                (None, None) => {}
                _ => {
                    return Err(unsupported(
                        "color_x and color_y are set together (one CIE xy point)".into(),
                    ));
                }
            }
            if body.is_empty() {
                return Err(unsupported("a set without payloads".into()));
            }
            let target = if path.starts_with("lights/") {
                "state"
            } else if is_light {
                "action"
            } else {
                "config"
            };
            Ok(Command::Put {
                path: format!("{path}/{target}"),
                body: Value::Object(body),
                refresh: path,
            })
        }
        MessageType::Request => node_path(&msg.node_id)
            .map(Command::Refresh)
            .ok_or_else(|| unsupported(format!("node {:?}", msg.node_id))),
        MessageType::Presentation => Err(unsupported("a presentation".into())),
    }
}

fn boolean(v: &str) -> Result<bool, HueError> {
    parse_bool(v).ok_or_else(|| HueError::Unsupported(format!("{v:?} is not on/off")))
}

fn number(key: &str, v: &str, min: u32, max: u32) -> Result<Value, HueError> {
    let n: f64 = v
        .trim()
        .parse()
        .map_err(|_| HueError::Unsupported(format!("{key} {v:?} is not a number")))?;
    if !n.is_finite() || n < f64::from(min) || n > f64::from(max) {
        return Err(HueError::Unsupported(format!(
            "{key} {v:?} is outside {min}..={max}"
        )));
    }
    Ok(json!(n.round() as u32))
}

/// A CIE xy coordinate, 0 to 1, kept to the bridge's four decimals.
fn unit_interval(key: &str, v: &str) -> Result<Value, HueError> {
    let n: f64 = v
        .trim()
        .parse()
        .map_err(|_| HueError::Unsupported(format!("{key} {v:?} is not a number")))?;
    if !(0.0..=1.0).contains(&n) {
        return Err(HueError::Unsupported(format!(
            "{key} {v:?} is outside 0..=1"
        )));
    }
    Ok(json!((n * 10_000.0).round() / 10_000.0))
}

fn light_state(key: &str, v: &str) -> Result<(&'static str, Value), HueError> {
    Ok(match key {
        "power" => ("on", Value::Bool(boolean(v)?)),
        "brightness" => ("bri", number(key, v, 1, 254)?),
        "hue" => ("hue", number(key, v, 0, 65535)?),
        "saturation" => ("sat", number(key, v, 0, 254)?),
        "color_temperature" => ("ct", number(key, v, 153, 500)?),
        "transition" => ("transitiontime", number(key, v, 0, 65535)?),
        "color_x" => ("color_x", unit_interval(key, v)?),
        "color_y" => ("color_y", unit_interval(key, v)?),
        "alert" if matches!(v, "none" | "select" | "lselect") => ("alert", json!(v)),
        "effect" if matches!(v, "none" | "colorloop") => ("effect", json!(v)),
        other => {
            return Err(HueError::Unsupported(format!(
                "light field {other:?} = {v:?}"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::Payload;

    fn set(node: &str, source: &str, kv: &[(&str, &str)]) -> Message {
        let mut m = Message::new(MessageType::Set, "gw", node, source);
        for (k, v) in kv {
            m.payloads.push(Payload::new(*k, *v));
        }
        m
    }

    #[test]
    fn sets_become_light_state_bodies() {
        let c = to_command(&set(
            "light_1",
            "state",
            &[("power", "on"), ("brightness", "200"), ("hue", "50000")],
        ))
        .unwrap();
        assert_eq!(
            c,
            Command::Put {
                path: "lights/1/state".into(),
                body: json!({"on": true, "bri": 200, "hue": 50000}),
                refresh: "lights/1".into()
            }
        );
        let c = to_command(&set(
            "light_1",
            "state",
            &[("color_x", "0.3"), ("color_y", "0.32")],
        ))
        .unwrap();
        assert!(
            matches!(c, Command::Put { ref body, .. } if *body == json!({"xy": [0.3, 0.32]})),
            "{c:?}"
        );
        let c = to_command(&set(
            "group_1",
            "state",
            &[("power", "off"), ("transition", "4")],
        ))
        .unwrap();
        assert_eq!(
            c,
            Command::Put {
                path: "groups/1/action".into(),
                body: json!({"on": false, "transitiontime": 4}),
                refresh: "groups/1".into()
            }
        );
        let c = to_command(&set("sensor_5", "config", &[("on", "false")])).unwrap();
        assert!(matches!(c, Command::Put { ref path, .. } if path == "sensors/5/config"));
    }

    #[test]
    fn bad_sets_say_why() {
        for (m, why) in [
            (set("light_1", "state", &[("brightness", "300")]), "outside"),
            (set("light_1", "state", &[("power", "maybe")]), "on/off"),
            (set("light_1", "state", &[("reachable", "1")]), "reachable"),
            (set("light_1", "state", &[]), "without payloads"),
            (set("light_1", "state", &[("color_x", "0.3")]), "together"),
            (
                set("light_1", "state", &[("color_x", "2"), ("color_y", "0")]),
                "outside",
            ),
            (set("lamp", "state", &[("power", "1")]), "node"),
            (set("group_1", "state", &[("any_on", "1")]), "any_on"),
            (set("group_", "state", &[("power", "1")]), "node"),
            (set("light_../x", "state", &[("power", "1")]), "node"),
            (
                set("sensor_5", "state", &[("temperature", "1")]),
                "read-only",
            ),
        ] {
            let e = to_command(&m).unwrap_err().to_string();
            assert!(e.contains(why), "{e} lacks {why}");
        }
    }

    #[test]
    fn actions() {
        let a = |node: &str, k: &str| {
            to_command(
                &Message::new(MessageType::Action, "gw", node, "")
                    .with_payload(Payload::new(k, "")),
            )
        };
        assert_eq!(a("", DISCOVER_NODES).unwrap(), Command::Discover);
        assert_eq!(
            a("sensor_2", REFRESH_NODE_INFO).unwrap(),
            Command::Refresh("sensors/2".into())
        );
        assert!(a("light_1", "reboot").is_err());
    }
}
