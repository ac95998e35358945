//! The MongoDB backend against a server speaking MongoDB's wire protocol: the conformance suite,
//! pushed-down filters against core's in-memory answers, and a batch completed from the journal.
//!
//! Server: `MONGODB_URL`, default `mongodb://127.0.0.1:27017` (scripts/lib/test-deps.sh starts
//! `nx-27017` there; a real MongoDB runs the same tests). Each backend made here lives in its own
//! database `sytest_<pid>_<n>`, dropped at the end. Without a server the tests print
//! `SKIPPED: …` and pass, except under `CI=true`, where they fail.

#[path = "integration/conformance.rs"]
mod conformance;
#[path = "integration/faults.rs"]
mod faults;
#[path = "integration/journal.rs"]
mod journal;
#[path = "integration/pushdown.rs"]
mod pushdown;

use mongodb::Client;
use mongodb::bson::doc;
use mongodb::options::ClientOptions;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use switchyard_core::storage::Storage;
use switchyard_storage::MongodbConfig;
use switchyard_storage_mongodb::MongodbStorage;

pub fn url() -> String {
    std::env::var("MONGODB_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".into())
}

/// Databases made by this test process; dropped by [`Server::cleanup`].
pub struct Server {
    admin: Client,
    databases: std::sync::Mutex<Vec<String>>,
    next: AtomicUsize,
}

static NEXT_SERVER: AtomicUsize = AtomicUsize::new(0);

impl Server {
    /// `None` (after printing why) when no server answers and this is not CI.
    pub async fn connect(test: &str) -> Option<Server> {
        let answer = async {
            let mut options = ClientOptions::parse(url()).await?;
            options.server_selection_timeout = Some(Duration::from_secs(3));
            let admin = Client::with_options(options)?;
            admin
                .database("admin")
                .run_command(doc! { "ping": 1 })
                .await?;
            Ok::<_, mongodb::error::Error>(admin)
        };
        match answer.await {
            Ok(admin) => Some(Server {
                admin,
                databases: Default::default(),
                next: AtomicUsize::new(NEXT_SERVER.fetch_add(1, Ordering::Relaxed) * 1000),
            }),
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!(
                    "{test}: a MongoDB server at {} is required in CI: {e}",
                    url()
                )
            }
            Err(e) => {
                println!("SKIPPED: {test}: no MongoDB server at {} ({e})", url());
                None
            }
        }
    }

    pub fn config(&self, database: &str) -> MongodbConfig {
        MongodbConfig {
            url: url(),
            database: database.into(),
            connect_timeout: "10s".into(),
            ..MongodbConfig::default()
        }
    }

    pub fn fresh_database(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let database = format!("sytest_{}_{n}", std::process::id());
        self.databases.lock().unwrap().push(database.clone());
        database
    }

    pub async fn fresh(&self) -> Arc<dyn Storage> {
        let database = self.fresh_database();
        Arc::new(MongodbStorage::open(&self.config(&database)).await.unwrap())
    }

    pub fn admin(&self) -> &Client {
        &self.admin
    }

    pub async fn cleanup(self) {
        let databases = std::mem::take(&mut *self.databases.lock().unwrap());
        for database in databases {
            self.admin.database(&database).drop().await.unwrap();
        }
    }
}
