//! Any schedule a user may store (JSON) and any cron expression (the same bytes as text): the
//! plan, the validity window and the next runs never panic, and each next run is strictly later
//! than the instant it follows. The first byte picks the time zone, place and instant.

#![no_main]

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use libfuzzer_sys::fuzz_target;
use switchyard_automation::scheduler::next_run::{Plan, next_after, parse_cron, plan};
use switchyard_automation::scheduler::validity::is_valid;
use switchyard_core::model::Schedule;
use switchyard_script::sun::Location;

/// Zones with DST, a half-hour DST (Lord Howe), a +13:45 offset (Chatham), none (UTC).
const ZONES: [Tz; 4] = [
    chrono_tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Chatham,
];

/// A city, the poles (no sunrise for months), the date line.
const PLACES: [(f64, f64); 4] = [(51.5, -0.13), (90.0, 0.0), (-89.9, 180.0), (78.2, 15.6)];

/// Before a spring DST change in Berlin, mid-year, the epoch, and the year before a leap day.
const INSTANTS: [&str; 4] = [
    "2026-03-29T00:59:59Z",
    "2026-07-01T12:00:00Z",
    "1970-01-01T00:00:00Z",
    "2027-12-31T23:00:00Z",
];

fn runs(plan: &Plan, mut after: DateTime<Utc>, tz: Tz, place: Location) {
    let mut previous = None;
    for _ in 0..3 {
        match next_after(plan, after, previous, tz, Some(place)) {
            Ok(Some(next)) => {
                assert!(next > after, "{next} is not after {after} ({plan:?})");
                previous = Some(next);
                after = next;
            }
            Ok(None) | Err(_) => return,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let tz = ZONES[usize::from(selector & 3)];
    let (latitude, longitude) = PLACES[usize::from((selector >> 2) & 3)];
    let place = Location {
        latitude,
        longitude,
    };
    let after: DateTime<Utc> = INSTANTS[usize::from((selector >> 4) & 3)]
        .parse()
        .expect("a valid instant");
    if let Ok(text) = std::str::from_utf8(body)
        && let Ok(cron) = parse_cron(text)
    {
        runs(&Plan::Cron(Box::new(cron)), after, tz, place);
    }
    let Ok(schedule) = serde_json::from_slice::<Schedule>(body) else {
        return;
    };
    if let Ok(p) = plan(&schedule, tz) {
        runs(&p, after, tz, place);
    }
    let _ = is_valid(&schedule.validity, after.with_timezone(&tz));
});
