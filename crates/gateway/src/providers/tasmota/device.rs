//! What the provider learns about devices while it runs: each node's `%topic%` and topic
//! pattern (from discovery or telemetry), and sensor discovery waiting for its device's config.

use super::discovery::Device;
use super::json::sanitize_id;
use super::topic::{DeviceTopic, TopicPattern};
use parking_lot::Mutex;
use std::collections::HashMap;

/// Devices remembered at most; past it the oldest-learned are not evicted, new ones just use the
/// gateway's pattern (a bound against topic floods, far above a real installation).
pub const MAX_DEVICES: usize = 10_000;
/// Sensor discovery documents kept while their device's config has not arrived.
pub const MAX_PENDING_SENSORS: usize = 256;

pub struct Devices {
    default: TopicPattern,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// node id → (device topic, pattern).
    nodes: HashMap<String, (String, TopicPattern)>,
    /// MAC → node id.
    macs: HashMap<String, String>,
    /// Other patterns devices announced, tried when the gateway's does not match.
    patterns: Vec<TopicPattern>,
    pending_sensors: HashMap<String, Vec<u8>>,
}

impl Devices {
    pub fn new(default: TopicPattern) -> Devices {
        Devices {
            default,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn default_pattern(&self) -> &TopicPattern {
        &self.default
    }

    /// Parses a device topic with the gateway's pattern, then with those devices announced.
    pub fn parse(&self, topic: &str) -> Option<DeviceTopic> {
        if let Ok(t) = self.default.parse(topic) {
            return Some(t);
        }
        let inner = self.inner.lock();
        inner.patterns.iter().find_map(|p| p.parse(topic).ok())
    }

    /// Remembers the device of a topic seen in telemetry (if not known from discovery).
    pub fn seen(&self, device: &DeviceTopic, topic: &str) -> String {
        let node = sanitize_id(&device.topic);
        let mut inner = self.inner.lock();
        if !inner.nodes.contains_key(&node) && inner.nodes.len() < MAX_DEVICES {
            let pattern = inner
                .patterns
                .iter()
                .find(|p| p.parse(topic).is_ok())
                .cloned()
                .unwrap_or_else(|| self.default.clone());
            inner
                .nodes
                .insert(node.clone(), (device.topic.clone(), pattern));
        }
        node
    }

    /// Records a discovered device; returns sensor discovery that waited for it.
    pub fn discovered(&self, device: Device) -> Option<Vec<u8>> {
        let mut inner = self.inner.lock();
        if device.pattern != self.default && !inner.patterns.contains(&device.pattern) {
            inner.patterns.push(device.pattern.clone());
        }
        inner
            .macs
            .insert(device.mac.clone(), device.node_id.clone());
        inner
            .nodes
            .insert(device.node_id.clone(), (device.topic, device.pattern));
        inner.pending_sensors.remove(&device.mac)
    }

    /// The node of a MAC, or keeps `payload` until its config arrives.
    pub fn node_of_mac(&self, mac: &str, payload: &[u8]) -> Option<String> {
        let mut inner = self.inner.lock();
        if let Some(node) = inner.macs.get(mac) {
            return Some(node.clone());
        }
        if inner.pending_sensors.len() < MAX_PENDING_SENSORS {
            inner
                .pending_sensors
                .insert(mac.to_string(), payload.to_vec());
        }
        None
    }

    /// Device topic and pattern of a node (the node id itself and the gateway's pattern when the
    /// device has not been heard from yet).
    pub fn target(&self, node: &str) -> (String, TopicPattern) {
        self.inner
            .lock()
            .nodes
            .get(node)
            .cloned()
            .unwrap_or_else(|| (node.to_string(), self.default.clone()))
    }
}
