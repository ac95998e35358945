//! Who listens on what. Publishers read it under a shared lock and never await while holding it;
//! whatever must wait is handed back to the publisher as [`Stalled`].

use crate::drop_log::DropLog;
use crate::stalled::Stalled;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use switchyard_core::bus::{BusMessage, subject_matches};
use tokio::sync::mpsc::{self, error::TrySendError};

/// One message shared by every subscriber it goes to: fanning out copies a pointer, not the
/// subject. A subscriber that is the only holder takes it without a copy.
pub(crate) type Shared = Arc<BusMessage>;

pub(crate) struct Subscriber {
    id: u64,
    pub pattern: String,
    pub group: Option<String>,
    pub queue: mpsc::Sender<Shared>,
    /// A group's members share one, so a stuck group logs like one subscriber.
    pub drops: Arc<Mutex<DropLog>>,
}

/// Subscribers sharing a pattern and a group name; each message goes to one of them. The same
/// group name on another pattern is another group here. NATS differs: it groups queue
/// subscribers by name alone, across patterns, so a message matching `a.*` and `a.b` in group `g`
/// reaches one member there but one per pattern here. Give each group name one pattern only so
/// both buses behave alike.
struct QueueGroup {
    pattern: String,
    name: String,
    members: Vec<Arc<Subscriber>>,
    /// Where the next round-robin search starts; atomic so concurrent publishers rotate too.
    next: AtomicUsize,
    drops: Arc<Mutex<DropLog>>,
}

enum GroupOffer {
    Delivered,
    /// Every open member was full.
    Full,
    /// Every member is closing.
    NoneOpen,
}

impl QueueGroup {
    fn offer(&self, message: &Shared) -> GroupOffer {
        let n = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut outcome = GroupOffer::NoneOpen;
        for i in 0..n {
            let member = &self.members[start.wrapping_add(i) % n];
            match member.queue.try_send(message.clone()) {
                Ok(()) => return GroupOffer::Delivered,
                Err(TrySendError::Full(_)) => outcome = GroupOffer::Full,
                Err(TrySendError::Closed(_)) => {}
            }
        }
        outcome
    }
}

/// What offering one message to every matching subscription achieved without waiting.
#[derive(Default)]
pub(crate) struct Offer {
    /// Open subscriptions whose pattern matched; a queue group counts once.
    pub matched: usize,
    pub delivered: u64,
    /// Matching subscriptions that were full: the publisher waits for them after it has released
    /// the lock.
    pub stalled: Vec<Stalled>,
}

#[derive(Default)]
pub(crate) struct Registry {
    plain: Vec<Arc<Subscriber>>,
    groups: Vec<QueueGroup>,
    len: usize,
}

impl Registry {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn insert(
        &mut self,
        id: u64,
        pattern: &str,
        group: Option<&str>,
        queue: mpsc::Sender<Shared>,
    ) {
        self.len += 1;
        let subscriber = |drops| {
            Arc::new(Subscriber {
                id,
                pattern: pattern.into(),
                group: group.map(Into::into),
                queue,
                drops,
            })
        };
        let Some(name) = group else {
            self.plain.push(subscriber(Arc::default()));
            return;
        };
        match self
            .groups
            .iter_mut()
            .find(|g| g.name == name && g.pattern == pattern)
        {
            Some(group) => group.members.push(subscriber(group.drops.clone())),
            None => {
                let drops = Arc::default();
                self.groups.push(QueueGroup {
                    pattern: pattern.into(),
                    name: name.into(),
                    members: vec![subscriber(Arc::clone(&drops))],
                    next: AtomicUsize::new(0),
                    drops,
                });
            }
        }
    }

    pub fn remove(&mut self, id: u64) {
        let before = self.plain.len();
        self.plain.retain(|s| s.id != id);
        let mut removed = before - self.plain.len();
        for group in &mut self.groups {
            let before = group.members.len();
            group.members.retain(|s| s.id != id);
            removed += before - group.members.len();
        }
        self.groups.retain(|g| !g.members.is_empty());
        self.len -= removed;
    }

    /// Puts `message` into every matching queue that has room, and into one member's queue per
    /// matching group, preferring the member whose turn it is.
    pub fn offer(&self, message: &Shared, offer: &mut Offer) {
        for subscriber in &self.plain {
            if !subject_matches(&subscriber.pattern, &message.subject) {
                continue;
            }
            match subscriber.queue.try_send(message.clone()) {
                Ok(()) => {
                    offer.matched += 1;
                    offer.delivered += 1;
                }
                Err(TrySendError::Full(_)) => {
                    offer.matched += 1;
                    offer.stalled.push(Stalled::new(vec![subscriber.clone()]));
                }
                // Its Subscription is being dropped and is about to unregister it.
                Err(TrySendError::Closed(_)) => {}
            }
        }
        for group in &self.groups {
            if !subject_matches(&group.pattern, &message.subject) {
                continue;
            }
            match group.offer(message) {
                GroupOffer::Delivered => {
                    offer.matched += 1;
                    offer.delivered += 1;
                }
                GroupOffer::Full => {
                    offer.matched += 1;
                    offer.stalled.push(Stalled::new(group.members.clone()));
                }
                GroupOffer::NoneOpen => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subscribes and returns the reading end.
    fn subscribe(
        registry: &mut Registry,
        id: u64,
        pattern: &str,
        group: Option<&str>,
        capacity: usize,
    ) -> mpsc::Receiver<Shared> {
        let (queue, rx) = mpsc::channel(capacity);
        registry.insert(id, pattern, group, queue);
        rx
    }

    fn message(subject: &str) -> Shared {
        Arc::new(BusMessage::new(subject, "x"))
    }

    fn offer(registry: &Registry, subject: &str) -> Offer {
        let mut offer = Offer::default();
        registry.offer(&message(subject), &mut offer);
        offer
    }

    #[test]
    fn a_group_prefers_a_member_with_room_and_waits_for_any_when_all_are_full() {
        let mut registry = Registry::default();
        let mut a_rx = subscribe(&mut registry, 1, "job", Some("workers"), 1);
        let mut b_rx = subscribe(&mut registry, 2, "job", Some("workers"), 1);

        // Round robin: a, then b; both are full afterwards.
        assert_eq!(offer(&registry, "job").delivered, 1);
        assert_eq!(offer(&registry, "job").delivered, 1);
        assert!(a_rx.try_recv().is_ok());
        assert!(b_rx.try_recv().is_ok());
        assert_eq!(offer(&registry, "job").delivered, 1);
        assert_eq!(offer(&registry, "job").delivered, 1);

        // Only b has room; it is a's turn, but b takes the message.
        assert!(b_rx.try_recv().is_ok());
        assert_eq!(offer(&registry, "job").delivered, 1);
        assert!(b_rx.try_recv().is_ok());
        assert!(b_rx.try_recv().is_err());
        assert!(a_rx.try_recv().is_ok());
        assert!(a_rx.try_recv().is_err());

        // Everyone full: the publisher waits once, for whichever member makes room.
        assert_eq!(offer(&registry, "job").delivered, 1);
        assert_eq!(offer(&registry, "job").delivered, 1);
        let all_full = offer(&registry, "job");
        assert_eq!(
            (all_full.matched, all_full.delivered, all_full.stalled.len()),
            (1, 0, 1)
        );
        assert_eq!(all_full.stalled[0].candidates(), 2);
    }

    #[test]
    fn the_same_group_name_on_another_pattern_is_another_group() {
        let mut registry = Registry::default();
        let _a_rx = subscribe(&mut registry, 1, "a.*", Some("g"), 4);
        let _b_rx = subscribe(&mut registry, 2, "a.b", Some("g"), 4);
        let offered = offer(&registry, "a.b");
        assert_eq!((offered.matched, offered.delivered), (2, 2));
    }

    #[test]
    fn closed_subscribers_do_not_count_as_matched() {
        let mut registry = Registry::default();
        let plain_rx = subscribe(&mut registry, 1, "a", None, 1);
        let member_rx = subscribe(&mut registry, 2, "a", Some("g"), 1);
        drop((plain_rx, member_rx));
        let offered = offer(&registry, "a");
        assert_eq!(
            (offered.matched, offered.delivered, offered.stalled.len()),
            (0, 0, 0)
        );
    }

    #[test]
    fn removing_keeps_the_count_and_drops_empty_groups() {
        let mut registry = Registry::default();
        let _a = subscribe(&mut registry, 1, "a", None, 1);
        let _b = subscribe(&mut registry, 2, "a", Some("g"), 1);
        let _c = subscribe(&mut registry, 3, "a", Some("g"), 1);
        assert_eq!((registry.len(), registry.groups.len()), (3, 1));
        registry.remove(3);
        registry.remove(2);
        assert_eq!((registry.len(), registry.groups.len()), (1, 0));
        registry.remove(2);
        assert_eq!(registry.len(), 1, "removing twice is harmless");
        registry.remove(1);
        assert_eq!(registry.len(), 0);
    }
}
