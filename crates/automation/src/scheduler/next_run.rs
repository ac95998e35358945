//! When a schedule runs next. Pure: a [`Plan`] from the schedule's spec, and the first run after
//! a given instant, in the system's time zone.
//!
//! - `repeat`: `{interval, repeatCount}`: every interval after the previous run (the first one
//!   interval after the schedule starts); `repeatCount` > 0 disables it after that many runs.
//! - `cron`: `{cronExpression}` with optional seconds (`*/10 * * * * *`), `L`, `W`, `#`, `@daily`.
//! - `simple`, `sunrise`, `sunset`: `{frequency: daily|weekly|monthly|on_date, dayOfWeek,
//!   dateOfMonth, date, time (simple), offset (sun)}`: at `time`, or at the day's sunrise/sunset
//!   plus `offset`. `on_date` runs once and then disables the schedule.
//!
//! Daylight-saving changes: a local time that occurs twice runs once (the first); one that is
//! skipped runs at the first instant after the gap.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use serde_json::{Map, Value};
use switchyard_core::model::Schedule;
use switchyard_script::sun::{Location, SunEvent, sun_time};

#[derive(Debug, Clone)]
pub enum Plan {
    Every {
        interval: Duration,
        count: u64,
    },
    Cron(Box<Cron>),
    Once(DateTime<Utc>),
    Sun {
        event: SunEvent,
        offset: Duration,
        days: DayRule,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum DayRule {
    /// Days of the week (0 = Sunday); empty = every day.
    Weekdays(Vec<u32>),
    DayOfMonth(u32),
    Date(NaiveDate),
}

impl DayRule {
    fn matches(&self, d: NaiveDate) -> bool {
        match self {
            DayRule::Weekdays(days) => {
                days.is_empty() || days.contains(&d.weekday().num_days_from_sunday())
            }
            DayRule::DayOfMonth(n) => d.day() == *n,
            DayRule::Date(date) => d == *date,
        }
    }
}

fn text(spec: &Map<String, Value>, key: &str) -> String {
    match spec.get(key).or_else(|| {
        spec.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn weekdays(spec: &Map<String, Value>) -> Result<Vec<u32>, String> {
    let raw: Vec<String> = match spec.get("dayOfWeek") {
        Some(Value::Array(a)) => a
            .iter()
            .map(switchyard_core::value::to_payload_string)
            .collect(),
        _ => text(spec, "dayOfWeek")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    raw.iter()
        .map(|d| {
            let d = d.trim().to_ascii_lowercase();
            d.parse::<u32>()
                .ok()
                .filter(|n| *n <= 7)
                .map(|n| n % 7)
                .or_else(|| DAYS.iter().position(|n| d.starts_with(n)).map(|p| p as u32))
                .ok_or_else(|| format!("dayOfWeek `{d}`: 0-6 or a day name"))
        })
        .collect()
}

fn time_of_day(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .map_err(|_| format!("time `{s}`: expected HH:MM or HH:MM:SS"))
}

fn day_rule(spec: &Map<String, Value>) -> Result<DayRule, String> {
    Ok(match text(spec, "frequency").as_str() {
        "" | "daily" => DayRule::Weekdays(weekdays(spec)?),
        "weekly" => {
            let d = weekdays(spec)?;
            if d.len() != 1 {
                return Err("weekly needs exactly one dayOfWeek".into());
            }
            DayRule::Weekdays(d)
        }
        "monthly" => {
            let n: u32 = text(spec, "dateOfMonth")
                .parse()
                .ok()
                .filter(|n| (1..=31).contains(n))
                .ok_or("monthly needs dateOfMonth 1-31")?;
            DayRule::DayOfMonth(n)
        }
        "on_date" => DayRule::Date(
            NaiveDate::parse_from_str(&text(spec, "date"), "%Y-%m-%d")
                .map_err(|_| "on_date needs date YYYY-MM-DD".to_string())?,
        ),
        other => {
            return Err(format!(
                "frequency `{other}`: daily, weekly, monthly or on_date"
            ));
        }
    })
}

pub fn parse_cron(expr: &str) -> Result<Cron, String> {
    // croner reads an empty list element (`,` alone, `5,,`) as a field that matches nothing and
    // then searches thousands of years for a next run, for tens of seconds, on the scheduler's
    // thread.
    if expr
        .split_whitespace()
        .any(|field| field.split(',').any(str::is_empty))
    {
        return Err(format!(
            "cron expression `{expr}`: a list has an empty element (`,,` or a `,` at an end)"
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expr.trim())
        .map_err(|e| format!("cron expression `{expr}`: {e}"))
}

/// Builds the plan of a schedule, or says what is wrong with its spec.
pub fn plan(s: &Schedule, tz: Tz) -> Result<Plan, String> {
    let spec = &s.spec;
    match s.schedule_type.as_str() {
        "repeat" => {
            let interval = switchyard_core::value::parse_duration(&text(spec, "interval"))
                .map_err(|e| format!("repeat interval: {e}"))?;
            if interval < Duration::seconds(1) {
                return Err("repeat interval must be at least 1s".into());
            }
            let count = text(spec, "repeatCount").parse().unwrap_or(0);
            Ok(Plan::Every { interval, count })
        }
        "cron" => Ok(Plan::Cron(Box::new(parse_cron(&text(
            spec,
            "cronExpression",
        ))?))),
        "simple" => {
            let t = time_of_day(&text(spec, "time"))?;
            let rule = day_rule(spec)?;
            let (h, m, sec) = (
                chrono::Timelike::hour(&t),
                chrono::Timelike::minute(&t),
                chrono::Timelike::second(&t),
            );
            let expr = match rule {
                DayRule::Weekdays(d) if d.is_empty() => format!("{sec} {m} {h} * * *"),
                DayRule::Weekdays(d) => format!(
                    "{sec} {m} {h} * * {}",
                    d.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
                ),
                DayRule::DayOfMonth(n) => format!("{sec} {m} {h} {n} * *"),
                DayRule::Date(date) => {
                    let local = date.and_time(t);
                    let at = tz
                        .from_local_datetime(&local)
                        .earliest()
                        .ok_or_else(|| format!("{local} does not exist in {tz}"))?;
                    return Ok(Plan::Once(at.with_timezone(&Utc)));
                }
            };
            Ok(Plan::Cron(Box::new(parse_cron(&expr)?)))
        }
        "sunrise" | "sunset" => {
            let offset = match text(spec, "offset") {
                o if o.is_empty() => Duration::zero(),
                o => switchyard_core::value::parse_duration(&o)
                    .map_err(|e| format!("offset: {e}"))?,
            };
            Ok(Plan::Sun {
                event: if s.schedule_type == "sunrise" {
                    SunEvent::Sunrise
                } else {
                    SunEvent::Sunset
                },
                offset,
                days: day_rule(spec)?,
            })
        }
        other => Err(format!(
            "schedule type `{other}`: repeat, cron, simple, sunrise or sunset"
        )),
    }
}

/// The first run strictly after `after` (`previous`: the last run, for repeat intervals).
pub fn next_after(
    plan: &Plan,
    after: DateTime<Utc>,
    previous: Option<DateTime<Utc>>,
    tz: Tz,
    location: Option<Location>,
) -> Result<Option<DateTime<Utc>>, String> {
    match plan {
        Plan::Every { interval, .. } => {
            // A user's interval may be millions of years: past the last instant chrono holds,
            // the schedule says so instead of overflowing.
            let too_far = || format!("repeat interval {interval} reaches past the year 262143");
            let mut t = previous
                .unwrap_or(after)
                .checked_add_signed(*interval)
                .ok_or_else(too_far)?;
            if t <= after {
                // Missed runs while stopped: the next one on the original beat, to the
                // millisecond (in i64, so years of missed one-second runs do not overflow).
                let step = interval.num_milliseconds().max(1);
                let behind = (after - t).num_milliseconds() / step + 1;
                let catch_up = behind
                    .checked_mul(step)
                    .and_then(Duration::try_milliseconds)
                    .ok_or_else(too_far)?;
                t = t.checked_add_signed(catch_up).ok_or_else(too_far)?;
            }
            Ok(Some(t))
        }
        Plan::Once(at) => Ok((*at > after).then_some(*at)),
        Plan::Cron(cron) => {
            let local = after.with_timezone(&tz);
            let mut next = cron
                .find_next_occurrence(&local, false)
                .map_err(|e| format!("cron: {e}"))?;
            // A wall time repeated by a DST fall-back (02:30 twice) runs only the first time.
            if next.naive_local() == local.naive_local()
                || previous
                    .is_some_and(|p| p.with_timezone(&tz).naive_local() == next.naive_local())
            {
                next = cron
                    .find_next_occurrence(&next, false)
                    .map_err(|e| format!("cron: {e}"))?;
            }
            Ok(Some(next.with_timezone(&Utc)))
        }
        Plan::Sun {
            event,
            offset,
            days,
        } => {
            let loc =
                location.ok_or("no location: set latitude and longitude in the system settings")?;
            let start = after.with_timezone(&tz).date_naive() - Duration::days(1);
            for i in 0..800 {
                let d = start + Duration::days(i);
                if !days.matches(d) {
                    continue;
                }
                if let DayRule::Date(date) = days
                    && d > *date
                {
                    return Ok(None);
                }
                if let Some(t) =
                    sun_time(loc, d, *event).and_then(|t| t.checked_add_signed(*offset))
                    && t > after
                {
                    return Ok(Some(t));
                }
            }
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn sched(t: &str, spec: Value) -> Schedule {
        Schedule {
            id: "s".into(),
            schedule_type: t.into(),
            spec: spec.as_object().cloned().unwrap_or_default(),
            ..Default::default()
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn cron_with_seconds() {
        let tz = chrono_tz::UTC;
        let p = plan(
            &sched(
                "cron",
                serde_json::json!({"cronExpression": "*/15 * * * * *"}),
            ),
            tz,
        )
        .unwrap();
        let n = next_after(&p, utc("2026-03-01T10:00:07Z"), None, tz, None)
            .unwrap()
            .unwrap();
        assert_eq!(n, utc("2026-03-01T10:00:15Z"));
        assert!(
            plan(
                &sched("cron", serde_json::json!({"cronExpression": "61 * * * *"})),
                tz
            )
            .is_err()
        );
    }

    /// Europe/Berlin: 2026-03-29 02:00 → 03:00 (spring), 2026-10-25 03:00 → 02:00 (autumn).
    #[test]
    fn daylight_saving_changes_neither_double_fire_nor_skip_a_day() {
        let tz = chrono_tz::Europe::Berlin;
        for time in ["02:30:00", "03:00:00", "07:00:00"] {
            let p = plan(
                &sched(
                    "simple",
                    serde_json::json!({"frequency": "daily", "time": time}),
                ),
                tz,
            )
            .unwrap();
            for (from, to) in [("2026-03-26T00:00:00Z", 7), ("2026-10-22T00:00:00Z", 7)] {
                let mut t = utc(from);
                let mut prev = None;
                let mut days = Vec::new();
                for _ in 0..to {
                    let n = next_after(&p, t, prev, tz, None).unwrap().unwrap();
                    days.push(n.with_timezone(&tz).date_naive());
                    prev = Some(n);
                    t = n;
                }
                let mut unique = days.clone();
                unique.dedup();
                assert_eq!(unique.len(), days.len(), "{time} from {from}: {days:?}");
                for w in days.windows(2) {
                    assert_eq!((w[1] - w[0]).num_days(), 1, "{time} from {from}: {days:?}");
                }
            }
        }
    }

    #[test]
    fn repeat_keeps_its_beat_and_simple_days() {
        let tz = chrono_tz::UTC;
        let p = plan(&sched("repeat", serde_json::json!({"interval": "10m"})), tz).unwrap();
        let prev = utc("2026-01-01T00:00:00Z");
        assert_eq!(
            next_after(&p, utc("2026-01-01T00:35:00Z"), Some(prev), tz, None).unwrap(),
            Some(utc("2026-01-01T00:40:00Z"))
        );
        let p = plan(
            &sched("simple", serde_json::json!({"frequency": "daily", "dayOfWeek": ["mon", "fri"], "time": "08:15"})),
            tz,
        )
        .unwrap();
        // 2026-01-01 is a Thursday.
        let n = next_after(&p, utc("2026-01-01T09:00:00Z"), None, tz, None)
            .unwrap()
            .unwrap();
        assert_eq!(n, utc("2026-01-02T08:15:00Z"));
        let p = plan(
            &sched(
                "simple",
                serde_json::json!({"frequency": "on_date", "date": "2026-05-01", "time": "12:00"}),
            ),
            tz,
        )
        .unwrap();
        assert_eq!(
            next_after(&p, utc("2026-01-01T00:00:00Z"), None, tz, None).unwrap(),
            Some(utc("2026-05-01T12:00:00Z"))
        );
        assert_eq!(
            next_after(&p, utc("2026-06-01T00:00:00Z"), None, tz, None).unwrap(),
            None
        );
    }

    /// Found by the fuzz target `schedule` (fuzz/): `, 09 * , * MON` took 13 s of CPU for each
    /// next run (croner searched to its last year for a field that matches nothing).
    #[test]
    fn empty_cron_list_elements_are_refused() {
        for bad in [
            ", 09 * , * MON",
            "0 , 0 * * *",
            "5,, * * * * *",
            "0 0 0 ,1 * *",
        ] {
            let err = parse_cron(bad).unwrap_err();
            assert!(err.contains("empty element"), "{bad}: {err}");
        }
        assert!(parse_cron("0,30 9 * * MON,FRI").is_ok());
    }

    /// An interval or offset past chrono's range crashed the fuzz target `schedule` (fuzz/); a
    /// catch-up of more than `i32::MAX` missed runs wrapped to a wrong time (same code).
    #[test]
    fn huge_intervals_and_offsets_are_errors_not_panics() {
        let tz = chrono_tz::UTC;
        let at = utc("2026-03-29T00:59:59Z");
        let p = plan(
            &sched("repeat", serde_json::json!({"interval": "1e13"})),
            tz,
        )
        .unwrap();
        let err = next_after(&p, at, None, tz, None).unwrap_err();
        assert!(err.contains("past the year"), "{err}");
        // One run a second, last run in 1900: more missed runs than an i32 holds.
        let p = plan(&sched("repeat", serde_json::json!({"interval": "1s"})), tz).unwrap();
        let next = next_after(&p, at, Some(utc("1900-01-01T00:00:00Z")), tz, None)
            .unwrap()
            .unwrap();
        assert_eq!(next, at + Duration::seconds(1));
        let loc = Location {
            latitude: 51.5,
            longitude: -0.13,
        };
        let p = plan(&sched("sunset", serde_json::json!({"offset": "1e13"})), tz).unwrap();
        assert_eq!(next_after(&p, at, None, tz, Some(loc)), Ok(None));
    }

    /// HM Nautical Almanac Office (via timeanddate.com), London 2024-06-21: sunrise 04:43 BST.
    #[test]
    fn sunrise_with_offset_at_a_fixed_place() {
        let tz = chrono_tz::Europe::London;
        let loc = Location {
            latitude: 51.5074,
            longitude: -0.1278,
        };
        let p = plan(
            &sched(
                "sunrise",
                serde_json::json!({"frequency": "daily", "offset": "-30m"}),
            ),
            tz,
        )
        .unwrap();
        let n = next_after(&p, utc("2024-06-20T12:00:00Z"), None, tz, Some(loc))
            .unwrap()
            .unwrap();
        let local = n.with_timezone(&tz);
        assert_eq!(
            local.date_naive(),
            NaiveDate::from_ymd_opt(2024, 6, 21).unwrap()
        );
        let minutes = local.hour() as i64 * 60 + local.minute() as i64;
        assert!((minutes - (4 * 60 + 13)).abs() <= 1, "{local}");
    }
}
