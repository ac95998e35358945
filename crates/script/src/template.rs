//! minijinja templates for handler parameters, string variables, rule values and messages.
//! The data is the variables map (resources with their JSON names: `{{ temp.current.value }}`).
//!
//! Helpers: `now()` / `now("%H:%M")`, `formatTime(t, "%d.%m.%Y")` (also a filter), `toJson(v)`
//! (also a filter; `tojson` is minijinja's own), `keyPath(v, "a.b")`, `ternary(cond, a, b)`,
//! `sunrise()` / `sunset()` (today, or `sunrise("2026-06-21")`, at the system's location, in
//! the system's time zone). Rendering has a fuel limit, so a template cannot loop for long.

use crate::error::TemplateError;
use crate::sun::{Location, SunEvent, sun_time};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use minijinja::value::{Serde, Value as JValue};
use minijinja::{Environment, Error, ErrorKind};
use serde_json::Value;
use std::sync::Arc;

/// Instructions a template may execute before it is stopped.
pub const TEMPLATE_FUEL: u64 = 200_000;
/// Longest rendered output kept.
pub const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Clone)]
pub struct Templates {
    env: Arc<Environment<'static>>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn parse_time(v: &JValue, tz: Tz) -> Result<DateTime<Tz>, Error> {
    let s = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&tz))
        .map_err(|e| bad(format!("`{s}` is not an RFC 3339 time: {e}")))
}

fn format_time(t: DateTime<Tz>, fmt: Option<&str>) -> Result<String, Error> {
    use std::fmt::Write;
    let mut out = String::new();
    match fmt {
        None => out = t.to_rfc3339(),
        Some(f) => {
            write!(out, "{}", t.format(f)).map_err(|_| bad(format!("bad time format `{f}`")))?
        }
    }
    Ok(out)
}

impl Templates {
    /// Templates in time zone `tz`, with sunrise/sunset at `location`, reading the time from `now`
    /// (the automation's clock, so tests can run on paused time).
    pub fn new(
        tz: Tz,
        location: Option<Location>,
        now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> Self {
        let now: Now = Arc::new(now);
        let mut env = Environment::new();
        env.set_fuel(Some(TEMPLATE_FUEL));
        env.set_recursion_limit(64);
        // Booleans print as JSON does (`true`), not as Python does (`True`): payloads go to devices.
        env.set_formatter(|out, state, value| {
            if value.kind() == minijinja::value::ValueKind::Bool {
                out.write_str(if value.is_true() { "true" } else { "false" })?;
                Ok(())
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        {
            let now = now.clone();
            env.add_function("now", move |fmt: Option<String>| {
                format_time(now().with_timezone(&tz), fmt.as_deref())
            });
        }
        let fmt_time =
            move |t: JValue, fmt: Option<String>| format_time(parse_time(&t, tz)?, fmt.as_deref());
        env.add_function("formatTime", fmt_time);
        env.add_filter("formatTime", fmt_time);
        let to_json = |v: JValue| -> Result<String, Error> {
            serde_json::to_string(&v).map_err(|e| bad(format!("toJson: {e}")))
        };
        env.add_function("toJson", to_json);
        env.add_filter("toJson", to_json);
        env.add_function(
            "keyPath",
            |v: JValue, path: String| -> Result<JValue, Error> {
                let json = serde_json::to_value(&v).map_err(|e| bad(e.to_string()))?;
                Ok(switchyard_core::key_path::get(&json, &path)
                    .map(|v| JValue::from(Serde(v)))
                    .unwrap_or(JValue::UNDEFINED))
            },
        );
        env.add_function(
            "ternary",
            |cond: JValue, a: JValue, b: JValue| {
                if cond.is_true() { a } else { b }
            },
        );
        for (name, event) in [("sunrise", SunEvent::Sunrise), ("sunset", SunEvent::Sunset)] {
            let now = now.clone();
            env.add_function(name, move |date: Option<String>| -> Result<String, Error> {
                let loc = location.ok_or_else(|| {
                    bad("no location: set latitude and longitude in the system settings")
                })?;
                let day = match date {
                    Some(d) => NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                        .map_err(|e| bad(format!("date `{d}`: {e}")))?,
                    None => now().with_timezone(&tz).date_naive(),
                };
                let t = sun_time(loc, day, event)
                    .ok_or_else(|| bad(format!("no {name} on {day} at this latitude")))?;
                Ok(t.with_timezone(&tz).to_rfc3339())
            });
        }
        Templates { env: Arc::new(env) }
    }

    /// Templates in UTC at no location, on the system clock.
    pub fn plain() -> Self {
        Templates::new(Tz::UTC, None, Utc::now)
    }

    /// Checks that `source` compiles.
    pub fn check(&self, source: &str) -> Result<(), TemplateError> {
        self.env.template_from_str(source)?;
        Ok(())
    }

    /// Renders `source` with `data` (usually the variables map).
    pub fn render(&self, source: &str, data: &Value) -> Result<String, TemplateError> {
        if !is_template(source) {
            return Ok(source.to_string());
        }
        let out = self.env.render_str(source, JValue::from(Serde(data)))?;
        if out.len() > MAX_OUTPUT_BYTES {
            return Err(TemplateError::Render(format!(
                "output larger than {MAX_OUTPUT_BYTES} bytes"
            )));
        }
        Ok(out)
    }

    /// Renders every string inside `value` (objects and arrays recursively); other values stay.
    pub fn render_value(&self, value: &Value, data: &Value) -> Result<Value, TemplateError> {
        Ok(match value {
            Value::String(s) => Value::String(self.render(s, data)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.render_value(v, data))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_value(v, data)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// Whether a string holds template syntax at all (plain strings skip the engine).
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}
