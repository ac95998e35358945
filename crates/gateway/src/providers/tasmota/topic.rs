//! Tasmota's FullTopic: `%prefix%/%topic%/` by default, any arrangement of `%prefix%`, `%topic%`
//! and fixed levels in general (`tasmota/bedroom/%topic%/%prefix%/`). Parsing an incoming topic
//! gives the prefix kind, the device topic and the command (`STATE`, `RESULT`, `POWER2`, …);
//! building one gives the `cmnd` topic of a command.

use super::error::{TasmotaError, quote};
use serde::Deserialize;

/// The three prefixes (Tasmota's `Prefix1..3`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Prefixes {
    pub cmnd: String,
    pub stat: String,
    pub tele: String,
}

impl Default for Prefixes {
    fn default() -> Self {
        Prefixes {
            cmnd: "cmnd".into(),
            stat: "stat".into(),
            tele: "tele".into(),
        }
    }
}

/// Which of the three prefixes a topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Cmnd,
    Stat,
    Tele,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    Prefix,
    Topic,
    Fixed(String),
}

/// A parsed FullTopic pattern with its prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPattern {
    levels: Vec<Level>,
    prefixes: Prefixes,
}

/// An incoming topic, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTopic {
    pub prefix: Prefix,
    /// The device's `%topic%` (e.g. `tasmota_49A3BC`).
    pub topic: String,
    /// The last level, upper-cased (`STATE`, `SENSOR`, `RESULT`, `POWER1`, `STATUS11`, `LWT`).
    pub command: String,
}

pub const DEFAULT_FULL_TOPIC: &str = "%prefix%/%topic%/";

impl TopicPattern {
    /// `full_topic` must hold `%prefix%` and `%topic%` once each; other levels are fixed text.
    pub fn new(full_topic: &str, prefixes: Prefixes) -> Result<TopicPattern, String> {
        let levels: Vec<Level> = full_topic
            .trim()
            .trim_end_matches('/')
            .split('/')
            .map(|l| match l {
                "%prefix%" => Level::Prefix,
                "%topic%" => Level::Topic,
                other => Level::Fixed(other.to_string()),
            })
            .collect();
        let count = |want: &Level| levels.iter().filter(|l| *l == want).count();
        if count(&Level::Prefix) != 1 || count(&Level::Topic) != 1 {
            return Err(format!(
                "full topic {full_topic:?} must contain %prefix% and %topic% once each"
            ));
        }
        if levels.iter().any(|l| match l {
            Level::Fixed(s) => s.is_empty() || s.contains(['+', '#', '%']),
            _ => false,
        }) {
            return Err(format!(
                "full topic {full_topic:?} has an empty level, a wildcard or an unknown %token%"
            ));
        }
        for p in [&prefixes.cmnd, &prefixes.stat, &prefixes.tele] {
            if p.is_empty() || p.contains(['/', '+', '#']) {
                return Err(format!("prefix {p:?} must be one non-empty topic level"));
            }
        }
        Ok(TopicPattern { levels, prefixes })
    }

    /// The pattern Tasmota uses out of the box.
    pub fn default_pattern() -> TopicPattern {
        TopicPattern::new(DEFAULT_FULL_TOPIC, Prefixes::default()).expect("valid default")
    }

    /// What to subscribe to: every topic of every device, for `stat` and `tele`.
    pub fn subscriptions(&self) -> Vec<String> {
        [&self.prefixes.stat, &self.prefixes.tele]
            .into_iter()
            .map(|prefix| {
                let mut parts: Vec<&str> = self
                    .levels
                    .iter()
                    .map(|l| match l {
                        Level::Prefix => prefix.as_str(),
                        Level::Topic => "+",
                        Level::Fixed(s) => s.as_str(),
                    })
                    .collect();
                parts.push("+");
                parts.join("/")
            })
            .collect()
    }

    pub fn parse(&self, topic: &str) -> Result<DeviceTopic, TasmotaError> {
        let bad = || TasmotaError::Topic(quote(topic));
        let parts: Vec<&str> = topic.split('/').collect();
        if parts.len() != self.levels.len() + 1 {
            return Err(bad());
        }
        let (mut prefix, mut device) = (None, None);
        for (level, part) in self.levels.iter().zip(&parts) {
            match level {
                Level::Prefix => {
                    prefix = Some(if *part == self.prefixes.tele {
                        Prefix::Tele
                    } else if *part == self.prefixes.stat {
                        Prefix::Stat
                    } else if *part == self.prefixes.cmnd {
                        Prefix::Cmnd
                    } else {
                        return Err(bad());
                    })
                }
                Level::Topic if !part.is_empty() => device = Some(part.to_string()),
                Level::Fixed(s) if s == part => {}
                _ => return Err(bad()),
            }
        }
        let command = parts[parts.len() - 1];
        match (prefix, device) {
            (Some(prefix), Some(topic)) if !command.is_empty() => Ok(DeviceTopic {
                prefix,
                topic,
                command: command.to_ascii_uppercase(),
            }),
            _ => Err(bad()),
        }
    }

    /// `cmnd/<device>/<command>` in this pattern.
    pub fn command_topic(&self, device: &str, command: &str) -> String {
        let mut parts: Vec<&str> = self
            .levels
            .iter()
            .map(|l| match l {
                Level::Prefix => self.prefixes.cmnd.as_str(),
                Level::Topic => device,
                Level::Fixed(s) => s.as_str(),
            })
            .collect();
        parts.push(command);
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_pattern_parses_and_builds() {
        let p = TopicPattern::default_pattern();
        assert_eq!(
            p.parse("tele/tasmota_49A3BC/STATE").unwrap(),
            DeviceTopic {
                prefix: Prefix::Tele,
                topic: "tasmota_49A3BC".into(),
                command: "STATE".into()
            }
        );
        assert_eq!(p.parse("stat/x/Power2").unwrap().command, "POWER2");
        assert_eq!(p.command_topic("x", "POWER"), "cmnd/x/POWER");
        assert_eq!(p.subscriptions(), ["stat/+/+", "tele/+/+"]);
        for bad in [
            "tele/x",
            "tele//STATE",
            "other/x/STATE",
            "tele/x/STATE/y",
            "tele/x/",
        ] {
            assert!(p.parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn custom_patterns_with_fixed_levels_and_topic_first() {
        let p = TopicPattern::new("home/%topic%/%prefix%/", Prefixes::default()).unwrap();
        let t = p.parse("home/plug1/stat/RESULT").unwrap();
        assert_eq!((t.prefix, t.topic.as_str()), (Prefix::Stat, "plug1"));
        assert_eq!(p.command_topic("plug1", "Dimmer"), "home/plug1/cmnd/Dimmer");
        assert_eq!(p.subscriptions(), ["home/+/stat/+", "home/+/tele/+"]);
        assert!(p.parse("away/plug1/stat/RESULT").is_err());
        assert!(TopicPattern::new("%topic%/", Prefixes::default()).is_err());
        assert!(TopicPattern::new("%prefix%/%topic%/%topic%", Prefixes::default()).is_err());
        assert!(TopicPattern::new("a/#/%prefix%/%topic%", Prefixes::default()).is_err());
    }

    proptest! {
        #[test]
        fn a_built_command_topic_parses_back(device in "[A-Za-z0-9_-]{1,20}", cmd in "[A-Za-z0-9]{1,12}") {
            let p = TopicPattern::new("x/%prefix%/y/%topic%", Prefixes::default()).unwrap();
            let t = p.parse(&p.command_topic(&device, &cmd)).unwrap();
            prop_assert_eq!(t.prefix, Prefix::Cmnd);
            prop_assert_eq!(t.topic, device);
            prop_assert_eq!(t.command, cmd.to_ascii_uppercase());
        }

        #[test]
        fn any_topic_parses_or_is_rejected(topic in ".{0,80}") {
            let _ = TopicPattern::default_pattern().parse(&topic);
        }
    }
}
