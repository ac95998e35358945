//! Ids of durable messages whose effect is committed, so a redelivery does nothing twice.
//!
//! A durable bus (NATS JetStream) delivers a message again when the processor dies between its
//! commit and its ack. Each worker keeps the ids of the last [`CAPACITY`] durable messages it
//! committed and writes them in the same atomic storage write as their effect (a `settings`
//! document `processor_delivered.<instance>.<worker>`), so after a crash the ids are exactly as
//! durable as the work. At start every such document is read back; a message whose id is among
//! them is acknowledged and skipped. The window only has to cover messages committed but not yet
//! acknowledged when the process died: at most a few batches per worker (a worker acks each
//! batch right after its commit), far below [`CAPACITY`]. Messages of the embedded bus carry no
//! delivery, and nothing is written for them.

use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use switchyard_core::EntityKind;
use switchyard_core::filter::Query;
use switchyard_core::storage::{StorageError, WriteOp};
use switchyard_core::store::Store;

/// Ids each worker remembers; its document stays around 10 KiB.
pub(crate) const CAPACITY: usize = 256;
const PREFIX: &str = "processor_delivered.";

/// Ids committed by earlier runs (any instance), read once at start.
pub(crate) async fn recover(store: &Store) -> Result<HashSet<String>, StorageError> {
    let page = store
        .backend()
        .find(EntityKind::Settings, &Query::default())
        .await?;
    let mut ids = HashSet::new();
    for doc in page.data {
        let mine = doc["id"].as_str().is_some_and(|id| id.starts_with(PREFIX));
        if let (true, Some(list)) = (mine, doc["spec"]["ids"].as_array()) {
            ids.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
        }
    }
    Ok(ids)
}

/// One worker's record.
pub(crate) struct Delivered {
    doc_id: String,
    ring: VecDeque<String>,
    set: HashSet<String>,
}

impl Delivered {
    pub fn new(instance: &str, worker: usize) -> Self {
        Delivered {
            doc_id: format!("{PREFIX}{instance}.{worker}"),
            ring: VecDeque::with_capacity(CAPACITY),
            set: HashSet::with_capacity(CAPACITY),
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    /// The write that records `ids` as committed, to go into the same batch as their effect.
    /// The record in memory changes only on [`Delivered::committed`].
    pub fn record_op(&self, ids: &[String]) -> WriteOp {
        let skip = (self.ring.len() + ids.len()).saturating_sub(CAPACITY);
        let all: Vec<&String> = self.ring.iter().chain(ids).skip(skip).collect();
        WriteOp::Upsert(
            EntityKind::Settings,
            json!({"id": self.doc_id, "spec": {"ids": all}}),
        )
    }

    pub fn committed(&mut self, ids: Vec<String>) {
        for id in ids {
            if self.ring.len() == CAPACITY
                && let Some(old) = self.ring.pop_front()
            {
                self.set.remove(&old);
            }
            self.set.insert(id.clone());
            self.ring.push_back(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_ids_up_to_the_capacity() {
        let mut d = Delivered::new("core", 3);
        let ids: Vec<String> = (0..CAPACITY + 10).map(|i| format!("m{i}")).collect();
        let WriteOp::Upsert(EntityKind::Settings, doc) = d.record_op(&ids) else {
            panic!("an upsert of a settings document");
        };
        assert_eq!(doc["id"], "processor_delivered.core.3");
        let stored = doc["spec"]["ids"].as_array().unwrap();
        assert_eq!(stored.len(), CAPACITY);
        assert_eq!(stored[0], "m10");
        assert!(!d.contains("m10"), "nothing recorded before the commit");
        d.committed(ids);
        assert!(!d.contains("m9"));
        assert!(d.contains("m10") && d.contains(&format!("m{}", CAPACITY + 9)));
    }
}
