//! Distributed mode: which services this process runs, the bus it joins, and what the core adds
//! for remote processes (the resource service and the list of processes). A process without the
//! `core` service ([`serve_remote`]) reaches storage through the core over the bus and never
//! opens the database. See docs/deployment.md.

use crate::app::{shutdown_signal, supervise};
use crate::config::{BusConfig, Config, ProcessConfig};
use crate::status::ServiceStates;
use anyhow::{Context, bail};
use chrono::Utc;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use switchyard_bus::EmbeddedBus;
use switchyard_core::bus::Bus;
use switchyard_core::storage::Storage;
use switchyard_core::store::Store;
use switchyard_core::value::parse_std_duration;
use switchyard_gateway::service::GatewayServiceStats;
use switchyard_remote::liveness::{self, Announcement, Processes};
use switchyard_remote::{RemoteStorage, ResourceService};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const SERVICES: [&str; 7] = [
    "core",
    "processor",
    "gateway",
    "handler",
    "task",
    "scheduler",
    "forward_payload",
];

/// The services this process runs.
#[derive(Debug, Clone)]
pub struct Services(BTreeSet<&'static str>);

impl Services {
    pub fn from_config(process: &ProcessConfig) -> anyhow::Result<Services> {
        let mut set = BTreeSet::new();
        for name in &process.services {
            let name = name.trim();
            if name == "all" {
                set.extend(SERVICES);
                continue;
            }
            match SERVICES.iter().find(|s| **s == name) {
                Some(s) => {
                    set.insert(*s);
                }
                None => bail!(
                    "process.services: unknown service `{name}` (known: all, {})",
                    SERVICES.join(", ")
                ),
            }
        }
        if set.is_empty() {
            bail!("process.services is empty: name at least one service, or `all`");
        }
        if set.contains("processor") && !set.contains("core") {
            bail!("process.services: `processor` runs with `core` (it writes metrics locally)");
        }
        Ok(Services(set))
    }

    pub fn runs(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| s.to_string()).collect()
    }
}

pub async fn open_bus(config: &BusConfig) -> anyhow::Result<Arc<dyn Bus>> {
    Ok(match config {
        BusConfig::Embedded(c) => Arc::new(EmbeddedBus::new(c).context("starting the bus")?),
        #[cfg(feature = "bus-nats")]
        BusConfig::Nats(c) => Arc::new(
            switchyard_bus_nats::NatsBus::connect(c)
                .await
                .context("joining the NATS bus")?,
        ),
    })
}

fn duration(key: &str, value: &str) -> anyhow::Result<Duration> {
    parse_std_duration(value).map_err(|e| anyhow::anyhow!("process.{key}: {e}"))
}

/// `process.name`, else the host name.
pub fn process_name(process: &ProcessConfig) -> String {
    if !process.name.is_empty() {
        return process.name.clone();
    }
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "switchyard".into())
}

fn describe(
    name: String,
    services: Vec<String>,
    gateways: Option<GatewayServiceStats>,
) -> impl Fn() -> Announcement + Send + Sync + 'static {
    let started = Utc::now();
    move || Announcement {
        name: name.clone(),
        services: services.clone(),
        gateways: gateways
            .as_ref()
            .map(|g| g.snapshot().into_keys().collect())
            .unwrap_or_default(),
        started,
    }
}

/// On the core: answers storage requests of remote processes, follows their announcements,
/// and announces the core itself.
pub async fn start_core_parts(
    cfg: &Config,
    services: &Services,
    bus: Arc<dyn Bus>,
    storage: Arc<dyn Storage>,
    store: Store,
    gateways: GatewayServiceStats,
    cancel: CancellationToken,
) -> anyhow::Result<(Processes, Vec<JoinHandle<()>>)> {
    let down_after = duration("down_after", &cfg.process.down_after)?;
    let interval = duration("announce_interval", &cfg.process.announce_interval)?;
    let resources = ResourceService::new(bus.clone(), storage)
        .start(cancel.child_token())
        .await
        .context("starting the resource service")?;
    let processes = Processes::new(store, down_after);
    let following = processes
        .clone()
        .start(bus.clone(), cancel.child_token())
        .await
        .context("following process announcements")?;
    let describe = describe(process_name(&cfg.process), services.names(), Some(gateways));
    let announcing = tokio::spawn(liveness::announce(bus, interval, describe, cancel));
    Ok((processes, vec![resources, following, announcing]))
}

/// A process without `core`: the listed services over the bus, storage at the core.
pub async fn serve_remote(cfg: Config, services: Services) -> anyhow::Result<()> {
    if matches!(cfg.bus, BusConfig::Embedded(_)) {
        bail!(
            "process.services without `core` needs the NATS bus (bus.type: nats): the embedded bus cannot reach the core"
        );
    }
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data directory {}", cfg.data_dir.display()))?;
    let bus = open_bus(&cfg.bus).await?;
    let rpc_timeout = duration("rpc_timeout", &cfg.process.rpc_timeout)?;
    let interval = duration("announce_interval", &cfg.process.announce_interval)?;
    let storage: Arc<dyn Storage> = Arc::new(RemoteStorage::new(bus.clone(), rpc_timeout));
    let store = Store::new(storage.clone());
    switchyard_gateway::transport::install_crypto_provider();
    let cancel = CancellationToken::new();
    let states = Arc::new(ServiceStates::default());
    let mut tasks = Vec::new();

    let mut gateway_stats = None;
    if services.runs("gateway") {
        let gateways = switchyard_gateway::GatewayService::new(
            bus.clone(),
            store.clone(),
            switchyard_gateway::ProviderRegistry::builtin(),
            &cfg.data_dir,
        )
        .with_filter(cfg.process.gateways.clone());
        gateway_stats = Some(gateways.stats());
        let task = gateways
            .start(cancel.child_token())
            .await
            .context("starting the gateway service (is the core running?)")?;
        tasks.push(supervise(&states, "gateway", async move {
            if let Err(e) = task.await {
                std::panic::resume_unwind(e.into_panic());
            }
        }));
    }
    let automation_services = ["handler", "task", "scheduler", "forward_payload"];
    if automation_services.iter().any(|s| services.runs(s)) {
        let automation = switchyard_automation::Context::new(
            store.clone(),
            bus.clone(),
            cfg.automation.clone(),
            cfg.data_dir.clone(),
            switchyard_automation::Clock::System,
        )
        .context("starting automation")?;
        if services.runs("handler") {
            let service = switchyard_automation::HandlerService::new(automation.clone());
            tasks.push(supervise(
                &states,
                "handler",
                service.run(cancel.child_token()),
            ));
        }
        if services.runs("task") {
            let service = switchyard_automation::TaskService::new(automation.clone());
            tasks.push(supervise(
                &states,
                "task",
                service.run(cancel.child_token()),
            ));
        }
        if services.runs("scheduler") {
            let service = switchyard_automation::SchedulerService::new(automation.clone());
            tasks.push(supervise(
                &states,
                "scheduler",
                service.run(cancel.child_token()),
            ));
        }
        if services.runs("forward_payload") {
            let service = switchyard_automation::ForwardPayloadService::new(automation);
            tasks.push(supervise(
                &states,
                "forward_payload",
                service.run(cancel.child_token()),
            ));
        }
    }
    let name = process_name(&cfg.process);
    let announcing = tokio::spawn(liveness::announce(
        bus.clone(),
        interval,
        describe(name.clone(), services.names(), gateway_stats),
        cancel.clone(),
    ));
    tracing::info!(process = %name, services = %services.names().join(","), bus = bus.name(), "switchyard is ready");

    shutdown_signal().await;
    cancel.cancel();
    for t in tasks {
        let _ = t.await;
    }
    let _ = announcing.await;
    let _ = storage.close().await;
    tracing::info!("switchyard stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(names: &[&str]) -> anyhow::Result<Services> {
        Services::from_config(&ProcessConfig {
            services: names.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
    }

    #[test]
    fn all_runs_everything_and_lists_pick() {
        let all = services(&["all"]).unwrap();
        assert!(SERVICES.iter().all(|s| all.runs(s)));
        let remote = services(&["gateway", "handler"]).unwrap();
        assert!(remote.runs("gateway") && remote.runs("handler"));
        assert!(!remote.runs("core") && !remote.runs("processor"));
    }

    #[test]
    fn unknown_empty_and_impossible_lists_are_refused() {
        assert!(
            services(&["gateways"])
                .unwrap_err()
                .to_string()
                .contains("gateways")
        );
        assert!(services(&[]).is_err());
        assert!(services(&["processor"]).is_err());
    }
}
