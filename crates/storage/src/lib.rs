//! Storage backends for Switchyard's resources: `embedded` (the default; every write on disk
//! before it is acknowledged) and `memory` (MyController's RAM store with periodic dumps). Both
//! serve reads from one in-memory table ([`table`]) and must pass [`conformance`], which future
//! backends reuse.

pub mod config;
pub mod conformance;
pub mod embedded;
pub mod memory;
mod table;

pub use config::{
    DumpFormat, EmbeddedConfig, MemoryConfig, MongodbConfig, PostgresConfig, StorageConfig,
};
pub use embedded::EmbeddedStorage;
pub use memory::MemoryStorage;

use std::path::Path;
use std::sync::Arc;
use switchyard_core::storage::{Storage, StorageError};

/// Opens the configured backend in `<data_dir>/storage/`, creating the directory as needed.
pub async fn open(
    config: &StorageConfig,
    data_dir: &Path,
) -> Result<Arc<dyn Storage>, StorageError> {
    let dir = data_dir.join("storage");
    Ok(match config {
        StorageConfig::Embedded(c) => Arc::new(EmbeddedStorage::open(&dir, c).await?),
        StorageConfig::Memory(c) => Arc::new(MemoryStorage::open(&dir, c).await?),
        // The server backends live in their own crates (heavy dependencies, cargo features of
        // the server); the server opens them. Reaching this means a caller bypassed it.
        StorageConfig::Postgres(_) | StorageConfig::Mongodb(_) => {
            return Err(StorageError::Backend(format!(
                "storage type `{}` is opened by the server (switchyard-server's backends), not here",
                config.type_name()
            )));
        }
    })
}

impl StorageConfig {
    /// The `type:` of the section.
    pub fn type_name(&self) -> &'static str {
        match self {
            StorageConfig::Embedded(_) => "embedded",
            StorageConfig::Memory(_) => "memory",
            StorageConfig::Postgres(_) => "postgres",
            StorageConfig::Mongodb(_) => "mongodb",
        }
    }
}
