//! `provider: {type: system_monitoring, nodeId, intervals, disabled, processes}` and the running
//! provider: reads each group on its interval and emits its messages.

use super::probe::{HostProbe, SysinfoProbe};
use super::readings::{Group, to_messages};
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{Provider, ProviderConfig, RunningProvider};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_core::{Message, MessageType};
use tokio::sync::Notify;
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SystemMonitoringConfig {
    /// The host's node id (default: its host name).
    #[serde(default)]
    pub node_id: String,
    /// Reading interval per group (`cpu` 10s, `memory` 30s, `disk` 5m, `network` 30s,
    /// `temperature` 1m, `process` 1m, `host` 10m; at least 1s).
    #[serde(default)]
    pub intervals: BTreeMap<String, String>,
    /// Groups not read: any of `cpu`, `memory`, `disk`, `network`, `temperature`, `process`.
    #[serde(default)]
    pub disabled: Vec<String>,
    /// Processes to watch: source name → text the process name contains.
    #[serde(default)]
    pub processes: BTreeMap<String, String>,
}

fn group_name(g: Group) -> &'static str {
    match g {
        Group::Cpu => "cpu",
        Group::Memory => "memory",
        Group::Disk => "disk",
        Group::Network => "network",
        Group::Temperature => "temperature",
        Group::Process => "process",
        Group::Host => "host",
    }
}

fn default_interval(g: Group) -> Duration {
    Duration::from_secs(match g {
        Group::Cpu => 10,
        Group::Memory | Group::Network => 30,
        Group::Temperature | Group::Process => 60,
        Group::Disk => 300,
        Group::Host => 600,
    })
}

impl SystemMonitoringConfig {
    fn schedule(&self) -> Result<Vec<(Group, Duration)>, GatewayError> {
        let known: Vec<&str> = Group::ALL.iter().map(|g| group_name(*g)).collect();
        for key in self.intervals.keys().chain(&self.disabled) {
            if !known.contains(&key.as_str()) {
                return Err(GatewayError::Config(format!(
                    "system_monitoring: unknown group `{key}` (known: {})",
                    known.join(", ")
                )));
            }
        }
        let mut out = Vec::new();
        for g in Group::ALL {
            let name = group_name(g);
            if self.disabled.iter().any(|d| d == name) && g != Group::Host {
                continue;
            }
            let every = match self.intervals.get(name) {
                None => default_interval(g),
                Some(s) => switchyard_core::value::parse_std_duration(s).map_err(|e| {
                    GatewayError::Config(format!("system_monitoring: intervals.{name}: {e}"))
                })?,
            };
            out.push((g, every.max(Duration::from_secs(1))));
        }
        Ok(out)
    }
}

#[async_trait]
impl ProviderConfig for SystemMonitoringConfig {
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError> {
        let schedule = self.schedule()?;
        let filters: Vec<(String, String)> = self.processes.clone().into_iter().collect();
        let probe = tokio::task::spawn_blocking(move || SysinfoProbe::new(filters))
            .await
            .map_err(|e| GatewayError::Config(format!("system_monitoring: {e}")))?
            .map_err(|e| GatewayError::Config(format!("system_monitoring: {e}")))?;
        let node = match self.node_id.trim() {
            "" => sysinfo::System::host_name().unwrap_or_else(|_| "host".into()),
            id => id.to_string(),
        };
        let node = crate::providers::tasmota::json::sanitize_id(&node);
        Ok(start_with_probe(ctx, Box::new(probe), node, schedule))
    }
}

/// Runs `probe` on `schedule` for node `node` (the seam where tests put fixed readings).
pub fn start_with_probe(
    ctx: ProviderContext,
    probe: Box<dyn HostProbe>,
    node: String,
    schedule: Vec<(Group, Duration)>,
) -> RunningProvider {
    let refresh = Arc::new(Notify::new());
    let outbound = Arc::new(Monitor {
        refresh: refresh.clone(),
    });
    let probe = Arc::new(Mutex::new(probe));
    let inbound = async move {
        let now = Instant::now();
        let mut due: HashMap<Group, Instant> = schedule.iter().map(|(g, _)| (*g, now)).collect();
        loop {
            let next = due
                .values()
                .min()
                .copied()
                .unwrap_or(now + Duration::from_secs(3600));
            tokio::select! {
                _ = ctx.cancel().cancelled() => return Ok(()),
                _ = refresh.notified() => due.values_mut().for_each(|d| *d = Instant::now()),
                _ = tokio::time::sleep_until(next) => {}
            }
            let now = Instant::now();
            for (group, every) in &schedule {
                if due[group] > now {
                    continue;
                }
                due.insert(*group, now + *every);
                let (probe, group) = (probe.clone(), *group);
                let reading = tokio::task::spawn_blocking(move || {
                    probe.lock().unwrap_or_else(|p| p.into_inner()).read(group)
                })
                .await;
                match reading {
                    Ok(r) => {
                        for m in to_messages(&node, &r) {
                            ctx.emit(m).await;
                        }
                    }
                    Err(e) => ctx.reject(format!("reading {}: {e}", group_name(group))),
                }
            }
        }
    };
    RunningProvider {
        outbound,
        inbound: Box::pin(inbound),
    }
}

struct Monitor {
    refresh: Arc<Notify>,
}

#[async_trait]
impl Provider for Monitor {
    async fn post(&self, msg: &Message) -> Result<(), GatewayError> {
        let action = msg.payloads.first().map(|p| p.key.as_str());
        match (msg.message_type, action) {
            (MessageType::Action, Some("refresh_node_info" | "heartbeat_request"))
            | (MessageType::Request, _) => {
                self.refresh.notify_one();
                Ok(())
            }
            _ => Err(GatewayError::Unsupported(
                "system monitoring only reads: actions refresh_node_info and heartbeat_request, or a request, read now"
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schedule_defaults_overrides_and_errors() {
        let c: SystemMonitoringConfig = serde_json::from_value(json!({
            "intervals": {"cpu": "2s", "disk": "0s"}, "disabled": ["temperature"]
        }))
        .unwrap();
        let s = c.schedule().unwrap();
        assert!(s.contains(&(Group::Cpu, Duration::from_secs(2))));
        assert!(
            s.contains(&(Group::Disk, Duration::from_secs(1))),
            "at least 1s"
        );
        assert!(!s.iter().any(|(g, _)| *g == Group::Temperature));
        let c: SystemMonitoringConfig =
            serde_json::from_value(json!({"disabled": ["gpu"]})).unwrap();
        assert!(c.schedule().unwrap_err().to_string().contains("gpu"));
    }
}
