//! What the host reports, as plain data, and its messages. Pure: tests feed fixed readings.

use crate::providers::tasmota::json::sanitize_id;
use switchyard_core::{Message, MessageType, Payload};

/// The groups of readings, each read on its own interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Cpu,
    Memory,
    Disk,
    Network,
    Temperature,
    Process,
    Host,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Cpu,
        Group::Memory,
        Group::Disk,
        Group::Network,
        Group::Temperature,
        Group::Process,
        Group::Host,
    ];
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cpu {
    /// All cores, 0..=100 %.
    pub total: f32,
    pub per_core: Vec<f32>,
    pub load: [f64; 3],
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Memory {
    pub total: u64,
    pub used: u64,
    pub available: u64,
    pub swap_total: u64,
    pub swap_used: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Disk {
    pub mount: String,
    pub total: u64,
    pub available: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Network {
    pub interface: String,
    /// Totals since boot (counters).
    pub received: u64,
    pub transmitted: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Process {
    /// The filter's name (the source id).
    pub name: String,
    /// Processes matched.
    pub count: u32,
    /// Summed over them, % of one core.
    pub cpu: f32,
    pub memory: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Host {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub uptime_secs: u64,
    pub cpu_count: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Cpu(Cpu),
    Memory(Memory),
    Disks(Vec<Disk>),
    Networks(Vec<Network>),
    /// (component label, °C).
    Temperatures(Vec<(String, f32)>),
    Processes(Vec<Process>),
    Host(Host),
}

const MIB: f64 = 1024.0 * 1024.0;

fn gauge(key: &str, value: f64, unit: &str) -> Payload {
    Payload::new(key, format!("{}", (value * 100.0).round() / 100.0))
        .with_metric_type("gauge_float")
        .with_unit(unit)
}

fn counter(key: &str, value: u64, unit: &str) -> Payload {
    Payload::new(key, value.to_string())
        .with_metric_type("counter")
        .with_unit(unit)
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// A source id for a mount point or interface: `/` → `root`, `/var/lib` → `var_lib`.
pub fn name_id(prefix: &str, name: &str) -> String {
    let trimmed = name.trim_matches('/');
    let base = if trimmed.is_empty() { "root" } else { trimmed };
    sanitize_id(&format!("{prefix}{}", base.replace(['/', '\\', ':'], "_")))
}

fn set(node: &str, source: &str, payloads: Vec<Payload>) -> Message {
    let mut m = Message::new(MessageType::Set, "", node, source);
    m.payloads = payloads;
    m
}

/// The messages of one reading for node `node`.
pub fn to_messages(node: &str, reading: &Reading) -> Vec<Message> {
    match reading {
        Reading::Cpu(c) => {
            let mut p = vec![gauge("total", f64::from(c.total), "%")];
            for (i, v) in c.per_core.iter().enumerate() {
                p.push(gauge(&format!("core_{i}"), f64::from(*v), "%"));
            }
            p.push(gauge("load_1", c.load[0], ""));
            p.push(gauge("load_5", c.load[1], ""));
            p.push(gauge("load_15", c.load[2], ""));
            vec![set(node, "cpu", p)]
        }
        Reading::Memory(m) => vec![
            set(
                node,
                "memory",
                vec![
                    gauge("total", m.total as f64 / MIB, "MiB"),
                    gauge("used", m.used as f64 / MIB, "MiB"),
                    gauge("available", m.available as f64 / MIB, "MiB"),
                    gauge("used_percent", percent(m.used, m.total), "%"),
                ],
            ),
            set(
                node,
                "swap",
                vec![
                    gauge("total", m.swap_total as f64 / MIB, "MiB"),
                    gauge("used", m.swap_used as f64 / MIB, "MiB"),
                    gauge("used_percent", percent(m.swap_used, m.swap_total), "%"),
                ],
            ),
        ],
        Reading::Disks(disks) => disks
            .iter()
            .map(|d| {
                let used = d.total.saturating_sub(d.available);
                set(
                    node,
                    &name_id("disk_", &d.mount),
                    vec![
                        gauge("total", d.total as f64 / MIB, "MiB"),
                        gauge("used", used as f64 / MIB, "MiB"),
                        gauge("available", d.available as f64 / MIB, "MiB"),
                        gauge("used_percent", percent(used, d.total), "%"),
                    ],
                )
            })
            .collect(),
        Reading::Networks(nets) => nets
            .iter()
            .map(|n| {
                set(
                    node,
                    &name_id("network_", &n.interface),
                    vec![
                        counter("received", n.received, "B"),
                        counter("transmitted", n.transmitted, "B"),
                    ],
                )
            })
            .collect(),
        Reading::Temperatures(t) if t.is_empty() => Vec::new(),
        Reading::Temperatures(t) => vec![set(
            node,
            "temperature",
            t.iter()
                .filter(|(_, c)| c.is_finite())
                .map(|(label, c)| gauge(&name_id("", &label.to_lowercase()), f64::from(*c), "°C"))
                .collect(),
        )],
        Reading::Processes(ps) => ps
            .iter()
            .map(|p| {
                set(
                    node,
                    &name_id("process_", &p.name),
                    vec![
                        gauge("count", f64::from(p.count), ""),
                        gauge("cpu", f64::from(p.cpu), "%"),
                        gauge("memory", p.memory as f64 / MIB, "MiB"),
                    ],
                )
            })
            .collect(),
        Reading::Host(h) => {
            let mut m = Message::new(MessageType::Presentation, "", node, "");
            m.payloads = vec![
                Payload::new("name", h.hostname.clone()),
                Payload::new("os", h.os.clone()),
                Payload::new("kernel", h.kernel.clone()),
                Payload::new("cpu_count", h.cpu_count.to_string()),
                Payload::new("uptime", h.uptime_secs.to_string())
                    .with_metric_type("gauge")
                    .with_unit("s"),
            ];
            m.payloads.retain(|p| !p.value.is_empty());
            vec![m]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'a>(msgs: &'a [Message], source: &str, key: &str) -> &'a Payload {
        msgs.iter()
            .filter(|m| m.source_id == source)
            .flat_map(|m| &m.payloads)
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("no {source}.{key}"))
    }

    #[test]
    fn fixed_readings_become_fields() {
        let m = to_messages(
            "host",
            &Reading::Memory(Memory {
                total: 8 << 30,
                used: 2 << 30,
                available: 6 << 30,
                swap_total: 0,
                swap_used: 0,
            }),
        );
        assert_eq!(field(&m, "memory", "total").value, "8192");
        assert_eq!(field(&m, "memory", "used_percent").value, "25");
        assert_eq!(field(&m, "swap", "used_percent").value, "0");
        let m = to_messages(
            "host",
            &Reading::Disks(vec![
                Disk {
                    mount: "/".into(),
                    total: 100 << 20,
                    available: 40 << 20,
                },
                Disk {
                    mount: "/var/lib".into(),
                    total: 0,
                    available: 0,
                },
            ]),
        );
        assert_eq!(field(&m, "disk_root", "used_percent").value, "60");
        assert_eq!(field(&m, "disk_var_lib", "used_percent").value, "0");
        let m = to_messages(
            "host",
            &Reading::Cpu(Cpu {
                total: 12.345,
                per_core: vec![10.0, 14.69],
                load: [0.5, 0.25, 0.1],
            }),
        );
        assert_eq!(field(&m, "cpu", "total").value, "12.35");
        assert_eq!(field(&m, "cpu", "core_1").value, "14.69");
        let m = to_messages(
            "host",
            &Reading::Temperatures(vec![
                ("CPU Package id 0".into(), 45.0),
                ("bad".into(), f32::NAN),
            ]),
        );
        assert_eq!(field(&m, "temperature", "cpu_package_id_0").unit, "°C");
        assert_eq!(m[0].payloads.len(), 1);
        let m = to_messages(
            "host",
            &Reading::Networks(vec![Network {
                interface: "eth0".into(),
                received: 5,
                transmitted: 7,
            }]),
        );
        assert_eq!(field(&m, "network_eth0", "received").metric_type, "counter");
        let m = to_messages(
            "host",
            &Reading::Processes(vec![Process {
                name: "switch.yard".into(),
                count: 2,
                cpu: 3.0,
                memory: 1 << 20,
            }]),
        );
        assert_eq!(field(&m, "process_switch_yard", "memory").value, "1");
    }
}
