use crate::embedded::Inner;
use crate::registry::Shared;
use futures::Stream;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use switchyard_core::bus::BusMessage;
use tokio::sync::mpsc;

/// The reading end of one subscription, behind a core `Subscription`.
pub(crate) struct SubscriberQueue {
    // Dropped first: closing the queue wakes publishers waiting on it before it is unregistered.
    queue: mpsc::Receiver<Shared>,
    _registration: Registration,
}

impl SubscriberQueue {
    pub fn new(queue: mpsc::Receiver<Shared>, id: u64, bus: Weak<Inner>) -> Self {
        SubscriberQueue {
            queue,
            _registration: Registration { id, bus },
        }
    }
}

impl Stream for SubscriberQueue {
    type Item = BusMessage;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<BusMessage>> {
        self.queue
            .poll_recv(cx)
            .map(|message| message.map(Arc::unwrap_or_clone))
    }
}

/// Unsubscribes on drop, so a service that forgets a subscription cannot leave the bus filling a
/// queue nobody reads. Weak, so subscriptions do not keep a dropped bus alive; when the bus goes,
/// its queues close and every subscription ends.
struct Registration {
    id: u64,
    bus: Weak<Inner>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(bus) = self.bus.upgrade() {
            bus.registry.write().remove(self.id);
        }
    }
}
