//! Node and source records: created on first sight, kept alive (`lastSeen`, state up) by every
//! message, and updated by node-level `set`/`presentation` messages and source presentations.

use crate::changes::Changes;
use crate::view::View;
use chrono::{DateTime, Utc};
use serde_json::Value;
use switchyard_core::metrics::{MetricPoint, MetricValue};
use switchyard_core::model::{Labels, MetricType, Node, Source, State, Status, node_labels};
use switchyard_core::storage::StorageError;
use switchyard_core::{EventType, Message, Payload, QuickId, Resource};

/// Node payload a provider sets the node's state with (`up`, `down`, …): a device that says it
/// is going away (Tasmota's last will `Offline`) is down at once, not after the inactivity job.
pub const NODE_STATE_KEY: &str = "state";

/// Node payload keys kept as labels rather than "others".
const LABEL_KEYS: [&str; 2] = [node_labels::VERSION, node_labels::LIBRARY_VERSION];

fn ignored(labels: &Labels, key: &str) -> bool {
    labels
        .get(&format!("{}{key}", node_labels::IGNORE_PREFIX))
        .is_some_and(|v| switchyard_core::value::parse_bool(v) == Some(true))
}

/// Merges payload labels into a resource's labels, keeping those the user pinned with `ignore_<key>`.
pub(crate) fn merge_labels(target: &mut Labels, from: &Labels) {
    for (k, v) in from {
        let key = switchyard_core::model::normalize_label_key(k);
        if !key.is_empty() && !ignored(target, &key) {
            target.insert(key, v.clone());
        }
    }
}

/// A payload value as JSON: numbers stay numbers.
fn loose_value(raw: &str) -> Value {
    raw.trim()
        .parse::<i64>()
        .map(Value::from)
        .ok()
        .or_else(|| {
            raw.trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        })
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

fn push_upsert<T: Resource>(
    changes: &mut Changes,
    r: &T,
    created: bool,
) -> Result<(), StorageError> {
    let doc = switchyard_core::store::to_document(r)?;
    let kind = if created {
        EventType::Created
    } else {
        EventType::Updated
    };
    changes.announce(kind, T::KIND, r.id(), &doc)?;
    changes
        .ops
        .push(switchyard_core::storage::WriteOp::Upsert(T::KIND, doc));
    Ok(())
}

/// Loads (or creates) the node of `msg`, marks it seen and up, lets `edit` change it, and queues
/// the write.
pub(crate) async fn touch_node(
    store: &View<'_>,
    msg: &Message,
    now: DateTime<Utc>,
    changes: &mut Changes,
    edit: impl FnOnce(&mut Node, &mut Changes),
) -> Result<(), StorageError> {
    let id = QuickId::compose(&[&msg.gateway_id, &msg.node_id]);
    let (mut node, created) = match store.get::<Node>(&id).await? {
        Some(n) => (n, false),
        None => (
            Node {
                id,
                gateway_id: msg.gateway_id.clone(),
                node_id: msg.node_id.clone(),
                name: msg.node_id.clone(),
                ..Default::default()
            },
            true,
        ),
    };
    node.last_seen = Some(now);
    if node.state.status != Status::Up {
        node.state = State::new(Status::Up, "", now);
    }
    edit(&mut node, changes);
    node.modified_on = Some(now);
    push_upsert(changes, &node, created)
}

/// Loads (or creates) the source of `msg`, marks it seen, lets `edit` change it, queues the write.
pub(crate) async fn touch_source(
    store: &View<'_>,
    msg: &Message,
    now: DateTime<Utc>,
    changes: &mut Changes,
    edit: impl FnOnce(&mut Source),
) -> Result<(), StorageError> {
    let id = QuickId::compose(&[&msg.gateway_id, &msg.node_id, &msg.source_id]);
    let (mut source, created) = match store.get::<Source>(&id).await? {
        Some(s) => (s, false),
        None => (
            Source {
                id,
                gateway_id: msg.gateway_id.clone(),
                node_id: msg.node_id.clone(),
                source_id: msg.source_id.clone(),
                name: msg.source_id.clone(),
                ..Default::default()
            },
            true,
        ),
    };
    source.last_seen = Some(now);
    edit(&mut source);
    source.modified_on = Some(now);
    push_upsert(changes, &source, created)
}

/// A node-level `set` or `presentation`: name, labels (version, …), others (battery level, …).
/// Payloads with a metric type (battery level is `gauge_float` by default) also become points.
pub(crate) fn apply_node_payloads(
    node: &mut Node,
    payloads: &[Payload],
    now: DateTime<Utc>,
    changes: &mut Changes,
) {
    for p in payloads {
        merge_labels(&mut node.labels, &p.labels);
        let key = p.key.as_str();
        if ignored(&node.labels, key) {
            continue;
        }
        if key == "name" {
            node.name = p.value.clone();
        } else if key == NODE_STATE_KEY {
            let status = serde_json::from_value::<Status>(Value::String(
                p.value.trim().to_ascii_lowercase(),
            ));
            if let Ok(status) = status
                && status != node.state.status
            {
                node.state = State::new(status, "reported by the device", now);
            }
        } else if LABEL_KEYS.contains(&key) {
            node.labels.insert(key.to_string(), p.value.clone());
        } else {
            let value = loose_value(&p.value);
            let metric_type = match p.metric_type.parse::<MetricType>() {
                Ok(MetricType::None) if key == "battery_level" => MetricType::GaugeFloat,
                Ok(m) => m,
                Err(_) => MetricType::None,
            };
            if metric_type.is_numeric()
                && let Some(n) = switchyard_core::value::as_metric_number(&value)
            {
                let quick_id = QuickId::new(Node::KIND, node.id.clone()).with_key_path(key);
                changes.points.push(MetricPoint {
                    series: quick_id.to_string(),
                    metric_type,
                    timestamp: now,
                    value: MetricValue::Number(n),
                    tags: [
                        ("gatewayId".to_string(), node.gateway_id.clone()),
                        ("nodeId".to_string(), node.node_id.clone()),
                        ("key".to_string(), key.to_string()),
                    ]
                    .into(),
                });
            }
            node.others.insert(key.to_string(), value);
        }
    }
}

/// A source presentation: `name` names it, other keys go to its others.
pub(crate) fn apply_source_payloads(source: &mut Source, payloads: &[Payload]) {
    for p in payloads {
        merge_labels(&mut source.labels, &p.labels);
        if ignored(&source.labels, &p.key) {
            continue;
        }
        if p.key == "name" {
            source.name = p.value.clone();
        } else {
            source.others.insert(p.key.clone(), loose_value(&p.value));
        }
    }
}
