use crate::Server;
use switchyard_storage::conformance::{self, persistence::Shutdown};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let Some(server) = Server::connect("passes_the_conformance_suite").await else {
        return;
    };
    conformance::run_all(|| server.fresh()).await;
    server.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_reopen_even_without_close() {
    let Some(server) = Server::connect("survives_reopen_even_without_close").await else {
        return;
    };
    let database = server.fresh_database();
    let config = server.config(&database);
    let open = || async {
        let s = switchyard_storage_mongodb::MongodbStorage::open(&config)
            .await
            .unwrap();
        std::sync::Arc::new(s) as std::sync::Arc<dyn switchyard_core::storage::Storage>
    };
    conformance::persistence::survives_reopen(open, Shutdown::Drop).await;
    conformance::persistence::survives_reopen(open, Shutdown::Close).await;
    server.cleanup().await;
}
