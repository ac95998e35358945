//! The validity window of a schedule: a date range (`YYYY-MM-DD`, inclusive) and a time window
//! (`HH:MM[:SS]`). With `validateTimeEveryday` the time window applies on each day; without it,
//! the window is one span from `date.from time.from` to `date.to time.to`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use switchyard_core::model::ScheduleValidity;

fn get(m: &serde_json::Map<String, serde_json::Value>, k: &str) -> Option<String> {
    m.get(k)
        .and_then(|v| v.as_str())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .map_err(|_| format!("validity time `{s}`: expected HH:MM[:SS]"))
}

fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("validity date `{s}`: expected YYYY-MM-DD"))
}

/// Whether a run at `t` is inside the window.
pub fn is_valid(v: &ScheduleValidity, t: DateTime<Tz>) -> Result<bool, String> {
    if !v.enabled {
        return Ok(true);
    }
    let local = t.naive_local();
    let (df, dt) = (
        get(&v.date, "from").map(|s| date(&s)).transpose()?,
        get(&v.date, "to").map(|s| date(&s)).transpose()?,
    );
    let (tf, tt) = (
        get(&v.time, "from").map(|s| time(&s)).transpose()?,
        get(&v.time, "to").map(|s| time(&s)).transpose()?,
    );
    if v.validate_time_everyday {
        let d = local.date();
        if df.is_some_and(|f| d < f) || dt.is_some_and(|to| d > to) {
            return Ok(false);
        }
        let tod = local.time();
        return Ok(match (tf, tt) {
            (Some(f), Some(to)) if f <= to => tod >= f && tod <= to,
            // A window over midnight (22:00–06:00).
            (Some(f), Some(to)) => tod >= f || tod <= to,
            (Some(f), None) => tod >= f,
            (None, Some(to)) => tod <= to,
            (None, None) => true,
        });
    }
    let start: Option<NaiveDateTime> = df.map(|d| d.and_time(tf.unwrap_or(NaiveTime::MIN)));
    let end: Option<NaiveDateTime> = dt.map(|d| {
        d.and_time(
            tt.unwrap_or_else(|| NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)),
        )
    });
    Ok(start.is_none_or(|s| local >= s) && end.is_none_or(|e| local <= e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn v(everyday: bool) -> ScheduleValidity {
        ScheduleValidity {
            enabled: true,
            date: json!({"from": "2026-06-01", "to": "2026-06-30"})
                .as_object()
                .cloned()
                .unwrap(),
            time: json!({"from": "08:00", "to": "18:00:00"})
                .as_object()
                .cloned()
                .unwrap(),
            validate_time_everyday: everyday,
        }
    }

    #[test]
    fn windows() {
        let tz = chrono_tz::UTC;
        let at = |s: &str| tz.from_utc_datetime(&s.parse::<NaiveDateTime>().unwrap());
        assert!(is_valid(&v(true), at("2026-06-10T12:00:00")).unwrap());
        assert!(!is_valid(&v(true), at("2026-06-10T19:00:00")).unwrap());
        assert!(!is_valid(&v(true), at("2026-07-01T12:00:00")).unwrap());
        // One span: 19:00 on a middle day is inside it.
        assert!(is_valid(&v(false), at("2026-06-10T19:00:00")).unwrap());
        assert!(!is_valid(&v(false), at("2026-06-01T07:00:00")).unwrap());
        assert!(!is_valid(&v(false), at("2026-06-30T18:30:00")).unwrap());
        let mut off = v(true);
        off.enabled = false;
        assert!(is_valid(&off, at("2030-01-01T00:00:00")).unwrap());
    }
}
