//! The configuration: defaults, then the YAML file, then `SWITCHYARD__…` environment variables,
//! then command-line flags. `default.yaml` is the documented default (`switchyard config default`);
//! a test keeps it equal to [`Config::default`] so the documentation cannot drift.

mod env;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use switchyard_automation::AutomationConfig;
use switchyard_bus::EmbeddedBusConfig;
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
    pub storage: StorageConfig,
    pub metrics: MetricsConfig,
    pub processor: ProcessorConfig,
    pub automation: AutomationConfig,
    pub auth: AuthConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("switchyard-data"),
            http: HttpConfig::default(),
            log: LogConfig::default(),
            bus: BusConfig::default(),
            storage: StorageConfig::default(),
            metrics: MetricsConfig::default(),
            processor: ProcessorConfig::default(),
            automation: AutomationConfig::default(),
            auth: AuthConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    pub address: String,
    /// Serve the web console from this directory instead of the copy built into the binary.
    pub web_dir: Option<PathBuf>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            address: "0.0.0.0:8080".into(),
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
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_ttl: "24h".into(),
        }
    }
}

/// Reads the file (if any) and applies `SWITCHYARD__SECTION__KEY=value` variables from `vars`.
pub fn load(
    file: Option<&Path>,
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<Config> {
    let mut tree: serde_norway::Value = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config file {}", path.display()))?;
            serde_norway::from_str(&text)
                .with_context(|| format!("config file {} is not valid YAML", path.display()))?
        }
        None => serde_norway::Value::Mapping(Default::default()),
    };
    if tree.is_null() {
        tree = serde_norway::Value::Mapping(Default::default());
    }
    env::apply(&mut tree, vars)?;
    let source = file
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "defaults and environment".into());
    serde_norway::from_value(tree).with_context(|| format!("invalid configuration ({source})"))
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
