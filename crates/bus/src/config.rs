use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchyard_core::CoreError;
use switchyard_core::value::parse_std_duration;
use thiserror::Error;

const DEFAULT_SUBSCRIBER_CAPACITY: usize = 4096;
/// Far above any sane setting; keeps a typo from promising a queue no machine can hold.
const MAX_SUBSCRIBER_CAPACITY: usize = 1 << 20;
const DEFAULT_PUBLISH_WAIT: &str = "2s";
const DEFAULT_PUBLISH_WAIT_PARSED: Duration = Duration::from_secs(2);
/// A publish that may stall longer than this has stopped being a wait and become an outage.
const MAX_PUBLISH_WAIT: Duration = Duration::from_secs(60);

/// Settings of the embedded bus. Both keys tune its overload policy (see
/// [`EmbeddedBus`](crate::EmbeddedBus)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default, deny_unknown_fields)]
pub struct EmbeddedBusConfig {
    /// Messages each subscription may hold unread (1 to 1048576, default 4096). This bounds the
    /// memory one slow subscriber can take; past it, publishers wait `publish_wait`.
    pub subscriber_capacity: usize,
    /// How long a publisher waits for room in a full subscription before it drops the message for
    /// that subscriber only (a duration such as `2s` or `500ms`, at most `1m`; `0s` drops at once;
    /// default `2s`). Longer rides out bursts; shorter keeps one stuck subscriber from slowing
    /// everyone.
    pub publish_wait: String,
}

impl Default for EmbeddedBusConfig {
    fn default() -> Self {
        EmbeddedBusConfig {
            subscriber_capacity: DEFAULT_SUBSCRIBER_CAPACITY,
            publish_wait: DEFAULT_PUBLISH_WAIT.into(),
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    #[error("bus `subscriber_capacity` must be between 1 and {max}, not {value}")]
    SubscriberCapacity { value: usize, max: usize },
    #[error("bus `publish_wait`: {0}")]
    PublishWait(#[from] CoreError),
    #[error("bus `publish_wait` must be at most {max:?}, not {value:?}")]
    PublishWaitTooLong { value: Duration, max: Duration },
}

/// The config, checked and parsed once so publishing never re-parses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub subscriber_capacity: usize,
    pub publish_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            subscriber_capacity: DEFAULT_SUBSCRIBER_CAPACITY,
            publish_wait: DEFAULT_PUBLISH_WAIT_PARSED,
        }
    }
}

impl EmbeddedBusConfig {
    pub(crate) fn limits(&self) -> Result<Limits, ConfigError> {
        if !(1..=MAX_SUBSCRIBER_CAPACITY).contains(&self.subscriber_capacity) {
            return Err(ConfigError::SubscriberCapacity {
                value: self.subscriber_capacity,
                max: MAX_SUBSCRIBER_CAPACITY,
            });
        }
        let publish_wait = parse_std_duration(&self.publish_wait)?;
        if publish_wait > MAX_PUBLISH_WAIT {
            return Err(ConfigError::PublishWaitTooLong {
                value: publish_wait,
                max: MAX_PUBLISH_WAIT,
            });
        }
        Ok(Limits {
            subscriber_capacity: self.subscriber_capacity,
            publish_wait,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_yaml_gives_the_documented_defaults() {
        let config: EmbeddedBusConfig = serde_norway::from_str("{}").unwrap();
        assert_eq!(config, EmbeddedBusConfig::default());
        let limits = config.limits().unwrap();
        assert_eq!(limits.subscriber_capacity, 4096);
        assert_eq!(limits.publish_wait, Duration::from_secs(2));
        assert_eq!(limits, Limits::default());
    }

    #[test]
    fn reads_snake_case_keys_and_duration_strings() {
        let yaml = "subscriber_capacity: 16\npublish_wait: 250ms\n";
        let config: EmbeddedBusConfig = serde_norway::from_str(yaml).unwrap();
        let limits = config.limits().unwrap();
        assert_eq!(limits.subscriber_capacity, 16);
        assert_eq!(limits.publish_wait, Duration::from_millis(250));
    }

    #[test]
    fn reads_inside_a_type_tagged_section() {
        // The server selects the bus with `type: embedded` beside these keys.
        #[derive(Debug, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Bus {
            Embedded(EmbeddedBusConfig),
        }
        let Bus::Embedded(config) =
            serde_norway::from_str("type: embedded\nsubscriber_capacity: 8\n").unwrap();
        assert_eq!(config.subscriber_capacity, 8);
        let err = serde_norway::from_str::<Bus>("type: embedded\ncapacity: 8\n").unwrap_err();
        assert!(err.to_string().contains("capacity"), "{err}");
    }

    #[test]
    fn rejects_unknown_keys() {
        let err = serde_norway::from_str::<EmbeddedBusConfig>("publish_timeout: 1s\n").unwrap_err();
        assert!(err.to_string().contains("publish_timeout"), "{err}");
    }

    #[test]
    fn rejects_capacities_a_queue_cannot_have() {
        for value in [0, MAX_SUBSCRIBER_CAPACITY + 1] {
            let config = EmbeddedBusConfig {
                subscriber_capacity: value,
                ..Default::default()
            };
            assert!(matches!(
                config.limits(),
                Err(ConfigError::SubscriberCapacity { .. })
            ));
        }
    }

    #[test]
    fn rejects_bad_and_negative_waits() {
        for wait in ["soon", "-1s", ""] {
            let config = EmbeddedBusConfig {
                publish_wait: wait.into(),
                ..Default::default()
            };
            assert!(
                matches!(config.limits(), Err(ConfigError::PublishWait(_))),
                "{wait}"
            );
        }
        let config = EmbeddedBusConfig {
            publish_wait: "61s".into(),
            ..Default::default()
        };
        assert!(matches!(
            config.limits(),
            Err(ConfigError::PublishWaitTooLong { .. })
        ));
    }
}
