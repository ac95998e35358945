//! The in-memory documents both backends serve reads from, and the validation of writes against
//! them. One copy of this logic keeps the backends from drifting apart on what a duplicate insert
//! or an update of a missing id means; the conformance suite then only has to catch I/O mistakes.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use switchyard_core::EntityKind;
use switchyard_core::filter::{CompiledQuery, Page};
use switchyard_core::storage::{Snapshot, StorageError, WriteOp, document_id};

/// Documents are shared, not copied, between the table, a dump in progress and a staged batch.
pub(crate) type Document = Arc<Value>;

#[derive(Debug, Default)]
pub(crate) struct Tables {
    kinds: HashMap<EntityKind, BTreeMap<String, Document>>,
}

/// Validated writes not yet in a [`Tables`]: `None` removes the id. Ordered by kind, then id,
/// so a backend can write one kind's table at a time.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    entries: BTreeMap<(EntityKind, String), Option<Document>>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn kinds(&self) -> BTreeSet<EntityKind> {
        self.entries.keys().map(|(kind, _)| *kind).collect()
    }

    /// The changes to one kind, in id order.
    pub fn of_kind(&self, kind: EntityKind) -> impl Iterator<Item = (&str, Option<&Value>)> {
        self.entries
            .range((kind, String::new())..)
            .take_while(move |((k, _), _)| *k == kind)
            .map(|((_, id), doc)| (id.as_str(), doc.as_deref()))
    }

    /// Every change, by kind then id.
    pub fn iter(&self) -> impl Iterator<Item = (EntityKind, &str, Option<&Document>)> {
        self.entries
            .iter()
            .map(|((kind, id), doc)| (*kind, id.as_str(), doc.as_ref()))
    }

    fn staged(&self, kind: EntityKind, id: &str) -> Option<&Option<Document>> {
        // A borrowed lookup would need a custom key type; ids are short, so allocate.
        self.entries.get(&(kind, id.to_string()))
    }
}

impl Tables {
    /// A table holding exactly `snapshot`; ids must be present and unique per kind.
    pub fn from_snapshot(snapshot: Snapshot) -> Result<Self, StorageError> {
        let mut tables = Tables::default();
        for (kind, docs) in snapshot {
            tables.load(kind, docs)?;
        }
        Ok(tables)
    }

    /// Adds documents read from a backend's files or a snapshot.
    pub fn load(&mut self, kind: EntityKind, docs: Vec<Value>) -> Result<(), StorageError> {
        let table = self.kinds.entry(kind).or_default();
        for doc in docs {
            let id = document_id(&doc)?.to_string();
            if table.contains_key(&id) {
                return Err(StorageError::InvalidDocument(format!(
                    "{kind} `{id}` appears more than once"
                )));
            }
            table.insert(id, Arc::new(doc));
        }
        Ok(())
    }

    pub fn get(&self, kind: EntityKind, id: &str) -> Option<&Document> {
        self.kinds.get(&kind).and_then(|t| t.get(id))
    }

    pub fn find(&self, kind: EntityKind, query: &CompiledQuery) -> Page<Value> {
        let docs = self.kinds.get(&kind).into_iter().flat_map(|t| t.values());
        query.apply(docs, as_value).map(|d| Value::clone(d))
    }

    /// One kind's documents in id order, shared so a dump can encode them outside the lock.
    pub fn documents(&self, kind: EntityKind) -> Vec<Document> {
        self.kinds
            .get(&kind)
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Every kind that holds documents, each in id order.
    pub fn export(&self) -> Snapshot {
        self.kinds
            .iter()
            .filter(|(_, t)| !t.is_empty())
            .map(|(kind, t)| (*kind, t.values().map(|d| Value::clone(d)).collect()))
            .collect()
    }

    /// Validates `ops` against this table as changed by `batch` (the earlier requests of a group
    /// commit) and, when every op holds, adds them to `batch`. On error `batch` is untouched, so
    /// one failing request never takes its neighbours down with it.
    pub fn stage(&self, batch: &mut Changes, ops: Vec<WriteOp>) -> Result<(), StorageError> {
        stage(batch, ops, |kind, id| Ok(self.get(kind, id).is_some()))
    }

    pub fn commit(&mut self, changes: Changes) {
        for ((kind, id), doc) in changes.entries {
            let table = self.kinds.entry(kind).or_default();
            match doc {
                Some(doc) => {
                    table.insert(id, doc);
                }
                None => {
                    table.remove(&id);
                }
            }
        }
    }
}

/// [`Tables::stage`] for a backend whose documents are not all in memory: `exists` answers
/// whether an id is stored (before `batch`); it is asked only for inserts, updates and deletes
/// of ids the batch has not staged yet, never for upserts.
pub(crate) fn stage(
    batch: &mut Changes,
    ops: Vec<WriteOp>,
    mut exists: impl FnMut(EntityKind, &str) -> Result<bool, StorageError>,
) -> Result<(), StorageError> {
    let mut own = Changes::default();
    for op in ops {
        let kind = op.kind();
        let id = op.id()?.to_string();
        let upsert = matches!(op, WriteOp::Upsert(..));
        let exists = match own.staged(kind, &id).or_else(|| batch.staged(kind, &id)) {
            Some(staged) => staged.is_some(),
            None if upsert => true,
            None => exists(kind, &id)?,
        };
        let doc = match op {
            WriteOp::Insert(..) if exists => {
                return Err(StorageError::AlreadyExists { kind, id });
            }
            WriteOp::Update(..) if !exists => return Err(StorageError::NotFound { kind, id }),
            WriteOp::Delete(..) if !exists => continue,
            WriteOp::Insert(_, doc) | WriteOp::Upsert(_, doc) | WriteOp::Update(_, doc) => {
                Some(Arc::new(doc))
            }
            WriteOp::Delete(..) => None,
        };
        own.entries.insert((kind, id), doc);
    }
    batch.entries.extend(own.entries);
    Ok(())
}

fn as_value<'x>(doc: &'x &Document) -> &'x Value {
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchyard_core::filter::{Filter, Query, SortOrder};

    const NODE: EntityKind = EntityKind::Node;

    fn table_with(ids: &[&str]) -> Tables {
        let docs = ids.iter().map(|id| json!({"id": id})).collect();
        Tables::from_snapshot(Snapshot::from([(NODE, docs)])).unwrap()
    }

    fn staged(tables: &Tables, ops: Vec<WriteOp>) -> Result<Changes, StorageError> {
        let mut batch = Changes::default();
        tables.stage(&mut batch, ops).map(|()| batch)
    }

    #[test]
    fn later_ops_see_earlier_ops_of_the_same_request() {
        let tables = table_with(&["old"]);
        let ok = staged(
            &tables,
            vec![
                WriteOp::Insert(NODE, json!({"id": "new"})),
                WriteOp::Update(NODE, json!({"id": "new", "v": 2})),
                WriteOp::Delete(NODE, "old".into()),
                WriteOp::Insert(NODE, json!({"id": "old", "v": 3})),
            ],
        )
        .unwrap();
        let mut tables = tables;
        tables.commit(ok);
        assert_eq!(
            **tables.get(NODE, "new").unwrap(),
            json!({"id": "new", "v": 2})
        );
        assert_eq!(
            **tables.get(NODE, "old").unwrap(),
            json!({"id": "old", "v": 3})
        );

        let twice = vec![
            WriteOp::Insert(NODE, json!({"id": "x"})),
            WriteOp::Insert(NODE, json!({"id": "x"})),
        ];
        assert!(matches!(
            staged(&tables, twice),
            Err(StorageError::AlreadyExists { .. })
        ));
        let gone = vec![
            WriteOp::Delete(NODE, "new".into()),
            WriteOp::Update(NODE, json!({"id": "new"})),
        ];
        assert!(matches!(
            staged(&tables, gone),
            Err(StorageError::NotFound { .. })
        ));
    }

    #[test]
    fn a_failing_request_leaves_the_batch_as_it_was() {
        let tables = table_with(&["a"]);
        let mut batch = Changes::default();
        tables
            .stage(&mut batch, vec![WriteOp::Upsert(NODE, json!({"id": "b"}))])
            .unwrap();
        let failing = vec![
            WriteOp::Upsert(NODE, json!({"id": "c"})),
            WriteOp::Insert(NODE, json!({"id": "a"})),
        ];
        let err = tables.stage(&mut batch, failing).unwrap_err();
        assert!(matches!(err, StorageError::AlreadyExists { ref id, .. } if id == "a"));
        let ids: Vec<&str> = batch.of_kind(NODE).map(|(id, _)| id).collect();
        assert_eq!(ids, ["b"]);
        // A later request of the same batch sees the earlier one's insert.
        let dup = vec![WriteOp::Insert(NODE, json!({"id": "b"}))];
        assert!(tables.stage(&mut batch, dup).is_err());
    }

    #[test]
    fn documents_need_a_string_id() {
        let tables = Tables::default();
        for doc in [
            json!({"name": "x"}),
            json!({"id": 7}),
            json!({"id": ""}),
            json!("id"),
        ] {
            let err = staged(&tables, vec![WriteOp::Upsert(NODE, doc)]).unwrap_err();
            assert!(matches!(err, StorageError::InvalidDocument(_)));
        }
    }

    #[test]
    fn deleting_a_missing_id_changes_nothing() {
        let tables = table_with(&["a"]);
        let changes = staged(&tables, vec![WriteOp::Delete(NODE, "zz".into())]).unwrap();
        assert!(changes.is_empty());
        let changes = staged(&tables, vec![WriteOp::Delete(NODE, "a".into())]).unwrap();
        assert_eq!(changes.kinds(), BTreeSet::from([NODE]));
    }

    #[test]
    fn of_kind_keeps_kinds_apart() {
        let tables = Tables::default();
        let changes = staged(
            &tables,
            vec![
                WriteOp::Upsert(EntityKind::Field, json!({"id": "f"})),
                WriteOp::Upsert(NODE, json!({"id": "b"})),
                WriteOp::Upsert(NODE, json!({"id": "a"})),
                WriteOp::Upsert(EntityKind::Gateway, json!({"id": "g"})),
            ],
        )
        .unwrap();
        let ids: Vec<&str> = changes.of_kind(NODE).map(|(id, _)| id).collect();
        assert_eq!(ids, ["a", "b"]);
        let kinds: Vec<EntityKind> = changes.kinds().into_iter().collect();
        assert_eq!(kinds, [EntityKind::Gateway, NODE, EntityKind::Field]);
    }

    #[test]
    fn snapshots_reject_duplicates_and_round_trip() {
        let dup = Snapshot::from([(NODE, vec![json!({"id": "a"}), json!({"id": "a"})])]);
        assert!(matches!(
            Tables::from_snapshot(dup),
            Err(StorageError::InvalidDocument(_))
        ));
        let snap = Snapshot::from([
            (NODE, vec![json!({"id": "a", "n": 1}), json!({"id": "b"})]),
            (EntityKind::User, vec![json!({"id": "admin"})]),
        ]);
        let tables = Tables::from_snapshot(snap.clone()).unwrap();
        assert_eq!(tables.export(), snap);
    }

    #[test]
    fn find_filters_sorts_and_pages() {
        let docs = (0..5)
            .map(|i| json!({"id": format!("n{i}"), "n": i}))
            .collect();
        let tables = Tables::from_snapshot(Snapshot::from([(NODE, docs)])).unwrap();
        let q = Query::all()
            .filter(Filter::new("n", switchyard_core::filter::Operator::Gte, 1))
            .sort("n", SortOrder::Desc)
            .page(2, 1)
            .compile()
            .unwrap();
        let page = tables.find(NODE, &q);
        assert_eq!(page.count, 4);
        assert_eq!(
            page.data,
            [json!({"id": "n3", "n": 3}), json!({"id": "n2", "n": 2})]
        );
        assert_eq!(tables.find(EntityKind::Field, &q).count, 0);
    }
}
