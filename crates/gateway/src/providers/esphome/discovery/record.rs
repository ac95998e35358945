//! Pure half of the discovery: an mDNS `_esphomelib._tcp` record into a device, and a device
//! (with the gateways already stored) into what to do: create a gateway, move one to the
//! device's new address, or nothing.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;
use switchyard_core::model::Gateway;

/// The service type ESPHome devices announce.
pub const SERVICE_TYPE: &str = "_esphomelib._tcp.local.";
/// The label every gateway the discovery created carries (`discovered: mdns`).
pub const DISCOVERED_LABEL: &str = "discovered";
pub const DISCOVERED_VALUE: &str = "mdns";
/// The label holding the device's MAC (12 lower-case hex digits), which follows the device
/// across address changes.
pub const MAC_LABEL: &str = "esphome_mac";
/// Longest instance name kept for ids (the gateway id adds a prefix).
const MAX_NAME_LEN: usize = 63;

/// One resolved record as the mDNS browser hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct Advert {
    /// `<instance>._esphomelib._tcp.local.`
    pub fullname: String,
    /// The host name, e.g. `kitchen.local.`
    pub host: String,
    pub port: u16,
    pub addresses: Vec<IpAddr>,
    pub txt: BTreeMap<String, String>,
}

/// A device worth a gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// The instance name, made safe for ids (the node id of its gateway).
    pub name: String,
    /// `friendly_name` from TXT, else the instance name.
    pub friendly_name: String,
    /// 12 lower-case hex digits, when the record has a `mac`.
    pub mac: Option<String>,
    /// `ip:port` to dial.
    pub address: String,
    /// The host name without the trailing dot (`kitchen.local`).
    pub host: String,
    /// TXT `api_encryption` is set: the device speaks only Noise.
    pub needs_encryption: bool,
}

/// Why a record was ignored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error("`{0}` is not an {SERVICE_TYPE} instance")]
    NotEsphome(String),
    #[error("`{0}`: instance name is empty or has no letter or digit")]
    BadName(String),
    #[error("`{0}`: port 0")]
    NoPort(String),
    #[error("`{0}`: no address")]
    NoAddress(String),
    #[error("`{name}`: TXT mac {mac:?} is not 12 hex digits")]
    BadMac { name: String, mac: String },
}

impl Device {
    pub fn from_advert(a: &Advert) -> Result<Device, RecordError> {
        let instance = a
            .fullname
            .strip_suffix(SERVICE_TYPE)
            .and_then(|s| s.strip_suffix('.'))
            .ok_or_else(|| RecordError::NotEsphome(a.fullname.clone()))?;
        let name = slug(instance);
        if name.is_empty() {
            return Err(RecordError::BadName(a.fullname.clone()));
        }
        if a.port == 0 {
            return Err(RecordError::NoPort(a.fullname.clone()));
        }
        // IPv4 first (what ESPHome listens on), then the lowest, so the pick is stable.
        let mut addresses = a.addresses.clone();
        addresses.sort_by_key(|ip| (!ip.is_ipv4(), *ip));
        let ip = addresses
            .first()
            .ok_or_else(|| RecordError::NoAddress(a.fullname.clone()))?;
        let address = match ip {
            IpAddr::V4(v4) => format!("{v4}:{}", a.port),
            IpAddr::V6(v6) => format!("[{v6}]:{}", a.port),
        };
        let mac = match a.txt.get("mac").map(|m| m.trim()) {
            None | Some("") => None,
            Some(m) => {
                let hex: String = m
                    .chars()
                    .filter(|c| *c != ':' && *c != '-')
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(RecordError::BadMac {
                        name: instance.to_string(),
                        mac: m.to_string(),
                    });
                }
                Some(hex)
            }
        };
        let friendly_name = a
            .txt
            .get("friendly_name")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .unwrap_or(instance)
            .chars()
            .take(128)
            .collect();
        Ok(Device {
            name,
            friendly_name,
            mac,
            address,
            host: a.host.trim_end_matches('.').to_ascii_lowercase(),
            needs_encryption: a
                .txt
                .get("api_encryption")
                .is_some_and(|v| !v.trim().is_empty()),
        })
    }

    /// The id of the gateway created for this device.
    pub fn gateway_id(&self) -> String {
        format!("esphome_{}", self.name)
    }

    /// The gateway to create: one node named after the device, labelled as discovered; disabled
    /// when the device needs an encryption key (none is known yet).
    pub fn new_gateway(&self) -> Gateway {
        let mut labels = BTreeMap::from([(DISCOVERED_LABEL.into(), DISCOVERED_VALUE.into())]);
        if let Some(mac) = &self.mac {
            labels.insert(MAC_LABEL.into(), mac.clone());
        }
        let description = if self.needs_encryption {
            format!(
                "{} (found by mDNS; set its encryptionKey, then enable)",
                self.friendly_name
            )
        } else {
            format!("{} (found by mDNS)", self.friendly_name)
        };
        let provider = json!({
            "type": "esphome",
            "nodes": {self.name.clone(): {"address": self.address}},
        });
        Gateway {
            id: self.gateway_id(),
            description,
            enabled: !self.needs_encryption,
            provider: match provider {
                Value::Object(m) => m,
                _ => Default::default(),
            },
            labels,
            modified_on: Some(chrono::Utc::now()),
            ..Default::default()
        }
    }
}

/// What to do about a discovered device.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// No gateway dials it yet.
    Create(Gateway),
    /// A gateway created for this device (same MAC) dials an old address: store this version.
    Readdress(Gateway),
    /// A gateway already dials it (or its id is taken): nothing to do.
    Known(String),
}

/// Decides against the stored gateways. A gateway knows the device when it carries the device's
/// MAC label, or one of its ESPHome nodes dials the device's `ip:port` or `host:port`.
pub fn plan(device: &Device, gateways: &[Gateway]) -> Plan {
    let esphome = gateways.iter().filter(|g| g.provider_type() == "esphome");
    for g in esphome {
        let by_mac = device
            .mac
            .as_ref()
            .is_some_and(|m| g.labels.get(MAC_LABEL) == Some(m));
        let nodes = g.provider.get("nodes").and_then(Value::as_object);
        let dials_it = nodes.is_some_and(|nodes| {
            nodes.values().any(|n| {
                n.get("address")
                    .and_then(Value::as_str)
                    .is_some_and(|a| same_address(a, device))
            })
        });
        if dials_it {
            return Plan::Known(g.id.clone());
        }
        if by_mac {
            let mut moved = g.clone();
            if let Some(nodes) = moved
                .provider
                .get_mut("nodes")
                .and_then(Value::as_object_mut)
                && nodes.len() == 1
            {
                for n in nodes.values_mut() {
                    if let Some(n) = n.as_object_mut() {
                        n.insert("address".into(), Value::String(device.address.clone()));
                    }
                }
                moved.modified_on = Some(chrono::Utc::now());
                return Plan::Readdress(moved);
            }
            // Edited by hand into several nodes: the user owns it now.
            return Plan::Known(g.id.clone());
        }
    }
    let id = device.gateway_id();
    if gateways.iter().any(|g| g.id == id) {
        // A gateway of another kind or device has the id; never overwrite it.
        return Plan::Known(id);
    }
    Plan::Create(device.new_gateway())
}

fn same_address(configured: &str, device: &Device) -> bool {
    let configured = configured.trim().to_ascii_lowercase();
    if configured == device.address {
        return true;
    }
    let port = device.address.rsplit(':').next().unwrap_or_default();
    [device.host.as_str(), &format!("{}.local", device.name)]
        .iter()
        .any(|h| !h.is_empty() && configured == format!("{h}:{port}"))
}

/// Lower-case letters, digits, `-` and `_`; anything else becomes `-`; at most 63 bytes.
fn slug(instance: &str) -> String {
    let s: String = instance
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(MAX_NAME_LEN)
        .collect();
    if s.chars().any(|c| c.is_ascii_alphanumeric()) {
        s
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advert(name: &str, txt: &[(&str, &str)]) -> Advert {
        Advert {
            fullname: format!("{name}.{SERVICE_TYPE}"),
            host: format!("{name}.local."),
            port: 6053,
            addresses: vec!["fe80::1".parse().unwrap(), "192.168.1.20".parse().unwrap()],
            txt: txt
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_record_becomes_a_gateway_with_one_node() {
        let d = Device::from_advert(&advert(
            "Living Room",
            &[
                ("friendly_name", "Living room sensor"),
                ("mac", "AA:BB:CC:00:11:22"),
                ("version", "2025.1.0"),
            ],
        ))
        .unwrap();
        assert_eq!(d.name, "living-room");
        assert_eq!(d.address, "192.168.1.20:6053", "IPv4 before IPv6");
        assert_eq!(d.mac.as_deref(), Some("aabbcc001122"));
        let Plan::Create(g) = plan(&d, &[]) else {
            panic!("a new device is created")
        };
        assert_eq!(g.id, "esphome_living-room");
        assert!(g.enabled);
        assert_eq!(g.labels[DISCOVERED_LABEL], "mdns");
        assert_eq!(g.labels[MAC_LABEL], "aabbcc001122");
        assert_eq!(
            Value::Object(g.provider.clone()),
            json!({"type": "esphome", "nodes": {"living-room": {"address": "192.168.1.20:6053"}}})
        );
        assert!(g.description.starts_with("Living room sensor"));
        // What the provider accepts.
        let mut config = g.provider.clone();
        config.remove("type");
        let c: crate::providers::esphome::EsphomeConfig =
            serde_json::from_value(Value::Object(config)).unwrap();
        assert_eq!(c.node_settings().unwrap().len(), 1);
    }

    #[test]
    fn encryption_without_a_key_is_created_disabled() {
        let d = Device::from_advert(&advert(
            "door",
            &[("api_encryption", "Noise_NNpsk0_25519_ChaChaPoly_SHA256")],
        ))
        .unwrap();
        let Plan::Create(g) = plan(&d, &[]) else {
            panic!()
        };
        assert!(!g.enabled);
        assert!(g.description.contains("encryptionKey"), "{}", g.description);
        assert!(!g.labels.contains_key(MAC_LABEL));
    }

    #[test]
    fn known_devices_are_not_duplicated_and_follow_their_address() {
        let d = Device::from_advert(&advert("hall", &[("mac", "aabbcc001122")])).unwrap();
        let Plan::Create(mut ours) = plan(&d, &[]) else {
            panic!()
        };
        // Same address: nothing to do, whoever made the gateway.
        assert_eq!(
            plan(&d, std::slice::from_ref(&ours)),
            Plan::Known(ours.id.clone())
        );
        let user = Gateway {
            id: "mine".into(),
            provider: json!({"type": "esphome", "nodes": {"h": {"address": "hall.local:6053"}}})
                .as_object()
                .unwrap()
                .clone(),
            ..Default::default()
        };
        assert_eq!(
            plan(&d, std::slice::from_ref(&user)),
            Plan::Known("mine".into())
        );
        // The device moved: our gateway (same MAC) follows it.
        ours.provider["nodes"]["hall"]["address"] = json!("192.168.1.99:6053");
        let Plan::Readdress(moved) = plan(&d, std::slice::from_ref(&ours)) else {
            panic!("readdressed")
        };
        assert_eq!(
            moved.provider["nodes"]["hall"]["address"],
            "192.168.1.20:6053"
        );
        assert_eq!(moved.id, ours.id);
        // An unrelated gateway holding the id is never overwritten.
        let other = Gateway {
            id: "esphome_hall".into(),
            provider: json!({"type": "tasmota"}).as_object().unwrap().clone(),
            ..Default::default()
        };
        assert_eq!(plan(&d, &[other]), Plan::Known("esphome_hall".into()));
    }

    #[test]
    fn bad_records_are_refused_with_a_reason() {
        let mut a = advert("x", &[]);
        a.fullname = "x._http._tcp.local.".into();
        assert!(matches!(
            Device::from_advert(&a),
            Err(RecordError::NotEsphome(_))
        ));
        let a = advert("...", &[]);
        assert!(matches!(
            Device::from_advert(&a),
            Err(RecordError::BadName(_))
        ));
        let mut a = advert("x", &[]);
        a.port = 0;
        assert!(matches!(
            Device::from_advert(&a),
            Err(RecordError::NoPort(_))
        ));
        let mut a = advert("x", &[]);
        a.addresses.clear();
        assert!(matches!(
            Device::from_advert(&a),
            Err(RecordError::NoAddress(_))
        ));
        let a = advert("x", &[("mac", "not-a-mac")]);
        let e = Device::from_advert(&a).unwrap_err();
        assert!(e.to_string().contains("12 hex digits"), "{e}");
        // Ids stay valid whatever the name holds.
        let d = Device::from_advert(&advert("a.b*c>d é", &[])).unwrap();
        switchyard_core::quick_id::validate_id_segment(&d.gateway_id()).unwrap();
        let long = "n".repeat(300);
        let d = Device::from_advert(&advert(&long, &[])).unwrap();
        assert!(d.gateway_id().len() <= 128);
    }
}
