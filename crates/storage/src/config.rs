//! The `storage:` section of the configuration. Every key has a default, so an empty section
//! (or none at all) gives the embedded backend.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchyard_core::storage::StorageError;

/// Which backend holds the resources, and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StorageConfig {
    /// Every write is on disk before it is acknowledged (`<data_dir>/storage/switchyard.redb`).
    Embedded(EmbeddedConfig),
    /// MyController's mode: everything in RAM, dumped to files every `dump_interval`. Writes made
    /// since the last dump are lost if the process dies.
    Memory(MemoryConfig),
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig::Embedded(EmbeddedConfig::default())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedConfig {
    /// Writes waiting for the disk. When this many are queued, further writers wait for room
    /// (backpressure) rather than piling up in memory.
    pub queue_capacity: usize,
    /// At most this many queued writes share one disk commit (one fsync).
    pub max_batch: usize,
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            queue_capacity: 1024,
            max_batch: 256,
        }
    }
}

impl EmbeddedConfig {
    pub(crate) fn validate(&self) -> Result<(), StorageError> {
        if self.queue_capacity == 0 || self.max_batch == 0 {
            return Err(StorageError::Backend(
                "storage queue_capacity and max_batch must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MemoryConfig {
    /// How often changes are written to the dump files, e.g. `30s`, `1m`, `1h`. Changes made
    /// after the last dump are lost if the process dies; a clean shutdown always dumps.
    pub dump_interval: String,
    /// `yaml` or `json`: the format of the dump files `<data_dir>/storage/<entity>.<format>`.
    pub dump_format: DumpFormat,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            dump_interval: "1m".into(),
            dump_format: DumpFormat::Yaml,
        }
    }
}

impl MemoryConfig {
    pub(crate) fn interval(&self) -> Result<Duration, StorageError> {
        let bad = |reason: String| {
            StorageError::Backend(format!(
                "storage dump_interval `{}`: {reason}",
                self.dump_interval
            ))
        };
        let interval = switchyard_core::value::parse_std_duration(&self.dump_interval)
            .map_err(|e| bad(e.to_string()))?;
        if interval.is_zero() {
            return Err(bad("must be longer than zero".into()));
        }
        Ok(interval)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DumpFormat {
    #[default]
    Yaml,
    Json,
}

impl DumpFormat {
    pub fn extension(self) -> &'static str {
        match self {
            DumpFormat::Yaml => "yaml",
            DumpFormat::Json => "json",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_a_default() {
        let empty: StorageConfig = serde_norway::from_str("type: memory").unwrap();
        assert_eq!(empty, StorageConfig::Memory(MemoryConfig::default()));
        let empty: StorageConfig = serde_norway::from_str("type: embedded").unwrap();
        assert_eq!(empty, StorageConfig::default());
    }

    #[test]
    fn reads_the_documented_keys() {
        let yaml = "type: memory\ndump_interval: 30s\ndump_format: json\n";
        let config: StorageConfig = serde_norway::from_str(yaml).unwrap();
        let StorageConfig::Memory(memory) = config else {
            panic!("expected memory, got {config:?}");
        };
        assert_eq!(memory.dump_format, DumpFormat::Json);
        assert_eq!(memory.interval().unwrap(), Duration::from_secs(30));
        let yaml = "type: embedded\nqueue_capacity: 8\nmax_batch: 4\n";
        let config: StorageConfig = serde_norway::from_str(yaml).unwrap();
        assert_eq!(
            config,
            StorageConfig::Embedded(EmbeddedConfig {
                queue_capacity: 8,
                max_batch: 4
            })
        );
    }

    #[test]
    fn rejects_typos_and_bad_values() {
        assert!(
            serde_norway::from_str::<StorageConfig>("type: memory\ndump_intervall: 1s").is_err()
        );
        assert!(serde_norway::from_str::<StorageConfig>("type: postgres").is_err());
        for bad in ["soon", "0s", "-1m"] {
            let config = MemoryConfig {
                dump_interval: bad.into(),
                ..MemoryConfig::default()
            };
            let err = config.interval().unwrap_err().to_string();
            assert!(err.contains("dump_interval"), "{err}");
        }
        let zero = EmbeddedConfig {
            queue_capacity: 0,
            ..EmbeddedConfig::default()
        };
        assert!(zero.validate().is_err());
    }
}
