use crate::auth::{LoginLimiter, Sessions};
use crate::config::ApiConfig;
use crate::ws::WsHub;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use switchyard_core::bus::Bus;
use switchyard_core::metrics::MetricStore;
use switchyard_core::store::Store;

/// What `/api/status` reports about the running services, supplied by the server's wiring.
pub type StatusSource = Arc<dyn Fn() -> serde_json::Value + Send + Sync>;

#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub bus: Arc<dyn Bus>,
    pub metrics: Arc<dyn MetricStore>,
    pub sessions: Arc<Sessions>,
    pub logins: Arc<LoginLimiter>,
    pub ws: Arc<WsHub>,
    pub config: Arc<ApiConfig>,
    /// Firmware files live in `<data_dir>/firmware`, backups in `<data_dir>/backups`.
    pub data_dir: PathBuf,
    pub started: Instant,
    pub status: StatusSource,
}

impl ApiState {
    pub fn new(
        store: Store,
        bus: Arc<dyn Bus>,
        metrics: Arc<dyn MetricStore>,
        data_dir: PathBuf,
        config: ApiConfig,
        status: StatusSource,
    ) -> Self {
        ApiState {
            store,
            sessions: Arc::new(Sessions::new(config.session_ttl)),
            logins: Arc::new(LoginLimiter::new(
                config.login_max_failures,
                config.login_window,
            )),
            ws: Arc::new(WsHub::new(bus.clone(), config.ws_queue)),
            bus,
            metrics,
            config: Arc::new(config),
            data_dir,
            started: Instant::now(),
            status,
        }
    }

    pub fn firmware_dir(&self) -> PathBuf {
        self.data_dir.join("firmware")
    }

    pub fn backup_dir(&self) -> PathBuf {
        self.data_dir.join("backups")
    }
}
