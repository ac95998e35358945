//! What to simulate: the nodes, their sensors and timing, and the firmware their bootloader runs.

use crate::error::SimError;
use crate::readings::ReadingSequence;
use std::time::Duration;
use switchyard_gateway::providers::mysensors::protocol::firmware::BlockOrder;
use switchyard_gateway::providers::mysensors::protocol::{
    BROADCAST_ID, MAX_PAYLOAD_BYTES, SensorType, ValueType,
};

/// MySensors library version the nodes present (S_ARDUINO_NODE payload) and the gateway reports.
pub const LIBRARY_VERSION: &str = "2.3.2";

/// The simulated network: a gateway and the nodes behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub nodes: Vec<NodeConfig>,
    /// Seeds every reading sequence (mixed with the node's position and the child id).
    pub seed: u64,
}

impl SimConfig {
    /// `count` awake nodes with ids `first_id..`, the default sensors, readings every `interval`.
    pub fn uniform(count: usize, first_id: u8, interval: Duration, seed: u64) -> Self {
        let nodes = (0..count)
            .map(|i| {
                let id = u8::try_from(usize::from(first_id) + i)
                    .ok()
                    .filter(|id| (1..BROADCAST_ID).contains(id));
                NodeConfig {
                    id,
                    report_interval: interval,
                    ..NodeConfig::default()
                }
            })
            .collect();
        SimConfig { nodes, seed }
    }

    /// Rejects what a real network cannot have: ids 0 (the gateway) or 255 (broadcast), an id used
    /// twice, two sensors on one child, a zero interval.
    pub fn validate(&self) -> Result<(), SimError> {
        if self.nodes.len() > 254 {
            return Err(SimError::Config(format!(
                "{} nodes; a MySensors network has at most 254",
                self.nodes.len()
            )));
        }
        let mut seen = [false; 256];
        for (index, node) in self.nodes.iter().enumerate() {
            let fail = |why: String| SimError::Config(format!("node #{index}: {why}"));
            if let Some(id) = node.id {
                if id == 0 || id == BROADCAST_ID {
                    return Err(fail(format!(
                        "id {id} is reserved (0 gateway, 255 broadcast)"
                    )));
                }
                if std::mem::replace(&mut seen[usize::from(id)], true) {
                    return Err(fail(format!("id {id} is used by another node")));
                }
            }
            for (what, text) in [
                ("sketch name", &node.sketch_name),
                ("sketch version", &node.sketch_version),
            ] {
                if text.len() > MAX_PAYLOAD_BYTES || text.contains([';', '\r', '\n']) {
                    return Err(fail(format!(
                        "{what} {text:?}: at most {MAX_PAYLOAD_BYTES} bytes, no ';' or line breaks"
                    )));
                }
            }
            if node.report_interval.is_zero() {
                return Err(fail("report interval must be above 0".into()));
            }
            let mut children = [false; 256];
            for sensor in &node.sensors {
                if sensor.child_id == 255 {
                    return Err(fail("child 255 is the node itself".into()));
                }
                if std::mem::replace(&mut children[usize::from(sensor.child_id)], true) {
                    return Err(fail(format!("child {} presented twice", sensor.child_id)));
                }
            }
            if let Some(sleep) = &node.sleep
                && (sleep.awake_window.is_zero() || sleep.sleep_duration.is_zero())
            {
                return Err(fail(
                    "awake window and sleep duration must be above 0".into(),
                ));
            }
        }
        Ok(())
    }

    /// The values node number `index` (its position in `nodes`) reports for `child_id`, in order.
    /// Tests use this to predict what arrives.
    pub fn readings(&self, index: usize, child_id: u8) -> Option<ReadingSequence> {
        let node = self.nodes.get(index)?;
        let sensor = node.sensors.iter().find(|s| s.child_id == child_id)?;
        ReadingSequence::new(self.seed, index, child_id, sensor.kind)
    }
}

/// One node. `id: None` makes it ask for one with I_ID_REQUEST.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub id: Option<u8>,
    pub sketch_name: String,
    /// Reported with I_SKETCH_VERSION; after an OTA update the new firmware version is reported.
    pub sketch_version: String,
    pub sensors: Vec<SensorSpec>,
    /// Time between rounds of readings (each sensor once, then the battery level).
    pub report_interval: Duration,
    /// Send I_BATTERY_LEVEL after each round.
    pub battery: bool,
    /// Ask I_CONFIG and I_TIME after presenting.
    pub request_config: bool,
    pub request_time: bool,
    /// A smart-sleep node: one round of readings, then awake for a window, then asleep.
    pub sleep: Option<SleepConfig>,
    /// Run a bootloader that asks for firmware on every boot.
    pub firmware: Option<FirmwareSpec>,
    /// How long to wait for I_ID_RESPONSE before asking again.
    pub id_request_retry: Duration,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            id: None,
            sketch_name: "Switchyard sim".into(),
            sketch_version: "1.0".into(),
            sensors: SensorSpec::default_set(),
            report_interval: Duration::from_secs(10),
            battery: true,
            request_config: true,
            request_time: true,
            sleep: None,
            firmware: None,
            id_request_retry: Duration::from_secs(2),
        }
    }
}

/// A smart-sleep node's cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SleepConfig {
    /// How long the node listens after I_PRE_SLEEP_NOTIFICATION (MySensors' default is 500 ms).
    pub awake_window: Duration,
    /// How long it sleeps (ignoring every frame) before the next round.
    pub sleep_duration: Duration,
}

/// The firmware a node's bootloader runs, and how it fetches a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareSpec {
    pub firmware_type: u16,
    pub version: u16,
    pub order: BlockOrder,
    /// How long to wait for ST_FIRMWARE_CONFIG_RESPONSE before booting the current sketch.
    pub config_timeout: Duration,
    /// How long to wait for each block before asking again.
    pub block_timeout: Duration,
    /// Requests per block (and per config) before the bootloader gives up.
    pub attempts: u32,
}

impl FirmwareSpec {
    pub fn new(firmware_type: u16, version: u16) -> Self {
        FirmwareSpec {
            firmware_type,
            version,
            order: BlockOrder::Reverse,
            config_timeout: Duration::from_secs(1),
            block_timeout: Duration::from_millis(500),
            attempts: 5,
        }
    }
}

/// One child of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SensorSpec {
    pub child_id: u8,
    pub kind: SensorKind,
}

impl SensorSpec {
    /// Temperature on child 1, humidity on 2, a relay on 3.
    pub fn default_set() -> Vec<SensorSpec> {
        [
            SensorKind::Temperature,
            SensorKind::Humidity,
            SensorKind::Relay,
        ]
        .into_iter()
        .zip(1..)
        .map(|(kind, child_id)| SensorSpec { child_id, kind })
        .collect()
    }
}

/// What a child is. Sensors report on every round; a relay only reports its state when it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SensorKind {
    /// S_TEMP / V_TEMP, 15.0–34.9 with one decimal.
    Temperature,
    /// S_HUM / V_HUM, 30–89 %.
    Humidity,
    /// S_DOOR / V_TRIPPED, 0 or 1.
    Door,
    /// S_BINARY / V_STATUS, set by the controller.
    Relay,
}

impl SensorKind {
    pub fn sensor_type(self) -> SensorType {
        match self {
            SensorKind::Temperature => SensorType::S_TEMP,
            SensorKind::Humidity => SensorType::S_HUM,
            SensorKind::Door => SensorType::S_DOOR,
            SensorKind::Relay => SensorType::S_BINARY,
        }
    }

    pub fn value_type(self) -> ValueType {
        match self {
            SensorKind::Temperature => ValueType::V_TEMP,
            SensorKind::Humidity => ValueType::V_HUM,
            SensorKind::Door => ValueType::V_TRIPPED,
            SensorKind::Relay => ValueType::V_STATUS,
        }
    }

    /// Whether it reports on every round (a relay does not).
    pub fn reports(self) -> bool {
        self != SensorKind::Relay
    }

    pub fn description(self) -> &'static str {
        match self {
            SensorKind::Temperature => "Temperature",
            SensorKind::Humidity => "Humidity",
            SensorKind::Door => "Door",
            SensorKind::Relay => "Relay",
        }
    }
}

/// Where the simulated gateway meets the controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportConfig {
    /// A serial port or pty; reopened every second while it is gone.
    Serial { path: String, baud_rate: u32 },
    /// An Ethernet gateway: a TCP server. A new controller connection replaces the current one.
    Tcp { listen: std::net::SocketAddr },
    /// An MQTT gateway: publishes node frames under `publish_prefix`, subscribes to
    /// `subscribe_prefix/#` (MySensors' `MY_MQTT_PUBLISH_TOPIC_PREFIX` / `…_SUBSCRIBE_…`).
    Mqtt {
        broker: String,
        publish_prefix: String,
        subscribe_prefix: String,
        client_id: String,
    },
}

/// `250ms`, `10s`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and a unit, like 500ms or 10s"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("{text:?}: unknown unit {other:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn uniform_ids_and_validation() {
        let config = SimConfig::uniform(3, 253, Duration::from_secs(1), 0);
        let ids: Vec<_> = config.nodes.iter().map(|n| n.id).collect();
        // 255 is broadcast: a node past 254 asks for an id instead.
        assert_eq!(ids, vec![Some(253), Some(254), None]);
        assert!(config.validate().is_ok());

        let mut twice = SimConfig::uniform(2, 5, Duration::from_secs(1), 0);
        twice.nodes[1].id = Some(5);
        assert!(twice.validate().is_err());
        let mut gateway = SimConfig::uniform(1, 5, Duration::from_secs(1), 0);
        gateway.nodes[0].id = Some(0);
        assert!(gateway.validate().is_err());
        let mut child = SimConfig::uniform(1, 5, Duration::from_secs(1), 0);
        child.nodes[0].sensors.push(SensorSpec {
            child_id: 1,
            kind: SensorKind::Door,
        });
        assert!(child.validate().is_err());
        let mut name = SimConfig::uniform(1, 5, Duration::from_secs(1), 0);
        name.nodes[0].sketch_name = "a;b".into();
        assert!(name.validate().is_err());
    }
}
