//! Tasmota JSON to field values: bounded parsing, flattening of nested objects and lists into
//! field ids, and the metric type and unit a value gets.

use super::error::{TasmotaError, quote};
use serde_json::{Map, Value};
use switchyard_core::Payload;

/// Largest payload parsed. Tasmota's own MQTT buffer is 1200 bytes (more on ESP32 builds with
/// many sensors); anything past this is not a Tasmota device talking.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Deepest nesting accepted (Tasmota sends three levels at most, e.g. `ANALOG.CTEnergy1.Power`).
pub const MAX_DEPTH: usize = 8;
/// Most fields taken from one payload; the rest are dropped (a garbage payload cannot blow up
/// the number of fields).
pub const MAX_FIELDS: usize = 256;

/// Parses a payload that must be a JSON object.
pub fn parse_object(topic: &str, payload: &[u8]) -> Result<Map<String, Value>, TasmotaError> {
    let text = text(payload)?;
    let value: Value = serde_json::from_str(text).map_err(|e| TasmotaError::NotJson {
        topic: quote(topic),
        reason: e.to_string(),
    })?;
    if depth(&value) > MAX_DEPTH {
        return Err(TasmotaError::TooDeep(MAX_DEPTH));
    }
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(TasmotaError::NotObject {
            topic: quote(topic),
        }),
    }
}

/// A payload as text, within [`MAX_PAYLOAD_BYTES`].
pub fn text(payload: &[u8]) -> Result<&str, TasmotaError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(TasmotaError::TooLarge {
            len: payload.len(),
            max: MAX_PAYLOAD_BYTES,
        });
    }
    std::str::from_utf8(payload).map_err(|_| TasmotaError::NotUtf8)
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// An id usable as a node, source or field id: the bus and quick-ids reserve `.`, `*`, `>` and
/// white space, so those become `_`.
pub fn sanitize_id(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '.' || c == '*' || c == '>' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Flattens `value` under `key` into (field id, leaf) pairs: objects join keys with `_`
/// (`Speed_Act`), lists append the index (`TotalTariff_0`).
pub fn flatten<'a>(key: &str, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    if out.len() >= MAX_FIELDS {
        return;
    }
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&join(key, k), v, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten(&join(key, &i.to_string()), v, out);
            }
        }
        leaf => out.push((sanitize_id(key), leaf)),
    }
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}_{b}")
    }
}

/// Units Tasmota leaves implicit, by field name (a trailing index such as `Temperature1` ignored).
/// `TempUnit`, `PressureUnit` and `SpeedUnit` of the same payload override the defaults.
pub fn unit_of(field: &str, units: &Units) -> &'static str {
    // `ENERGY_Total_Phase1`: the nearest level with a known unit decides.
    field
        .rsplit('_')
        .map(|level| unit_of_level(level.trim_end_matches(|c: char| c.is_ascii_digit()), units))
        .find(|u| !u.is_empty())
        .unwrap_or("")
}

fn unit_of_level(base: &str, units: &Units) -> &'static str {
    match base {
        "Temperature" | "DewPoint" | "HeatIndex" => match units.temperature {
            'F' => "°F",
            'K' => "K",
            _ => "°C",
        },
        "Humidity" | "RSSI" | "BatteryPercentage" | "Dimmer" => "%",
        "Pressure" | "SeaPressure" => match units.pressure {
            'm' => "mmHg",
            'i' => "inHg",
            _ => "hPa",
        },
        "Illuminance" => "lx",
        "Power" | "Period" => "W",
        "ApparentPower" => "VA",
        "ReactivePower" => "VAr",
        "Voltage" | "Vcc" => "V",
        "Current" => "A",
        "Total" | "Today" | "Yesterday" | "Energy" | "ExportActive" | "ImportActive" => "kWh",
        "Frequency" => "Hz",
        "Signal" => "dBm",
        "Heap" => "kB",
        "CarbonDioxide" | "eCO2" | "CO2" | "TVOC" => "ppm",
        "Distance" => "cm",
        "Speed" if units.speed.is_some() => units.speed.unwrap_or(""),
        _ => "",
    }
}

/// Units a SENSOR payload declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    /// `C`, `F` or `K`.
    pub temperature: char,
    /// `h` (hPa), `m` (mmHg), `i` (inHg).
    pub pressure: char,
    pub speed: Option<&'static str>,
}

impl Default for Units {
    fn default() -> Self {
        Units {
            temperature: 'C',
            pressure: 'h',
            speed: None,
        }
    }
}

impl Units {
    pub fn from_payload(map: &Map<String, Value>) -> Units {
        let mut u = Units::default();
        if let Some(t) = map.get("TempUnit").and_then(Value::as_str) {
            u.temperature = t.chars().next().unwrap_or('C').to_ascii_uppercase();
        }
        if let Some(p) = map.get("PressureUnit").and_then(Value::as_str) {
            u.pressure = match p {
                "mmHg" => 'm',
                "inHg" => 'i',
                _ => 'h',
            };
        }
        u.speed = match map.get("SpeedUnit").and_then(Value::as_str) {
            Some("km/h") => Some("km/h"),
            Some("m/s") => Some("m/s"),
            Some("mph") => Some("mph"),
            Some("kn") => Some("kn"),
            Some("ft/s") => Some("ft/s"),
            Some("yd/s") => Some("yd/s"),
            _ => None,
        };
        u
    }
}

/// A leaf as a field payload: numbers are `gauge_float`, `ON`/`OFF` and booleans `binary`
/// (`1`/`0`), other text `string`. `None` for a null, and for an empty key (no field id).
pub fn field_payload(key: &str, value: &Value, units: &Units) -> Option<Payload> {
    if key.is_empty() {
        return None;
    }
    let (text, metric) = match value {
        Value::Null | Value::Object(_) | Value::Array(_) => return None,
        Value::Bool(b) => (if *b { "1" } else { "0" }.to_string(), "binary"),
        Value::Number(n) => (n.to_string(), "gauge_float"),
        Value::String(s) => match s.as_str() {
            "ON" | "on" | "On" => ("1".to_string(), "binary"),
            "OFF" | "off" | "Off" => ("0".to_string(), "binary"),
            _ => match s.trim().parse::<f64>() {
                // Some sensors send numbers as strings (`"Act":"12.3"`).
                Ok(f) if f.is_finite() && !s.trim().is_empty() => {
                    (s.trim().to_string(), "gauge_float")
                }
                _ => (s.clone(), "string"),
            },
        },
    };
    let unit = if metric == "gauge_float" {
        unit_of(key, units)
    } else {
        ""
    };
    Some(
        Payload::new(key, text)
            .with_metric_type(metric)
            .with_unit(unit),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattening_names_nested_and_listed_values() {
        let v = json!({"Speed": {"Act": 14.8}, "TotalTariff": [0.0, 0.017], "Id": "01191ED79190"});
        let mut out = Vec::new();
        flatten("", &v, &mut out);
        let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["Speed_Act", "TotalTariff_0", "TotalTariff_1", "Id"]);
        let odd = json!({"PM2.5": 2, "CF 1": 1});
        let mut out = Vec::new();
        flatten("", &odd, &mut out);
        assert_eq!(out[0].0, "PM2_5");
        assert_eq!(out[1].0, "CF_1");
    }

    #[test]
    fn values_get_metric_types_and_units() {
        let u = Units::from_payload(json!({"TempUnit": "F"}).as_object().unwrap());
        let p = field_payload("Temperature1", &json!(78.8), &u).unwrap();
        assert_eq!(
            (p.value.as_str(), p.metric_type.as_str(), p.unit.as_str()),
            ("78.8", "gauge_float", "°F")
        );
        let p = field_payload("POWER", &json!("ON"), &u).unwrap();
        assert_eq!((p.value.as_str(), p.metric_type.as_str()), ("1", "binary"));
        let p = field_payload("Card", &json!("WSW"), &u).unwrap();
        assert_eq!(p.metric_type, "string");
        let p = field_payload("Act", &json!("12.3"), &u).unwrap();
        assert_eq!(p.metric_type, "gauge_float");
        assert!(field_payload("x", &Value::Null, &u).is_none());
        assert_eq!(unit_of("ENERGY_Total_Phase1", &u), "kWh");
    }

    #[test]
    fn rejects_big_deep_or_non_object_payloads() {
        assert!(matches!(
            parse_object("t", &vec![b' '; MAX_PAYLOAD_BYTES + 1]),
            Err(TasmotaError::TooLarge { .. })
        ));
        assert!(matches!(
            parse_object("t", b"{\"a\":"),
            Err(TasmotaError::NotJson { .. })
        ));
        assert!(matches!(
            parse_object("t", b"[1]"),
            Err(TasmotaError::NotObject { .. })
        ));
        assert!(matches!(
            parse_object("t", &[0xff]),
            Err(TasmotaError::NotUtf8)
        ));
        let deep = format!("{}1{}", "[".repeat(20), "]".repeat(20));
        assert!(matches!(
            parse_object("t", format!("{{\"a\":{deep}}}").as_bytes()),
            Err(TasmotaError::TooDeep(_))
        ));
    }
}
