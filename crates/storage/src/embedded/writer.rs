//! Group commit: one thread owns the database and turns everything queued into one durable
//! transaction, so many concurrent writers share one fsync instead of each paying for their own.

use super::file;
use crate::table::{Changes, Tables};
use parking_lot::RwLock;
use redb::Database;
use std::mem;
use std::path::PathBuf;
use std::sync::Arc;
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
    /// `None` after a failed commit, until the next write reopens it.
    pub db: Option<Database>,
    /// The file, to reopen it after a failed commit.
    pub path: PathBuf,
    /// What readers see; only this thread changes it, and only after a commit.
    pub tables: Arc<RwLock<Tables>>,
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
        let mut changes = Changes::default();
        let mut accepted = Vec::with_capacity(group.len());
        {
            let tables = self.tables.read();
            for (ops, reply) in group {
                match tables.stage(&mut changes, ops) {
                    Ok(()) => accepted.push(reply),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
        }
        if !changes.is_empty() {
            if let Err(e) = self.database().and_then(|db| file::write(db, &changes)) {
                tracing::error!(error = %e, writes = accepted.len(), "storage commit failed");
                self.after_failure();
                let message = match e {
                    StorageError::Backend(m) => m,
                    other => other.to_string(),
                };
                for reply in accepted {
                    let _ = reply.send(Err(StorageError::Backend(message.clone())));
                }
                return;
            }
            self.commits += 1;
            self.tables.write().commit(changes);
        }
        for reply in accepted {
            // The caller may have given up waiting; the write stands either way.
            let _ = reply.send(Ok(()));
        }
    }

    fn replace(&mut self, tables: Tables, reply: Reply) {
        let result = self.database().and_then(|db| file::replace(db, &tables));
        match &result {
            Ok(()) => {
                self.commits += 1;
                *self.tables.write() = tables;
            }
            Err(e) => {
                tracing::error!(error = %e, "storage replace failed");
                self.after_failure();
            }
        }
        let _ = reply.send(result);
    }

    /// The open database, reopening it if a failure closed it.
    fn database(&mut self) -> Result<&Database, StorageError> {
        if self.db.is_none() {
            self.db = Some(file::reopen(&self.path)?);
            tracing::info!(path = %self.path.display(), "storage reopened after a failed write");
        }
        Ok(self.db.as_ref().expect("just opened"))
    }

    /// After an I/O error (a full disk, say) redb refuses every further transaction until the
    /// file is closed and opened again. Readers are unaffected: they use the in-memory tables,
    /// which hold exactly what was committed. The failed transaction was never committed, so
    /// the reopened file holds the same. The reopen happens at the next write, so a disk that is
    /// still full costs one failed open per write batch, not a busy loop.
    fn after_failure(&mut self) {
        self.db = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;
    use switchyard_core::EntityKind;
    use switchyard_core::storage::Snapshot;

    const NODE: EntityKind = EntityKind::Node;

    fn upsert(id: &str) -> WriteOp {
        WriteOp::Upsert(NODE, json!({"id": id}))
    }

    /// Queues `work` before the writer starts, as concurrent callers do while it is busy, then
    /// runs it until the queue is empty.
    fn run_queued(dir: &Path, work: Vec<Work>) -> (Writer, Vec<Result<(), StorageError>>) {
        let path = dir.join(file::FILE_NAME);
        let (db, tables) = file::open(&path).unwrap();
        let (tx, rx) = mpsc::channel(work.len());
        let mut answers = Vec::new();
        for work in work {
            let (reply, answer) = oneshot::channel();
            tx.try_send(Request { work, reply }).unwrap();
            answers.push(answer);
        }
        drop(tx);
        let mut writer = Writer {
            db: Some(db),
            path,
            tables: Arc::new(RwLock::new(tables)),
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

    fn stored_ids(dir: &Path) -> Vec<String> {
        let (_db, tables) = file::open(&dir.join(file::FILE_NAME)).unwrap();
        tables
            .documents(NODE)
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect()
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
        assert_eq!(writer.tables.read().get(NODE, "c").unwrap()["v"], 2);
        drop(writer);
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
}
