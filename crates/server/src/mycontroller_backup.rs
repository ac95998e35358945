//! Reading a MyController 2.x backup (spec §7) for `switchyard storage import-mycontroller <zip>`
//! (`storage_cmd::mycontroller` writes what this reads into storage, in one atomic import).
//!
//! The zip holds `backup.yaml`, `storage/<entity>__<n>.<yaml|json>` (lists of resources, the
//! users with their password hashes) and `firmware/<file>`. Mapping:
//! - node, source, field: MyController's random ids become our composite ids `gw.node`,
//!   `gw.node.source`, `gw.node.source.field` (a `.` inside a part becomes `_`); field
//!   `current`/`previous`, labels and others are kept as they are;
//! - gateways, tasks, schedules, handlers, forward payloads (already quick-ids), dashboards,
//!   data repositories, firmware, service tokens, settings: as they are (same JSON shapes);
//! - users: the bcrypt hash is kept in `password` and the user gets the label
//!   `password_reset_required=true`; the first login verifies the bcrypt hash, stores an argon2
//!   one in its place and removes the label;
//! - secrets stored as `ENCRYPTED;MC;AES256;BASE64;…` are kept and counted: they need
//!   MyController's `secret` to be read, so re-enter them;
//! - virtual devices/assistants (unfinished in MyController) are skipped and counted.
//!
//! Bounds: at most [`MAX_ENTRY`] bytes per file and [`MAX_TOTAL`] in all, read through a limit
//! (a zip bomb stops at the limit); only the names above are read, so no path leaves the data dir.

use anyhow::{Context, bail};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Seek};
use std::path::Path;
use switchyard_core::EntityKind;
use switchyard_core::storage::Snapshot;

pub const MAX_ENTRY: u64 = 256 << 20;
pub const MAX_TOTAL: u64 = 1 << 30;

/// What an import did, for the command's report.
#[derive(Debug, Default, PartialEq)]
pub struct Report {
    pub imported: BTreeMap<EntityKind, usize>,
    pub skipped: BTreeMap<String, usize>,
    pub users_to_reset: usize,
    pub encrypted_secrets: usize,
    pub firmware_files: usize,
}

/// A parsed backup: the snapshot to import and the firmware files (target id → bytes).
pub struct Backup {
    pub snapshot: Snapshot,
    pub firmware: Vec<(String, Vec<u8>)>,
    pub report: Report,
}

fn flat(part: &str) -> String {
    part.replace('.', "_")
}

fn text<'a>(doc: &'a Value, key: &str) -> anyhow::Result<&'a str> {
    match doc.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => bail!("a resource lacks `{key}`: {}", truncate(doc)),
    }
}

fn truncate(doc: &Value) -> String {
    let s = doc.to_string();
    s.chars().take(200).collect()
}

fn count_encrypted(v: &Value) -> usize {
    match v {
        Value::String(s) => usize::from(s.starts_with("ENCRYPTED;MC;")),
        Value::Array(a) => a.iter().map(count_encrypted).sum(),
        Value::Object(o) => o.values().map(count_encrypted).sum(),
        _ => 0,
    }
}

/// Our id for a MyController resource of `kind`.
fn map_id(kind: EntityKind, doc: &Value) -> anyhow::Result<String> {
    Ok(match kind {
        EntityKind::Node => format!(
            "{}.{}",
            flat(text(doc, "gatewayId")?),
            flat(text(doc, "nodeId")?)
        ),
        EntityKind::Source => format!(
            "{}.{}.{}",
            flat(text(doc, "gatewayId")?),
            flat(text(doc, "nodeId")?),
            flat(text(doc, "sourceId")?)
        ),
        EntityKind::Field => format!(
            "{}.{}.{}.{}",
            flat(text(doc, "gatewayId")?),
            flat(text(doc, "nodeId")?),
            flat(text(doc, "sourceId")?),
            flat(text(doc, "fieldId")?)
        ),
        _ => text(doc, "id")?.to_string(),
    })
}

fn read_limited(entry: &mut impl Read, name: &str, total: &mut u64) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let n = entry
        .take(MAX_ENTRY + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("reading {name}"))? as u64;
    if n > MAX_ENTRY {
        bail!("{name} is larger than {MAX_ENTRY} bytes");
    }
    *total += n;
    if *total > MAX_TOTAL {
        bail!("the backup unpacks to more than {MAX_TOTAL} bytes");
    }
    Ok(buf)
}

/// Reads and maps the whole backup file; nothing is written.
pub fn read(zip_path: &Path) -> anyhow::Result<Backup> {
    let file =
        std::fs::File::open(zip_path).with_context(|| format!("opening {}", zip_path.display()))?;
    read_from(file)
}

/// Reads and maps a whole backup from any seekable bytes (the fuzz target `mycontroller_backup`
/// feeds it arbitrary ones).
pub fn read_from(input: impl Read + Seek) -> anyhow::Result<Backup> {
    let mut zip = zip::ZipArchive::new(input).context("not a zip file")?;
    let mut total = 0u64;
    let mut report = Report::default();
    let mut docs: BTreeMap<EntityKind, Vec<Value>> = BTreeMap::new();
    let mut firmware_files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut has_manifest = false;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let name = entry.name()?.to_string();
        if entry.is_dir() {
            continue;
        }
        if name == "backup.yaml" {
            let bytes = read_limited(&mut entry, &name, &mut total)?;
            let manifest: Value =
                serde_norway::from_slice(&bytes).context("backup.yaml is not YAML")?;
            if !manifest.is_object() {
                bail!("backup.yaml is not a MyController backup manifest");
            }
            has_manifest = true;
        } else if let Some(file) = name.strip_prefix("storage/") {
            let Some((entity, rest)) = file.split_once("__") else {
                continue;
            };
            let bytes = read_limited(&mut entry, &name, &mut total)?;
            let value: Value = if rest.ends_with(".json") {
                serde_json::from_slice(&bytes).with_context(|| format!("{name} is not JSON"))?
            } else {
                serde_norway::from_slice(&bytes).with_context(|| format!("{name} is not YAML"))?
            };
            let items = match value {
                Value::Array(items) => items,
                Value::Null => Vec::new(),
                one => vec![one],
            };
            match entity.parse::<EntityKind>() {
                Ok(kind) => docs.entry(kind).or_default().extend(items),
                Err(_) => *report.skipped.entry(entity.to_string()).or_default() += items.len(),
            }
        } else if let Some(file) = name.strip_prefix("firmware/") {
            // Only a plain file name: nothing outside the firmware directory.
            if file.is_empty() || file.contains(['/', '\\']) || file == ".." || file == "." {
                bail!("unexpected firmware entry `{name}`");
            }
            let bytes = read_limited(&mut entry, &name, &mut total)?;
            firmware_files.insert(file.to_string(), bytes);
        }
    }
    if !has_manifest {
        bail!("no backup.yaml: not a MyController backup");
    }
    let mut snapshot = Snapshot::new();
    let mut firmware = Vec::new();
    for (kind, items) in docs {
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(items.len());
        for mut doc in items {
            if !doc.is_object() {
                bail!("a {kind} entry is not an object: {}", truncate(&doc));
            }
            let id = map_id(kind, &doc)?;
            if !seen.insert(id.clone()) {
                bail!("{kind} `{id}` appears twice in the backup");
            }
            report.encrypted_secrets += count_encrypted(&doc);
            if let Some(map) = doc.as_object_mut() {
                if kind != EntityKind::Node
                    && kind != EntityKind::Source
                    && kind != EntityKind::Field
                {
                    // unchanged id
                } else if let Some(old) = map.insert("id".into(), Value::String(id.clone())) {
                    let others = map
                        .entry("others")
                        .or_insert_with(|| Value::Object(Default::default()));
                    if let Some(o) = others.as_object_mut() {
                        o.insert("mycontroller_id".into(), old);
                    }
                }
                if kind == EntityKind::User {
                    let labels = map
                        .entry("labels")
                        .or_insert_with(|| Value::Object(Default::default()));
                    if let Some(l) = labels.as_object_mut() {
                        l.insert(
                            "password_reset_required".into(),
                            Value::String("true".into()),
                        );
                    }
                    report.users_to_reset += 1;
                }
                if kind == EntityKind::Firmware {
                    let internal = doc
                        .pointer("/file/internalName")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    if let Some(bytes) = internal.and_then(|n| firmware_files.remove(&n)) {
                        firmware.push((id.clone(), bytes));
                    }
                }
            }
            out.push(doc);
        }
        report.imported.insert(kind, out.len());
        snapshot.insert(kind, out);
    }
    report.firmware_files = firmware.len();
    Ok(Backup {
        snapshot,
        firmware,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write;

    /// A backup in MyController's documented layout (spec §7), YAML and JSON files mixed.
    pub fn synthetic_backup(path: &Path) {
        let file = std::fs::File::create(path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default();
        let mut put = |name: &str, body: &[u8]| {
            zip.start_file(name, opts).unwrap();
            zip.write_all(body).unwrap();
        };
        put(
            "backup.yaml",
            b"filename: mc_backup_yaml_20260101_101010.zip\nstorage_export_type: yaml\ncreated_on: 2026-01-01T10:10:10Z\nversion:\n  version: 2.1.0\ndirectories: [storage, firmware]\n",
        );
        put(
            "storage/gateway__1.yaml",
            b"- id: gw1\n  description: serial\n  enabled: true\n  provider:\n    type: mysensors_v2\n    protocol:\n      type: mqtt\n      password: ENCRYPTED;MC;AES256;BASE64;AAAA\n  labels: {location: server}\n",
        );
        let nodes = json!([
            {"id": "0f3c-uuid-1", "gatewayId": "gw1", "nodeId": "1", "name": "kitchen",
             "labels": {"assigned_firmware": "fw1"}, "others": {"battery_level": 88}},
            {"id": "0f3c-uuid-2", "gatewayId": "gw1", "nodeId": "2.5", "name": "hall"}
        ]);
        put("storage/node__1.json", nodes.to_string().as_bytes());
        put(
            "storage/source__1.yaml",
            b"- id: a1\n  gatewayId: gw1\n  nodeId: \"1\"\n  sourceId: \"3\"\n  name: temp\n",
        );
        let fields = json!([
            {"id": "b1", "gatewayId": "gw1", "nodeId": "1", "sourceId": "3", "fieldId": "V_TEMP",
             "metricType": "gauge_float", "unit": "C",
             "current": {"value": 21.5, "isReceived": true, "timestamp": "2026-01-01T10:00:00Z"},
             "previous": {"value": 21.0, "isReceived": true, "timestamp": "2026-01-01T09:00:00Z"}}
        ]);
        put("storage/field__1.json", fields.to_string().as_bytes());
        put(
            "storage/task__1.yaml",
            b"- id: t1\n  enabled: true\n  triggerOnEvent: true\n  evaluationType: rule\n  handlers: [h1]\n",
        );
        put(
            "storage/handler__1.yaml",
            b"- id: h1\n  type: email\n  spec: {password: ENCRYPTED;MC;AES256;BASE64;BBBB}\n",
        );
        put(
            "storage/schedule__1.yaml",
            b"- id: s1\n  type: cron\n  spec: {cronExpression: \"0 * * * * *\"}\n",
        );
        put(
            "storage/user__1.yaml",
            b"- id: u1\n  username: admin\n  email: a@example.org\n  password: $2a$10$abcdefghijklmnopqrstuuN8wYbYtGo2mnFnTYpYq3nHgqZ0b0S6\n",
        );
        put(
            "storage/firmware__1.yaml",
            b"- id: fw1\n  file: {name: blink.hex, internalName: fw1_blink.hex, size: 4}\n",
        );
        put("storage/virtual_device__1.yaml", b"- id: vd1\n");
        put("firmware/fw1_blink.hex", b":00\n");
        zip.finish().unwrap();
    }

    #[test]
    fn maps_a_mycontroller_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mc.zip");
        synthetic_backup(&path);
        let backup = read(&path).unwrap();
        let s = &backup.snapshot;
        let ids = |k: EntityKind| -> Vec<&str> {
            s[&k].iter().map(|d| d["id"].as_str().unwrap()).collect()
        };
        assert_eq!(ids(EntityKind::Node), ["gw1.1", "gw1.2_5"]);
        assert_eq!(ids(EntityKind::Source), ["gw1.1.3"]);
        assert_eq!(ids(EntityKind::Field), ["gw1.1.3.V_TEMP"]);
        let field = &s[&EntityKind::Field][0];
        assert_eq!(field["current"]["value"], 21.5);
        assert_eq!(field["previous"]["value"], 21.0);
        assert_eq!(field["others"]["mycontroller_id"], "b1");
        assert_eq!(
            s[&EntityKind::Node][0]["labels"]["assigned_firmware"],
            "fw1"
        );
        assert_eq!(s[&EntityKind::Task][0]["handlers"], json!(["h1"]));
        let user = &s[&EntityKind::User][0];
        assert!(user["password"].as_str().unwrap().starts_with("$2a$10$"));
        assert_eq!(user["labels"]["password_reset_required"], "true");
        assert_eq!(backup.report.users_to_reset, 1);
        assert_eq!(backup.report.encrypted_secrets, 2);
        assert_eq!(backup.report.skipped["virtual_device"], 1);
        assert_eq!(backup.firmware, [("fw1".to_string(), b":00\n".to_vec())]);
    }

    #[test]
    fn refuses_what_is_not_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        zip.start_file(
            "storage/node__1.yaml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        zip.write_all(b"- {id: x}\n").unwrap();
        zip.finish().unwrap();
        let err = read(&path)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("backup.yaml"), "{err}");
        std::fs::write(&path, b"not a zip").unwrap();
        assert!(read(&path).is_err());
    }
}
