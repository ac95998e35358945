//! The configuration: defaults, then the YAML file, then `SWITCHYARD__…` environment variables,
//! then command-line flags. `default.yaml` is the documented default (`switchyard config default`);
//! a test keeps it equal to [`Config::default`] so the documentation cannot drift.

mod env;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use switchyard_automation::AutomationConfig;
use switchyard_bus::EmbeddedBusConfig;
#[cfg(feature = "bus-nats")]
use switchyard_bus_nats::NatsBusConfig;
use switchyard_core::service_filter::ServiceFilter;
use switchyard_metrics::MetricsConfig;
use switchyard_processor::ProcessorConfig;
use switchyard_storage::StorageConfig;

pub const DEFAULT_YAML: &str = include_str!("default.yaml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub log: LogConfig,
    pub bus: BusConfig,
    pub process: ProcessConfig,
    pub storage: StorageConfig,
    pub metrics: MetricsConfig,
    pub processor: ProcessorConfig,
    pub automation: AutomationConfig,
    pub auth: AuthConfig,
    pub backup: BackupConfig,
    pub discovery: DiscoveryConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("switchyard-data"),
            http: HttpConfig::default(),
            log: LogConfig::default(),
            bus: BusConfig::default(),
            process: ProcessConfig::default(),
            storage: StorageConfig::default(),
            metrics: MetricsConfig::default(),
            processor: ProcessorConfig::default(),
            automation: AutomationConfig::default(),
            auth: AuthConfig::default(),
            backup: BackupConfig::default(),
            discovery: DiscoveryConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub address: String,
    /// Largest request body in bytes (uploads have their own limits).
    pub max_body_bytes: usize,
    /// Longest a request may take; backups and uploads get `long_request_timeout`.
    pub request_timeout: String,
    pub long_request_timeout: String,
    /// Largest firmware file accepted by an upload, in bytes.
    pub max_firmware_bytes: usize,
    /// Events a websocket client may have waiting; past it the client is disconnected.
    pub ws_queue: usize,
    pub ws_ping_interval: String,
    /// Serve the web console from this directory instead of the copy built into the binary.
    pub web_dir: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            address: "0.0.0.0:8080".into(),
            max_body_bytes: 1024 * 1024,
            request_timeout: "30s".into(),
            long_request_timeout: "10m".into(),
            max_firmware_bytes: 2 * 1024 * 1024,
            ws_queue: 256,
            ws_ping_interval: "30s".into(),
            web_dir: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// Which bus connects the services. NATS joins in distributed mode (a later release).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusConfig {
    Embedded(EmbeddedBusConfig),
    /// NATS (distributed mode), with durable delivery on JetStream; cargo feature `bus-nats`.
    #[cfg(feature = "bus-nats")]
    Nats(Box<NatsBusConfig>),
}

/// This process in distributed mode: its name, the services it runs, liveness, and which
/// gateways it owns. See docs/deployment.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessConfig {
    /// Shown in /api/status and used in liveness; empty: the host name.
    pub name: String,
    /// `all`, or some of: core, processor, gateway, handler, task, scheduler, forward_payload.
    pub services: Vec<String>,
    pub announce_interval: String,
    pub down_after: String,
    pub rpc_timeout: String,
    /// Which gateways this process runs (ids, provider types, labels); empty: all.
    pub gateways: ServiceFilter,
}

impl Default for ProcessConfig {
    fn default() -> Self {
        ProcessConfig {
            name: String::new(),
            services: vec!["all".into()],
            announce_interval: "2s".into(),
            down_after: "6s".into(),
            rpc_timeout: "10s".into(),
            gateways: ServiceFilter::default(),
        }
    }
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig::Embedded(EmbeddedBusConfig::default())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub session_ttl: String,
    /// Failed logins of one username within `login_window` before its logins are refused until
    /// the window has passed.
    pub login_max_failures: u32,
    pub login_window: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_ttl: "24h".into(),
            login_max_failures: 5,
            login_window: "1m".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    /// Archives kept in `<data_dir>/backups`; the oldest beyond it are removed.
    pub retention: usize,
    /// Largest archive accepted, and largest total it may unpack to, in bytes.
    pub max_bytes: u64,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            retention: 10,
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

impl Config {
    /// The API's settings, with every duration parsed.
    pub fn api_config(&self) -> anyhow::Result<switchyard_api::ApiConfig> {
        fn duration(key: &str, v: &str) -> anyhow::Result<chrono::Duration> {
            switchyard_core::value::parse_duration(v)
                .ok()
                .filter(|d| *d > chrono::Duration::zero())
                .ok_or_else(|| anyhow::anyhow!("{key}: `{v}` is not a positive duration"))
        }
        fn std_duration(key: &str, v: &str) -> anyhow::Result<std::time::Duration> {
            duration(key, v)?
                .to_std()
                .map_err(|e| anyhow::anyhow!("{key}: {e}"))
        }
        Ok(switchyard_api::ApiConfig {
            session_ttl: duration("auth.session_ttl", &self.auth.session_ttl)?,
            max_body_bytes: self.http.max_body_bytes,
            request_timeout: std_duration("http.request_timeout", &self.http.request_timeout)?,
            long_request_timeout: std_duration(
                "http.long_request_timeout",
                &self.http.long_request_timeout,
            )?,
            max_firmware_bytes: self.http.max_firmware_bytes,
            ws_queue: self.http.ws_queue.max(1),
            ws_ping_interval: std_duration("http.ws_ping_interval", &self.http.ws_ping_interval)?,
            login_max_failures: self.auth.login_max_failures.max(1),
            login_window: std_duration("auth.login_window", &self.auth.login_window)?,
            backup_retention: self.backup.retention.max(1),
            max_backup_bytes: self.backup.max_bytes,
        })
    }
}

/// Reads the file (if any) and applies `SWITCHYARD__SECTION__KEY=value` variables from `vars`.
pub fn load(
    file: Option<&Path>,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<Config> {
    let text = match file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {}", path.display()))?,
        ),
        None => None,
    };
    let source = file
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "defaults and environment".into());
    parse(text.as_deref(), &source, vars)
}

/// [`load`] without the file system: the file's text (if any), named `source` in errors, then
/// the variables. Pure (the fuzz target `config_file` feeds it arbitrary text and variables).
pub fn parse(
    text: Option<&str>,
    source: &str,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<Config> {
    let mut tree: serde_norway::Value = match text {
        Some(text) => serde_norway::from_str(text)
            .with_context(|| format!("config file {source} is not valid YAML"))?,
        None => serde_norway::Value::Mapping(Default::default()),
    };
    if tree.is_null() {
        tree = serde_norway::Value::Mapping(Default::default());
    }
    env::apply(&mut tree, vars)?;
    serde_norway::from_value(tree).with_context(|| format!("invalid configuration ({source})"))
}

/// Finding devices on the network and creating gateways for them (docs/providers/esphome.md).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscoveryConfig {
    pub esphome: switchyard_gateway::providers::esphome::discovery::EsphomeDiscoveryConfig,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_yaml_is_the_default_config() {
        let parsed: Config = serde_norway::from_str(DEFAULT_YAML).unwrap();
        assert_eq!(parsed, Config::default());
    }

    /// Every key the program knows appears in the documented default file.
    #[test]
    fn default_yaml_documents_every_key() {
        fn keys(v: &serde_norway::Value, prefix: &str, out: &mut Vec<String>) {
            if let serde_norway::Value::Mapping(m) = v {
                for (k, v) in m {
                    let k = format!("{prefix}{}", k.as_str().unwrap_or_default());
                    out.push(k.clone());
                    keys(v, &format!("{k}."), out);
                }
            }
        }
        let (mut known, mut documented) = (Vec::new(), Vec::new());
        keys(
            &serde_norway::to_value(Config::default()).unwrap(),
            "",
            &mut known,
        );
        keys(
            &serde_norway::from_str(DEFAULT_YAML).unwrap(),
            "",
            &mut documented,
        );
        let missing: Vec<_> = known.iter().filter(|k| !documented.contains(k)).collect();
        assert!(
            missing.is_empty(),
            "keys missing from default.yaml: {missing:?}"
        );
    }

    #[test]
    fn environment_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        std::fs::write(
            &path,
            "http:\n  address: 127.0.0.1:1\nstorage:\n  type: memory\n",
        )
        .unwrap();
        let vars = [
            (
                "SWITCHYARD__HTTP__ADDRESS".to_string(),
                "127.0.0.1:2".to_string(),
            ),
            (
                "SWITCHYARD__STORAGE__DUMP_INTERVAL".to_string(),
                "5s".to_string(),
            ),
            (
                "SWITCHYARD__PROCESSOR__WORKERS".to_string(),
                "3".to_string(),
            ),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let cfg = load(Some(&path), vars.into_iter()).unwrap();
        assert_eq!(cfg.http.address, "127.0.0.1:2");
        assert_eq!(cfg.processor.workers, 3);
        match cfg.storage {
            StorageConfig::Memory(m) => assert_eq!(m.dump_interval, "5s"),
            other => panic!("expected memory storage, got {other:?}"),
        }
    }

    #[test]
    fn typos_are_errors_not_silence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        std::fs::write(&path, "htp:\n  address: x\n").unwrap();
        let err = load(Some(&path), std::iter::empty()).unwrap_err();
        assert!(format!("{err:#}").contains("htp"), "{err:#}");
    }
}
