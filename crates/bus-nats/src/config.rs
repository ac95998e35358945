//! `bus: {type: nats, …}`: where the NATS server is, how to log in, and the bounds.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use switchyard_core::CoreError;
use switchyard_core::bus::validate_subject;
use switchyard_core::value::parse_std_duration;
use thiserror::Error;

/// Settings of the NATS bus. Every key has a default, so `type: nats` alone joins a NATS server
/// with JetStream on this host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default, deny_unknown_fields)]
pub struct NatsBusConfig {
    /// Servers of one cluster, tried in turn (`nats://host:4222`, `tls://host:4222`).
    pub servers: Vec<String>,
    /// Put before every subject (`<prefix>.message.to_processor`), so several installations
    /// share one NATS server. Empty: no prefix. Every process of one installation needs the same.
    pub subject_prefix: String,
    /// Name this client shows in the server's monitoring; empty: `switchyard`.
    pub client_name: String,
    /// Token authentication; leave empty for none.
    pub token: String,
    /// User/password authentication; leave empty for none.
    pub username: String,
    pub password: String,
    pub tls: TlsConfig,
    /// How long one connection attempt may take.
    pub connection_timeout: String,
    /// Reconnect attempts after a lost connection before the bus gives up and closes; 0: never
    /// give up.
    pub max_reconnects: usize,
    /// Publishes held while disconnected (and in flight while connected). Past it a publish
    /// waits `publish_wait` for room, then fails and is counted as dropped; durable subjects
    /// instead retry until `durable.publish_timeout`.
    pub publish_buffer: usize,
    /// How long a publish waits for room in the full `publish_buffer` (at most 1m).
    pub publish_wait: String,
    /// Messages each subscription may hold unread. Past it NATS drops messages for that
    /// subscription (a "slow consumer"; counted as dropped and logged). Durable subjects are not
    /// affected: the server keeps their messages until they are acknowledged.
    pub subscriber_capacity: usize,
    pub durable: DurableConfig,
}

impl Default for NatsBusConfig {
    fn default() -> Self {
        NatsBusConfig {
            servers: vec!["nats://127.0.0.1:4222".into()],
            subject_prefix: "switchyard".into(),
            client_name: String::new(),
            token: String::new(),
            username: String::new(),
            password: String::new(),
            tls: TlsConfig::default(),
            connection_timeout: "5s".into(),
            max_reconnects: 0,
            publish_buffer: 8192,
            publish_wait: "2s".into(),
            subscriber_capacity: 65536,
            durable: DurableConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Require TLS even for `nats://` addresses (rustls with ring; `tls://` addresses imply it).
    pub enabled: bool,
    /// PEM file of the CA that signed the server's certificate; empty: the system's roots.
    pub ca_file: String,
    /// PEM client certificate and key, for servers that verify clients; empty: none.
    pub cert_file: String,
    pub key_file: String,
}

/// JetStream durable delivery of `message.to_processor`, `handler.notify` and
/// `message.to_gateway.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default, deny_unknown_fields)]
pub struct DurableConfig {
    /// Off: those subjects are plain NATS too (at most once, as MyController).
    pub enabled: bool,
    /// The stream's name; empty: derived from `subject_prefix`.
    pub stream: String,
    /// `file` (survives a NATS restart) or `memory`.
    pub storage: String,
    /// Bounds of the stream, counting messages not yet acknowledged (acknowledged ones are
    /// removed at once). At a bound new publishes are refused: the publisher retries until
    /// `publish_timeout`, then fails and counts the message as dropped. Nothing already kept is
    /// thrown away for it.
    pub max_messages: i64,
    pub max_bytes: i64,
    /// A message nobody acknowledged within this is removed (a gateway that never returns);
    /// `0` keeps it until acknowledged.
    pub max_age: String,
    /// A publisher's retry of one message within this window is stored once.
    pub duplicate_window: String,
    /// A delivered message not acknowledged within this is delivered again.
    pub ack_wait: String,
    /// Deliveries of one message before the server stops trying (it stays in the stream until
    /// `max_age`); bounds the retries of a message that always fails.
    pub max_deliver: i64,
    /// Messages delivered and not yet acknowledged, per consumer; past it the server waits.
    pub max_ack_pending: i64,
    /// How long a durable publish keeps trying (through reconnects, a restarting server or a full
    /// stream) before it fails.
    pub publish_timeout: String,
}

impl Default for DurableConfig {
    fn default() -> Self {
        DurableConfig {
            enabled: true,
            stream: String::new(),
            storage: "file".into(),
            max_messages: 1_000_000,
            max_bytes: 1 << 30,
            max_age: "7d".into(),
            duplicate_window: "2m".into(),
            ack_wait: "30s".into(),
            max_deliver: 20,
            max_ack_pending: 1024,
            publish_timeout: "1m".into(),
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq)]
pub enum ConfigError {
    #[error("bus `{key}`: {source}")]
    Duration {
        key: &'static str,
        source: CoreError,
    },
    #[error("bus `{key}` must be at most {max:?}")]
    TooLong { key: &'static str, max: Duration },
    #[error("bus `{key}` must be between {min} and {max}, not {value}")]
    OutOfRange {
        key: &'static str,
        value: i64,
        min: i64,
        max: i64,
    },
    #[error(
        "bus `subject_prefix` `{0}` is not a valid subject (dot-separated tokens, no wildcards or spaces)"
    )]
    Prefix(String),
    #[error("bus `servers` is empty")]
    NoServers,
    #[error("bus `durable.storage` must be `file` or `memory`, not `{0}`")]
    Storage(String),
    #[error("bus `tls.cert_file` and `tls.key_file` go together")]
    ClientCertificate,
}

/// The config, checked and parsed once.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub connection_timeout: Duration,
    pub publish_wait: Duration,
    pub durable: Option<DurableSettings>,
}

#[derive(Debug, Clone)]
pub(crate) struct DurableSettings {
    pub stream: String,
    pub memory: bool,
    pub max_messages: i64,
    pub max_bytes: i64,
    pub max_age: Duration,
    pub duplicate_window: Duration,
    pub ack_wait: Duration,
    pub max_deliver: i64,
    pub max_ack_pending: i64,
    pub publish_timeout: Duration,
}

fn duration(key: &'static str, value: &str, max: Duration) -> Result<Duration, ConfigError> {
    let parsed =
        parse_std_duration(value).map_err(|source| ConfigError::Duration { key, source })?;
    if parsed > max {
        return Err(ConfigError::TooLong { key, max });
    }
    Ok(parsed)
}

fn range(key: &'static str, value: i64, min: i64, max: i64) -> Result<i64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::OutOfRange {
            key,
            value,
            min,
            max,
        })
    }
}

const YEAR: Duration = Duration::from_secs(366 * 24 * 3600);

impl NatsBusConfig {
    pub(crate) fn settings(&self) -> Result<Settings, ConfigError> {
        if self.servers.is_empty() {
            return Err(ConfigError::NoServers);
        }
        if !self.subject_prefix.is_empty() && validate_subject(&self.subject_prefix).is_err() {
            return Err(ConfigError::Prefix(self.subject_prefix.clone()));
        }
        if self.tls.cert_file.is_empty() != self.tls.key_file.is_empty() {
            return Err(ConfigError::ClientCertificate);
        }
        range("publish_buffer", self.publish_buffer as i64, 1, 1 << 20)?;
        range(
            "subscriber_capacity",
            self.subscriber_capacity as i64,
            1,
            1 << 20,
        )?;
        let minute = Duration::from_secs(60);
        let durable = if self.durable.enabled {
            let d = &self.durable;
            let memory = match d.storage.as_str() {
                "file" => false,
                "memory" => true,
                other => return Err(ConfigError::Storage(other.into())),
            };
            Some(DurableSettings {
                stream: if d.stream.is_empty() {
                    stream_name(&self.subject_prefix)
                } else {
                    d.stream.clone()
                },
                memory,
                max_messages: range("durable.max_messages", d.max_messages, 1, i64::MAX)?,
                max_bytes: range("durable.max_bytes", d.max_bytes, 1024, i64::MAX)?,
                max_age: duration("durable.max_age", &d.max_age, YEAR)?,
                duplicate_window: duration("durable.duplicate_window", &d.duplicate_window, YEAR)?,
                ack_wait: duration("durable.ack_wait", &d.ack_wait, YEAR)?,
                max_deliver: range("durable.max_deliver", d.max_deliver, 1, 1_000_000)?,
                max_ack_pending: range("durable.max_ack_pending", d.max_ack_pending, 1, 1 << 20)?,
                publish_timeout: duration("durable.publish_timeout", &d.publish_timeout, YEAR)?,
            })
        } else {
            None
        };
        Ok(Settings {
            connection_timeout: duration("connection_timeout", &self.connection_timeout, minute)?,
            publish_wait: duration("publish_wait", &self.publish_wait, minute)?,
            durable,
        })
    }
}

/// A stream name for a prefix: stream names may not contain `.`, `*`, `>` or white space.
pub(crate) fn stream_name(prefix: &str) -> String {
    let base = if prefix.is_empty() {
        "switchyard"
    } else {
        prefix
    };
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{cleaned}_durable")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_yaml_gives_the_documented_defaults() {
        let config: NatsBusConfig = serde_norway::from_str("{}").unwrap();
        assert_eq!(config, NatsBusConfig::default());
        let settings = config.settings().unwrap();
        assert_eq!(settings.publish_wait, Duration::from_secs(2));
        let durable = settings.durable.unwrap();
        assert_eq!(durable.stream, "switchyard_durable");
        assert_eq!(durable.ack_wait, Duration::from_secs(30));
        assert!(!durable.memory);
    }

    #[test]
    fn reads_inside_a_type_tagged_section_and_rejects_unknown_keys() {
        #[derive(Debug, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Bus {
            Nats(NatsBusConfig),
        }
        let yaml =
            "type: nats\nservers: [tls://a:4222]\ntoken: s3cret\ndurable:\n  enabled: false\n";
        let Bus::Nats(config) = serde_norway::from_str(yaml).unwrap();
        assert_eq!(config.servers, ["tls://a:4222"]);
        assert_eq!(config.token, "s3cret");
        assert!(config.settings().unwrap().durable.is_none());
        let err = serde_norway::from_str::<Bus>("type: nats\nurl: x\n").unwrap_err();
        assert!(err.to_string().contains("url"), "{err}");
    }

    #[test]
    fn rejects_what_cannot_work() {
        let bad = |f: fn(&mut NatsBusConfig)| {
            let mut config = NatsBusConfig::default();
            f(&mut config);
            config.settings().unwrap_err()
        };
        assert_eq!(bad(|c| c.servers.clear()), ConfigError::NoServers);
        assert!(matches!(
            bad(|c| c.subject_prefix = "a.*".into()),
            ConfigError::Prefix(_)
        ));
        assert!(matches!(
            bad(|c| c.publish_buffer = 0),
            ConfigError::OutOfRange { .. }
        ));
        assert!(matches!(
            bad(|c| c.publish_wait = "soon".into()),
            ConfigError::Duration { .. }
        ));
        assert!(matches!(
            bad(|c| c.publish_wait = "2m".into()),
            ConfigError::TooLong { .. }
        ));
        assert!(matches!(
            bad(|c| c.durable.storage = "disk".into()),
            ConfigError::Storage(_)
        ));
        assert!(matches!(
            bad(|c| c.durable.max_deliver = 0),
            ConfigError::OutOfRange { .. }
        ));
        assert_eq!(
            bad(|c| c.tls.cert_file = "c.pem".into()),
            ConfigError::ClientCertificate
        );
    }

    #[test]
    fn stream_names_carry_no_subject_characters() {
        assert_eq!(stream_name("site.a b"), "site_a_b_durable");
        assert_eq!(stream_name(""), "switchyard_durable");
    }
}
