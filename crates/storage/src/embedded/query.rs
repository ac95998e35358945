//! Answering `find` from the file without reading every document.
//!
//! Nodes, sources and fields have composite ids, `<gatewayId>.<nodeId>[.<sourceId>[.<fieldId>]]`
//! (see `switchyard_core::quick_id`), and the file keeps documents in id order. So a list filtered
//! by equality on the leading parts (`gatewayId`, then `nodeId`, …; the API's common lists) is a
//! range of keys: only those documents are candidates, and when those filters are all the query
//! has, they are not even parsed, except the page returned.
//!
//! That holds for a *regular* document, whose `gatewayId`, `nodeId`, … are the strings its id is
//! made of. Documents written otherwise (an import, a hand-made id) are *irregular*: their ids
//! are kept in a small table of the file and in memory, and they are always candidates, checked
//! against every filter. Every other query reads the kind's documents one by one (a scan), and
//! keeps only the page (and, to sort, the sort keys) in memory.

use super::cache::{Cache, Document};
use parking_lot::Mutex;
use redb::{ReadOnlyTable, ReadTransaction, ReadableTable, ReadableTableMetadata, TableError};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use switchyard_core::EntityKind;
use switchyard_core::filter::{CompiledFilter, CompiledQuery, Filter, Operator, Page, Query};
use switchyard_core::key_path;
use switchyard_core::storage::StorageError;

/// The document keys a composite id is made of, in order.
const PARTS: [&str; 4] = ["gatewayId", "nodeId", "sourceId", "fieldId"];

type DocTable = ReadOnlyTable<&'static str, &'static [u8]>;

/// How many parts make up the id of `kind`; 0 for kinds with plain ids.
pub(crate) fn parts(kind: EntityKind) -> usize {
    match kind {
        EntityKind::Node => 2,
        EntityKind::Source => 3,
        EntityKind::Field => 4,
        _ => 0,
    }
}

/// Whether `doc`'s id parts are exactly its id's segments (always true for plain-id kinds).
pub(crate) fn is_regular(kind: EntityKind, id: &str, doc: &Value) -> bool {
    let n = parts(kind);
    if n == 0 {
        return true;
    }
    let mut segments = id.split('.');
    for part in &PARTS[..n] {
        let Some(segment) = segments.next() else {
            return false;
        };
        match key_path::get(doc, part) {
            Some(Value::String(s)) if s == segment => {}
            _ => return false,
        }
    }
    segments.next().is_none()
}

/// The ids of irregular documents, per kind with composite ids.
#[derive(Debug, Default, Clone)]
pub(crate) struct Irregular {
    ids: HashMap<EntityKind, BTreeSet<String>>,
}

impl Irregular {
    pub fn contains(&self, kind: EntityKind, id: &str) -> bool {
        self.ids.get(&kind).is_some_and(|s| s.contains(id))
    }

    pub fn of(&self, kind: EntityKind) -> BTreeSet<String> {
        self.ids.get(&kind).cloned().unwrap_or_default()
    }

    pub fn insert(&mut self, kind: EntityKind, id: &str) {
        self.ids.entry(kind).or_default().insert(id.to_string());
    }

    pub fn remove(&mut self, kind: EntityKind, id: &str) {
        if let Some(set) = self.ids.get_mut(&kind) {
            set.remove(id);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (EntityKind, &str)> {
        self.ids
            .iter()
            .flat_map(|(kind, ids)| ids.iter().map(move |id| (*kind, id.as_str())))
    }

    pub fn extend(&mut self, other: &Irregular) {
        for (kind, id) in other.iter() {
            self.insert(kind, id);
        }
    }
}

/// A kind's table in `txn`; `None` when nothing of that kind was ever written.
pub(crate) fn open_table(
    txn: &ReadTransaction,
    kind: EntityKind,
) -> Result<Option<DocTable>, StorageError> {
    match txn.open_table(super::file::definition(kind)) {
        Ok(table) => Ok(Some(table)),
        Err(TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(read_failed(&e)),
    }
}

pub(crate) fn read_failed(e: &dyn std::fmt::Display) -> StorageError {
    StorageError::Backend(format!("reading {}: {e}", super::file::FILE_NAME))
}

/// Parses a stored document.
pub(crate) fn parse(kind: EntityKind, id: &str, bytes: &[u8]) -> Result<Value, StorageError> {
    serde_json::from_slice(bytes).map_err(|e| {
        StorageError::Backend(format!(
            "{}: table `{kind}`, id `{id}`: {e}",
            super::file::FILE_NAME
        ))
    })
}

/// One document of `table`, parsed, with its encoded size.
pub(crate) fn read_doc(
    table: &DocTable,
    kind: EntityKind,
    id: &str,
) -> Result<Option<(Value, usize)>, StorageError> {
    let Some(bytes) = table.get(id).map_err(|e| read_failed(&e))? else {
        return Ok(None);
    };
    let bytes = bytes.value();
    Ok(Some((parse(kind, id, bytes)?, bytes.len())))
}

/// The documents of `kind` matching `query` in the snapshot `txn`; `irregular` is that kind's
/// irregular ids, taken after `txn` began (see `EmbeddedStorage::snapshot`).
pub(crate) fn find(
    txn: &ReadTransaction,
    kind: EntityKind,
    query: &Query,
    compiled: &CompiledQuery,
    irregular: &BTreeSet<String>,
    cache: &Mutex<Cache>,
) -> Result<Page<Value>, StorageError> {
    let Some(table) = open_table(txn, kind)? else {
        return Ok(page(compiled, 0, Vec::new()));
    };
    let reader = Reader {
        table: &table,
        kind,
        cache,
    };
    let mut hits = Hits::new(compiled);
    match plan(kind, query)? {
        Plan::Id(id) => {
            if let Some((doc, _)) = read_doc(&table, kind, &id)? {
                hits.offer(&id, Some(Arc::new(doc)), false)?;
            }
        }
        Plan::Prefix { constraints, all } => {
            let sorting = !compiled.sort_by.is_empty();
            for (id, trusted) in candidates(&table, &constraints, all, irregular)? {
                let doc = match trusted && !sorting {
                    true => None,
                    false => reader.doc(&id)?,
                };
                if doc.is_some() || (trusted && !sorting) {
                    hits.offer(&id, doc, trusted)?;
                }
            }
        }
        Plan::Scan if query.filters.is_empty() && query.sort_by.is_empty() => {
            // Everything, in id order: count without reading, parse only the page.
            let count = table.len().map_err(|e| read_failed(&e))?;
            let skip = usize::try_from(compiled.offset).unwrap_or(usize::MAX);
            let take = compiled
                .limit
                .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
            let mut data = Vec::new();
            for entry in table
                .iter()
                .map_err(|e| read_failed(&e))?
                .skip(skip)
                .take(take)
            {
                let (key, bytes) = entry.map_err(|e| read_failed(&e))?;
                data.push(parse(kind, key.value(), bytes.value())?);
            }
            return Ok(page(compiled, count, data));
        }
        Plan::Scan => {
            for entry in table.iter().map_err(|e| read_failed(&e))? {
                let (key, bytes) = entry.map_err(|e| read_failed(&e))?;
                let doc = parse(kind, key.value(), bytes.value())?;
                hits.offer(key.value(), Some(Arc::new(doc)), false)?;
            }
        }
    }
    hits.finish(&reader)
}

struct Reader<'a> {
    table: &'a DocTable,
    kind: EntityKind,
    cache: &'a Mutex<Cache>,
}

impl Reader<'_> {
    /// From the cache, else the snapshot; a list does not fill the cache (it would push the hot
    /// documents out).
    fn doc(&self, id: &str) -> Result<Option<Document>, StorageError> {
        if let Some(doc) = self.cache.lock().get(self.kind, id) {
            return Ok(Some(doc));
        }
        Ok(read_doc(self.table, self.kind, id)?.map(|(doc, _)| Arc::new(doc)))
    }
}

/// Whether `query` reads every document of `kind`, and the kind is one that can hold many
/// (nodes, sources, fields): a second or so for 100,000 fields.
pub(crate) fn is_long_scan(kind: EntityKind, query: &Query) -> bool {
    let reads_all = !query.filters.is_empty() || !query.sort_by.is_empty();
    parts(kind) > 0 && reads_all && matches!(plan(kind, query), Ok(Plan::Scan))
}

enum Plan {
    /// `id` equals one plain string.
    Id(String),
    /// Equality on the leading id parts; `all`: those are every filter of the query.
    Prefix {
        constraints: Vec<Constraint>,
        all: bool,
    },
    Scan,
}

/// One id part's equality filter.
struct Constraint {
    part: &'static str,
    /// The value when equality on it is plain string equality.
    plain: Option<String>,
    filter: CompiledFilter,
}

fn plan(kind: EntityKind, query: &Query) -> Result<Plan, StorageError> {
    let eq = |key: &str| {
        query
            .filters
            .iter()
            .find(|f| f.op == Operator::Eq && f.key == key)
    };
    if let Some(Filter {
        value: Value::String(id),
        ..
    }) = eq("id")
        && loose_free(id)
    {
        return Ok(Plan::Id(id.clone()));
    }
    let mut constraints = Vec::new();
    for part in &PARTS[..parts(kind)] {
        let Some(f) = eq(part) else { break };
        let plain = match &f.value {
            Value::String(s) if loose_free(s) && !s.contains('.') => Some(s.clone()),
            _ => None,
        };
        let filter = Query::all()
            .filter(f.clone())
            .compile()?
            .filters
            .pop()
            .ok_or_else(|| StorageError::Backend("a compiled filter went missing".into()))?;
        constraints.push(Constraint {
            part,
            plain,
            filter,
        });
    }
    if constraints.is_empty() {
        return Ok(Plan::Scan);
    }
    let all = query.filters.len() == constraints.len();
    Ok(Plan::Prefix { constraints, all })
}

/// A filter value that loose equality (`"21"` equals `21`, `"TRUE"` equals `true`, times equal
/// across offsets) matches only with the very same string.
fn loose_free(s: &str) -> bool {
    let number = s.trim().parse::<f64>().is_ok();
    let boolean = s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false");
    let time = s.len() >= 10 && s.as_bytes().get(4) == Some(&b'-');
    !(number || boolean || time)
}

/// The candidate ids in id order, each with whether it is known to match without reading it.
fn candidates(
    table: &DocTable,
    constraints: &[Constraint],
    all: bool,
    irregular: &BTreeSet<String>,
) -> Result<Vec<(String, bool)>, StorageError> {
    let mut prefixes = vec![String::new()];
    for c in constraints {
        let mut next = BTreeSet::new();
        for prefix in &prefixes {
            match &c.plain {
                Some(s) => {
                    next.insert(format!("{prefix}{s}"));
                }
                None => {
                    for segment in segments(table, prefix)? {
                        let probe = serde_json::json!({ c.part: segment });
                        if c.filter.matches(&probe) {
                            next.insert(format!("{prefix}{segment}"));
                        }
                    }
                }
            }
        }
        // Each candidate becomes `<parts so far>.`, the prefix of the next part.
        prefixes = next.into_iter().map(|p| p + ".").collect();
    }
    let mut found = Vec::new();
    for prefix in &prefixes {
        // `prefix` ends with '.': its keys are `prefix` ..= the same with '/' (the next byte).
        let exact = &prefix[..prefix.len() - 1];
        let end = format!("{exact}/");
        let range = (Bound::Included(exact), Bound::Excluded(end.as_str()));
        for entry in table.range::<&str>(range).map_err(|e| read_failed(&e))? {
            let (key, _) = entry.map_err(|e| read_failed(&e))?;
            let id = key.value();
            // The exact key (every part given) or a longer one with this prefix.
            if (id == exact || id.starts_with(prefix.as_str())) && !irregular.contains(id) {
                found.push((id.to_string(), all));
            }
        }
    }
    found.extend(irregular.iter().map(|id| (id.clone(), false)));
    found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// The distinct next segments of the keys starting with `prefix`, found with one seek each
/// rather than by reading every key.
fn segments(table: &DocTable, prefix: &str) -> Result<BTreeSet<String>, StorageError> {
    let mut found = BTreeSet::new();
    let mut from = Bound::Included(prefix.to_string());
    loop {
        let range = (from.as_ref().map(String::as_str), Bound::Unbounded);
        let mut entries = table.range::<&str>(range).map_err(|e| read_failed(&e))?;
        let Some(entry) = entries.next() else { break };
        let (key, _) = entry.map_err(|e| read_failed(&e))?;
        let key = key.value();
        let Some(rest) = key.strip_prefix(prefix) else {
            break;
        };
        let segment = rest.split('.').next().unwrap_or(rest).to_string();
        from = if segment.len() == rest.len() {
            Bound::Excluded(key.to_string())
        } else {
            // Past every key `<prefix><segment>.…` ('/' follows '.').
            Bound::Included(format!("{prefix}{segment}/"))
        };
        found.insert(segment);
    }
    Ok(found)
}

/// The matches seen so far: their count, and the page (or, to sort, every match's sort keys).
struct Hits<'q> {
    query: &'q CompiledQuery,
    count: u64,
    skip: u64,
    take: u64,
    page: Vec<(String, Option<Document>)>,
    /// With sort keys: (the sort keys as a small document, id).
    sorted: Vec<(Value, String)>,
}

impl<'q> Hits<'q> {
    fn new(query: &'q CompiledQuery) -> Self {
        Hits {
            query,
            count: 0,
            skip: query.offset,
            take: query.limit.unwrap_or(u64::MAX),
            page: Vec::new(),
            sorted: Vec::new(),
        }
    }

    /// A candidate in id order; `trusted` ones match without looking, the others need `doc`.
    fn offer(
        &mut self,
        id: &str,
        doc: Option<Document>,
        trusted: bool,
    ) -> Result<(), StorageError> {
        if !trusted {
            match &doc {
                Some(d) if self.query.matches(d) => {}
                _ => return Ok(()),
            }
        }
        if !self.query.sort_by.is_empty() {
            let doc = doc.ok_or_else(|| {
                StorageError::Backend("sorting needs the document; this is a bug".into())
            })?;
            self.sorted
                .push((sort_keys(self.query, &doc), id.to_string()));
        } else if self.count >= self.skip && self.count - self.skip < self.take {
            self.page.push((id.to_string(), doc));
        }
        self.count += 1;
        Ok(())
    }

    fn finish(mut self, reader: &Reader<'_>) -> Result<Page<Value>, StorageError> {
        if !self.query.sort_by.is_empty() {
            // Stable, so equal keys stay in id order, as in the in-memory backend.
            self.sorted.sort_by(|a, b| self.query.order(&a.0, &b.0));
            let skip = usize::try_from(self.skip).unwrap_or(usize::MAX);
            let take = usize::try_from(self.take).unwrap_or(usize::MAX);
            self.page = self
                .sorted
                .drain(..)
                .skip(skip)
                .take(take)
                .map(|(_, id)| (id, None))
                .collect();
        }
        let mut data = Vec::with_capacity(self.page.len());
        for (id, doc) in self.page {
            let doc = match doc {
                Some(doc) => doc,
                None => match reader.doc(&id)? {
                    Some(doc) => doc,
                    None => continue,
                },
            };
            data.push(Arc::unwrap_or_clone(doc));
        }
        Ok(page(self.query, self.count, data))
    }
}

/// The values `query` sorts by, as a document `query.order` reads the same way as `doc`.
fn sort_keys(query: &CompiledQuery, doc: &Value) -> Value {
    if query.sort_by.iter().any(|s| s.field.is_empty()) {
        return doc.clone();
    }
    let mut keys = Value::Null;
    for s in &query.sort_by {
        if let Some(v) = key_path::get(doc, &s.field).filter(|v| !v.is_null()) {
            // A path through a value set just before (`a`, then `a.b`) fails; that key then
            // reads as missing, as it does in `doc` (a path through a scalar).
            let _ = key_path::set(&mut keys, &s.field, v.clone());
        }
    }
    keys
}

fn page(query: &CompiledQuery, count: u64, data: Vec<Value>) -> Page<Value> {
    Page {
        count,
        limit: query.limit.map(|l| l as i64).unwrap_or(-1),
        offset: query.offset,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn regular_documents_are_made_of_their_id() {
        let field = json!({"gatewayId": "gw", "nodeId": "1", "sourceId": "2", "fieldId": "t"});
        assert!(is_regular(EntityKind::Field, "gw.1.2.t", &field));
        assert!(!is_regular(EntityKind::Field, "gw.1.2.u", &field));
        assert!(!is_regular(EntityKind::Field, "gw.1.2.t.x", &field));
        assert!(!is_regular(EntityKind::Field, "gw.1.2", &field));
        assert!(!is_regular(
            EntityKind::Node,
            "gw.1",
            &json!({"gatewayId": "gw", "nodeId": 1})
        ));
        assert!(is_regular(EntityKind::Gateway, "anything", &json!({})));
    }

    #[test]
    fn plain_strings_equal_only_themselves() {
        for s in ["gw", "mysensors-1", "node_a", "gw.1.2.t"] {
            assert!(loose_free(s), "{s}");
        }
        for s in [
            "1",
            " 12 ",
            "1e3",
            "1.5",
            "inf",
            "TRUE",
            "false",
            "2026-01-02T00:00:00Z",
        ] {
            assert!(!loose_free(s), "{s}");
        }
    }
}
