//! The backup archive: a zip (deflate) holding `backup.json` (what and when),
//! `storage/<entity>.json` (every document of that kind, users with their password hashes, so a
//! restore keeps logins working) and `firmware/<id>` (the firmware files).
//!
//! Reading trusts nothing in the archive: at most [`MAX_ENTRIES`] entries, at most `max_total`
//! bytes unpacked in all (counted while reading, not from the sizes the archive declares), and
//! only the names above — any other name, a path with `..` or a separator, fails the whole read.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};
use switchyard_core::EntityKind;
use switchyard_core::storage::Snapshot;
use thiserror::Error;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

pub const MAX_ENTRIES: usize = 10_000;
pub const MANIFEST: &str = "backup.json";
pub const FORMAT: &str = "switchyard-backup";
/// The archive layout this server writes. A reader takes this and older versions (each older
/// one is upgraded step by step once a version 2 exists) and refuses newer ones rather than
/// misreading them.
pub const VERSION: u32 = 1;

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub server_version: String,
    pub created_on: chrono::DateTime<chrono::Utc>,
    pub entities: BTreeMap<String, usize>,
    pub firmware: usize,
}

/// What an archive holds, read and checked.
#[derive(Debug)]
pub struct Contents {
    pub manifest: Manifest,
    pub snapshot: Snapshot,
    pub firmware: Vec<(String, Vec<u8>)>,
}

/// Writes `snapshot` and the firmware files to `out` as a backup archive.
pub fn write<W: Write + Seek>(
    out: W,
    snapshot: &Snapshot,
    firmware: &[(String, std::path::PathBuf)],
) -> Result<Manifest, ArchiveError> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let mut zip = zip::ZipWriter::new(out);
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        server_version: env!("CARGO_PKG_VERSION").into(),
        created_on: chrono::Utc::now(),
        entities: snapshot
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.len()))
            .collect(),
        firmware: firmware.len(),
    };
    zip.start_file(MANIFEST, options)?;
    zip.write_all(
        &serde_json::to_vec_pretty(&manifest).map_err(|e| ArchiveError::Io(e.to_string()))?,
    )?;
    for (kind, docs) in snapshot {
        zip.start_file(format!("storage/{}.json", kind.as_str()), options)?;
        serde_json::to_writer(&mut zip, docs).map_err(|e| ArchiveError::Io(e.to_string()))?;
    }
    for (id, path) in firmware {
        zip.start_file(format!("firmware/{id}"), options)?;
        let mut f = std::fs::File::open(path)?;
        std::io::copy(&mut f, &mut zip)?;
    }
    zip.finish()?;
    Ok(manifest)
}

/// Reads and checks an archive; see the module documentation for the limits.
pub fn read<R: Read + Seek>(input: R, max_total: u64) -> Result<Contents, ArchiveError> {
    let mut zip = zip::ZipArchive::new(input)?;
    if zip.len() > MAX_ENTRIES {
        return Err(ArchiveError::TooManyEntries);
    }
    let mut remaining = max_total;
    let mut manifest = None;
    let mut snapshot = Snapshot::new();
    let mut firmware = Vec::new();
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
            let m: Manifest = serde_json::from_slice(&data)
                .map_err(|e| ArchiveError::Invalid(format!("{MANIFEST}: {e}")))?;
            if m.format != FORMAT {
                return Err(ArchiveError::Invalid(format!("format `{}`", m.format)));
            }
            if m.version == 0 || m.version > VERSION {
                return Err(ArchiveError::Invalid(format!(
                    "archive format version {} (from Switchyard {}); this server reads versions 1 to {VERSION}",
                    m.version, m.server_version
                )));
            }
            manifest = Some(m);
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
    Ok(Contents {
        manifest,
        snapshot,
        firmware,
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

    fn manifest_bytes() -> Vec<u8> {
        serde_json::to_vec(&Manifest {
            format: FORMAT.into(),
            version: 1,
            server_version: "x".into(),
            created_on: chrono::Utc::now(),
            entities: Default::default(),
            firmware: 0,
        })
        .unwrap()
    }

    #[test]
    fn round_trips_documents_and_firmware() {
        let dir = tempfile::tempdir().unwrap();
        let fw = dir.path().join("fw1");
        std::fs::write(&fw, b":00000001FF\n").unwrap();
        let mut buf = Cursor::new(Vec::new());
        let m = write(&mut buf, &snapshot(), &[("fw1".into(), fw)]).unwrap();
        assert_eq!(m.entities["gateway"], 1);
        let c = read(Cursor::new(buf.into_inner()), 1 << 20).unwrap();
        assert_eq!(c.snapshot, snapshot());
        assert_eq!(
            c.firmware,
            vec![("fw1".to_string(), b":00000001FF\n".to_vec())]
        );
    }

    #[test]
    fn a_newer_or_zero_format_version_is_refused_not_misread() {
        for version in [0, VERSION + 1] {
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
