//! Sunrise and sunset at a place and date (NOAA's solar equations, through the `sunrise` crate).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sunrise::{Coordinates, SolarDay, SolarEvent};

/// Where the system is (`system_settings.geoLocation`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SunEvent {
    Sunrise,
    Sunset,
}

/// The time of `event` on `date` (UTC date of the solar day) at `loc`; `None` in polar day or
/// night, or for coordinates out of range.
pub fn sun_time(loc: Location, date: NaiveDate, event: SunEvent) -> Option<DateTime<Utc>> {
    let coords = Coordinates::new(loc.latitude, loc.longitude)?;
    let ev = match event {
        SunEvent::Sunrise => SolarEvent::Sunrise,
        SunEvent::Sunset => SolarEvent::Sunset,
    };
    SolarDay::new(coords, date).event_time(ev)
}

/// Reads `{latitude, longitude}` (numbers or numeric strings) from a geo-location map.
pub fn location_from(geo: &serde_json::Map<String, serde_json::Value>) -> Option<Location> {
    let num = |k: &str| {
        geo.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| match v {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
    };
    let loc = Location {
        latitude: num("latitude")?,
        longitude: num("longitude")?,
    };
    Coordinates::new(loc.latitude, loc.longitude).map(|_| loc)
}
