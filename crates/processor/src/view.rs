//! Reads for a batch of messages: what earlier messages of the batch wrote (not yet committed)
//! first, then the store. A worker processes everything waiting in its queue as one batch and
//! commits it in one storage write, so later messages must see earlier ones' effects.
//!
//! The view also owns the batch's writes. Every message of a node touches the node's record,
//! so a batch of 64 messages from one node would write the same document 64 times; the view
//! keeps only the last upsert (or delete) of each document, in the place of the first. In one
//! atomic write that is the same end state, with one encoding and one table update instead of
//! many. Inserts and updates (which fail on a present or missing id) are kept as they are.

use std::collections::HashMap;
use switchyard_core::storage::{StorageError, WriteOp};
use switchyard_core::store::{Store, from_document_ref};
use switchyard_core::{EntityKind, Resource};

pub(crate) struct View<'a> {
    store: &'a Store,
    /// The batch's writes, in order, at most one upsert or delete per document.
    ops: Vec<WriteOp>,
    /// Where the latest write of each document is in `ops`, by kind then id.
    latest: HashMap<EntityKind, HashMap<String, usize>>,
}

impl<'a> View<'a> {
    pub fn new(store: &'a Store) -> Self {
        View {
            store,
            ops: Vec::new(),
            latest: HashMap::new(),
        }
    }

    pub async fn get<T: Resource>(&self, id: &str) -> Result<Option<T>, StorageError> {
        let staged = self
            .latest
            .get(&T::KIND)
            .and_then(|ids| ids.get(id))
            .map(|&i| &self.ops[i]);
        match staged {
            Some(WriteOp::Insert(_, doc) | WriteOp::Upsert(_, doc) | WriteOp::Update(_, doc)) => {
                from_document_ref(doc).map(Some)
            }
            Some(WriteOp::Delete(..)) => Ok(None),
            None => self.store.get(id).await,
        }
    }

    /// Makes `ops` visible to later reads of this view and part of its writes.
    pub fn stage(&mut self, ops: Vec<WriteOp>) {
        for op in ops {
            let id = match op.id() {
                Ok(id) => id.to_string(),
                // No id to look it up by: the storage write will refuse it with the reason.
                Err(_) => {
                    self.ops.push(op);
                    continue;
                }
            };
            let ids = self.latest.entry(op.kind()).or_default();
            let mergeable = |op: &WriteOp| matches!(op, WriteOp::Upsert(..) | WriteOp::Delete(..));
            match ids.get(&id) {
                Some(&i) if mergeable(&op) && mergeable(&self.ops[i]) => self.ops[i] = op,
                _ => {
                    ids.insert(id, self.ops.len());
                    self.ops.push(op);
                }
            }
        }
    }

    /// The batch's writes, for one atomic storage write.
    pub fn into_ops(self) -> Vec<WriteOp> {
        self.ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchyard_core::model::Node;
    use switchyard_storage::{MemoryConfig, StorageConfig};

    fn node(id: &str, name: &str) -> WriteOp {
        WriteOp::Upsert(EntityKind::Node, json!({"id": id, "name": name}))
    }

    #[tokio::test]
    async fn later_writes_of_a_document_replace_earlier_ones_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let config = StorageConfig::Memory(MemoryConfig::default());
        let store = Store::new(switchyard_storage::open(&config, dir.path()).await.unwrap());
        let mut view = View::new(&store);
        assert!(view.get::<Node>("gw.1").await.unwrap().is_none());

        view.stage(vec![node("gw.1", "a"), node("gw.2", "b")]);
        view.stage(vec![node("gw.1", "c")]);
        let read = view.get::<Node>("gw.1").await.unwrap().unwrap();
        assert_eq!(read.name, "c", "a read sees the latest staged write");

        view.stage(vec![WriteOp::Delete(EntityKind::Node, "gw.2".into())]);
        assert!(view.get::<Node>("gw.2").await.unwrap().is_none());
        // An insert fails on a present id: it is never folded into another write.
        let insert = WriteOp::Insert(EntityKind::Node, json!({"id": "gw.1", "name": "d"}));
        view.stage(vec![insert.clone(), node("gw.1", "e")]);

        assert_eq!(
            view.into_ops(),
            vec![
                node("gw.1", "c"),
                WriteOp::Delete(EntityKind::Node, "gw.2".into()),
                insert,
                node("gw.1", "e"),
            ]
        );
    }
}
