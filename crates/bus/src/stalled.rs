//! The publisher's slow path: a matching subscription had no room, and the publisher waits for
//! some, outside the registry lock.

use crate::registry::{Shared, Subscriber};
use futures::future::select_all;
use std::sync::Arc;

/// A subscription that could not take a message at once: a plain subscriber, or a queue group
/// whose members were all full.
pub(crate) struct Stalled {
    /// Any one of these taking the message delivers it.
    candidates: Vec<Arc<Subscriber>>,
}

pub(crate) enum Waited {
    Delivered,
    /// Every candidate closed while we waited; nobody is left to drop the message for.
    Closed,
}

impl Stalled {
    pub fn new(candidates: Vec<Arc<Subscriber>>) -> Self {
        Stalled { candidates }
    }

    #[cfg(test)]
    pub fn candidates(&self) -> usize {
        self.candidates.len()
    }

    /// Whom a drop is logged against: a group's members share their log and names.
    pub fn blame(&self) -> Option<&Subscriber> {
        self.candidates.first().map(|c| c.as_ref())
    }

    /// Waits until a candidate has room and gives it the message. A queue group waits for
    /// whichever member frees room first, so one stuck member cannot hold up the group.
    /// The caller bounds the wait.
    pub async fn wait_for_room(&self, message: &Shared) -> Waited {
        if let [only] = self.candidates.as_slice() {
            return match only.queue.send(message.clone()).await {
                Ok(()) => Waited::Delivered,
                Err(_) => Waited::Closed,
            };
        }
        let mut waits: Vec<_> = self
            .candidates
            .iter()
            .map(|c| Box::pin(c.queue.reserve()))
            .collect();
        while !waits.is_empty() {
            let (room, _, rest) = select_all(waits).await;
            match room {
                Ok(permit) => {
                    permit.send(message.clone());
                    return Waited::Delivered;
                }
                Err(_) => waits = rest,
            }
        }
        Waited::Closed
    }
}
