//! Every way Tasmota input is rejected, with a reason a user can act on.

/// Why a Tasmota MQTT publish was not turned into messages, or a message not into a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TasmotaError {
    #[error("topic {0:?} does not match the full topic pattern")]
    Topic(String),
    #[error("payload of {len} bytes is larger than the {max} accepted")]
    TooLarge { len: usize, max: usize },
    #[error("payload is not UTF-8")]
    NotUtf8,
    #[error("payload of {topic} is not JSON: {reason}")]
    NotJson { topic: String, reason: String },
    #[error("payload of {topic} is JSON but not an object")]
    NotObject { topic: String },
    #[error("JSON nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("discovery for {mac}: {reason}")]
    Discovery { mac: String, reason: String },
    #[error("{0} cannot be sent to a Tasmota device")]
    Unsupported(String),
}

/// Error text quotes device input; long garbage is cut so a log line stays readable.
pub(crate) fn quote(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}
