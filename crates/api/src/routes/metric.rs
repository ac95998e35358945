//! Metric queries, served by whichever metric backend runs. A series is named by its quick-id
//! (`field:gw.1.2.V_TEMP`, `node:gw.1.battery_level`). Times are relative (`-1h`, `-30m`,
//! `now`) or RFC 3339. With a `window`, one row per window and function (default `mean`);
//! without, the raw points.

use crate::error::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Query as UrlQuery, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use switchyard_core::QuickId;
use switchyard_core::metrics::{Aggregation, MetricQuery};
use switchyard_core::value::parse_duration;

/// Most windows one series' query may span: a month at 1-minute windows (44,640) fits. Past it
/// the query is refused (400, `invalid_query`/`invalid_body` at the `window` path), never cut.
pub const MAX_WINDOWS: i64 = 50_000;
/// Most series in one request.
pub const MAX_SERIES: usize = 100;
/// Most values (windows × distinct functions, summed over the request's series) one windowed
/// request may answer, so the response stays bounded (about 30 bytes of JSON a value, so tens of
/// MB at worst) however many series and functions are asked. Past it the request is refused
/// (400, at `window` for a GET, at `individual` for a POST), never cut.
pub const MAX_VALUES: i64 = 500_000;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SeriesParams {
    pub quick_id: Option<String>,
    pub start: Option<String>,
    pub stop: Option<String>,
    pub window: Option<String>,
    /// Comma-separated in a URL; a list or a comma-separated string in JSON.
    pub functions: Option<Value>,
}

impl SeriesParams {
    fn or(self, global: &SeriesParams) -> SeriesParams {
        SeriesParams {
            quick_id: self.quick_id.or(global.quick_id.clone()),
            start: self.start.or(global.start.clone()),
            stop: self.stop.or(global.stop.clone()),
            window: self.window.or(global.window.clone()),
            functions: self.functions.or(global.functions.clone()),
        }
    }
}

/// `now`, an empty string (now), a duration relative to now (`-1h`), or RFC 3339.
pub fn parse_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    parse_duration(s)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .ok_or_else(|| format!("`{s}` is neither a relative time (-1h, -30m, now) nor RFC 3339"))
}

fn build(
    p: &SeriesParams,
    prefix: &str,
    now: DateTime<Utc>,
) -> Result<MetricQuery, Vec<(String, String)>> {
    let mut bad = Vec::new();
    let path = |k: &str| format!("{prefix}{k}");
    let series = match p.quick_id.as_deref().map(str::parse::<QuickId>) {
        Some(Ok(q)) => q.to_string(),
        Some(Err(e)) => {
            bad.push((path("quickId"), e.to_string()));
            String::new()
        }
        None => {
            bad.push((path("quickId"), "which series? give a quickId".into()));
            String::new()
        }
    };
    let start = parse_time(p.start.as_deref().unwrap_or("-1h"), now)
        .map_err(|e| bad.push((path("start"), e)))
        .ok();
    let stop = parse_time(p.stop.as_deref().unwrap_or(""), now)
        .map_err(|e| bad.push((path("stop"), e)))
        .ok();
    let window = match p.window.as_deref().filter(|w| !w.is_empty()) {
        None => None,
        Some(w) => match parse_duration(w) {
            Ok(d) if d > chrono::Duration::zero() => d.to_std().ok(),
            _ => {
                bad.push((path("window"), format!("`{w}` is not a positive duration")));
                None
            }
        },
    };
    let names: Vec<String> = match &p.functions {
        None | Some(Value::Null) => vec![],
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect(),
        Some(_) => {
            bad.push((
                path("functions"),
                "a list of names or a comma-separated string".into(),
            ));
            vec![]
        }
    };
    let mut aggregations = Vec::new();
    for n in &names {
        match n.parse::<Aggregation>() {
            Ok(a) => aggregations.push(a),
            Err(e) => bad.push((path("functions"), e.to_string())),
        }
    }
    if window.is_some() && aggregations.is_empty() {
        aggregations.push(Aggregation::Mean);
    }
    if let (Some(s), Some(e)) = (start, stop) {
        if s >= e {
            bad.push((path("start"), "must be before stop".into()));
        } else if let Some(w) = window
            && windows(s, e, w) > MAX_WINDOWS
        {
            bad.push((
                path("window"),
                format!("more than {MAX_WINDOWS} windows; choose a larger window"),
            ));
        }
    }
    match (bad.is_empty(), start, stop) {
        (true, Some(start), Some(stop)) => Ok(MetricQuery {
            series,
            start,
            stop,
            window,
            aggregations,
        }),
        _ => Err(bad),
    }
}

/// Windows of `window` between `start` and `stop`, the partial ones at either end included.
fn windows(start: DateTime<Utc>, stop: DateTime<Utc>, window: std::time::Duration) -> i64 {
    let span = (stop - start).num_milliseconds().max(0);
    let w = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
    span / w + 1
}

/// The values a windowed query answers at most: windows × distinct functions.
fn values(q: &MetricQuery) -> i64 {
    let Some(window) = q.window else {
        return 0;
    };
    let mut functions = q.aggregations.clone();
    functions.sort();
    functions.dedup();
    windows(q.start, q.stop, window).saturating_mul(functions.len().max(1) as i64)
}

/// Refuses a request whose windowed answers would hold more than [`MAX_VALUES`] values.
fn check_size(queries: &[MetricQuery], code: &'static str, path: &str) -> Result<(), ApiError> {
    let total = queries.iter().map(values).fold(0i64, i64::saturating_add);
    if total > MAX_VALUES {
        return Err(ApiError::invalid(
            code,
            vec![(
                path.to_string(),
                format!(
                    "{total} values (windows × functions over every series) asked; at most \
                     {MAX_VALUES} a request — choose a larger window, fewer functions or fewer series"
                ),
            )],
        ));
    }
    Ok(())
}

async fn answer(state: &ApiState, queries: Vec<MetricQuery>) -> Result<Json<Value>, ApiError> {
    let mut out = Map::new();
    for q in queries {
        let rows = state.metrics.query(&q).await?;
        out.insert(
            q.series.clone(),
            serde_json::to_value(rows).unwrap_or_default(),
        );
    }
    Ok(Json(Value::Object(out)))
}

pub async fn get_metric(
    State(state): State<ApiState>,
    q: Result<UrlQuery<SeriesParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let UrlQuery(p) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let q = build(&p, "", Utc::now()).map_err(|bad| ApiError::invalid("invalid_query", bad))?;
    let queries = vec![q];
    check_size(&queries, "invalid_query", "window")?;
    answer(&state, queries).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct MetricRequest {
    global: SeriesParams,
    individual: Vec<SeriesParams>,
}

/// MyController's form: `{global: {start, stop, window, functions}, individual: [{quickId, …}]}`;
/// each series' own parameters win over the global ones.
pub async fn post_metric(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("body is not JSON: {e}")))?;
    let req: MetricRequest = serde_path_to_error::deserialize(value).map_err(|e| {
        ApiError::invalid(
            "invalid_body",
            vec![(e.path().to_string(), e.inner().to_string())],
        )
    })?;
    if req.individual.is_empty() || req.individual.len() > MAX_SERIES {
        return Err(ApiError::invalid(
            "invalid_body",
            vec![(
                "individual".into(),
                format!("give 1 to {MAX_SERIES} series"),
            )],
        ));
    }
    let now = Utc::now();
    let mut queries = Vec::new();
    let mut bad = Vec::new();
    for (i, p) in req.individual.into_iter().enumerate() {
        match build(&p.or(&req.global), &format!("individual[{i}]."), now) {
            Ok(q) => queries.push(q),
            Err(b) => bad.extend(b),
        }
    }
    if !bad.is_empty() {
        return Err(ApiError::invalid("invalid_body", bad));
    }
    check_size(&queries, "invalid_body", "individual")?;
    answer(&state, queries).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_relative_and_absolute() {
        let now = Utc::now();
        assert_eq!(parse_time("", now).unwrap(), now);
        assert_eq!(parse_time("now", now).unwrap(), now);
        assert_eq!(
            parse_time("-1h", now).unwrap(),
            now - chrono::Duration::hours(1)
        );
        assert_eq!(
            parse_time("2024-01-02T03:04:05Z", now)
                .unwrap()
                .to_rfc3339(),
            "2024-01-02T03:04:05+00:00"
        );
        assert!(parse_time("yesterday", now).is_err());
    }

    #[test]
    fn bad_parameters_name_their_paths() {
        let p = SeriesParams {
            quick_id: Some("field:gw".into()),
            start: Some("x".into()),
            window: Some("1ms".into()),
            functions: Some(Value::String("mean,bogus".into())),
            ..Default::default()
        };
        let bad = build(&p, "", Utc::now()).unwrap_err();
        let paths: Vec<&str> = bad.iter().map(|(p, _)| p.as_str()).collect();
        assert!(
            paths.contains(&"quickId") && paths.contains(&"start") && paths.contains(&"functions"),
            "{bad:?}"
        );
        let ok = build(
            &SeriesParams {
                quick_id: Some("field:gw.1.2.V_TEMP".into()),
                window: Some("5m".into()),
                ..Default::default()
            },
            "",
            Utc::now(),
        )
        .unwrap();
        assert_eq!(ok.aggregations, vec![Aggregation::Mean]);
        assert_eq!(ok.series, "field:gw.1.2.V_TEMP");
    }

    fn windowed(start: &str, window: &str, functions: &str) -> MetricQuery {
        build(
            &SeriesParams {
                quick_id: Some("field:gw.1.2.V_TEMP".into()),
                start: Some(start.into()),
                window: Some(window.into()),
                functions: Some(Value::String(functions.into())),
                ..Default::default()
            },
            "",
            Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn a_month_at_one_minute_windows_is_answered_and_the_bound_refuses() {
        // 31 days at 1 minute: 44,640 windows, under the bound.
        let month = windowed("-31d", "1m", "mean");
        assert!(check_size(std::slice::from_ref(&month), "invalid_query", "window").is_ok());
        // 35 days at 1 minute: 50,400 windows, over it.
        let err = build(
            &SeriesParams {
                quick_id: Some("field:gw.1.2.V_TEMP".into()),
                start: Some("-35d".into()),
                window: Some("1m".into()),
                ..Default::default()
            },
            "",
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(err[0].0, "window", "{err:?}");
    }

    #[test]
    fn the_values_of_a_request_are_bounded() {
        // 43,201 windows × 3 distinct functions (a repeated one counts once).
        let q = windowed("-30d", "1m", "mean,min,max,mean");
        assert_eq!(values(&q), 43_201 * 3);
        let three = vec![q.clone(), q.clone(), q.clone()];
        assert!(check_size(&three, "invalid_body", "individual").is_ok());
        let four = vec![q.clone(), q.clone(), q.clone(), q];
        assert!(check_size(&four, "invalid_body", "individual").is_err());
        // Raw queries are bounded by the store (its most points a query), not counted here.
        let raw = build(
            &SeriesParams {
                quick_id: Some("field:gw.1.2.V_TEMP".into()),
                start: Some("-30d".into()),
                ..Default::default()
            },
            "",
            Utc::now(),
        )
        .unwrap();
        assert_eq!(values(&raw), 0);
    }
}
