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
    /// PostgreSQL: one table per entity kind, documents as JSONB. Opened by the server when it is
    /// built with the `storage-postgres` feature (crate `switchyard-storage-postgres`).
    Postgres(PostgresConfig),
    /// MongoDB: one collection per entity kind. Opened by the server when it is built with the
    /// `storage-mongodb` feature (crate `switchyard-storage-mongodb`).
    Mongodb(MongodbConfig),
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// `postgres://user:password@host:5432/database`; `?sslmode=require` for TLS (rustls).
    pub url: String,
    /// Schema holding the tables; created if missing.
    pub schema: String,
    /// Tables are `<table_prefix><entity>`, e.g. `sy_node`.
    pub table_prefix: String,
    /// Most connections in the pool.
    pub max_connections: u32,
    /// Longest wait for a connection (from the pool or a new one) before a call fails.
    pub connect_timeout: String,
    /// How long a call keeps retrying while the server is unreachable (restart, failover) before
    /// it fails. A write is retried only when it never reached COMMIT, so none is applied twice.
    pub retry_for: String,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            url: "postgres://postgres@127.0.0.1:5432/switchyard".into(),
            schema: "public".into(),
            table_prefix: "sy_".into(),
            max_connections: 10,
            connect_timeout: "10s".into(),
            retry_for: "30s".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MongodbConfig {
    /// `mongodb://user:password@host:27017/?tls=true` (TLS through rustls). `mongodb+srv://`
    /// is not supported: the build has no DNS resolver for it; list the hosts instead.
    pub url: String,
    /// Database holding the collections (lower-case letters, digits and `_`).
    pub database: String,
    /// Collections are `<collection_prefix><entity>`, e.g. `sy_node`, plus `<prefix>journal`.
    pub collection_prefix: String,
    /// Longest wait for the server on connect and, while it is unreachable, on each call.
    pub connect_timeout: String,
}

impl Default for MongodbConfig {
    fn default() -> Self {
        MongodbConfig {
            url: "mongodb://127.0.0.1:27017".into(),
            database: "switchyard".into(),
            collection_prefix: "sy_".into(),
            connect_timeout: "10s".into(),
        }
    }
}

/// A name interpolated into SQL or used as a collection name: letters, digits and `_` only, so
/// no quoting question ever arises.
pub fn check_identifier(key: &str, value: &str, allow_empty: bool) -> Result<(), StorageError> {
    let ok = (allow_empty || !value.is_empty())
        && value.len() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !value.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(StorageError::Backend(format!(
            "storage {key} `{value}`: use lower-case letters, digits and _ (at most 40, not starting with a digit)"
        )))
    }
}

/// A positive duration key of a storage section.
pub fn parse_duration(key: &str, value: &str) -> Result<Duration, StorageError> {
    let d = switchyard_core::value::parse_std_duration(value)
        .map_err(|e| StorageError::Backend(format!("storage {key} `{value}`: {e}")))?;
    if d.is_zero() {
        return Err(StorageError::Backend(format!(
            "storage {key} `{value}`: must be longer than zero"
        )));
    }
    Ok(d)
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
    fn reads_the_server_backends() {
        let yaml = "type: postgres\nurl: postgres://u@db/x\nschema: sy\n";
        let StorageConfig::Postgres(pg) = serde_norway::from_str(yaml).unwrap() else {
            panic!("expected postgres");
        };
        assert_eq!(
            (pg.url.as_str(), pg.schema.as_str()),
            ("postgres://u@db/x", "sy")
        );
        assert_eq!(pg.table_prefix, "sy_");
        let yaml = "type: mongodb\ncollection_prefix: mc_\n";
        let StorageConfig::Mongodb(m) = serde_norway::from_str(yaml).unwrap() else {
            panic!("expected mongodb");
        };
        assert_eq!(m.collection_prefix, "mc_");
        assert!(check_identifier("schema", "sy_test_1", false).is_ok());
        for bad in ["", "Public", "a-b", "x;drop", "1abc"] {
            assert!(check_identifier("schema", bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_typos_and_bad_values() {
        assert!(
            serde_norway::from_str::<StorageConfig>("type: memory\ndump_intervall: 1s").is_err()
        );
        assert!(serde_norway::from_str::<StorageConfig>("type: floppy").is_err());
        assert!(
            serde_norway::from_str::<StorageConfig>("type: postgres\nurll: x").is_err(),
            "typos in the new backends' keys too"
        );
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
