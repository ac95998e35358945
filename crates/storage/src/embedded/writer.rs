//! Group commit: one thread owns the database and turns everything queued into one durable
//! transaction, so many concurrent writers share one fsync instead of each paying for their own.

use super::Shared;
use super::file;
use super::query::{self, Irregular};
use crate::table::{self, Changes, Tables};
use redb::{Database, ReadableDatabase};
use std::mem;
use std::sync::Arc;
use switchyard_core::EntityKind;
use switchyard_core::storage::{StorageError, WriteOp};
use tokio::sync::{mpsc, oneshot};

pub(crate) type Reply = oneshot::Sender<Result<(), StorageError>>;

pub(crate) enum Work {
    Ops(Vec<WriteOp>),
    /// Clear and import: the whole content, already validated.
    Replace(Tables),
}

pub(crate) struct Request {
    pub work: Work,
    pub reply: Reply,
}

pub(crate) struct Writer {
    /// The database (`shared.db` is `None` after a failed commit, until a reopen), the cache and
    /// the irregular ids; only this thread changes them, and only around a commit.
    pub shared: Arc<Shared>,
    pub max_batch: usize,
    pub commits: u64,
}

impl Writer {
    /// Runs until every sender is gone and the queue is empty.
    pub fn run(&mut self, mut queue: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(self.max_batch);
        while queue.blocking_recv_many(&mut batch, self.max_batch) > 0 {
            self.process(batch.drain(..));
        }
        // Releases the file (once no reader holds it), so it can be opened again.
        let mut db = self.shared.db.write();
        self.shared
            .released
            .store(true, std::sync::atomic::Ordering::Release);
        db.take();
    }

    /// Ops requests are grouped into one transaction; a replace runs alone, in queue order.
    fn process(&mut self, requests: impl Iterator<Item = Request>) {
        let mut group = Vec::new();
        for request in requests {
            match request.work {
                Work::Ops(ops) => group.push((ops, request.reply)),
                Work::Replace(tables) => {
                    self.commit_group(mem::take(&mut group));
                    self.replace(tables, request.reply);
                }
            }
        }
        self.commit_group(group);
    }

    fn commit_group(&mut self, group: Vec<(Vec<WriteOp>, Reply)>) {
        if group.is_empty() {
            return;
        }
        let db = match self.database() {
            Ok(db) => db,
            Err(e) => return fail_all(group.into_iter().map(|(_, r)| r).collect(), e),
        };
        let mut changes = Changes::default();
        let mut accepted = Vec::with_capacity(group.len());
        let mut exists = Exists {
            shared: &self.shared,
            db: &db,
            txn: None,
        };
        for (ops, reply) in group {
            match table::stage(&mut changes, ops, |kind, id| exists.check(kind, id)) {
                Ok(()) => accepted.push(reply),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            }
        }
        drop(exists);
        if !changes.is_empty() {
            // Irregular ids are added before the commit and removed after it, so a reader's
            // set always covers the snapshot it reads (see `EmbeddedStorage::snapshot`).
            let (added, removed) = irregular_changes(&self.shared.irregular.read(), &changes);
            {
                let mut irregular = self.shared.irregular.write();
                for (kind, id) in &added {
                    irregular.insert(*kind, id);
                }
            }
            let sizes = match file::write(&db, &changes, &added, &removed) {
                Ok(sizes) => sizes,
                Err(e) => {
                    tracing::error!(error = %e, writes = accepted.len(), "storage commit failed");
                    drop(db);
                    self.after_failure();
                    return fail_all(accepted, e);
                }
            };
            self.commits += 1;
            {
                let mut cache = self.shared.cache.lock();
                for ((kind, id, doc), size) in changes.iter().zip(sizes) {
                    cache.set(kind, id, doc.map(|d| (d.clone(), size)));
                }
                cache.committed();
            }
            let mut irregular = self.shared.irregular.write();
            for (kind, id) in &removed {
                irregular.remove(*kind, id);
            }
        }
        for reply in accepted {
            // The caller may have given up waiting; the write stands either way.
            let _ = reply.send(Ok(()));
        }
    }

    fn replace(&mut self, tables: Tables, reply: Reply) {
        let irregular = file::irregular_of(&tables);
        self.shared.irregular.write().extend(&irregular);
        let result = self
            .database()
            .and_then(|db| file::replace(&db, &tables, &irregular));
        match &result {
            Ok(()) => {
                self.commits += 1;
                self.shared.cache.lock().clear();
                *self.shared.irregular.write() = irregular;
            }
            Err(e) => {
                tracing::error!(error = %e, "storage replace failed");
                self.after_failure();
            }
        }
        let _ = reply.send(result);
    }

    fn database(&mut self) -> Result<Arc<Database>, StorageError> {
        self.shared.database()
    }

    /// After an I/O error (a full disk, say) redb refuses every further transaction, reads
    /// included, until the file is closed and opened again. The failed transaction was never
    /// committed, so the reopened file holds what readers saw. It is reopened at once if no
    /// reader holds it, else by the next read or write; while that fails (a disk still full),
    /// each read or write batch costs one failed open, not a busy loop.
    fn after_failure(&mut self) {
        let old = self.shared.db.write().take();
        if old.is_some_and(|db| Arc::into_inner(db).is_some())
            && let Err(e) = self.database()
        {
            tracing::warn!(error = %e, "storage not reopened yet; the next write retries");
        }
    }
}

fn fail_all(replies: Vec<Reply>, e: StorageError) {
    let message = match e {
        StorageError::Backend(m) => m,
        other => other.to_string(),
    };
    for reply in replies {
        let _ = reply.send(Err(StorageError::Backend(message.clone())));
    }
}

/// Whether an id is stored, for inserts, updates and deletes: the cache, else one read
/// transaction for the whole group.
struct Exists<'a> {
    shared: &'a Shared,
    db: &'a Database,
    txn: Option<redb::ReadTransaction>,
}

impl Exists<'_> {
    fn check(&mut self, kind: EntityKind, id: &str) -> Result<bool, StorageError> {
        if self.shared.cache.lock().contains(kind, id) {
            return Ok(true);
        }
        let txn = match &mut self.txn {
            Some(txn) => txn,
            None => self
                .txn
                .insert(self.db.begin_read().map_err(|e| query::read_failed(&e))?),
        };
        match query::open_table(txn, kind)? {
            Some(table) => Ok(redb::ReadableTable::get(&table, id)
                .map_err(|e| query::read_failed(&e))?
                .is_some()),
            None => Ok(false),
        }
    }
}

type KindId = (EntityKind, String);

/// The irregular ids `changes` add and remove.
fn irregular_changes(irregular: &Irregular, changes: &Changes) -> (Vec<KindId>, Vec<KindId>) {
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for (kind, id, doc) in changes.iter() {
        if query::parts(kind) == 0 {
            continue;
        }
        let was = irregular.contains(kind, id);
        let is = doc.is_some_and(|d| !query::is_regular(kind, id, d));
        if is && !was {
            added.push((kind, id.to_string()));
        } else if was && !is {
            removed.push((kind, id.to_string()));
        }
    }
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::Shared;
    use redb::ReadableTable;
    use serde_json::json;
    use std::path::Path;
    use switchyard_core::storage::Snapshot;

    const NODE: EntityKind = EntityKind::Node;

    fn upsert(id: &str) -> WriteOp {
        WriteOp::Upsert(NODE, json!({"id": id}))
    }

    fn shared(dir: &Path) -> Arc<Shared> {
        let path = dir.join(file::FILE_NAME);
        let (db, irregular) = file::open(&path).unwrap();
        Arc::new(Shared::new(db, path, irregular))
    }

    /// Queues `work` before the writer starts, as concurrent callers do while it is busy, then
    /// runs it until the queue is empty.
    fn run_queued(dir: &Path, work: Vec<Work>) -> (Writer, Vec<Result<(), StorageError>>) {
        let (tx, rx) = mpsc::channel(work.len());
        let mut answers = Vec::new();
        for work in work {
            let (reply, answer) = oneshot::channel();
            tx.try_send(Request { work, reply }).unwrap();
            answers.push(answer);
        }
        drop(tx);
        let mut writer = Writer {
            shared: shared(dir),
            max_batch: 256,
            commits: 0,
        };
        writer.run(rx);
        let answers = answers
            .into_iter()
            .map(|mut a| a.try_recv().unwrap())
            .collect();
        (writer, answers)
    }

    fn stored(dir: &Path) -> Vec<(String, serde_json::Value)> {
        let (db, _) = file::open(&dir.join(file::FILE_NAME)).unwrap();
        let txn = db.begin_read().unwrap();
        let Some(table) = query::open_table(&txn, NODE).unwrap() else {
            return Vec::new();
        };
        table
            .iter()
            .unwrap()
            .map(|e| {
                let (k, v) = e.unwrap();
                (
                    k.value().to_string(),
                    serde_json::from_slice(v.value()).unwrap(),
                )
            })
            .collect()
    }

    fn stored_ids(dir: &Path) -> Vec<String> {
        stored(dir).into_iter().map(|(id, _)| id).collect()
    }

    #[test]
    fn queued_requests_share_one_commit_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let work = vec![
            Work::Ops(vec![upsert("a")]),
            Work::Ops(vec![upsert("b"), WriteOp::Insert(NODE, json!({"id": "a"}))]),
            Work::Ops(vec![upsert("c"), upsert("d")]),
            Work::Ops(vec![WriteOp::Update(NODE, json!({"id": "c", "v": 2}))]),
            Work::Ops(vec![WriteOp::Update(NODE, json!({"id": "b"}))]),
        ];
        let (writer, answers) = run_queued(dir.path(), work);
        assert!(answers[0].is_ok());
        assert!(matches!(
            answers[1],
            Err(StorageError::AlreadyExists { .. })
        ));
        assert!(answers[2].is_ok());
        assert!(
            answers[3].is_ok(),
            "sees the insert of the request before it"
        );
        assert!(matches!(answers[4], Err(StorageError::NotFound { .. })));
        assert_eq!(writer.commits, 1);
        assert_eq!(
            writer.shared.cache.lock().get(NODE, "c").unwrap()["v"],
            2,
            "the cache holds what was committed"
        );
        drop(writer);
        let stored = stored(dir.path());
        assert_eq!(stored[1], ("c".to_string(), json!({"id": "c", "v": 2})));
        assert_eq!(stored_ids(dir.path()), ["a", "c", "d"]);
    }

    #[test]
    fn a_replace_runs_in_queue_order() {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = Snapshot::from([(NODE, vec![json!({"id": "kept"})])]);
        let work = vec![
            Work::Ops(vec![upsert("before")]),
            Work::Replace(Tables::from_snapshot(snapshot).unwrap()),
            Work::Ops(vec![upsert("after")]),
        ];
        let (writer, answers) = run_queued(dir.path(), work);
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        assert_eq!(writer.commits, 3);
        drop(writer);
        assert_eq!(stored_ids(dir.path()), ["after", "kept"]);
    }

    #[test]
    fn requests_that_change_nothing_skip_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let work = vec![
            Work::Ops(vec![]),
            Work::Ops(vec![WriteOp::Delete(NODE, "missing".into())]),
        ];
        let (writer, answers) = run_queued(dir.path(), work);
        assert!(answers.iter().all(Result::is_ok));
        assert_eq!(writer.commits, 0);
    }

    /// The irregular ids are a promise to every later open: written in the same commit as the
    /// documents, and dropped when a document becomes regular or is deleted.
    #[test]
    fn irregular_ids_follow_the_documents_across_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let regular = json!({"id": "gw.1", "gatewayId": "gw", "nodeId": "1"});
        let odd = json!({"id": "gw.2", "gatewayId": "other", "nodeId": "2"});
        let work = vec![
            Work::Ops(vec![
                WriteOp::Upsert(NODE, regular),
                WriteOp::Upsert(NODE, odd),
                upsert("plain"),
            ]),
            Work::Ops(vec![WriteOp::Delete(NODE, "plain".into())]),
        ];
        let (writer, answers) = run_queued(dir.path(), work);
        assert!(answers.iter().all(Result::is_ok), "{answers:?}");
        drop(writer);
        let (_db, irregular) = file::open(&dir.path().join(file::FILE_NAME)).unwrap();
        assert_eq!(irregular.of(NODE).into_iter().collect::<Vec<_>>(), ["gw.2"]);
        drop(_db);
        let fixed = json!({"id": "gw.2", "gatewayId": "gw", "nodeId": "2"});
        let (_, answers) = run_queued(
            dir.path(),
            vec![Work::Ops(vec![WriteOp::Upsert(NODE, fixed)])],
        );
        assert!(answers[0].is_ok());
        let (_db, irregular) = file::open(&dir.path().join(file::FILE_NAME)).unwrap();
        assert!(irregular.of(NODE).is_empty());
    }
}
