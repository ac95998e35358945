use serde::{Deserialize, Serialize};

/// `processor:` in the config file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessorConfig {
    /// Parallel workers. Messages of one node always go to the same worker, in order; more workers
    /// let more writes share one disk sync.
    pub workers: usize,
    /// Messages waiting per worker. At the bound the processor stops taking messages from the bus,
    /// whose own overload policy then applies (the publisher waits, then the message is dropped
    /// and counted).
    pub queue_capacity: usize,
    /// Largest accepted message on the bus, in bytes; larger ones are rejected unread.
    pub max_message_bytes: usize,
    /// Most payloads in one message.
    pub max_payloads: usize,
    /// Longest payload value, in bytes.
    pub max_value_bytes: usize,
}

impl Default for ProcessorConfig {
    fn default() -> Self {
        ProcessorConfig {
            workers: 32,
            queue_capacity: 1024,
            max_message_bytes: 256 * 1024,
            max_payloads: 256,
            max_value_bytes: 64 * 1024,
        }
    }
}
