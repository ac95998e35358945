//! The backup archive: a zip (deflate) holding `backup.json` (the manifest: format version,
//! Switchyard version, time, storage backend, how secrets are carried, what it holds),
//! `storage/<entity>.json` (every document of that kind, users with their password hashes, so a
//! restore keeps logins working), `firmware/<id>` (the firmware files) and, when asked for,
//! `metrics.json` (the metric history of every field, see [`SeriesDump`]).
//!
//! Secrets inside configs are not in clear in a version-2 archive: the caller seals them
//! (`sy-enc:v1:`, see [`super::secrets`]) and names the key in the manifest.
//!
//! Reading trusts nothing in the archive: at most [`MAX_ENTRIES`] entries, at most `max_total`
//! bytes unpacked in all (counted while reading, not from the sizes the archive declares), and
//! only the names above — any other name, a path with `..` or a separator, fails the whole read.
//! An archive of an older format version is upgraded step by step ([`STEPS`]: version 1 → 2,
//! then 2 → 3 once that exists, …) before anything looks at it; a newer or unknown version is
//! refused rather than misread.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use switchyard_core::EntityKind;
use switchyard_core::metrics::MetricValue;
use switchyard_core::model::MetricType;
use switchyard_core::storage::Snapshot;
use thiserror::Error;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

pub const MAX_ENTRIES: usize = 10_000;
/// The file name ending of every archive.
pub const SUFFIX: &str = ".zip";
pub const MANIFEST: &str = "backup.json";
pub const METRICS: &str = "metrics.json";
pub const FORMAT: &str = "switchyard-backup";
/// The archive layout this server writes. A reader takes this and every older version (each
/// upgraded by [`STEPS`]) and refuses newer ones.
pub const VERSION: u32 = 2;
/// What a version-1 archive (made before the manifest named it) says its backend was.
pub const UNKNOWN_BACKEND: &str = "unknown";

#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("not a backup archive: {0}")]
    Invalid(String),
    #[error("the archive unpacks to more than {0} bytes")]
    TooLarge(u64),
    #[error("the archive has more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("archive i/o: {0}")]
    Io(String),
}

impl From<zip::result::ZipError> for ArchiveError {
    fn from(e: zip::result::ZipError) -> Self {
        ArchiveError::Invalid(e.to_string())
    }
}

impl From<std::io::Error> for ArchiveError {
    fn from(e: std::io::Error) -> Self {
        ArchiveError::Io(e.to_string())
    }
}

/// The manifest of the current format version (older ones are upgraded to it on reading).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub server_version: String,
    pub created_on: chrono::DateTime<chrono::Utc>,
    /// The storage backend the archive was made from (`embedded`, `postgres`, `mongodb`, …);
    /// [`UNKNOWN_BACKEND`] for an upgraded version-1 archive. A restore may go to any backend.
    pub backend: String,
    pub entities: BTreeMap<String, usize>,
    pub firmware: usize,
    /// How the secrets in configs are carried; `None`: in clear (version-1 archives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SecretsInfo>,
    /// The metric history, when the backup included it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsInfo {
    /// `sy-enc:v1` (AES-256-GCM with the server's `secret.key`).
    pub encryption: String,
    /// Names the key (a hash of it, not the key): a restore needs the same key.
    pub key_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsInfo {
    /// The metric backend the points came from.
    pub backend: String,
    pub series: usize,
    pub points: usize,
}

/// One series of the metric history: its identity once, then `[time, value]` pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeriesDump {
    pub series: String,
    pub metric_type: MetricType,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub points: Vec<(chrono::DateTime<chrono::Utc>, MetricValue)>,
}

/// What goes into an archive.
pub struct Backup<'a> {
    pub snapshot: &'a Snapshot,
    pub firmware: &'a [(String, std::path::PathBuf)],
    pub backend: &'a str,
    pub secrets: Option<SecretsInfo>,
    /// The metric backend's name and its series, when metrics are included.
    pub metrics: Option<(&'a str, &'a [SeriesDump])>,
}

/// What an archive holds, read, checked and upgraded to the current version.
#[derive(Debug)]
pub struct Contents {
    pub manifest: Manifest,
    pub snapshot: Snapshot,
    pub firmware: Vec<(String, Vec<u8>)>,
    pub metrics: Vec<SeriesDump>,
}

/// Writes a backup archive to `out`.
pub fn write<W: Write + Seek>(out: W, backup: &Backup<'_>) -> Result<Manifest, ArchiveError> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let mut zip = zip::ZipWriter::new(out);
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        server_version: env!("CARGO_PKG_VERSION").into(),
        created_on: chrono::Utc::now(),
        backend: backup.backend.to_string(),
        entities: backup
            .snapshot
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.len()))
            .collect(),
        firmware: backup.firmware.len(),
        secrets: backup.secrets.clone(),
        metrics: backup.metrics.map(|(backend, series)| MetricsInfo {
            backend: backend.to_string(),
            series: series.len(),
            points: series.iter().map(|s| s.points.len()).sum(),
        }),
    };
    let json_err = |e: serde_json::Error| ArchiveError::Io(e.to_string());
    zip.start_file(MANIFEST, options)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest).map_err(json_err)?)?;
    for (kind, docs) in backup.snapshot {
        zip.start_file(format!("storage/{}.json", kind.as_str()), options)?;
        serde_json::to_writer(&mut zip, docs).map_err(json_err)?;
    }
    for (id, path) in backup.firmware {
        zip.start_file(format!("firmware/{id}"), options)?;
        let mut f = std::fs::File::open(path)?;
        std::io::copy(&mut f, &mut zip)?;
    }
    if let Some((_, series)) = backup.metrics {
        zip.start_file(METRICS, options)?;
        serde_json::to_writer(&mut zip, series).map_err(json_err)?;
    }
    zip.finish()?;
    Ok(manifest)
}

/// An archive as found, before the upgrade steps: the manifest still untyped, since its shape
/// is the one of its own version.
#[derive(Debug)]
pub struct Raw {
    pub manifest: Value,
    pub snapshot: Snapshot,
    pub firmware: Vec<(String, Vec<u8>)>,
    pub metrics: Option<Vec<SeriesDump>>,
}

/// One upgrade step: takes an archive of version `n` and makes it one of version `n + 1`.
pub type Step = fn(Raw) -> Result<Raw, ArchiveError>;

/// `STEPS[n - 1]` upgrades version `n` to `n + 1`; a new format version adds one step here.
pub const STEPS: [Step; (VERSION - 1) as usize] = [v1_to_v2];

/// Version 1 → 2: the manifest gains `backend` (not known: [`UNKNOWN_BACKEND`]); its secrets
/// were written in clear (no `secrets`) and it could not hold metrics.
fn v1_to_v2(mut raw: Raw) -> Result<Raw, ArchiveError> {
    if raw.metrics.is_some() {
        return Err(ArchiveError::Invalid(format!(
            "a version 1 archive holds no {METRICS}"
        )));
    }
    let m = raw
        .manifest
        .as_object_mut()
        .ok_or_else(|| ArchiveError::Invalid(format!("{MANIFEST} is not an object")))?;
    m.entry("backend")
        .or_insert_with(|| Value::String(UNKNOWN_BACKEND.into()));
    m.remove("secrets");
    m.remove("metrics");
    m.insert("version".into(), 2.into());
    Ok(raw)
}

/// Upgrades `raw` from its version to [`VERSION`], one step at a time.
pub fn upgrade(mut raw: Raw) -> Result<Contents, ArchiveError> {
    let mut version = manifest_version(&raw.manifest)?;
    while version < VERSION {
        raw = STEPS[(version - 1) as usize](raw)?;
        let next = manifest_version(&raw.manifest)?;
        if next != version + 1 {
            return Err(ArchiveError::Invalid(format!(
                "upgrading from version {version} gave version {next}"
            )));
        }
        version = next;
    }
    let manifest: Manifest = serde_json::from_value(raw.manifest)
        .map_err(|e| ArchiveError::Invalid(format!("{MANIFEST}: {e}")))?;
    let metrics = raw.metrics.unwrap_or_default();
    if manifest.metrics.is_none() && !metrics.is_empty() {
        return Err(ArchiveError::Invalid(format!(
            "{METRICS} present but the manifest names no metrics"
        )));
    }
    Ok(Contents {
        manifest,
        snapshot: raw.snapshot,
        firmware: raw.firmware,
        metrics,
    })
}

/// The version of a manifest, checked to be one this server reads.
fn manifest_version(m: &Value) -> Result<u32, ArchiveError> {
    let format = m.get("format").and_then(Value::as_str).unwrap_or_default();
    if format != FORMAT {
        return Err(ArchiveError::Invalid(format!("format `{format}`")));
    }
    let version = m.get("version").and_then(Value::as_u64).unwrap_or(0);
    let from = m
        .get("serverVersion")
        .and_then(Value::as_str)
        .unwrap_or("?");
    match u32::try_from(version) {
        Ok(v) if (1..=VERSION).contains(&v) => Ok(v),
        _ => Err(ArchiveError::Invalid(format!(
            "archive format version {version} (from Switchyard {from}); this server reads versions 1 to {VERSION}"
        ))),
    }
}

/// Reads, checks and upgrades an archive; see the module documentation for the limits.
pub fn read<R: Read + Seek>(input: R, max_total: u64) -> Result<Contents, ArchiveError> {
    let mut zip = zip::ZipArchive::new(input)?;
    if zip.len() > MAX_ENTRIES {
        return Err(ArchiveError::TooManyEntries);
    }
    let mut remaining = max_total;
    let mut manifest = None;
    let mut snapshot = Snapshot::new();
    let mut firmware = Vec::new();
    let mut metrics = None;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let name = entry.name()?.to_string();
        if entry.is_dir() {
            if name == "storage/" || name == "firmware/" {
                continue;
            }
            return Err(ArchiveError::Invalid(format!(
                "unexpected directory `{name}`"
            )));
        }
        let mut data = Vec::new();
        let read = (&mut entry).take(remaining + 1).read_to_end(&mut data)? as u64;
        if read > remaining {
            return Err(ArchiveError::TooLarge(max_total));
        }
        remaining -= read;
        if name == MANIFEST {
            let m: Value = serde_json::from_slice(&data)
                .map_err(|e| ArchiveError::Invalid(format!("{MANIFEST}: {e}")))?;
            // Refused at once: nothing else of an unknown version is looked at.
            manifest_version(&m)?;
            manifest = Some(m);
        } else if name == METRICS {
            let series: Vec<SeriesDump> = serde_json::from_slice(&data)
                .map_err(|e| ArchiveError::Invalid(format!("{METRICS}: {e}")))?;
            metrics = Some(series);
        } else if let Some(kind) = name
            .strip_prefix("storage/")
            .and_then(|n| n.strip_suffix(".json"))
        {
            let kind: EntityKind = kind
                .parse()
                .map_err(|_| ArchiveError::Invalid(format!("unknown entity in `{name}`")))?;
            let docs: Vec<Value> = serde_json::from_slice(&data)
                .map_err(|e| ArchiveError::Invalid(format!("{name}: {e}")))?;
            if let Some(bad) = docs
                .iter()
                .position(|d| switchyard_core::storage::document_id(d).is_err())
            {
                return Err(ArchiveError::Invalid(format!(
                    "{name}: document {bad} has no id"
                )));
            }
            snapshot.insert(kind, docs);
        } else if let Some(id) = name.strip_prefix("firmware/") {
            if !crate::routes::is_safe_file_name(id) {
                return Err(ArchiveError::Invalid(format!(
                    "unsafe firmware name `{name}`"
                )));
            }
            firmware.push((id.to_string(), data));
        } else {
            return Err(ArchiveError::Invalid(format!("unexpected entry `{name}`")));
        }
    }
    let manifest = manifest.ok_or_else(|| ArchiveError::Invalid(format!("no {MANIFEST}")))?;
    upgrade(Raw {
        manifest,
        snapshot,
        firmware,
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Cursor;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::new();
        s.insert(
            EntityKind::Gateway,
            vec![json!({"id": "gw1", "enabled": true})],
        );
        s.insert(
            EntityKind::User,
            vec![json!({"id": "admin", "password": "$argon2id$…"})],
        );
        s
    }

    fn raw_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        let o = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, data) in entries {
            zip.start_file(*name, o).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    /// A manifest as version 1 wrote it: no backend, no secrets, no metrics.
    fn v1_manifest_bytes() -> Vec<u8> {
        serde_json::to_vec(&json!({
            "format": FORMAT,
            "version": 1,
            "serverVersion": "0.1.0",
            "createdOn": "2026-01-02T03:04:05Z",
            "entities": {"gateway": 1},
            "firmware": 0,
        }))
        .unwrap()
    }

    fn manifest_bytes() -> Vec<u8> {
        serde_json::to_vec(&Manifest {
            format: FORMAT.into(),
            version: VERSION,
            server_version: "x".into(),
            created_on: chrono::Utc::now(),
            backend: "embedded".into(),
            entities: Default::default(),
            firmware: 0,
            secrets: None,
            metrics: None,
        })
        .unwrap()
    }

    fn series() -> Vec<SeriesDump> {
        vec![SeriesDump {
            series: "field:gw1.1.2.V_TEMP".into(),
            metric_type: MetricType::Gauge,
            tags: [("gatewayId".to_string(), "gw1".to_string())].into(),
            points: vec![
                (
                    "2026-01-01T00:00:00Z".parse().unwrap(),
                    MetricValue::Number(21.5),
                ),
                (
                    "2026-01-01T00:01:00Z".parse().unwrap(),
                    MetricValue::Number(22.0),
                ),
            ],
        }]
    }

    #[test]
    fn round_trips_documents_firmware_metrics_and_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let fw = dir.path().join("fw1");
        std::fs::write(&fw, b":00000001FF\n").unwrap();
        let mut buf = Cursor::new(Vec::new());
        let secrets = SecretsInfo {
            encryption: "sy-enc:v1".into(),
            key_id: "abc".into(),
        };
        let series = series();
        let m = write(
            &mut buf,
            &Backup {
                snapshot: &snapshot(),
                firmware: &[("fw1".into(), fw)],
                backend: "postgres",
                secrets: Some(secrets.clone()),
                metrics: Some(("embedded", &series)),
            },
        )
        .unwrap();
        assert_eq!(m.entities["gateway"], 1);
        assert_eq!((m.version, m.backend.as_str()), (VERSION, "postgres"));
        let c = read(Cursor::new(buf.into_inner()), 1 << 20).unwrap();
        assert_eq!(c.manifest, m);
        assert_eq!(c.manifest.secrets, Some(secrets));
        assert_eq!(
            c.manifest.metrics,
            Some(MetricsInfo {
                backend: "embedded".into(),
                series: 1,
                points: 2
            })
        );
        assert_eq!(c.snapshot, snapshot());
        assert_eq!(c.metrics, series);
        assert_eq!(
            c.firmware,
            vec![("fw1".to_string(), b":00000001FF\n".to_vec())]
        );
    }

    #[test]
    fn a_version_1_archive_is_upgraded_step_by_step() {
        let docs = serde_json::to_vec(&json!([{"id": "gw1", "enabled": true}])).unwrap();
        let bytes = raw_zip(&[
            (MANIFEST, &v1_manifest_bytes()),
            ("storage/gateway.json", &docs),
            ("firmware/fw1", b"hex"),
        ]);
        let c = read(Cursor::new(bytes), 1 << 20).unwrap();
        assert_eq!(c.manifest.version, VERSION);
        assert_eq!(c.manifest.backend, UNKNOWN_BACKEND);
        assert_eq!(c.manifest.server_version, "0.1.0");
        assert_eq!(
            c.manifest.secrets, None,
            "version 1 carried secrets in clear"
        );
        assert_eq!(c.manifest.metrics, None);
        assert_eq!(
            c.snapshot[&EntityKind::Gateway],
            vec![json!({"id": "gw1", "enabled": true})]
        );
        assert_eq!(c.firmware, vec![("fw1".to_string(), b"hex".to_vec())]);
        // A version 1 archive claiming metrics is not one version 1 could write.
        let bytes = raw_zip(&[(MANIFEST, &v1_manifest_bytes()), (METRICS, b"[]")]);
        assert!(read(Cursor::new(bytes), 1 << 20).is_err());
    }

    #[test]
    fn a_newer_or_zero_format_version_is_refused_not_misread() {
        for version in [0, u64::from(VERSION) + 1, 1 << 40] {
            let mut m: Value = serde_json::from_slice(&manifest_bytes()).unwrap();
            m["version"] = version.into();
            let bytes = raw_zip(&[(MANIFEST, &serde_json::to_vec(&m).unwrap())]);
            let err = read(Cursor::new(bytes), 1 << 20).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("archive format version {version}")),
                "{err}"
            );
        }
        let mut m: Value = serde_json::from_slice(&manifest_bytes()).unwrap();
        m["format"] = "other".into();
        let bytes = raw_zip(&[(MANIFEST, &serde_json::to_vec(&m).unwrap())]);
        assert!(read(Cursor::new(bytes), 1 << 20).is_err());
    }

    #[test]
    fn metrics_without_a_manifest_entry_are_refused() {
        let body = serde_json::to_vec(&series()).unwrap();
        let bytes = raw_zip(&[(MANIFEST, &manifest_bytes()), (METRICS, &body)]);
        assert!(read(Cursor::new(bytes), 1 << 20).is_err());
    }

    #[test]
    fn a_zip_bomb_is_refused_by_what_it_unpacks_to() {
        let zeros = vec![0u8; 4 << 20];
        let bytes = raw_zip(&[(MANIFEST, &manifest_bytes()), ("firmware/big", &zeros)]);
        assert!(bytes.len() < 64 * 1024, "compresses well: {}", bytes.len());
        assert!(matches!(
            read(Cursor::new(bytes), 1 << 20),
            Err(ArchiveError::TooLarge(_))
        ));
        let spaces = vec![b' '; 4 << 20];
        let bytes = raw_zip(&[(MANIFEST, &manifest_bytes()), (METRICS, &spaces)]);
        assert!(matches!(
            read(Cursor::new(bytes), 1 << 20),
            Err(ArchiveError::TooLarge(_))
        ));
    }

    #[test]
    fn escaping_or_unknown_names_are_refused() {
        for name in [
            "../evil",
            "firmware/../../etc/passwd",
            "/abs",
            "storage/nope.json",
            "firmware/a.b",
            "other.txt",
            "metrics/../x",
        ] {
            let bytes = raw_zip(&[(MANIFEST, &manifest_bytes()), (name, b"[]")]);
            assert!(read(Cursor::new(bytes), 1 << 20).is_err(), "{name}");
        }
        let bytes = raw_zip(&[("storage/gateway.json", b"[]")]);
        assert!(read(Cursor::new(bytes), 1 << 20).is_err(), "no manifest");
    }

    #[test]
    fn too_many_entries_are_refused() {
        let names: Vec<String> = (0..=MAX_ENTRIES)
            .map(|i| format!("firmware/f{i}"))
            .collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let bytes = raw_zip(&entries);
        assert!(matches!(
            read(Cursor::new(bytes), 1 << 20),
            Err(ArchiveError::TooManyEntries)
        ));
    }
}
