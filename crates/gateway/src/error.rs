use switchyard_core::bus::BusError;
use switchyard_core::storage::StorageError;
use thiserror::Error;

/// Errors of a transport: configuration, connecting, and a connection that ended.
#[derive(Debug, Error)]
pub enum TransportError {
    #[error("invalid {transport} config: {reason}")]
    Config {
        transport: &'static str,
        reason: String,
    },
    #[error("cannot connect to {target}: {reason}")]
    Connect { target: String, reason: String },
    /// The connection ended: the gateway goes down and is restarted after `reconnectDelay`.
    #[error("connection lost: {0}")]
    Lost(String),
    /// One frame could not be sent; the connection itself carries on.
    #[error("cannot send: {0}")]
    Send(String),
    #[error("http: {0}")]
    Http(String),
}

/// Errors of the gateway runtime and of providers.
#[derive(Debug, Error)]
pub enum GatewayError {
    #[error("invalid gateway config: {0}")]
    Config(String),
    #[error("unknown provider type `{given}` (known: {known})")]
    UnknownProvider { given: String, known: String },
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("the gateway is not connected")]
    NotConnected,
    /// The provider cannot express this message for its devices; retrying will not help.
    #[error("unsupported message: {0}")]
    Unsupported(String),
    #[error("no acknowledgement for `{key}` after {attempts} attempt(s) of {timeout:?} each")]
    NoAck {
        key: String,
        attempts: u32,
        timeout: std::time::Duration,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl GatewayError {
    /// Whether sending again later might succeed (so a failed message may wait in the sleeping
    /// queue). An unsupported message or a bad config never will.
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            GatewayError::Unsupported(_)
                | GatewayError::Config(_)
                | GatewayError::UnknownProvider { .. }
        )
    }
}
