//! Waiting for a device's acknowledgement (an echo of what was sent).

use parking_lot::Mutex;
use std::collections::HashMap;
use tokio::sync::oneshot;

/// Senders waiting for an echo, by the provider's ack key.
///
/// Bounded by design: only a gateway's outbound worker and its sends in flight register, never two
/// for the same key at once, so the map holds at most the provider's `max_in_flight` keys (capped
/// by the outbound queue's size; a later registration of the same key replaces the earlier).
#[derive(Default)]
pub(crate) struct AckWaiters {
    waiting: Mutex<HashMap<String, oneshot::Sender<()>>>,
}

impl AckWaiters {
    /// Registers interest in `key` before the message is sent, so an echo arriving at once is
    /// not missed.
    pub fn register(&self, key: &str) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.waiting.lock().insert(key.to_string(), tx);
        rx
    }

    /// Completes the wait for `key`; false when nobody waited for it (a late or unsolicited echo).
    pub fn acknowledge(&self, key: &str) -> bool {
        match self.waiting.lock().remove(key) {
            Some(tx) => tx.send(()).is_ok(),
            None => false,
        }
    }

    pub fn forget(&self, key: &str) {
        self.waiting.lock().remove(key);
    }
}
