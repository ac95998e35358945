//! mDNS discovery of ESPHome devices (`_esphomelib._tcp`), off unless configured
//! (`discovery.esphome.enabled`). Each device found gets a gateway of its own (id
//! `esphome_<name>`, one node, labels `discovered: mdns` and `esphome_mac`), enabled unless the
//! device announces API encryption, whose key no one has told us yet. A device that a gateway
//! already dials (same MAC label, or a node at its `ip:port` or `host:port`) gets no second one;
//! when a discovered device's address changes, its gateway follows. A device that goes away
//! keeps its gateway (the node just goes down).
//!
//! Bounded: at most `max_devices` devices are remembered per run; past it new devices are
//! ignored (logged, counted as `overLimit`) until the server restarts. Bad records are logged,
//! counted (`badRecords`) and ignored.

mod record;

pub use record::{
    Advert, DISCOVERED_LABEL, DISCOVERED_VALUE, Device, MAC_LABEL, Plan, RecordError, SERVICE_TYPE,
    plan,
};

use crate::error::GatewayError;
use mdns_sd::{IfKind, ServiceDaemon, ServiceEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::filter::Query;
use switchyard_core::model::Gateway;
use switchyard_core::rate_log::RateLimitedLog;
use switchyard_core::store::{Store, to_document};
use switchyard_core::{EntityKind, Event, EventType};
use tokio_util::sync::CancellationToken;

/// `discovery.esphome` of the server's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EsphomeDiscoveryConfig {
    pub enabled: bool,
    /// Devices remembered per run; more are ignored until a restart.
    pub max_devices: usize,
    /// Network interfaces to browse on, by name; empty: all (loopback included).
    pub interfaces: Vec<String>,
    /// The mDNS UDP port (5353; another only for tests).
    pub port: u16,
}

impl Default for EsphomeDiscoveryConfig {
    fn default() -> Self {
        EsphomeDiscoveryConfig {
            enabled: false,
            max_devices: 64,
            interfaces: Vec::new(),
            port: 5353,
        }
    }
}

/// What the discovery did since it started.
#[derive(Debug, Default)]
pub struct DiscoveryStats {
    resolved: AtomicU64,
    created: AtomicU64,
    readdressed: AtomicU64,
    bad_records: AtomicU64,
    over_limit: AtomicU64,
    store_errors: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryStatsSnapshot {
    /// Records resolved (repeats included).
    pub resolved: u64,
    /// Gateways created for new devices.
    pub created: u64,
    /// Gateways moved to a device's new address.
    pub readdressed: u64,
    /// Records ignored as malformed.
    pub bad_records: u64,
    /// New devices ignored because `max_devices` were remembered already.
    pub over_limit: u64,
    /// Reads or writes of gateways that failed (tried again at the device's next record).
    pub store_errors: u64,
}

impl DiscoveryStats {
    pub fn snapshot(&self) -> DiscoveryStatsSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        DiscoveryStatsSnapshot {
            resolved: g(&self.resolved),
            created: g(&self.created),
            readdressed: g(&self.readdressed),
            bad_records: g(&self.bad_records),
            over_limit: g(&self.over_limit),
            store_errors: g(&self.store_errors),
        }
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub struct EsphomeDiscovery {
    config: EsphomeDiscoveryConfig,
    bus: Arc<dyn Bus>,
    store: Store,
    stats: Arc<DiscoveryStats>,
    log: RateLimitedLog,
    /// Devices seen, by record name, with the address last acted on.
    known: BTreeMap<String, String>,
}

impl EsphomeDiscovery {
    pub fn new(config: EsphomeDiscoveryConfig, bus: Arc<dyn Bus>, store: Store) -> Self {
        EsphomeDiscovery {
            config,
            bus,
            store,
            stats: Arc::default(),
            log: RateLimitedLog::new(Duration::from_secs(10)),
            known: BTreeMap::new(),
        }
    }

    pub fn stats(&self) -> Arc<DiscoveryStats> {
        self.stats.clone()
    }

    /// Browses until `cancel` fires.
    pub async fn run(mut self, cancel: CancellationToken) -> Result<(), GatewayError> {
        let mdns_error = |e: mdns_sd::Error| GatewayError::Config(format!("mDNS: {e}"));
        let daemon = ServiceDaemon::new_with_port(self.config.port).map_err(mdns_error)?;
        if !self.config.interfaces.is_empty() {
            daemon.disable_interface(IfKind::All).map_err(mdns_error)?;
            let names: Vec<IfKind> = self
                .config
                .interfaces
                .iter()
                .map(|n| IfKind::Name(n.clone()))
                .collect();
            daemon.enable_interface(names).map_err(mdns_error)?;
        }
        let events = daemon.browse(SERVICE_TYPE).map_err(mdns_error)?;
        tracing::info!(
            port = self.config.port,
            interfaces = ?self.config.interfaces,
            "browsing for ESPHome devices ({SERVICE_TYPE})"
        );
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                e = events.recv_async() => match e {
                    Ok(ServiceEvent::ServiceResolved(r)) => {
                        let advert = Advert {
                            fullname: r.fullname.clone(),
                            host: r.host.clone(),
                            port: r.port,
                            addresses: r.addresses.iter().map(|a| a.to_ip_addr()).collect(),
                            txt: r
                                .txt_properties
                                .iter()
                                .map(|p| (p.key().to_string(), p.val_str().to_string()))
                                .collect(),
                        };
                        self.on_advert(&advert).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "mDNS browser ended");
                        break;
                    }
                },
            }
        }
        if let Err(e) = daemon.shutdown() {
            tracing::debug!(error = %e, "mDNS daemon shutdown");
        }
        Ok(())
    }

    fn warn(&self, what: String) {
        self.log
            .log(|suppressed| tracing::warn!(%what, suppressed, "ESPHome discovery"));
    }

    /// Acts on one resolved record.
    pub async fn on_advert(&mut self, advert: &Advert) {
        bump(&self.stats.resolved);
        let device = match Device::from_advert(advert) {
            Ok(d) => d,
            Err(e) => {
                bump(&self.stats.bad_records);
                return self.warn(format!("ignoring a record: {e}"));
            }
        };
        match self.known.get(&advert.fullname) {
            Some(address) if *address == device.address => return,
            Some(_) => {}
            None if self.known.len() >= self.config.max_devices => {
                bump(&self.stats.over_limit);
                return self.warn(format!(
                    "ignoring `{}`: {} devices remembered already (discovery.esphome.max_devices)",
                    device.name, self.config.max_devices
                ));
            }
            None => {}
        }
        match self.apply(&device).await {
            Ok(()) => {
                self.known
                    .insert(advert.fullname.clone(), device.address.clone());
            }
            Err(e) => {
                bump(&self.stats.store_errors);
                self.warn(format!("device `{}`: {e}", device.name));
            }
        }
    }

    async fn apply(&self, device: &Device) -> Result<(), GatewayError> {
        let gateways = self.store.find::<Gateway>(&Query::all()).await?.data;
        let (gateway, event_type) = match plan(device, &gateways) {
            Plan::Known(_) => return Ok(()),
            Plan::Create(g) => {
                self.store.insert(&g).await?;
                bump(&self.stats.created);
                tracing::info!(gateway = %g.id, address = %device.address, enabled = g.enabled,
                    "ESPHome device found by mDNS: gateway created");
                (g, EventType::Created)
            }
            Plan::Readdress(g) => {
                self.store.update(&g).await?;
                bump(&self.stats.readdressed);
                tracing::info!(gateway = %g.id, address = %device.address,
                    "ESPHome device moved: gateway follows");
                (g, EventType::Updated)
            }
        };
        let doc = to_document(&gateway)?;
        let event = Event::new(event_type, EntityKind::Gateway, &gateway.id, doc);
        self.bus.publish_json(&event.subject(), &event).await?;
        Ok(())
    }
}
