//! PostgreSQL goes away while the server writes. The shared PostgreSQL must not be restarted
//! (other tests use it), so the server reaches it through a TCP proxy in this test, which cuts
//! every connection and refuses new ones as a restarting server does, then lets them through
//! again. A short outage (2 s, within `storage.retry_for` = 6 s) is ridden out: writes wait and
//! succeed. A long one (10 s) makes writes fail with 503 and `/api/status` report storage
//! `degraded`; when the proxy lets connections through again storage reports `ok` and writes
//! succeed. Every acknowledged write is in PostgreSQL afterwards.

use crate::postgres::Schema;
use crate::server::Server;
use crate::support::{lost_writes, status};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
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

async fn health(s: &Server) -> Value {
    status(s).await["services"]["storage"]["health"].clone()
}

async fn wait_health(s: &Server, want: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let h = health(s).await;
        if h["health"] == want {
            return h;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "storage never {want}: {h}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_wait_out_a_short_postgres_outage_and_report_a_long_one() {
    let Some(pg) = Schema::create("writes_wait_out_a_short_postgres_outage") else {
        return;
    };
    let upstream = url_host_port(&pg.url);
    let proxy = Proxy::start(upstream.clone()).await;
    let via_proxy = pg
        .url
        .replace(&upstream, &format!("127.0.0.1:{}", proxy.port));
    let mut env = pg.env_for(&via_proxy);
    env.push(("SWITCHYARD__STORAGE__RETRY_FOR", "6s".into()));
    env.push(("SWITCHYARD__STORAGE__CONNECT_TIMEOUT", "2s".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &env, &[]).await;
    let token = s.login().await;

    let acked = Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let failed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, url, token) = (
            s.client.clone(),
            s.url("/api/datarepository"),
            token.clone(),
        );
        let (acked, failed, stop) = (acked.clone(), failed.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("w{w}-{i}");
                i += 1;
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"id": id, "data": {"n": i}}))
                    .send()
                    .await;
                match r.map(|r| r.status().as_u16()) {
                    Ok(200) => acked.lock().push(id),
                    Ok(503) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    other => panic!("unexpected answer {other:?}"),
                }
            }
        }));
    }
    let acked_count = || acked.lock().len();
    while acked_count() < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Short outage: writes wait and then succeed.
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_restore = acked_count();
    proxy.restore();
    while acked_count() < before_restore + 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed_short = failed.load(Ordering::Relaxed);
    assert_eq!(health(&s).await["health"], "ok");

    // Long outage: past retry_for, writes fail and storage is reported degraded.
    proxy.cut();
    let degraded = wait_health(&s, "degraded").await;
    assert!(
        degraded["lastError"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{degraded}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.restore();
    let recovered_from = acked_count();
    wait_health(&s, "ok").await;
    while acked_count() < recovered_from + 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let failed_long = failed.load(Ordering::Relaxed) - failed_short;
    assert!(failed_long > 0, "the long outage failed writes");

    // Every acknowledged write is stored.
    let acked = acked.lock().clone();
    let lost = lost_writes(&s, &token, &acked).await;
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
    println!(
        "postgres outages: {} writes acknowledged, {failed_short} failed in the 2 s outage, \
         {failed_long} in the long one; errors seen: {}",
        acked.len(),
        health(&s).await["errors"]
    );
    assert!(s.terminate().await.success());
}

/// `host:port` of a `postgres://user@host:port/db` URL.
fn url_host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).expect("a URL");
    let authority = rest.split('/').next().unwrap();
    authority.rsplit('@').next().unwrap().to_string()
}
