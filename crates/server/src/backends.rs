//! The one place that turns a `storage:` or `metrics:` section into a running backend, including
//! the heavy ones built only with their cargo feature (`storage-postgres`, `storage-mongodb`,
//! `metrics-influxdb`). A config naming a backend this build lacks is refused with the feature
//! to enable.

use anyhow::{Context, bail};
use std::path::Path;
use std::sync::Arc;
use switchyard_core::metrics::MetricStore;
use switchyard_core::storage::Storage;
use switchyard_metrics::MetricsConfig;
use switchyard_storage::StorageConfig;

pub async fn open_storage(
    config: &StorageConfig,
    data_dir: &Path,
) -> anyhow::Result<Arc<dyn Storage>> {
    match config {
        #[cfg(feature = "storage-postgres")]
        StorageConfig::Postgres(c) => Ok(Arc::new(
            switchyard_storage_postgres::PostgresStorage::open(c)
                .await
                .with_context(|| format!("opening PostgreSQL storage (schema `{}`)", c.schema))?,
        )),
        #[cfg(feature = "storage-mongodb")]
        StorageConfig::Mongodb(c) => Ok(Arc::new(
            switchyard_storage_mongodb::MongodbStorage::open(c)
                .await
                .with_context(|| format!("opening MongoDB storage (database `{}`)", c.database))?,
        )),
        #[allow(unreachable_patterns)]
        StorageConfig::Postgres(_) | StorageConfig::Mongodb(_) => bail!(
            "storage type `{0}` is not in this build of switchyard; rebuild with `--features storage-{0}`",
            config.type_name()
        ),
        _ => Ok(switchyard_storage::open(config, data_dir).await?),
    }
}

pub async fn open_metrics(
    config: &MetricsConfig,
    data_dir: &Path,
) -> anyhow::Result<Arc<dyn MetricStore>> {
    match config {
        #[cfg(feature = "metrics-influxdb")]
        MetricsConfig::Influxdb(c) => Ok(Arc::new(
            switchyard_metrics_influxdb::InfluxMetricStore::open(c)
                .await
                .context("opening the InfluxDB metric store")?,
        )),
        #[allow(unreachable_patterns)]
        MetricsConfig::Influxdb(_) => {
            bail!(
                "metrics type `influxdb` is not in this build of switchyard; rebuild with `--features metrics-influxdb`"
            )
        }
        _ => Ok(switchyard_metrics::open(config, data_dir).await?),
    }
}
