//! `set` on a source: one field per payload. The value is converted by the field's metric type,
//! the old current value becomes the previous one, and a metric point is written (except for a
//! binary value that did not change: a switch reporting "still off" adds no information).

use crate::changes::Changes;
use crate::node_update::merge_labels;
use crate::stats::Rejection;
use crate::view::View;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use switchyard_core::metrics::{MetricPoint, MetricValue};
use switchyard_core::model::{Field, FieldValue, MetricType};
use switchyard_core::storage::{StorageError, WriteOp};
use switchyard_core::store::to_document;
use switchyard_core::{EventType, Message, Payload, QuickId, Resource};

/// Labels on a field that keep the user's metric type / unit over what devices report.
const IGNORE_METRIC_TYPE: &str = "ignore_metric_type";
const IGNORE_UNIT: &str = "ignore_unit";

fn label_true(f: &Field, key: &str) -> bool {
    f.labels
        .get(key)
        .is_some_and(|v| switchyard_core::value::parse_bool(v) == Some(true))
}

fn new_field(msg: &Message, p: &Payload, id: String) -> Field {
    Field {
        id,
        gateway_id: msg.gateway_id.clone(),
        node_id: msg.node_id.clone(),
        source_id: msg.source_id.clone(),
        field_id: p.key.clone(),
        name: p.key.clone(),
        ..Default::default()
    }
}

/// The point a field's new value adds to its series, if any.
fn metric_point(field: &Field, changed: bool, now: DateTime<Utc>) -> Option<MetricPoint> {
    let value = match field.metric_type {
        MetricType::None => return None,
        MetricType::Binary if !changed => return None,
        MetricType::String | MetricType::Geo => MetricValue::Text(
            switchyard_core::value::to_payload_string(&field.current.value),
        ),
        _ => MetricValue::Number(switchyard_core::value::as_metric_number(
            &field.current.value,
        )?),
    };
    Some(MetricPoint {
        series: QuickId::new(Field::KIND, field.id.clone()).to_string(),
        metric_type: field.metric_type,
        timestamp: now,
        value,
        tags: [
            ("gatewayId", &field.gateway_id),
            ("nodeId", &field.node_id),
            ("sourceId", &field.source_id),
            ("fieldId", &field.field_id),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect(),
    })
}

pub(crate) async fn apply_set(
    store: &View<'_>,
    msg: &Message,
    now: DateTime<Utc>,
    changes: &mut Changes,
) -> Result<(), StorageError> {
    // Several payloads for one field in a message: each sees the one before it.
    let mut seen: HashMap<String, (Field, bool)> = HashMap::new();
    for p in &msg.payloads {
        let id = QuickId::compose(&[&msg.gateway_id, &msg.node_id, &msg.source_id, &p.key]);
        let (mut field, created) = match seen.remove(&id) {
            Some(f) => f,
            None => match store.get::<Field>(&id).await? {
                Some(f) => (f, false),
                None => (new_field(msg, p, id.clone()), true),
            },
        };
        if !p.metric_type.is_empty() && !label_true(&field, IGNORE_METRIC_TYPE) {
            match p.metric_type.parse::<MetricType>() {
                Ok(m) => field.metric_type = m,
                Err(e) => {
                    changes.refuse(Rejection::BadPayload, format!("field {id}: {e}"));
                    continue;
                }
            }
        }
        let value = match switchyard_core::value::convert(&p.value, field.metric_type) {
            Ok(v) => v,
            Err(e) => {
                changes.refuse(Rejection::BadPayload, format!("field {id}: {e}"));
                continue;
            }
        };
        let changed = created || field.current.value != value;
        field.previous = std::mem::take(&mut field.current);
        field.current = FieldValue {
            value,
            is_received: msg.is_received,
            timestamp: Some(now),
        };
        if changed {
            field.no_change_since = Some(now);
        }
        if !p.unit.is_empty() && !label_true(&field, IGNORE_UNIT) {
            field.unit = p.unit.clone();
        }
        merge_labels(&mut field.labels, &p.labels);
        for (k, v) in &p.others {
            field.others.insert(k.clone(), v.clone());
        }
        field.last_seen = Some(now);
        field.modified_on = Some(now);
        if let Some(point) = metric_point(&field, changed, now) {
            changes.points.push(point);
        }
        seen.insert(id, (field, created));
    }
    for (field, created) in seen.into_values() {
        let doc = to_document(&field)?;
        let kind = if created {
            EventType::Created
        } else {
            EventType::Updated
        };
        changes.announce(kind, Field::KIND, &field.id, &doc)?;
        changes.ops.push(WriteOp::Upsert(Field::KIND, doc));
    }
    Ok(())
}

/// `request` on a source: answer each known field with its current value as a `set` to the
/// gateway, and announce a `requested` event. Unknown fields are not answered.
pub(crate) async fn answer_request(
    store: &View<'_>,
    msg: &Message,
    changes: &mut Changes,
) -> Result<(), StorageError> {
    for p in &msg.payloads {
        let id = QuickId::compose(&[&msg.gateway_id, &msg.node_id, &msg.source_id, &p.key]);
        let Some(field) = store.get::<Field>(&id).await? else {
            tracing::debug!(field = %id, "request for a field that has no value yet");
            continue;
        };
        let mut payload = Payload::new(
            p.key.clone(),
            switchyard_core::value::to_payload_string(&field.current.value),
        )
        .with_metric_type(field.metric_type.as_str())
        .with_unit(field.unit.clone());
        payload.labels = field.labels.clone();
        let mut reply = Message::new(
            switchyard_core::MessageType::Set,
            msg.gateway_id.clone(),
            msg.node_id.clone(),
            msg.source_id.clone(),
        )
        .with_payload(payload);
        reply.labels = msg.labels.clone();
        changes.outbound.push(reply);
        let doc = to_document(&field)?;
        changes.announce(EventType::Requested, Field::KIND, &id, &doc)?;
    }
    Ok(())
}
