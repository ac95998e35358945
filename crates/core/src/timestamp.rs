//! Timestamps of stored documents and bus messages as RFC 3339 strings, written and read without
//! chrono's general formatter and parser on the common path.
//!
//! Every message the processor handles reads and writes the field, source and node documents,
//! about ten timestamps in all; chrono's serde writes one through `fmt` a character at a time and
//! reads one with its relaxed RFC 3339 parser, which together were about 15 % of the processor's
//! instructions per message. Here the usual form, `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z`
//! (what chrono writes for a UTC time of the years 0–9999), is written into a stack buffer and
//! read by position; anything else (other years, leap seconds, offsets, lower-case `t`/`z`, more
//! fraction digits) goes to chrono as before. The bytes written and the times read are the same
//! as chrono's (tests compare them).
//!
//! Use it on a field with `#[serde(with = "crate::timestamp::opt")]` (an `Option<DateTime<Utc>>`
//! in a struct with `#[serde(default)]`).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Timelike, Utc};
use serde::de::{self, Visitor};
use serde::{Deserializer, Serialize, Serializer};
use std::fmt;

/// The longest string [`format`] writes: `YYYY-MM-DDTHH:MM:SS.fffffffffZ`.
const MAX_LEN: usize = 30;

/// A formatted timestamp on the stack.
pub struct Formatted {
    buf: [u8; MAX_LEN],
    len: usize,
}

impl Formatted {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are written (see `format`).
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

fn put(buf: &mut [u8], at: usize, value: u32, digits: usize) {
    let mut v = value;
    for i in (0..digits).rev() {
        buf[at + i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// `t` as chrono's serde writes it (`SecondsFormat::AutoSi`, `Z`), or `None` for what only
/// chrono's formatter writes (years outside 0–9999, a leap second).
pub fn format(t: &DateTime<Utc>) -> Option<Formatted> {
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let mut buf = [0u8; MAX_LEN];
    put(&mut buf, 0, year as u32, 4);
    buf[4] = b'-';
    put(&mut buf, 5, t.month(), 2);
    buf[7] = b'-';
    put(&mut buf, 8, t.day(), 2);
    buf[10] = b'T';
    put(&mut buf, 11, t.hour(), 2);
    buf[13] = b':';
    put(&mut buf, 14, t.minute(), 2);
    buf[16] = b':';
    put(&mut buf, 17, t.second(), 2);
    let mut len = 19;
    if nanos != 0 {
        buf[len] = b'.';
        len += 1;
        let (value, digits) = if nanos.is_multiple_of(1_000_000) {
            (nanos / 1_000_000, 3)
        } else if nanos.is_multiple_of(1_000) {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        put(&mut buf, len, value, digits);
        len += digits;
    }
    buf[len] = b'Z';
    len += 1;
    Some(Formatted { buf, len })
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Reads the form [`format`] writes (with 1 to 9 fraction digits); `None` for anything else,
/// including invalid dates and times, which the caller hands to chrono.
fn parse_fast(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return None;
    }
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            digits(frac)? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let second = digits(&b[17..19])?;
    // 60 is a leap second: chrono's parser knows how to read it.
    if second >= 60 {
        return None;
    }
    let time =
        NaiveTime::from_hms_nano_opt(digits(&b[11..13])?, digits(&b[14..16])?, second, nanos)?;
    Some(date.and_time(time).and_utc())
}

/// Reads an RFC 3339 time as chrono's serde does (any offset, converted to UTC).
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match parse_fast(s) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    match format(t) {
        Some(f) => serializer.serialize_str(f.as_str()),
        None => t.serialize(serializer),
    }
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse(v).map_err(E::custom)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(TimeVisitor)
}

/// The same for an `Option<DateTime<Utc>>` (`null` is `None`).
pub mod opt {
    use super::*;

    pub fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, serializer),
            None => serializer.serialize_none(),
        }
    }

    struct OptVisitor;

    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an RFC 3339 formatted date and time string or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::deserialize(d).map(Some)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        deserializer.deserialize_option(OptVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{SecondsFormat, TimeZone};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize, Default)]
    #[serde(default)]
    struct Fast {
        #[serde(with = "super::opt")]
        at: Option<DateTime<Utc>>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, Default)]
    #[serde(default)]
    struct Chrono {
        at: Option<DateTime<Utc>>,
    }

    fn samples() -> Vec<DateTime<Utc>> {
        let base = Utc.with_ymd_and_hms(2026, 11, 25, 4, 5, 6).unwrap();
        let mut v = vec![
            base,
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 12, 0, 0).unwrap(),
            Utc::now(),
        ];
        for nanos in [
            1,
            10,
            999,
            1_000,
            120_000,
            1_000_000,
            5_000_000,
            123_456_789,
            999_999_999,
        ] {
            v.push(base + chrono::Duration::nanoseconds(nanos));
        }
        // A leap second (nanosecond ≥ 1e9) is left to chrono.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        v.push(leap);
        v
    }

    #[test]
    fn writes_what_chrono_writes_and_reads_it_back() {
        for t in samples() {
            let ours = serde_json::to_string(&Fast { at: Some(t) }).unwrap();
            let theirs = serde_json::to_string(&Chrono { at: Some(t) }).unwrap();
            assert_eq!(ours, theirs, "{t:?}");
            assert_eq!(
                serde_json::to_value(Fast { at: Some(t) }).unwrap(),
                serde_json::to_value(Chrono { at: Some(t) }).unwrap()
            );
            let back: Fast = serde_json::from_str(&ours).unwrap();
            assert_eq!(back.at, Some(t), "{ours}");
            let from_value: Fast =
                serde_json::from_value(serde_json::from_str(&ours).unwrap()).unwrap();
            assert_eq!(from_value.at, Some(t));
        }
    }

    #[test]
    fn reads_what_chrono_reads() {
        let inputs = [
            "2026-11-25T04:05:06Z",
            "2026-11-25T04:05:06.5Z",
            "2026-11-25T04:05:06.123456789Z",
            "2026-11-25T04:05:06.1234567891Z",
            "2026-11-25t04:05:06z",
            "2026-11-25 04:05:06Z",
            "2026-11-25T04:05:06+02:00",
            "2026-11-25T04:05:06.25-07:30",
            "2016-12-31T23:59:60Z",
            "2026-11-25T04:05:06.Z",
            "2026-02-30T04:05:06Z",
            "2026-11-25T24:05:06Z",
            "2026-1-25T04:05:06Z",
            "+2026-11-25T04:05:06Z",
            "2026-11-25T04:05:06",
            "not a time",
            "",
        ];
        for s in inputs {
            let json = serde_json::json!({ "at": s });
            let ours = serde_json::from_value::<Fast>(json.clone()).map(|f| f.at);
            let theirs = serde_json::from_value::<Chrono>(json).map(|c| c.at);
            match (ours, theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{s}"),
                (Err(_), Err(_)) => {}
                (a, b) => panic!("{s}: ours {a:?}, chrono {b:?}"),
            }
        }
    }

    #[test]
    fn null_and_missing_are_none() {
        let f: Fast = serde_json::from_str(r#"{"at":null}"#).unwrap();
        assert_eq!(f.at, None);
        let f: Fast = serde_json::from_str("{}").unwrap();
        assert_eq!(f.at, None);
        assert_eq!(
            serde_json::to_string(&Fast::default()).unwrap(),
            r#"{"at":null}"#
        );
    }

    #[test]
    fn format_matches_rfc3339_opts() {
        for t in samples() {
            if let Some(f) = format(&t) {
                assert_eq!(f.as_str(), t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            }
        }
    }
}
