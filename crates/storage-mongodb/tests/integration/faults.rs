//! The MongoDB server goes away while the storage writes. The shared server must not be
//! restarted (other tests use it), so the storage reaches it through a TCP proxy of this test,
//! which drops every connection and refuses new ones as a restarting server does, then lets
//! them through again. A short outage (1.5 s, within `connect_timeout` = 5 s) is ridden out:
//! writes wait and succeed, except the one in flight when the connections drop, which fails (so
//! is not acknowledged). A long one (8 s) makes writes fail with an error; once connections
//! go through again writes succeed without reopening the storage. Every acknowledged write is in
//! the database afterwards, read past the proxy.

use crate::Server;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::EntityKind::Node;
use switchyard_core::storage::Storage;
use switchyard_storage_mongodb::MongodbStorage;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards 127.0.0.1:<port> to `target` while up; cutting drops every connection.
struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = watch::channel(true);
        let state = up.subscribe();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*state.borrow() {
                    drop(client); // refused while down
                    continue;
                }
                let mut down = state.clone();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = down.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { port, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// `url` with its (single) host replaced by `host`; `None` for several hosts (a replica set
/// cannot be proxied this simply).
fn through(url: &str, host: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("mongodb://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (auth, upstream) = match authority.rsplit_once('@') {
        Some((a, h)) => (format!("{a}@"), h),
        None => (String::new(), authority),
    };
    if upstream.contains(',') {
        return None;
    }
    let sep = if tail.contains('?') {
        "&"
    } else if tail.is_empty() {
        "/?"
    } else {
        "?"
    };
    Some((
        upstream.to_string(),
        format!("mongodb://{auth}{host}{tail}{sep}directConnection=true"),
    ))
}

#[derive(Default)]
struct Tally {
    acked: Vec<String>,
    failed: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_connection_cuts_and_the_store_recovers() {
    let Some(server) =
        Server::connect("acknowledged_writes_survive_connection_cuts_and_the_store_recovers").await
    else {
        return;
    };
    let Some((upstream, _)) = through(&crate::url(), "x") else {
        println!("SKIPPED: MONGODB_URL names several hosts; this test proxies one");
        return;
    };
    let proxy = Proxy::start(upstream).await;
    let (_, via) = through(&crate::url(), &format!("127.0.0.1:{}", proxy.port)).unwrap();
    let database = server.fresh_database();
    let mut config = server.config(&database);
    config.url = via;
    config.connect_timeout = "5s".into();
    let storage: Arc<dyn Storage> = Arc::new(MongodbStorage::open(&config).await.unwrap());

    let tally = Arc::new(std::sync::Mutex::new(Tally::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (storage, tally, stop) = (storage.clone(), tally.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                let id = format!("w{i}");
                i += 1;
                match storage.upsert(Node, json!({"id": id, "n": i})).await {
                    Ok(()) => tally.lock().unwrap().acked.push(id),
                    Err(_) => tally.lock().unwrap().failed += 1,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let snapshot = |t: &Arc<std::sync::Mutex<Tally>>| {
        let t = t.lock().unwrap();
        (t.acked.len(), t.failed)
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A short outage: writes wait and go through.
    proxy.cut();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.restore();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (acked_short, failed_short) = snapshot(&tally);
    // The write in flight when the connections drop fails (not acknowledged: the driver retries
    // writes only against a replica set); the ones after it wait for the server and succeed.
    assert!(
        failed_short <= 1,
        "a short outage is ridden out: {failed_short} failed"
    );

    // A long one: writes fail, clearly, and work again once the server is back.
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let (acked_cut, failed_cut) = snapshot(&tally);
    assert!(failed_cut > 0, "writes fail while the server is away");
    proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if snapshot(&tally).0 >= acked_cut + 10 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "writes never worked again after the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Release);
    writer.await.unwrap();
    assert!(acked_short > 0);

    // Every acknowledged write is there, read straight from the server.
    let direct = MongodbStorage::open(&server.config(&database))
        .await
        .unwrap();
    let acked = std::mem::take(&mut tally.lock().unwrap().acked);
    let mut missing = Vec::new();
    for id in &acked {
        if direct.get(Node, id).await.unwrap().is_none() {
            missing.push(id.clone());
        }
    }
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    println!(
        "mongodb faults: {} writes acknowledged, {} failed (in flight at a cut, or timed out while the server was away), none lost",
        acked.len(),
        failed_cut
    );
    storage.close().await.unwrap();
    direct.close().await.unwrap();
    server.cleanup().await;
}
