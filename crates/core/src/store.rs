//! Typed access to a [`Storage`] backend: resources in, resources out.

use crate::filter::{Page, Query};
use crate::resource::Resource;
use crate::storage::{Storage, StorageError, WriteOp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Storage>,
}

/// Serializes a resource into the document stored for it.
pub fn to_document<T: Serialize>(resource: &T) -> Result<Value, StorageError> {
    serde_json::to_value(resource).map_err(|e| StorageError::InvalidDocument(e.to_string()))
}

/// Reads a stored document as a resource.
pub fn from_document<T: DeserializeOwned>(doc: Value) -> Result<T, StorageError> {
    serde_json::from_value(doc).map_err(|e| StorageError::InvalidDocument(e.to_string()))
}

/// Reads a borrowed document as a resource: copies only what the resource keeps, where
/// [`from_document`] of a clone would copy the whole document first.
pub fn from_document_ref<T: DeserializeOwned>(doc: &Value) -> Result<T, StorageError> {
    T::deserialize(doc).map_err(|e| StorageError::InvalidDocument(e.to_string()))
}

impl Store {
    pub fn new(backend: Arc<dyn Storage>) -> Self {
        Store { backend }
    }

    pub fn backend(&self) -> &Arc<dyn Storage> {
        &self.backend
    }

    pub async fn get<T: Resource>(&self, id: &str) -> Result<Option<T>, StorageError> {
        match self.backend.get_shared(T::KIND, id).await? {
            // Not shared (a backend without its own `get_shared`): take the strings over.
            Some(doc) => match Arc::try_unwrap(doc) {
                Ok(doc) => from_document(doc).map(Some),
                Err(shared) => from_document_ref(&shared).map(Some),
            },
            None => Ok(None),
        }
    }

    pub async fn find<T: Resource>(&self, query: &Query) -> Result<Page<T>, StorageError> {
        let page = self.backend.find(T::KIND, query).await?;
        let data = page
            .data
            .into_iter()
            .map(from_document)
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Page {
            count: page.count,
            limit: page.limit,
            offset: page.offset,
            data,
        })
    }

    pub async fn upsert<T: Resource>(&self, resource: &T) -> Result<(), StorageError> {
        self.backend.upsert(T::KIND, to_document(resource)?).await
    }

    pub async fn insert<T: Resource>(&self, resource: &T) -> Result<(), StorageError> {
        self.backend.insert(T::KIND, to_document(resource)?).await
    }

    pub async fn update<T: Resource>(&self, resource: &T) -> Result<(), StorageError> {
        self.backend.update(T::KIND, to_document(resource)?).await
    }

    pub async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        self.backend.apply(ops).await
    }

    /// An upsert op for a batch.
    pub fn upsert_op<T: Resource>(resource: &T) -> Result<WriteOp, StorageError> {
        Ok(WriteOp::Upsert(T::KIND, to_document(resource)?))
    }
}
