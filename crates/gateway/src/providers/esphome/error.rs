//! Every way ESPHome input is rejected, with a reason a user can act on.

use super::frame::FrameError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EsphomeError {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("message of type {message_type} is not valid protobuf: {reason}")]
    Protobuf { message_type: u32, reason: String },
    #[error("{0}")]
    Entity(String),
    #[error("{0}")]
    Value(String),
    #[error("{0} cannot be sent to an ESPHome device")]
    Unsupported(String),
}
