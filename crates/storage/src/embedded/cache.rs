//! The documents read or written most recently, parsed, so the hot path (a field read on every
//! message, then written back) parses no JSON. Bounded by the documents' encoded size: past
//! [`Cache::budget`] bytes the least recently used are dropped (they stay in the file).
//!
//! Only the writer thread puts a changed document in; readers fill the cache from the file
//! only when no commit happened since they looked ([`Cache::generation`]), so a reader that
//! read an older snapshot never overwrites a newer document.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use switchyard_core::EntityKind;

pub(crate) type Document = Arc<Value>;

struct Entry {
    doc: Document,
    /// The encoded size, the entry's weight.
    bytes: usize,
    /// When it was last used; the key of `Cache::order`.
    tick: u64,
}

pub(crate) struct Cache {
    kinds: HashMap<EntityKind, HashMap<String, Entry>>,
    /// Entries by last use, oldest first.
    order: BTreeMap<u64, (EntityKind, String)>,
    tick: u64,
    bytes: usize,
    budget: usize,
    generation: u64,
}

impl Cache {
    pub fn new(budget: usize) -> Self {
        Cache {
            kinds: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            budget,
            generation: 0,
        }
    }

    /// Changes at every commit.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn get(&mut self, kind: EntityKind, id: &str) -> Option<Document> {
        self.tick += 1;
        let entry = self.kinds.get_mut(&kind)?.get_mut(id)?;
        let key = self.order.remove(&entry.tick);
        entry.tick = self.tick;
        if let Some(key) = key {
            self.order.insert(self.tick, key);
        }
        Some(entry.doc.clone())
    }

    pub fn contains(&self, kind: EntityKind, id: &str) -> bool {
        self.kinds.get(&kind).is_some_and(|t| t.contains_key(id))
    }

    /// A document read from the file at `generation`: kept only if nothing was committed since.
    pub fn fill(
        &mut self,
        generation: u64,
        kind: EntityKind,
        id: &str,
        doc: Document,
        bytes: usize,
    ) {
        if generation == self.generation {
            self.put(kind, id, doc, bytes);
        }
    }

    /// A committed change (`None`: deleted). Call [`Cache::committed`] after the last one.
    pub fn set(&mut self, kind: EntityKind, id: &str, doc: Option<(Document, usize)>) {
        match doc {
            Some((doc, bytes)) => self.put(kind, id, doc, bytes),
            None => self.remove(kind, id),
        }
    }

    pub fn committed(&mut self) {
        self.generation += 1;
    }

    pub fn clear(&mut self) {
        self.kinds.clear();
        self.order.clear();
        self.bytes = 0;
        self.generation += 1;
    }

    fn put(&mut self, kind: EntityKind, id: &str, doc: Document, bytes: usize) {
        self.remove(kind, id);
        if bytes > self.budget / 4 {
            return;
        }
        self.tick += 1;
        self.order.insert(self.tick, (kind, id.to_string()));
        let entry = Entry {
            doc,
            bytes,
            tick: self.tick,
        };
        self.kinds
            .entry(kind)
            .or_default()
            .insert(id.to_string(), entry);
        self.bytes += bytes;
        while self.bytes > self.budget {
            let Some((_, (kind, id))) = self.order.pop_first() else {
                break;
            };
            if let Some(entry) = self.kinds.get_mut(&kind).and_then(|t| t.remove(&id)) {
                self.bytes -= entry.bytes;
            }
        }
    }

    fn remove(&mut self, kind: EntityKind, id: &str) {
        if let Some(entry) = self.kinds.get_mut(&kind).and_then(|t| t.remove(id)) {
            self.order.remove(&entry.tick);
            self.bytes -= entry.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NODE: EntityKind = EntityKind::Node;

    fn doc(id: &str) -> Document {
        Arc::new(json!({ "id": id }))
    }

    #[test]
    fn drops_the_least_recently_used_past_the_budget() {
        let mut cache = Cache::new(40);
        for id in ["a", "b", "c", "d"] {
            cache.set(NODE, id, Some((doc(id), 10)));
        }
        assert!(cache.get(NODE, "a").is_some(), "a is now the most recent");
        cache.set(NODE, "e", Some((doc("e"), 10)));
        assert!(!cache.contains(NODE, "b"), "b was the oldest");
        for id in ["a", "c", "d", "e"] {
            assert!(cache.contains(NODE, id), "{id}");
        }
        assert_eq!(cache.bytes, 40);
        cache.set(NODE, "a", None);
        assert!(cache.get(NODE, "a").is_none());
        assert_eq!(cache.bytes, 30);
        cache.set(NODE, "huge", Some((doc("huge"), 11)));
        assert!(
            !cache.contains(NODE, "huge"),
            "one document never fills the cache"
        );
    }

    #[test]
    fn a_fill_from_before_a_commit_is_ignored() {
        let mut cache = Cache::new(1000);
        let seen = cache.generation();
        cache.set(NODE, "a", Some((doc("new"), 10)));
        cache.committed();
        cache.fill(seen, NODE, "a", doc("old"), 10);
        cache.fill(seen, NODE, "b", doc("old"), 10);
        assert_eq!(cache.get(NODE, "a").unwrap()["id"], "new");
        assert!(cache.get(NODE, "b").is_none());
        let now = cache.generation();
        cache.fill(now, NODE, "b", doc("b"), 10);
        assert!(cache.get(NODE, "b").is_some());
    }
}
