//! The fleet benchmark: simulated MySensors nodes publish over MQTT to the real `switchyard`
//! binary, and the same generator and subscriber measure, in the same run, the broker's own
//! pass-through and a no-work forwarder — the limits Switchyard's figures are reported against.
//!
//! `cargo run --release -p switchyard-bench --bin fleet -- all` (see docs/benchmarks.md).

mod backends;
mod history;
mod mqtt;
mod plot;
mod scale;
mod server;

use anyhow::{Context, bail};
use clap::Parser;
use mqtt::{Broker, Recorder};
use serde_json::{Value, json};
use server::Server;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    about = "Switchyard against the broker's own limit: ingest (S1), reaction (S2), scale (S3), history (S4), S1+S2 on PostgreSQL + InfluxDB (S5)"
)]
struct Args {
    /// s1 (ingest), s2 (forward-payload reaction), s3 (scale), s4 (history), s5 (S1 and S2 on
    /// PostgreSQL + InfluxDB), or all (s1–s4).
    scenario: String,
    /// Seconds-long run with tiny rates: checks the harness works, measures nothing.
    #[arg(long)]
    smoke: bool,
    /// Simulated nodes (1–98; node 99 is the latency probe, actuators are node + 100).
    #[arg(long, default_value_t = 10)]
    nodes: u64,
    /// Fields (children) per node (1–200).
    #[arg(long, default_value_t = 10)]
    fields: u64,
    /// Seconds each rate is held.
    #[arg(long, default_value_t = 5.0)]
    step_seconds: f64,
    /// S1's ladder of rates (msg/s); it stops at the first step with loss.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000,2000,5000,10000,20000,50000,100000,200000"
    )]
    ladder: Vec<u64>,
    /// S2's fixed rates (msg/s).
    #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000")]
    rates: Vec<u64>,
    #[arg(long, default_value = "127.0.0.1")]
    broker_host: String,
    #[arg(long, default_value_t = 1883)]
    broker_port: u16,
    /// The switchyard binary (default: `switchyard` beside this one).
    #[arg(long)]
    switchyard: Option<PathBuf>,
    /// Where the Markdown and JSON reports go.
    #[arg(long, default_value = "target/fleet")]
    out: PathBuf,
    /// Show the server's log.
    #[arg(long)]
    server_log: bool,
    /// S3's fields.
    #[arg(long, default_value_t = 100_000)]
    scale_fields: u64,
    /// S4's days of history.
    #[arg(long, default_value_t = 30)]
    history_days: u64,
    /// S4's seconds between two points.
    #[arg(long, default_value_t = 30)]
    history_every: u64,
    /// The MySensors gateway's `maxInFlight` (sets awaiting their echo at once); default: the
    /// provider's own (16 over MQTT).
    #[arg(long)]
    max_in_flight: Option<u64>,
    /// S5's PostgreSQL (tables `sybench<time>_…` are created in it).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres_url: String,
}

const GATEWAY: &str = "bench";
/// Time a step's stragglers get to arrive (or be stored) after the generator stops.
const GRACE: Duration = Duration::from_secs(5);

struct Run {
    args: Args,
    broker: Broker,
    prefix: String,
    step: Duration,
    next_seq: u64,
}

impl Run {
    fn field_count(&self) -> u64 {
        self.args.nodes * self.args.fields
    }

    /// Node and child of the `k`-th sensor field.
    fn sensor(&self, k: u64) -> (u64, u64) {
        let k = k % self.field_count();
        (k / self.args.fields + 1, k % self.args.fields + 1)
    }

    fn seqs(&mut self, rate: u64) -> u64 {
        let first = self.next_seq;
        // Room for every message of the step; numbers never repeat within a run.
        self.next_seq += (rate as f64 * self.step.as_secs_f64() * 3.0) as u64 + 1;
        first
    }
}

#[derive(Default)]
struct Step {
    system: &'static str,
    target: u64,
    sent: u64,
    achieved: f64,
    received: u64,
    duplicates: u64,
    lost: u64,
    latency: Option<Latency>,
    cpu_percent: Option<f64>,
    rss_mib: Option<f64>,
}

impl Step {
    fn ok(&self) -> bool {
        self.lost == 0 && self.achieved >= 0.95 * self.target as f64
    }

    fn json(&self) -> Value {
        json!({"system": self.system, "targetRate": self.target, "sent": self.sent,
               "achievedRate": self.achieved.round(), "received": self.received,
               "duplicates": self.duplicates, "lost": self.lost, "zeroLoss": self.ok(),
               "latencyMicros": self.latency.as_ref().map(Latency::json),
               "serverCpuPercent": self.cpu_percent, "serverRssMiB": self.rss_mib})
    }
}

struct Latency {
    count: usize,
    p50: u32,
    p95: u32,
    p99: u32,
    max: u32,
}

impl Latency {
    fn of(mut samples: Vec<u32>) -> Option<Latency> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Some(Latency {
            count: samples.len(),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: *samples.last().unwrap(),
        })
    }

    fn json(&self) -> Value {
        json!({"samples": self.count, "p50": self.p50, "p95": self.p95, "p99": self.p99,
               "max": self.max})
    }

    fn cell(l: &Option<Latency>) -> String {
        match l {
            Some(l) => format!(
                "{:.2} / {:.2} / {:.2} / {:.2}",
                ms(l.p50),
                ms(l.p95),
                ms(l.p99),
                ms(l.max)
            ),
            None => "–".into(),
        }
    }
}

fn ms(micros: u32) -> f64 {
    micros as f64 / 1000.0
}

/// Waits until `done` or the grace time is over.
async fn settle(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + GRACE;
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One step of a pure-MQTT system: the generator publishes on `<publish>/<node>/<child>`, the
/// subscriber on `<receive>/#` counts and times.
async fn mqtt_step(
    run: &mut Run,
    system: &'static str,
    publish: &str,
    receive: &str,
    rate: u64,
) -> anyhow::Result<Step> {
    let recorder = Recorder::new();
    let client_id = system.replace(' ', "-");
    let (sub, sub_task) = mqtt::subscriber(
        &run.broker,
        &format!("{}-{client_id}-sub", run.prefix),
        &format!("{receive}/#"),
        recorder.clone(),
    )
    .await?;
    let (client, eventloop) =
        mqtt::connect(&run.broker, &format!("{}-{client_id}-gen", run.prefix));
    let gen_task = mqtt::drive(eventloop, |_, _| {});
    let first = run.seqs(rate);
    let started = Instant::now();
    let fields = run.field_count();
    let fields_per_node = run.args.fields;
    let sent = mqtt::generate(&client, &recorder, rate, run.step, first, |seq| {
        let k = seq % fields;
        format!(
            "{publish}/{}/{}",
            k / fields_per_node + 1,
            k % fields_per_node + 1
        )
    })
    .await?;
    let achieved = sent as f64 / started.elapsed().as_secs_f64();
    settle(|| recorder.received() >= sent).await;
    let received = recorder.received();
    let _ = client.disconnect().await;
    let _ = sub.disconnect().await;
    gen_task.abort();
    sub_task.abort();
    Ok(Step {
        system,
        target: rate,
        sent,
        achieved,
        received,
        duplicates: recorder.duplicates(),
        lost: sent.saturating_sub(received),
        latency: Latency::of(recorder.take_samples()),
        ..Step::default()
    })
}

/// S1's Switchyard step: sensor values in, then every field's last value checked in the API.
async fn ingest_step(run: &mut Run, server: &Server, rate: u64) -> anyhow::Result<Step> {
    let recorder = Recorder::new();
    let (client, eventloop) = mqtt::connect(&run.broker, &format!("{}-ingest-gen", run.prefix));
    let gen_task = mqtt::drive(eventloop, |_, _| {});
    let first = run.seqs(rate);
    let before = server.stats();
    let started = Instant::now();
    let out = format!("{}-out", run.prefix);
    let (fields, per_node) = (run.field_count(), run.args.fields);
    let sent = mqtt::generate(&client, &recorder, rate, run.step, first, |seq| {
        let k = seq % fields;
        // node/child/C_SET/no ack/V_TEMP
        format!("{out}/{}/{}/1/0/0", k / per_node + 1, k % per_node + 1)
    })
    .await?;
    let achieved = sent as f64 / started.elapsed().as_secs_f64();
    let after = server.stats();
    // The last sequence number each field was sent.
    let mut expected = std::collections::HashMap::new();
    for seq in first + sent.saturating_sub(fields)..first + sent {
        let (node, child) = run.sensor(seq);
        expected.insert(format!("{GATEWAY}.{node}.{child}.V_TEMP"), seq as f64);
    }
    let deadline = Instant::now() + GRACE;
    let mut wrong;
    loop {
        let stored = server.field_values(GATEWAY).await?;
        wrong = expected
            .iter()
            .filter(|(id, v)| stored.get(*id) != Some(v))
            .count() as u64;
        if wrong == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = client.disconnect().await;
    gen_task.abort();
    Ok(Step {
        system: "switchyard",
        target: rate,
        sent,
        achieved,
        received: sent - wrong.min(sent),
        lost: wrong,
        cpu_percent: Some(after.cpu_percent_since(&before)),
        rss_mib: Some(after.rss_kib as f64 / 1024.0),
        ..Step::default()
    })
}

/// Publish→stored latency at `rate`: the fleet publishes in the background while a probe field
/// gets a new value every 20 ms and the API is polled until it holds it (the poll's own HTTP
/// round trip, ~0.2 ms here, is included).
async fn stored_latency(run: &mut Run, server: &Server, rate: u64) -> anyhow::Result<Step> {
    let recorder = Recorder::new();
    let (client, eventloop) = mqtt::connect(&run.broker, &format!("{}-probe-gen", run.prefix));
    let gen_task = mqtt::drive(eventloop, |_, _| {});
    let first = run.seqs(rate);
    let out = format!("{}-out", run.prefix);
    let (fields, per_node) = (run.field_count(), run.args.fields);
    let step = run.step;
    let background = {
        let client = client.clone();
        let recorder = recorder.clone();
        let out = out.clone();
        tokio::spawn(async move {
            mqtt::generate(&client, &recorder, rate, step, first, |seq| {
                let k = seq % fields;
                format!("{out}/{}/{}/1/0/0", k / per_node + 1, k % per_node + 1)
            })
            .await
        })
    };
    let probe_id = format!("{GATEWAY}.99.1.V_TEMP");
    let mut samples = Vec::new();
    let mut probe_value = run.seqs(0) + 1_000_000_000;
    let before = server.stats();
    let end = Instant::now() + step;
    while Instant::now() < end {
        probe_value += 1;
        let sent = Instant::now();
        client
            .publish(
                format!("{out}/99/1/1/0/0"),
                rumqttc::QoS::AtMostOnce,
                false,
                probe_value.to_string(),
            )
            .await?;
        while sent.elapsed() < GRACE {
            let f = server.get(&format!("/api/field/{probe_id}")).await;
            if f.is_ok_and(|f| f["current"]["value"].as_f64() == Some(probe_value as f64)) {
                samples.push(sent.elapsed().as_micros() as u32);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = background.await??;
    let after = server.stats();
    let _ = client.disconnect().await;
    gen_task.abort();
    Ok(Step {
        system: "switchyard (publish→stored)",
        target: rate,
        sent,
        achieved: sent as f64 / step.as_secs_f64(),
        received: samples.len() as u64,
        latency: Latency::of(samples),
        cpu_percent: Some(after.cpu_percent_since(&before)),
        rss_mib: Some(after.rss_kib as f64 / 1024.0),
        ..Step::default()
    })
}

/// S2's Switchyard step: sensor values in; each sensor field has a forward payload to an
/// actuator field (node + 100), whose `set` comes back on `<prefix>-in`, where the actuator
/// echoes it as a MySensors node does (so the gateway does not resend).
async fn forward_step(run: &mut Run, server: &Server, rate: u64) -> anyhow::Result<Step> {
    let recorder = Recorder::new();
    let (actuator, eventloop) = mqtt::connect(&run.broker, &format!("{}-actuator", run.prefix));
    actuator
        .subscribe(format!("{}-in/#", run.prefix), rumqttc::QoS::AtMostOnce)
        .await?;
    let out = format!("{}-out", run.prefix);
    let echo = actuator.clone();
    let rec = recorder.clone();
    let act_task = mqtt::drive(eventloop, move |topic, payload| {
        if let Some(seq) = mqtt::parse_seq(payload) {
            rec.arrived(seq);
        }
        // <prefix>-in/node/child/1/1/type → the same frame as the node's echo.
        let parts: Vec<&str> = topic.rsplitn(6, '/').collect();
        if parts.len() == 6 {
            let _ = echo.try_publish(
                format!("{out}/{}/{}/1/1/{}", parts[4], parts[3], parts[0]),
                rumqttc::QoS::AtMostOnce,
                false,
                payload.to_vec(),
            );
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (client, eventloop) = mqtt::connect(&run.broker, &format!("{}-fwd-gen", run.prefix));
    let gen_task = mqtt::drive(eventloop, |_, _| {});
    let first = run.seqs(rate);
    let before = server.stats();
    let started = Instant::now();
    let out = format!("{}-out", run.prefix);
    let (fields, per_node) = (run.field_count(), run.args.fields);
    let sent = mqtt::generate(&client, &recorder, rate, run.step, first, |seq| {
        let k = seq % fields;
        format!("{out}/{}/{}/1/0/0", k / per_node + 1, k % per_node + 1)
    })
    .await?;
    let achieved = sent as f64 / started.elapsed().as_secs_f64();
    let after = server.stats();
    settle(|| recorder.received() >= sent).await;
    let received = recorder.received();
    let _ = client.disconnect().await;
    let _ = actuator.disconnect().await;
    gen_task.abort();
    act_task.abort();
    Ok(Step {
        system: "switchyard (forward round trip)",
        target: rate,
        sent,
        achieved,
        received,
        duplicates: recorder.duplicates(),
        lost: sent.saturating_sub(received),
        latency: Latency::of(recorder.take_samples()),
        cpu_percent: Some(after.cpu_percent_since(&before)),
        rss_mib: Some(after.rss_kib as f64 / 1024.0),
    })
}

/// Every sensor and actuator field exists (one value each, stored), and one forward payload per
/// sensor field points at its actuator.
async fn prepare_forwarding(run: &mut Run, server: &Server) -> anyhow::Result<()> {
    let (client, eventloop) = mqtt::connect(&run.broker, &format!("{}-seed", run.prefix));
    let task = mqtt::drive(eventloop, |_, _| {});
    let out = format!("{}-out", run.prefix);
    for k in 0..run.field_count() {
        let (node, child) = run.sensor(k);
        for n in [node, node + 100] {
            client
                .publish(
                    format!("{out}/{n}/{child}/1/0/0"),
                    rumqttc::QoS::AtMostOnce,
                    false,
                    "0",
                )
                .await?;
        }
    }
    let want = run.field_count() as usize * 2;
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.field_values(GATEWAY).await?.len() < want {
        if Instant::now() > deadline {
            bail!("the seeded fields did not all appear within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for k in 0..run.field_count() {
        let (node, child) = run.sensor(k);
        server
            .post(
                "/api/forwardpayload",
                json!({"id": format!("fp-{node}-{child}"), "enabled": true,
                   "srcFieldId": format!("field:{GATEWAY}.{node}.{child}.V_TEMP"),
                   "dstFieldId": format!("field:{GATEWAY}.{}.{child}.V_TEMP", node + 100)}),
            )
            .await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = client.disconnect().await;
    task.abort();
    Ok(())
}

fn table(title: &str, steps: &[Step], out: &mut String) {
    let _ = writeln!(out, "\n### {title}\n");
    let _ = writeln!(
        out,
        "| system | target msg/s | achieved msg/s | lost | zero loss | latency p50 / p95 / p99 / max (ms) | server CPU % | server RSS MiB |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- |");
    for s in steps {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {} | {} | {} |",
            s.system,
            s.target,
            s.achieved,
            s.lost,
            if s.ok() { "yes" } else { "no" },
            Latency::cell(&s.latency),
            s.cpu_percent.map_or("–".into(), |c| format!("{c:.0}")),
            s.rss_mib.map_or("–".into(), |r| format!("{r:.1}")),
        );
    }
}

/// The highest target rate a system held with zero loss.
fn sustained(steps: &[Step], system: &str) -> u64 {
    steps
        .iter()
        .filter(|s| s.system == system && s.ok())
        .map(|s| s.target)
        .max()
        .unwrap_or(0)
}

fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        "–".into()
    } else {
        format!("{:.0} %", a as f64 * 100.0 / b as f64)
    }
}

/// S1 on `server`: publish→stored latency, then the broker's and Switchyard's ladders.
async fn ingest(
    run: &mut Run,
    server: &Server,
    md: &mut String,
    title: &str,
) -> anyhow::Result<(Value, Vec<Step>, bool)> {
    let pass = format!("{}-pass", run.prefix);
    let mut steps = Vec::new();
    // Latency first: a ladder step past the server's limit leaves a backlog behind it.
    let latency_rates: Vec<u64> = run.args.rates.iter().copied().take(2).collect();
    for rate in latency_rates {
        let s = stored_latency(run, server, rate).await?;
        eprintln!(
            "{title} stored latency at {rate}: {}",
            Latency::cell(&s.latency)
        );
        steps.push(s);
    }
    for rate in run.args.ladder.clone() {
        let s = mqtt_step(run, "broker pass-through", &pass, &pass, rate).await?;
        eprintln!(
            "{title} broker {rate}: achieved {:.0}, lost {}",
            s.achieved, s.lost
        );
        let ok = s.ok();
        steps.push(s);
        if !ok {
            break;
        }
    }
    for rate in run.args.ladder.clone() {
        let s = ingest_step(run, server, rate).await?;
        eprintln!(
            "{title} switchyard {rate}: achieved {:.0}, wrong {}",
            s.achieved, s.lost
        );
        let ok = s.ok();
        steps.push(s);
        if !ok {
            break;
        }
    }
    // Correctness, not speed: at the smallest rate every value must have been stored.
    let correct = steps
        .iter()
        .find(|s| s.system == "switchyard")
        .is_none_or(|s| s.lost == 0);
    let (b, s) = (
        sustained(&steps, "broker pass-through"),
        sustained(&steps, "switchyard"),
    );
    let _ = writeln!(
        md,
        "\n## {title}\n\nSustained with zero loss: Switchyard {s} msg/s, broker pass-through {b} msg/s → **{}** of the broker (ladder stops at its first lossy step; target ≥ 50 %: {}).",
        ratio(s, b),
        if b > 0 && s * 2 >= b {
            "met"
        } else {
            "not met"
        }
    );
    table(&format!("{title} steps"), &steps, md);
    let json = json!({"sustainedSwitchyard": s, "sustainedBroker": b,
        "ratio": if b > 0 { s as f64 / b as f64 } else { 0.0 },
        "steps": steps.iter().map(Step::json).collect::<Vec<_>>()});
    Ok((json, steps, correct))
}

/// S2 on `server`: at each rate the broker, the no-work forwarder and Switchyard's round trip.
async fn reaction(
    run: &mut Run,
    server: &Server,
    md: &mut String,
    title: &str,
) -> anyhow::Result<(Value, Vec<Step>)> {
    prepare_forwarding(run, server).await?;
    let pass = format!("{}-pass", run.prefix);
    let fwd_in = format!("{}-fwdin", run.prefix);
    let fwd_out = format!("{}-fwdout", run.prefix);
    let forwarder = mqtt::forwarder(&run.broker, &fwd_in, &fwd_out).await?;
    let mut steps = Vec::new();
    for rate in run.args.rates.clone() {
        let s = mqtt_step(run, "broker pass-through", &pass, &pass, rate).await?;
        steps.push(s);
        let s = mqtt_step(run, "no-work forwarder", &fwd_in, &fwd_out, rate).await?;
        steps.push(s);
        let s = forward_step(run, server, rate).await?;
        eprintln!(
            "{title} {rate}: switchyard lost {}, {}",
            s.lost,
            Latency::cell(&s.latency)
        );
        steps.push(s);
    }
    forwarder.abort();
    let (f, s) = (
        sustained(&steps, "no-work forwarder"),
        sustained(&steps, "switchyard (forward round trip)"),
    );
    let p99_ok = steps
        .iter()
        .filter(|st| st.system.starts_with("switchyard") && st.target >= 5_000)
        .all(|st| st.ok() && st.latency.as_ref().is_some_and(|l| l.p99 < 500));
    let _ = writeln!(
        md,
        "\n## {title}\n\nHighest fixed rate held with zero loss: Switchyard {s} msg/s, no-work forwarder {f} msg/s → **{}** (target ≥ 80 %: {}); p99 < 0.5 ms at 5k and 10k msg/s: {}.",
        ratio(s, f),
        if f > 0 && s * 5 >= f * 4 {
            "met"
        } else {
            "not met"
        },
        if p99_ok { "met" } else { "not met" }
    );
    table(&format!("{title} steps"), &steps, md);
    let json = json!({"sustainedSwitchyard": s, "sustainedForwarder": f,
        "steps": steps.iter().map(Step::json).collect::<Vec<_>>()});
    Ok((json, steps))
}

/// The plot's lines: p50 and p99 against rate for each system that was timed.
fn latency_lines(scenario: &str, steps: &[Step]) -> Vec<plot::Line> {
    let mut lines: Vec<plot::Line> = Vec::new();
    for step in steps {
        let Some(l) = &step.latency else { continue };
        for (name, v) in [("p50", l.p50), ("p99", l.p99)] {
            let label = format!("{scenario} {} {name}", step.system);
            let point = (step.target as f64, ms(v));
            match lines.iter_mut().find(|line| line.label == label) {
                Some(line) => line.points.push(point),
                None => lines.push(plot::Line {
                    label,
                    points: vec![point],
                }),
            }
        }
    }
    lines
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // reqwest is built with rustls and no provider when the workspace is built together.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut args = Args::parse();
    if args.smoke {
        args.nodes = 2;
        args.fields = 2;
        args.step_seconds = 1.0;
        args.ladder = vec![200, 500];
        args.rates = vec![200];
        args.scale_fields = 500;
        args.history_days = 1;
        args.history_every = 60;
    }
    if !(1..=98).contains(&args.nodes) || !(1..=200).contains(&args.fields) {
        bail!("--nodes must be 1–98 and --fields 1–200 (MySensors ids; actuators are node + 100)");
    }
    let scenario = args.scenario.to_lowercase();
    let scenarios: Vec<&str> = match scenario.as_str() {
        "all" => vec!["s1", "s2", "s3", "s4"],
        "s1" | "s2" | "s3" | "s4" | "s5" => vec![scenario.as_str()],
        _ => bail!("scenario {scenario:?}: s1, s2, s3, s4, s5 or all"),
    };
    let wants = |s: &str| scenarios.contains(&s);
    let binary = match &args.switchyard {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no directory")?
            .join("switchyard"),
    };
    if !binary.exists() {
        bail!(
            "{} not found: build it first (cargo build --release -p switchyard-server) or pass --switchyard",
            binary.display()
        );
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut run = Run {
        broker: Broker {
            host: args.broker_host.clone(),
            port: args.broker_port,
        },
        prefix: format!("sybench{stamp:x}"),
        step: Duration::from_secs_f64(args.step_seconds),
        next_seq: 1,
        args,
    };
    std::net::TcpStream::connect((run.broker.host.as_str(), run.broker.port))
        .with_context(|| format!("no MQTT broker on {}:{}", run.broker.host, run.broker.port))?;

    let mut md = String::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut report = json!({
        "date": stamp, "smoke": run.args.smoke, "nodes": run.args.nodes,
        "fieldsPerNode": run.args.fields, "stepSeconds": run.args.step_seconds,
        "loadAverageAtStart": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    });
    let _ = writeln!(
        md,
        "\nLoad average at the start: {} (2 cores shared with the generator, the broker and other work: figures are lower bounds).",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut failure = None;
    let mut lines = Vec::new();

    if wants("s1") || wants("s2") {
        let data = tempfile::tempdir()?;
        let server = Server::start(&binary, data.path(), run.args.server_log, &[]).await?;
        let idle = server.stats();
        eprintln!(
            "switchyard (pid {}) ready in {} ms, RSS {:.1} MiB",
            server.pid,
            server.started_in.as_millis(),
            idle.rss_kib as f64 / 1024.0
        );
        report["startupMillis"] = json!(server.started_in.as_millis() as u64);
        report["idleRssMiB"] = json!(idle.rss_kib as f64 / 1024.0);
        server
            .mysensors_gateway(GATEWAY, &run.prefix, run.args.max_in_flight)
            .await?;
        if wants("s1") {
            let (json, steps, correct) = ingest(&mut run, &server, &mut md, "S1 ingest").await?;
            if !correct {
                failure = Some("S1: fields without their last value at the lowest rate");
            }
            lines.extend(latency_lines("S1", &steps));
            report["s1"] = json;
        }
        if wants("s2") {
            let (json, steps) = reaction(
                &mut run,
                &server,
                &mut md,
                "S2 reaction (forward payload round trip)",
            )
            .await?;
            lines.extend(latency_lines("S2", &steps));
            report["s2"] = json;
        }
        let last = server.stats();
        report["peakRssMiB"] = json!(last.peak_rss_kib as f64 / 1024.0);
        let _ = writeln!(
            md,
            "\nServer (embedded storage and metrics): ready in {} ms, idle RSS {:.1} MiB, peak RSS {:.1} MiB.",
            server.started_in.as_millis(),
            idle.rss_kib as f64 / 1024.0,
            last.peak_rss_kib as f64 / 1024.0
        );
        server.stop().await;
    }
    if wants("s3") {
        report["s3"] = scale::run(&mut run, &binary, &[], &mut md).await?;
    }
    if wants("s4") {
        report["s4"] = history::run(&run, &binary, &mut md).await?;
    }
    if wants("s5") {
        let influx = backends::Influxd::start().await?;
        let env = backends::env(&run.args.postgres_url, &format!("{}_", run.prefix), &influx);
        let data = tempfile::tempdir()?;
        let server = Server::start(&binary, data.path(), run.args.server_log, &env).await?;
        server
            .mysensors_gateway(GATEWAY, &run.prefix, run.args.max_in_flight)
            .await?;
        let title = "S5 ingest on PostgreSQL + InfluxDB";
        let (s1, steps, correct) = ingest(&mut run, &server, &mut md, title).await?;
        if !correct {
            failure = Some("S5: fields without their last value at the lowest rate");
        }
        lines.extend(latency_lines("S5", &steps));
        let title = "S5 reaction on PostgreSQL + InfluxDB";
        let (s2, steps) = reaction(&mut run, &server, &mut md, title).await?;
        lines.extend(latency_lines("S5", &steps));
        let last = server.stats();
        report["s5"] = json!({"s1": s1, "s2": s2, "peakRssMiB": last.peak_rss_kib as f64 / 1024.0});
        server.stop().await;
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    report["loadAverageAtEnd"] = json!(
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    std::fs::create_dir_all(&run.args.out)?;
    let name = format!("fleet-{scenario}-{stamp}");
    let md_path = run.args.out.join(format!("{name}.md"));
    let json_path = run.args.out.join(format!("{name}.json"));
    std::fs::write(&md_path, format!("# Fleet benchmark {scenario}\n{md}"))?;
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)?;
    println!("{md}");
    println!("wrote {} and {}", md_path.display(), json_path.display());
    if let Some(svg) = plot::svg(
        &format!("fleet {scenario}: latency against rate (log scale)"),
        &lines,
    ) {
        let svg_path = run.args.out.join(format!("{name}.svg"));
        std::fs::write(&svg_path, svg)?;
        println!("wrote {}", svg_path.display());
    }
    if let Some(why) = failure {
        bail!(why);
    }
    Ok(())
}
