//! SIGKILL in the middle of writes: every write the server acknowledged is there after a restart,
//! with the embedded storage and with PostgreSQL.

use crate::server::Server;
use crate::support::lost_writes;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const WRITERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    kill_under_load_and_check(dir.path(), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_sigkill_with_postgres() {
    let Some(pg) =
        crate::postgres::Schema::create("every_acknowledged_write_survives_sigkill_with_postgres")
    else {
        return;
    };
    let env = pg.env_for(&pg.url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dir = tempfile::tempdir().unwrap();
    kill_under_load_and_check(dir.path(), &env).await;
}

/// Eight writers post data repositories until 500 are acknowledged, then the server gets
/// SIGKILL; after a restart with the same `env` every acknowledged id is stored.
async fn kill_under_load_and_check(dir: &Path, env: &[(&str, &str)]) {
    let mut s = Server::start(dir, env, &[]).await;
    let token = s.login().await;
    let acked = Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (client, url, token, acked) = (
            s.client.clone(),
            s.url("/api/datarepository"),
            token.clone(),
            acked.clone(),
        );
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let id = format!("w{w}-{i}");
                let body = json!({"id": id, "data": {"writer": w, "n": i}});
                match client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => acked.lock().push(id),
                    _ => return,
                }
            }
        }));
    }
    // Let writes flow, then kill without warning while they are in flight.
    while acked.lock().len() < 500 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.child.start_kill().unwrap();
    let status = s.child.wait().await.unwrap();
    assert!(!status.success(), "killed, not exited");
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().clone();
    assert!(acked.len() >= 500);

    let s = Server::start(dir, env, &[]).await;
    let token = s.login().await;
    let lost = lost_writes(&s, &token, &acked).await;
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost, e.g. {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    assert!(s.terminate().await.success());
}
