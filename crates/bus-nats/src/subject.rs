//! Subjects as services see them and as they travel on the wire (with the installation's prefix),
//! and which of them are durable.

use switchyard_core::topics;

#[derive(Debug, Clone)]
pub(crate) struct Prefix(String);

impl Prefix {
    pub fn new(prefix: &str) -> Self {
        Prefix(prefix.to_string())
    }

    pub fn wire(&self, subject: &str) -> String {
        if self.0.is_empty() {
            subject.to_string()
        } else {
            format!("{}.{subject}", self.0)
        }
    }

    /// The service's view of a wire subject; a subject outside the prefix (a reply subject of a
    /// foreign client) is left as it is.
    pub fn strip(&self, subject: &str) -> String {
        if self.0.is_empty() {
            return subject.to_string();
        }
        subject
            .strip_prefix(self.0.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(subject)
            .to_string()
    }
}

/// The subjects where a lost message matters, so JetStream keeps them until acknowledged.
pub(crate) fn durable_patterns() -> [String; 3] {
    [
        topics::TO_PROCESSOR.to_string(),
        topics::HANDLER_NOTIFY.to_string(),
        format!("{}.>", topics::TO_GATEWAY_PREFIX),
    ]
}

/// Whether a published subject is stored by the durable stream.
pub(crate) fn is_durable_subject(subject: &str) -> bool {
    durable_patterns()
        .iter()
        .any(|p| switchyard_core::bus::subject_matches(p, subject))
}

/// Whether a subscription reads the durable stream (as a durable consumer) rather than plain
/// NATS. A queue group may use wildcards inside a durable subject space (its members share one
/// consumer); a plain subscription must name one exact durable subject, whose one consumer is
/// the service that owns it (the gateway service for `message.to_gateway.<id>`). Anything else,
/// such as `message.>` for a traffic log, watches plain NATS and never takes work from a consumer.
pub(crate) fn reads_durable_stream(pattern: &str, group: Option<&str>) -> bool {
    let wildcard = pattern.split('.').any(|t| t == "*" || t == ">");
    if group.is_none() && wildcard {
        return false;
    }
    let tokens: Vec<&str> = pattern.split('.').collect();
    matches!(
        tokens.as_slice(),
        ["message", "to_processor"] | ["handler", "notify"] | ["message", "to_gateway", _, ..]
    )
}

/// A durable consumer's name: readable, and unique per (group, pattern) through a hash, since
/// names may not contain the subject's dots or wildcards.
pub(crate) fn consumer_name(group: Option<&str>, pattern: &str) -> String {
    let group = group.unwrap_or("owner");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in group.bytes().chain([0]).chain(pattern.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let readable: String = format!("{group}_{pattern}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    format!("{readable}_{:08x}", hash as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_goes_on_and_comes_off() {
        let p = Prefix::new("site1");
        assert_eq!(p.wire("event.node.updated"), "site1.event.node.updated");
        assert_eq!(p.strip("site1.event.node.updated"), "event.node.updated");
        assert_eq!(p.strip("site10.x"), "site10.x");
        let none = Prefix::new("");
        assert_eq!(none.wire("a.b"), "a.b");
        assert_eq!(none.strip("a.b"), "a.b");
    }

    #[test]
    fn only_the_three_work_subjects_are_durable() {
        assert!(is_durable_subject("message.to_processor"));
        assert!(is_durable_subject("handler.notify"));
        assert!(is_durable_subject("message.to_gateway.gw1"));
        assert!(!is_durable_subject("message.to_gateway"));
        assert!(!is_durable_subject("event.field.updated"));
        assert!(!is_durable_subject("rpc.resource.get"));
    }

    #[test]
    fn watchers_read_plain_nats_and_owners_the_stream() {
        assert!(reads_durable_stream(
            "message.to_processor",
            Some("processor")
        ));
        assert!(reads_durable_stream("message.to_gateway.gw1", None));
        assert!(reads_durable_stream(
            "message.to_gateway.*",
            Some("gateways")
        ));
        assert!(!reads_durable_stream("message.to_gateway.*", None));
        assert!(!reads_durable_stream("message.>", Some("log")));
        assert!(!reads_durable_stream(">", None));
        assert!(!reads_durable_stream("event.>", Some("api")));
    }

    #[test]
    fn consumer_names_are_valid_and_distinct() {
        let a = consumer_name(Some("processor"), "message.to_processor");
        assert!(a.starts_with("processor_message_to_processor_"), "{a}");
        assert!(!a.contains('.'));
        assert_ne!(
            consumer_name(None, "message.to_gateway.a-b"),
            consumer_name(None, "message.to_gateway.a_b")
        );
        assert_eq!(a, consumer_name(Some("processor"), "message.to_processor"));
    }
}
