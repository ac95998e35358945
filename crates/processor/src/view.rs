//! Reads for a batch of messages: what earlier messages of the batch wrote (not yet committed)
//! first, then the store. A worker processes everything waiting in its queue as one batch and
//! commits it in one storage write, so later messages must see earlier ones' effects.

use std::collections::HashMap;
use switchyard_core::storage::{StorageError, WriteOp, document_id};
use switchyard_core::store::{Store, from_document};
use switchyard_core::{EntityKind, Resource};

pub(crate) struct View<'a> {
    store: &'a Store,
    staged: HashMap<(EntityKind, String), Option<serde_json::Value>>,
}

impl<'a> View<'a> {
    pub fn new(store: &'a Store) -> Self {
        View {
            store,
            staged: HashMap::new(),
        }
    }

    pub async fn get<T: Resource>(&self, id: &str) -> Result<Option<T>, StorageError> {
        match self.staged.get(&(T::KIND, id.to_string())) {
            Some(Some(doc)) => from_document(doc.clone()).map(Some),
            Some(None) => Ok(None),
            None => self.store.get(id).await,
        }
    }

    /// Makes `ops` visible to later reads of this view.
    pub fn stage(&mut self, ops: &[WriteOp]) {
        for op in ops {
            match op {
                WriteOp::Insert(k, d) | WriteOp::Upsert(k, d) | WriteOp::Update(k, d) => {
                    if let Ok(id) = document_id(d) {
                        self.staged.insert((*k, id.to_string()), Some(d.clone()));
                    }
                }
                WriteOp::Delete(k, id) => {
                    self.staged.insert((*k, id.clone()), None);
                }
            }
        }
    }
}
