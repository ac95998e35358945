//! Dump files: `<dir>/<entity>.<yaml|json>`, each a list of documents. A file is replaced
//! atomically (temporary file, fsync, rename, fsync of the directory), so a crash during a dump
//! leaves either the old or the new file, never half of one. Files of different kinds are
//! replaced one after another, so a crash in the middle of a dump can leave some kinds newer
//! than others.

use crate::config::DumpFormat;
use crate::table::{Document, Tables};
use serde_json::Value;
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use switchyard_core::EntityKind;
use switchyard_core::storage::StorageError;

pub(crate) fn path(dir: &Path, kind: EntityKind, format: DumpFormat) -> PathBuf {
    dir.join(format!("{kind}.{}", format.extension()))
}

pub(crate) fn encode(format: DumpFormat, docs: &[Document]) -> Result<Vec<u8>, String> {
    let docs: Vec<&Value> = docs.iter().map(|d| d.as_ref()).collect();
    match format {
        DumpFormat::Yaml => serde_norway::to_string(&docs)
            .map(String::into_bytes)
            .map_err(|e| e.to_string()),
        DumpFormat::Json => {
            let mut bytes = serde_json::to_vec_pretty(&docs).map_err(|e| e.to_string())?;
            bytes.push(b'\n');
            Ok(bytes)
        }
    }
}

pub(crate) fn decode(format: DumpFormat, text: &str) -> Result<Vec<Value>, String> {
    // A file emptied by hand means "no documents" rather than a failed start.
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    match format {
        DumpFormat::Yaml => serde_norway::from_str(text).map_err(|e| e.to_string()),
        DumpFormat::Json => serde_json::from_str(text).map_err(|e| e.to_string()),
    }
}

/// Replaces the dump file of each kind in `files`.
pub(crate) fn write(
    dir: &Path,
    format: DumpFormat,
    files: &[(EntityKind, Vec<Document>)],
) -> Result<(), StorageError> {
    for (kind, docs) in files {
        let target = path(dir, *kind, format);
        let failed = |e: &dyn Display| {
            StorageError::Backend(format!("dumping to {}: {e}", target.display()))
        };
        let bytes = encode(format, docs).map_err(|e| failed(&e))?;
        let mut temp = tempfile::Builder::new()
            .prefix(&format!(".{kind}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| failed(&e))?;
        temp.write_all(&bytes).map_err(|e| failed(&e))?;
        temp.as_file().sync_all().map_err(|e| failed(&e))?;
        temp.persist(&target).map_err(|e| failed(&e.error))?;
    }
    sync_dir(dir)
}

/// Makes the renames themselves durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::Backend(format!("syncing {}: {e}", dir.display())))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), StorageError> {
    Ok(())
}

/// Reads every dump file in `dir`; a missing file is an empty kind.
pub(crate) fn load(dir: &Path, format: DumpFormat) -> Result<Tables, StorageError> {
    let mut tables = Tables::default();
    for kind in EntityKind::ALL {
        let file = path(dir, kind, format);
        let failed =
            |e: &dyn Display| StorageError::Backend(format!("cannot load {}: {e}", file.display()));
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                refuse_other_format(dir, kind, format)?;
                continue;
            }
            Err(e) => return Err(failed(&e)),
        };
        let docs = decode(format, &text).map_err(|e| failed(&e))?;
        tables.load(kind, docs).map_err(|e| failed(&e))?;
    }
    Ok(tables)
}

/// Starting empty because `dump_format` changed would silently drop the old dumps at the
/// next dump; stop and say so instead.
fn refuse_other_format(
    dir: &Path,
    kind: EntityKind,
    format: DumpFormat,
) -> Result<(), StorageError> {
    let other = match format {
        DumpFormat::Yaml => DumpFormat::Json,
        DumpFormat::Json => DumpFormat::Yaml,
    };
    let found = path(dir, kind, other);
    if found.exists() {
        return Err(StorageError::Backend(format!(
            "found {} but dump_format is {}: set dump_format to {}, or convert the files",
            found.display(),
            format.extension(),
            other.extension()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn docs() -> Vec<Document> {
        vec![
            Arc::new(json!({"id": "a", "labels": {"room": "hall"}, "n": 1.5, "on": true})),
            Arc::new(json!({"id": "b: tricky", "text": "- not a list\n", "empty": null})),
        ]
    }

    #[test]
    fn both_formats_round_trip() {
        for format in [DumpFormat::Yaml, DumpFormat::Json] {
            let bytes = encode(format, &docs()).unwrap();
            let text = String::from_utf8(bytes).unwrap();
            let back = decode(format, &text).unwrap();
            let expected: Vec<Value> = docs().iter().map(|d| Value::clone(d)).collect();
            assert_eq!(back, expected, "{format:?}: {text}");
        }
    }

    #[test]
    fn writes_replace_files_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let files = [(EntityKind::Node, docs())];
        write(dir.path(), DumpFormat::Json, &files).unwrap();
        write(dir.path(), DumpFormat::Json, &[(EntityKind::Node, vec![])]).unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["node.json"]);
        let tables = load(dir.path(), DumpFormat::Json).unwrap();
        assert!(tables.documents(EntityKind::Node).is_empty());
    }

    #[test]
    fn an_empty_file_is_an_empty_kind() {
        assert_eq!(decode(DumpFormat::Yaml, "\n").unwrap(), Vec::<Value>::new());
        assert!(decode(DumpFormat::Json, "{").is_err());
    }
}
