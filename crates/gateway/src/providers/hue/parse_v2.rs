//! API v2 (`/clip/v2`) bodies into the same messages as v1, so a light is `light_<id>` with the
//! same fields whichever API reported it. Every v2 resource that has a v1 counterpart carries
//! its v1 address in `id_v1` (`/lights/3`, `/sensors/5`); that picks the node.
//!
//! - `GET /clip/v2/resource` → [`Resources`]: which v1 address each v2 id stands for, and a
//!   button's `control_id` (needed to turn a v2 button event into v1's `buttonevent`).
//! - the event stream's `data:` (a list of `{type, data: [resource…]}`) → messages:
//!   `light` (and `grouped_light`, `id_v1` `/groups/<id>`, onto `group_<id>`) `on`/`dimming`/`color_temperature`/`color` → `state` `power`, `brightness` (v2's
//!   percent on v1's 1–254 scale), `color_temperature` (mirek), `color_x`/`color_y`; `motion` →
//!   `presence`; `temperature` → `temperature` (°C); `light_level` → `lightlevel`; `button` →
//!   `buttonevent` (`control_id`×1000 + 0 press, 1 repeat, 2 short release, 3 long release);
//!   `zigbee_connectivity` → `reachable`; `device_power` → `battery`. Other types (rooms,
//!   scenes…) have no node here and are passed over.

use super::parse::{
    CONFIG_SOURCE, GROUP_PREFIX, HueError, LIGHT_PREFIX, SENSOR_PREFIX, STATE_SOURCE, binary,
    celsius, check_id, color_xy,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use switchyard_core::{Message, MessageType, Payload};

/// Most v2 resources remembered; a bridge holds a few hundred. Past it new ids are not
/// learned (their events still map when they carry `id_v1`, as the bridge's do).
pub const MAX_RESOURCES: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
struct Known {
    id_v1: String,
    control_id: Option<u64>,
}

/// What the bridge's v2 ids stand for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    by_id: HashMap<String, Known>,
}

impl Resources {
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn learn(&mut self, item: &Map<String, Value>) {
        let Some(id) = item.get("id").and_then(Value::as_str) else {
            return;
        };
        let known = self.by_id.get(id);
        let id_v1 = item
            .get("id_v1")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| known.map(|k| k.id_v1.clone()));
        let control_id = item
            .get("metadata")
            .and_then(|m| m.get("control_id"))
            .and_then(Value::as_u64)
            .or_else(|| known.and_then(|k| k.control_id));
        let Some(id_v1) = id_v1 else { return };
        if known.is_none() && self.by_id.len() >= MAX_RESOURCES {
            return;
        }
        self.by_id
            .insert(id.to_string(), Known { id_v1, control_id });
    }
}

/// `{"errors": [{"description"}], "data": [...]}`, the envelope of every v2 answer.
fn envelope(body: &Value) -> Result<&Vec<Value>, HueError> {
    if let Some(e) = body
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Err(HueError::Bridge {
            kind: 0,
            address: "/clip/v2".into(),
            description: e
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        });
    }
    body.get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| HueError::Shape("a v2 answer without a `data` list".into()))
}

/// `GET /clip/v2/resource` → which v1 address every v2 id stands for.
pub fn resources(body: &Value) -> Result<Resources, HueError> {
    let mut r = Resources::default();
    for item in envelope(body)? {
        let item = item
            .as_object()
            .ok_or_else(|| HueError::Shape(format!("a v2 resource is {item}")))?;
        r.learn(item);
    }
    Ok(r)
}

/// What one `data:` of the event stream said.
#[derive(Debug, Default, PartialEq)]
pub struct Decoded {
    pub messages: Vec<Message>,
    /// Resources that could not be read, each with its reason; the rest still count.
    pub rejected: Vec<HueError>,
}

/// One event-stream `data:` (a JSON list of event containers) → messages.
pub fn events(data: &[u8], known: &mut Resources) -> Result<Decoded, HueError> {
    let v: Value = serde_json::from_slice(data).map_err(|e| HueError::NotJson(e.to_string()))?;
    let containers = v
        .as_array()
        .ok_or_else(|| HueError::Shape("an event that is not a list".into()))?;
    let mut out = Decoded::default();
    for c in containers {
        let kind = c.get("type").and_then(Value::as_str).unwrap_or("");
        let Some(items) = c.get("data").and_then(Value::as_array) else {
            out.rejected
                .push(HueError::Shape(format!("a {kind:?} event without `data`")));
            continue;
        };
        for item in items {
            let Some(item) = item.as_object() else {
                out.rejected
                    .push(HueError::Shape(format!("an event resource is {item}")));
                continue;
            };
            match kind {
                "add" | "update" => {
                    known.learn(item);
                    match resource(item, known) {
                        Ok(m) => out.messages.extend(m),
                        Err(e) => out.rejected.push(e),
                    }
                }
                // A deleted device's node stays, as after it vanished from a v1 poll.
                "delete" => {}
                other => out
                    .rejected
                    .push(HueError::Unsupported(format!("event type {other:?}"))),
            }
        }
    }
    Ok(out)
}

/// Where a resource's fields go: `(node, is_light)`, or `None` for what has no node here.
fn node_of(
    item: &Map<String, Value>,
    known: &Resources,
) -> Result<Option<(String, bool)>, HueError> {
    let id_v1 = match item.get("id_v1") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => return Err(HueError::Shape(format!("`id_v1` is {other}"))),
        None => item
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| known.by_id.get(id))
            .map(|k| k.id_v1.as_str()),
    };
    let Some(id_v1) = id_v1 else { return Ok(None) };
    let (prefix, id, is_light) = if let Some(id) = id_v1.strip_prefix("/lights/") {
        (LIGHT_PREFIX, id, true)
    } else if let Some(id) = id_v1.strip_prefix("/sensors/") {
        (SENSOR_PREFIX, id, false)
    } else if let Some(id) = id_v1.strip_prefix("/groups/") {
        (GROUP_PREFIX, id, true)
    } else {
        return Ok(None);
    };
    check_id(id)?;
    Ok(Some((format!("{prefix}{id}"), is_light)))
}

/// A number at `path` inside `item`, `None` when absent or `null`, an error when not a number.
fn number(item: &Map<String, Value>, path: &[&str]) -> Result<Option<f64>, HueError> {
    let mut at = item.get(path[0]);
    for p in &path[1..] {
        at = at.and_then(|v| v.get(p));
    }
    match at {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| HueError::Shape(format!("`{}` is {v}", path.join(".")))),
    }
}

fn boolean(item: &Map<String, Value>, path: &[&str]) -> Result<Option<bool>, HueError> {
    let mut at = item.get(path[0]);
    for p in &path[1..] {
        at = at.and_then(|v| v.get(p));
    }
    match at {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(HueError::Shape(format!("`{}` is {v}", path.join(".")))),
    }
}

fn string<'a>(item: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let mut at = item.get(path[0]);
    for p in &path[1..] {
        at = at.and_then(|v| v.get(p));
    }
    at.and_then(Value::as_str)
}

/// v2 brightness is a percentage; v1's `bri` runs 1–254.
pub fn bri_from_percent(p: f64) -> u32 {
    (p * 254.0 / 100.0).round().clamp(1.0, 254.0) as u32
}

fn gauge(key: &str, n: f64) -> Payload {
    Payload::new(key, format!("{}", n.round() as i64)).with_metric_type("gauge")
}

/// One v2 resource from an event → its messages (none for what has no node or no change).
fn resource(item: &Map<String, Value>, known: &Resources) -> Result<Vec<Message>, HueError> {
    let Some((node, is_light)) = node_of(item, known)? else {
        return Ok(Vec::new());
    };
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
    let mut state = Vec::new();
    let mut config = Vec::new();
    let mut node_fields = Vec::new();
    match kind {
        // A grouped light (a room's, a zone's, or group 0's lights together) reports the same.
        "light" | "grouped_light" => {
            if let Some(on) = boolean(item, &["on", "on"])? {
                state.push(binary("power", on));
            }
            if let Some(p) = number(item, &["dimming", "brightness"])? {
                state.push(gauge("brightness", f64::from(bri_from_percent(p))));
            }
            // `mirek` is null while the light shows a colour rather than a white.
            if let Some(m) = number(item, &["color_temperature", "mirek"])? {
                state.push(gauge("color_temperature", m));
            }
            if let (Some(x), Some(y)) = (
                number(item, &["color", "xy", "x"])?,
                number(item, &["color", "xy", "y"])?,
            ) {
                state.extend(color_xy(x, y));
            }
        }
        "motion" => {
            let m = match boolean(item, &["motion", "motion_report", "motion"])? {
                Some(m) => Some(m),
                None => boolean(item, &["motion", "motion"])?,
            };
            if let Some(m) = m {
                state.push(binary("presence", m));
            }
        }
        "temperature" => {
            let t = match number(item, &["temperature", "temperature_report", "temperature"])? {
                Some(t) => Some(t),
                None => number(item, &["temperature", "temperature"])?,
            };
            if let Some(t) = t {
                state.push(celsius("temperature", t));
            }
        }
        "light_level" => {
            let l = match number(item, &["light", "light_level_report", "light_level"])? {
                Some(l) => Some(l),
                None => number(item, &["light", "light_level"])?,
            };
            if let Some(l) = l {
                state.push(gauge("lightlevel", l));
            }
        }
        "button" => {
            let event = string(item, &["button", "button_report", "event"])
                .or_else(|| string(item, &["button", "last_event"]));
            if let Some(event) = event {
                let code = match event {
                    "initial_press" => 0,
                    "repeat" | "long_press" => 1,
                    "short_release" => 2,
                    "long_release" => 3,
                    other => {
                        return Err(HueError::Unsupported(format!(
                            "{node}: button event {other:?}"
                        )));
                    }
                };
                let id = item.get("id").and_then(Value::as_str).unwrap_or("");
                let control = item
                    .get("metadata")
                    .and_then(|m| m.get("control_id"))
                    .and_then(Value::as_u64)
                    .or_else(|| known.by_id.get(id).and_then(|k| k.control_id))
                    .filter(|c| *c <= 1000)
                    .ok_or_else(|| {
                        HueError::Shape(format!("{node}: a button without a known control_id"))
                    })?;
                state.push(gauge("buttonevent", (control * 1000 + code) as f64));
            }
        }
        "zigbee_connectivity" => {
            if let Some(status) = string(item, &["status"]) {
                let reachable = binary("reachable", status == "connected");
                if is_light {
                    state.push(reachable);
                } else {
                    config.push(reachable);
                }
            }
        }
        "device_power" => {
            if let Some(b) = number(item, &["power_state", "battery_level"])? {
                config.push(gauge("battery", b));
                node_fields.push(Payload::new(
                    "battery_level",
                    format!("{}", b.round() as i64),
                ));
            }
        }
        _ => {}
    }
    let mut out = Vec::new();
    for (source, payloads) in [
        (STATE_SOURCE, state),
        (CONFIG_SOURCE, config),
        ("", node_fields),
    ] {
        if !payloads.is_empty() {
            let mut m = Message::new(MessageType::Set, "", &node, source);
            m.payloads = payloads;
            out.push(m.received());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn brightness_scale() {
        assert_eq!(bri_from_percent(100.0), 254);
        assert_eq!(bri_from_percent(0.0), 1);
        assert_eq!(bri_from_percent(56.69), 144);
        assert_eq!(bri_from_percent(1e300), 254);
    }

    #[test]
    fn bad_events_are_reasons() {
        let mut known = Resources::default();
        assert!(matches!(
            events(b"garbage", &mut known),
            Err(HueError::NotJson(_))
        ));
        assert!(events(b"{}", &mut known).is_err());
        let d = events(
            br#"[{"type":"update","data":[
                {"id":"a","id_v1":"/lights/1","type":"light","on":{"on":"yes"}},
                {"id":"b","id_v1":"/lights/../x","type":"light","on":{"on":true}},
                {"id":"c","id_v1":"/sensors/2","type":"button","button":{"last_event":"short_release"}},
                {"id":"d","id_v1":"/lights/2","type":"light","on":{"on":true}},
                7
            ]},{"type":"error","data":[{}]},{"type":"update"}]"#,
            &mut known,
        )
        .unwrap();
        assert_eq!(d.messages.len(), 1, "{d:?}");
        assert_eq!(d.messages[0].node_id, "light_2");
        assert_eq!(d.rejected.len(), 6, "{:?}", d.rejected);
        let e = resources(&json!({"errors": [{"description": "unauthorized user"}], "data": []}))
            .unwrap_err();
        assert!(e.to_string().contains("unauthorized"), "{e}");
        assert!(resources(&json!({"data": [1]})).is_err());
    }
}
