//! Overload: MySensors readings over MQTT at about 10× the rate the server sustains (20,000
//! msg/s in docs/benchmarks.md, so the generator aims at 200,000 msg/s) for
//! `SWITCHYARD_OVERLOAD_SECS` seconds (default 5; docs/reliability.md records a 60 s run).
//! The server's memory must stay bounded (VmRSS sampled every 100 ms, under 256 MiB: the
//! bounded queues hold at most a few hundred MiB of small messages only if every bound were
//! misconfigured, and the default server idles at ~50 MiB), the overload must be counted per
//! reading in `/api/status` (gateway `readDropped`) and logged, and when the load ends the server
//! must answer and store a fresh reading.
//!
//! The generator speaks MQTT 3.1.1 itself (CONNECT, then QoS 0 PUBLISH packets written in large
//! batches) so that it, not a client library, is never the bottleneck. The broker is a private
//! Mosquitto (see `faults_mqtt`), so the load does not disturb other tests on the shared one.

use crate::faults_mqtt::{Broker, tools_missing};
use crate::server::Server;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TARGET_RATE: u64 = 200_000;
const RSS_LIMIT_KIB: u64 = 256 * 1024;

fn duration() -> Duration {
    let secs = std::env::var("SWITCHYARD_OVERLOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(secs)
}

fn remaining_length(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            break;
        }
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// An MQTT 3.1.1 connection that only publishes at QoS 0.
async fn mqtt_connect(port: u16, client_id: &str) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.set_nodelay(true).unwrap();
    let mut body = Vec::new();
    string("MQTT", &mut body);
    body.push(4); // protocol level 3.1.1
    body.push(0x02); // clean session
    body.extend_from_slice(&600u16.to_be_bytes()); // keep-alive
    string(client_id, &mut body);
    let mut packet = vec![0x10];
    remaining_length(body.len(), &mut packet);
    packet.extend_from_slice(&body);
    stream.write_all(&packet).await.unwrap();
    let mut connack = [0u8; 4];
    stream.read_exact(&mut connack).await.unwrap();
    assert_eq!(connack, [0x20, 2, 0, 0], "CONNACK accepted");
    stream
}

fn publish(topic: &str, payload: &str, out: &mut Vec<u8>) {
    out.push(0x30);
    remaining_length(2 + topic.len() + payload.len(), out);
    string(topic, out);
    out.extend_from_slice(payload.as_bytes());
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn status(s: &Server) -> Value {
    s.client
        .get(s.url("/api/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Messages the server refused for lack of room: the bus's drops (all subscribers) plus the
/// gateways' inbound drops and what their MQTT readers dropped (`readDropped`, one per
/// reading).
fn dropped(status: &Value) -> u64 {
    let services = &status["services"];
    let bus = services["bus"]["stats"]["dropped"].as_u64().unwrap_or(0);
    let gateways: u64 = services["gateways"]
        .as_object()
        .map(|g| {
            g.values()
                .flat_map(|s| [&s["inboundDropped"], &s["readDropped"]])
                .filter_map(Value::as_u64)
                .sum()
        })
        .unwrap_or(0);
    bus + gateways
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_times_the_sustainable_rate_stays_bounded_is_counted_and_recovers() {
    if tools_missing() {
        return;
    }
    let broker_dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(broker_dir.path()).await;
    let prefix = format!("syload{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &[], &[]).await;
    let pid = s.child.id().unwrap();
    let token = s.login().await;
    let r = s
        .client
        .post(s.url("/api/gateway"))
        .bearer_auth(&token)
        .json(&json!({
            "id": "load", "enabled": true, "reconnectDelay": "1s",
            "provider": {"type": "mysensors", "protocol": {
                "type": "mqtt", "broker": format!("tcp://127.0.0.1:{}", broker.port),
                "subscribe": format!("{prefix}-out/#"), "publish": format!("{prefix}-in"),
            }}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while status(&s).await["services"]["gateways"]["load"].is_null()
        || s.client
            .get(s.url("/api/gateway/load"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["state"]["status"]
            != "up"
    {
        assert!(tokio::time::Instant::now() < deadline, "gateway up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let idle_rss = rss_kib(pid).unwrap();

    // The load: 10 nodes × 10 children, V_TEMP, in batches of 1,000 packets every 5 ms.
    let run_for = duration();
    let sampler = {
        let stop = tokio_util::sync::CancellationToken::new();
        let child_stop = stop.clone();
        let task = tokio::spawn(async move {
            let mut peak = 0;
            while !child_stop.is_cancelled() {
                if let Some(kib) = rss_kib(pid) {
                    peak = peak.max(kib);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        });
        (stop, task)
    };
    let mut stream = mqtt_connect(broker.port, &format!("{prefix}-gen")).await;
    let started = tokio::time::Instant::now();
    let batch = 1_000u64;
    let interval = Duration::from_micros(batch * 1_000_000 / TARGET_RATE);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sent = 0u64;
    let mut buf = Vec::with_capacity(64 * 1024);
    while started.elapsed() < run_for {
        ticker.tick().await;
        buf.clear();
        for k in 0..batch {
            let n = sent + k;
            let topic = format!("{prefix}-out/{}/{}/1/0/0", 1 + n % 10, (n / 10) % 10);
            publish(&topic, &(n % 1000).to_string(), &mut buf);
        }
        stream.write_all(&buf).await.unwrap();
        sent += batch;
    }
    let offered_secs = started.elapsed().as_secs_f64();
    drop(stream);
    let during = status(&s).await;

    // The load is over. The backlog (held by the broker, the gateway and the bus) drains; a
    // fresh reading is published every 5 s (QoS 0: one sent while the gateway reconnects is
    // gone) until one is stored. Memory is sampled throughout.
    let drain_started = tokio::time::Instant::now();
    let deadline = drain_started + Duration::from_secs(180);
    let mut fresh = mqtt_connect(broker.port, &format!("{prefix}-fresh")).await;
    let mut next_publish = drain_started;
    let mut attempts = 0;
    loop {
        if tokio::time::Instant::now() >= next_publish {
            let mut packet = Vec::new();
            publish(&format!("{prefix}-out/99/1/1/0/0"), "42.5", &mut packet);
            if fresh.write_all(&packet).await.is_err() {
                fresh = mqtt_connect(broker.port, &format!("{prefix}-fresh")).await;
                fresh.write_all(&packet).await.unwrap();
            }
            attempts += 1;
            next_publish += Duration::from_secs(5);
        }
        let r = s
            .client
            .get(s.url("/api/field/load.99.1.V_TEMP"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if r.status() == 200 && r.json::<Value>().await.unwrap()["current"]["value"] == json!(42.5)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no fresh reading stored within 180 s of the overload's end"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drained_secs = drain_started.elapsed().as_secs_f64();
    sampler.0.cancel();
    let peak_rss = sampler.1.await.unwrap();
    let after = status(&s).await;
    let processed = after["services"]["processor"]["processed"]
        .as_u64()
        .unwrap_or(0);
    let drops = dropped(&after);
    println!(
        "overload: {sent} messages in {offered_secs:.1} s ({:.0} msg/s offered, target {TARGET_RATE}); \
         processed {processed}; dropped (bus + gateway) {drops} (during the load: {}); \
         RSS idle {} MiB, peak {} MiB (limit {} MiB); a fresh reading stored {drained_secs:.0} s \
         after the load ({attempts} sent); gateway stats {}; bus stats {}",
        sent as f64 / offered_secs,
        dropped(&during),
        idle_rss / 1024,
        peak_rss / 1024,
        RSS_LIMIT_KIB / 1024,
        after["services"]["gateways"]["load"],
        after["services"]["bus"]["stats"],
    );
    assert!(
        peak_rss < RSS_LIMIT_KIB,
        "RSS peaked at {peak_rss} KiB (limit {RSS_LIMIT_KIB} KiB)"
    );
    // Counted one by one where it is met: the gateway's MQTT reader keeps reading while the
    // processor is behind and drops the QoS 0 readings it has no room for (`readDropped`),
    // logged at most once a second. What the broker itself discards (QoS 0 carries no
    // sequence number, nor do MySensors readings) cannot be seen; what is counted is never more
    // than what was sent.
    let gateway = &after["services"]["gateways"]["load"];
    let read_dropped = gateway["readDropped"].as_u64().unwrap_or(0);
    assert!(
        read_dropped > 0,
        "the overload is counted per reading: {after}"
    );
    let gateway_dropped = read_dropped + gateway["inboundDropped"].as_u64().unwrap_or(0);
    assert!(
        gateway_dropped <= sent + attempts,
        "more dropped than sent ({sent} + {attempts}): {after}"
    );
    assert!(
        s.log
            .lock()
            .iter()
            .any(|l| l.contains("dropped a QoS 0 publish from the broker")),
        "the drops are logged"
    );
    assert!(s.terminate().await.success());
}
