//! The API's limits and timings, already parsed; the server builds it from its configuration.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long a login session lasts.
    pub session_ttl: chrono::Duration,
    /// Largest JSON request body; larger ones are refused with `payload_too_large`.
    pub max_body_bytes: usize,
    /// Longest a request may take (backups and uploads get [`ApiConfig::long_request_timeout`]);
    /// past it the answer is `timeout` and the handler is dropped.
    pub request_timeout: Duration,
    pub long_request_timeout: Duration,
    /// Largest firmware file accepted by `/api/firmware/upload/{id}`.
    pub max_firmware_bytes: usize,
    /// Events a websocket client may have waiting; past it the client is disconnected.
    pub ws_queue: usize,
    /// How often the server pings each websocket client.
    pub ws_ping_interval: Duration,
    /// Failed logins per username within [`ApiConfig::login_window`] before logins of that
    /// username are refused until the window has passed.
    pub login_max_failures: u32,
    pub login_window: Duration,
    /// Backup archives kept in `<data_dir>/backups`; the oldest go first.
    pub backup_retention: usize,
    /// Largest backup archive accepted (upload) and largest total it may unpack to.
    pub max_backup_bytes: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            session_ttl: chrono::Duration::hours(24),
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            long_request_timeout: Duration::from_secs(600),
            max_firmware_bytes: 2 * 1024 * 1024,
            ws_queue: 256,
            ws_ping_interval: Duration::from_secs(30),
            login_max_failures: 5,
            login_window: Duration::from_secs(60),
            backup_retention: 10,
            max_backup_bytes: 512 * 1024 * 1024,
        }
    }
}
