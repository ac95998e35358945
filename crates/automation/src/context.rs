//! What every automation service shares: storage, bus, clock, script engine, time zone.

use crate::clock::Clock;
use crate::config::AutomationConfig;
use crate::error::AutomationError;
use chrono_tz::Tz;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::bus::Bus;
use switchyard_core::metrics::MetricStore;
use switchyard_core::model::{Settings, SystemSettings};
use switchyard_core::store::Store;
use switchyard_script::sun::{Location, location_from};
use switchyard_script::{ScriptEngine, Templates};

pub struct Context {
    pub store: Store,
    pub bus: Arc<dyn Bus>,
    pub clock: Clock,
    pub scripts: ScriptEngine,
    pub tz: Tz,
    pub config: AutomationConfig,
    /// Where backups go (`<data_dir>/backups/…`).
    pub data_dir: PathBuf,
    /// The metric store, where this process runs it (backups that include the history).
    pub metrics: Option<Arc<dyn MetricStore>>,
}

impl Context {
    pub fn new(
        store: Store,
        bus: Arc<dyn Bus>,
        config: AutomationConfig,
        data_dir: PathBuf,
        clock: Clock,
    ) -> Result<Arc<Self>, AutomationError> {
        Self::with_metrics(store, bus, config, data_dir, clock, None)
    }

    /// As [`Context::new`], with the process's metric store.
    pub fn with_metrics(
        store: Store,
        bus: Arc<dyn Bus>,
        config: AutomationConfig,
        data_dir: PathBuf,
        clock: Clock,
        metrics: Option<Arc<dyn MetricStore>>,
    ) -> Result<Arc<Self>, AutomationError> {
        let tz = timezone(&config.timezone)?;
        let scripts = ScriptEngine::new(config.script.clone())?;
        for (key, value) in [
            ("task.evaluation_timeout", &config.task.evaluation_timeout),
            ("handler.timeout", &config.handler.timeout),
            (
                "forward_payload.hop_window",
                &config.forward_payload.hop_window,
            ),
        ] {
            switchyard_core::value::parse_std_duration(value)
                .map_err(|e| AutomationError::config(format!("automation.{key}: {e}")))?;
        }
        Ok(Arc::new(Context {
            store,
            bus,
            clock,
            scripts,
            tz,
            config,
            data_dir,
            metrics,
        }))
    }

    pub fn duration(&self, s: &str) -> Duration {
        switchyard_core::value::parse_std_duration(s).unwrap_or(Duration::from_secs(30))
    }

    /// The system's location (`system_settings.geoLocation`), read fresh so edits apply at once.
    pub async fn location(&self) -> Option<Location> {
        let settings = self
            .store
            .get::<Settings>(Settings::SYSTEM)
            .await
            .ok()
            .flatten()?;
        let sys: SystemSettings =
            serde_json::from_value(serde_json::Value::Object(settings.spec)).ok()?;
        location_from(&sys.geo_location)
    }

    /// Templates at the current location, in the configured time zone, on this clock.
    pub async fn templates(&self) -> Templates {
        let clock = self.clock.clone();
        Templates::new(self.tz, self.location().await, move || clock.now())
    }
}

/// The configured time zone, or the system's (UTC when it cannot be told).
pub fn timezone(name: &str) -> Result<Tz, AutomationError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(iana_time_zone::get_timezone()
            .ok()
            .and_then(|n| n.parse::<Tz>().ok())
            .unwrap_or(Tz::UTC));
    }
    name.parse::<Tz>().map_err(|_| {
        AutomationError::config(format!("automation.timezone: unknown time zone `{name}`"))
    })
}
