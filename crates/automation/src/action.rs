//! Carries out a resource action resolved by [`switchyard_core::action::resolve`]: the same
//! meaning as the API's action route.

use crate::error::AutomationError;
use serde_json::Value;
use switchyard_core::action::{Action, Current, resolve, service_name};
use switchyard_core::bus::{Bus, BusExt};
use switchyard_core::model::{DataRepository, Field, Node};
use switchyard_core::store::Store;
use switchyard_core::{EntityKind, QuickId, topics};

/// Reads what the action needs to know about its target.
pub async fn current(store: &Store, target: &QuickId) -> Result<Current, AutomationError> {
    let mut cur = Current::default();
    let node_id = match target.kind {
        EntityKind::Field => {
            cur.field = store.get::<Field>(&target.id).await?;
            target
                .id
                .splitn(3, '.')
                .take(2)
                .collect::<Vec<_>>()
                .join(".")
        }
        EntityKind::Node => target.id.clone(),
        _ => return Ok(cur),
    };
    cur.node = store.get::<Node>(&node_id).await?;
    Ok(cur)
}

/// Resolves and carries out `payload` on `target`.
pub async fn perform(
    store: &Store,
    bus: &dyn Bus,
    target: &QuickId,
    payload: &str,
    key_path: Option<&str>,
) -> Result<(), AutomationError> {
    let cur = current(store, target).await?;
    let action = resolve(target, payload, key_path, &cur)?;
    execute(store, bus, action).await
}

pub async fn execute(store: &Store, bus: &dyn Bus, action: Action) -> Result<(), AutomationError> {
    match action {
        Action::Send(mut msg) => {
            msg.timestamp = Some(chrono::Utc::now());
            bus.publish_json(&topics::to_gateway(&msg.gateway_id), &msg)
                .await?;
        }
        Action::SetEnabled { kind, id, enabled } => {
            let found = crate::state::update_document(store, bus, kind, &id, |doc| {
                if let Some(o) = doc.as_object_mut() {
                    o.insert("enabled".into(), Value::Bool(enabled));
                    if kind == EntityKind::Task
                        && let Some(state) = o.get_mut("state").and_then(Value::as_object_mut)
                    {
                        state.insert("reEnableAt".into(), Value::Null);
                    }
                }
                Ok(())
            })
            .await?;
            if !found {
                return Err(AutomationError::Handler(format!("{kind} `{id}` not found")));
            }
        }
        Action::Reload { kind, id } => {
            let name = service_name(kind)
                .ok_or_else(|| AutomationError::Handler(format!("cannot reload a {kind}")))?;
            bus.publish_json(&topics::service(name, "reload"), &vec![id])
                .await?;
        }
        Action::SetData {
            id,
            key_path,
            value,
        } => {
            let repo = store.get::<DataRepository>(&id).await?.ok_or_else(|| {
                AutomationError::Handler(format!("data repository `{id}` not found"))
            })?;
            if repo.read_only {
                return Err(AutomationError::Handler(format!(
                    "data repository `{id}` is read-only"
                )));
            }
            crate::state::update_document(store, bus, EntityKind::DataRepository, &id, |doc| {
                let data = doc
                    .as_object_mut()
                    .map(|o| o.entry("data").or_insert(Value::Object(Default::default())));
                match data {
                    Some(d) => switchyard_core::key_path::set(d, &key_path, value).map_err(|e| {
                        AutomationError::Handler(format!("key path `{key_path}`: {e}"))
                    }),
                    None => Err(AutomationError::Handler("not a document".into())),
                }
            })
            .await?;
        }
    }
    Ok(())
}
