//! S4 history: one field's 30 days at 1-minute windows from the embedded metric store. The
//! store is filled directly (a point every `--history-every` seconds for `--history-days`
//! days), queried directly, then served by the real binary and queried over the API at the
//! finest window its query limit allows (1 minute for up to 34 days).

use super::server::Server;
use super::{Latency, Run};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use switchyard_core::metrics::{Aggregation, MetricPoint, MetricQuery};

const SERIES: &str = "field:bench.1.1.V_TEMP";
/// Queries timed per measurement (the median is reported).
const REPEATS: usize = 7;
/// The API's own bound on windows per query (crates/api/src/routes/metric.rs).
const API_MAX_WINDOWS: u64 = 50_000;

/// RFC 3339 of a Unix time (UTC), without a date crate: days to civil date (H. Hinnant).
fn rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn point(unix: i64, value: f64) -> anyhow::Result<MetricPoint> {
    Ok(serde_json::from_value(json!({
        "series": SERIES, "metricType": "gauge_float", "timestamp": rfc3339(unix),
        "value": value, "tags": {}
    }))?)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs S4; returns its JSON and appends its Markdown.
pub async fn run(run: &Run, binary: &std::path::Path, md: &mut String) -> anyhow::Result<Value> {
    let (days, every) = (run.args.history_days, run.args.history_every.max(1));
    let dir = tempfile::tempdir()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let start = now - days as i64 * 86_400;
    let store = switchyard_metrics::open(&Default::default(), dir.path()).await?;
    let filled = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    let mut points = 0u64;
    let mut t = start;
    while t < now {
        // A day's swing of ±5 around 20 °C.
        let phase = (t % 86_400) as f64 / 86_400.0 * std::f64::consts::TAU;
        batch.push(point(t, 20.0 + 5.0 * phase.sin())?);
        points += 1;
        t += every as i64;
        if batch.len() == batch.capacity() || t >= now {
            store.write(std::mem::take(&mut batch)).await?;
            // Keep the store's bounded buffer from filling (it would drop, by design).
            store.flush().await?;
        }
    }
    let filled = filled.elapsed();
    let query = MetricQuery {
        series: SERIES.into(),
        start: point(start, 0.0)?.timestamp,
        stop: point(now, 0.0)?.timestamp,
        window: Some(Duration::from_secs(60)),
        aggregations: vec![Aggregation::Mean],
    };
    let mut direct = Vec::new();
    let mut rows = 0;
    for _ in 0..REPEATS {
        let t = Instant::now();
        rows = store.query(&query).await?.len();
        direct.push(t.elapsed());
    }
    store.close().await?;
    drop(store);
    let direct_median = median(direct.clone());
    let direct_max = direct.iter().max().copied().unwrap_or_default();

    // The same store served by the binary: the API allows at most 50,000 windows a query.
    let server = Server::start(binary, dir.path(), run.args.server_log, &[]).await?;
    let window_secs = (days * 86_400)
        .div_ceil(API_MAX_WINDOWS)
        .div_ceil(60)
        .max(1)
        * 60;
    let path = format!(
        "/api/metric?quickId={SERIES}&start=-{days}d&window={}m&functions=mean",
        window_secs / 60
    );
    let mut api = Vec::new();
    let mut api_rows = 0;
    for _ in 0..REPEATS {
        let (took, body) = server.timed_get(&path).await?;
        api_rows = rows_of(&body);
        api.push(took);
    }
    let one_minute = server
        .get(&format!(
            "/api/metric?quickId={SERIES}&start=-{days}d&window=1m"
        ))
        .await;
    server.stop().await;
    let api_median = median(api.clone());
    let api_samples: Vec<u32> = api.iter().map(|d| d.as_micros() as u32).collect();
    let api_latency = Latency::of(api_samples);

    let met = |d: Duration| if millis(d) < 100.0 { "met" } else { "not met" };
    let _ = writeln!(
        md,
        "\n## S4 history\n\n{points} points ({days} days, one every {every} s) written to the embedded metric store in {:.1} s.\n",
        filled.as_secs_f64()
    );
    let _ = writeln!(
        md,
        "| query | rows | median ms | max ms | target < 100 ms |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- |");
    let _ = writeln!(
        md,
        "| store, {days} d at 1-minute windows (mean) | {rows} | {:.1} | {:.1} | {} |",
        millis(direct_median),
        millis(direct_max),
        met(direct_median)
    );
    let _ = writeln!(
        md,
        "| `GET /api/metric`, {days} d at {}-minute windows (mean) | {api_rows} | {:.1} | {:.1} | {} |",
        window_secs / 60,
        millis(api_median),
        api_latency.as_ref().map_or(0.0, |l| l.max as f64 / 1000.0),
        met(api_median)
    );
    let refused = match &one_minute {
        Ok(_) => "answered".to_string(),
        Err(e) => format!(
            "refused ({})",
            e.to_string().chars().take(80).collect::<String>()
        ),
    };
    let _ = writeln!(
        md,
        "\nOver the API, 1-minute windows for {days} days were {refused}: the API caps a query at {API_MAX_WINDOWS} windows."
    );
    Ok(json!({
        "days": days, "everySeconds": every, "points": points,
        "fillSeconds": filled.as_secs_f64(),
        "direct": {"windowSeconds": 60, "rows": rows,
                   "medianMillis": millis(direct_median), "maxMillis": millis(direct_max)},
        "api": {"windowSeconds": window_secs, "rows": api_rows,
                "medianMillis": millis(api_median),
                "latencyMicros": api_latency.as_ref().map(Latency::json)},
        "apiOneMinute": refused,
    }))
}

/// Rows in a metric answer (`{series: [rows]}`).
fn rows_of(body: &Value) -> usize {
    body[SERIES].as_array().map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_of_known_times() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_709_210_096), "2024-02-29T12:34:56Z");
    }
}
