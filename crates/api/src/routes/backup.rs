//! Backup archives in `<data_dir>/backups/`: list, run, download, upload, restore, delete. At
//! most `backup_retention` archives are kept: making or uploading one removes the oldest beyond
//! it. `run` takes `?metrics=true` (or the body `{"includeMetrics": true}`) to add the metric
//! history. Secrets go into the archive sealed with the server's `secret.key`
//! ([`crate::backup::secrets`]).
//!
//! A restore first checks the whole archive (format, version, limits, names, metric values) and
//! that its secrets open with this server's key; only then does it replace every resource
//! (`Storage::import`) and the firmware files, write the metric points back, and announce the
//! restored gateways, tasks, schedules, handlers, forward payloads, firmware and settings
//! (deleted / updated events) so the running services reload them.

use super::firmware::{is_safe_file_name, receive_file};
use super::resources::{announce, parse_ids};
use crate::backup::archive::{self, ArchiveError, SUFFIX, SecretsInfo};
use crate::backup::make::{self, MakeError};
use crate::backup::metrics as backup_metrics;
use crate::backup::secrets::{ArchiveKey, ENCRYPTION, KEY_FILE};
use crate::error::ApiError;
use crate::state::ApiState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::PathBuf;
use switchyard_core::storage::document_id;
use switchyard_core::{EntityKind, Event, EventType};

/// Archives made by `POST /api/backup`; uploads are `uploaded_backup_…`.
const PREFIX: &str = "switchyard_backup";
const UPLOADED: &str = "uploaded_backup";

/// Kinds whose restore is announced one event per resource: few, and each runs in a service.
const ANNOUNCED: [EntityKind; 7] = [
    EntityKind::Gateway,
    EntityKind::Task,
    EntityKind::Schedule,
    EntityKind::Handler,
    EntityKind::ForwardPayload,
    EntityKind::Firmware,
    EntityKind::Settings,
];

fn archive_error(e: ArchiveError) -> ApiError {
    match e {
        ArchiveError::Io(m) => ApiError::internal(m),
        ArchiveError::TooLarge(_) | ArchiveError::TooManyEntries => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "archive_too_large",
            e.to_string(),
        ),
        ArchiveError::Invalid(_) => ApiError::bad_request("invalid_archive", e.to_string()),
    }
}

fn io_error(what: &str, e: std::io::Error) -> ApiError {
    ApiError::internal(format!("{what}: {e}"))
}

/// The path of archive `id`, when `id` is a plain archive name.
fn archive_path(state: &ApiState, id: &str) -> Result<PathBuf, ApiError> {
    match id.strip_suffix(SUFFIX) {
        Some(stem) if is_safe_file_name(stem) => Ok(state.backup_dir().join(id)),
        _ => Err(ApiError::not_found(format!("no backup `{id}`"))),
    }
}

struct Entry {
    id: String,
    size: u64,
    modified: chrono::DateTime<chrono::Utc>,
}

async fn entries(state: &ApiState) -> Result<Vec<Entry>, ApiError> {
    let mut out = Vec::new();
    let mut dir = match tokio::fs::read_dir(state.backup_dir()).await {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_error("reading the backup directory", e)),
    };
    while let Some(e) = dir
        .next_entry()
        .await
        .map_err(|e| io_error("reading the backup directory", e))?
    {
        let id = e.file_name().to_string_lossy().to_string();
        if !id.strip_suffix(SUFFIX).is_some_and(is_safe_file_name) {
            continue;
        }
        let Ok(meta) = e.metadata().await else {
            continue;
        };
        let modified = meta
            .modified()
            .map(chrono::DateTime::<chrono::Utc>::from)
            .unwrap_or_default();
        out.push(Entry {
            id,
            size: meta.len(),
            modified,
        });
    }
    out.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.id.cmp(&a.id)));
    Ok(out)
}

fn entry_json(e: &Entry) -> Value {
    json!({"id": e.id, "size": e.size, "modifiedOn": e.modified})
}

/// Keeps the newest `backup_retention` of the API's own archives (made or uploaded here); the
/// scheduled `backup` handler's archives follow their handler's `retentionCount` instead.
async fn prune(state: &ApiState) -> Result<Vec<String>, ApiError> {
    let all = entries(state).await?;
    let ours = all.iter().filter(|e| {
        [PREFIX, UPLOADED].iter().any(|p| {
            e.id.strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('_'))
        })
    });
    let mut removed = Vec::new();
    for e in ours.skip(state.config.backup_retention.max(1)) {
        if tokio::fs::remove_file(state.backup_dir().join(&e.id))
            .await
            .is_ok()
        {
            removed.push(e.id.clone());
        }
    }
    Ok(removed)
}

pub async fn list(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    let all = entries(&state).await?;
    Ok(Json(json!({
        "count": all.len(),
        "retention": state.config.backup_retention,
        "data": all.iter().map(entry_json).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RunOptions {
    /// Adds the metric history (off by default: it can be large).
    #[serde(alias = "metrics")]
    include_metrics: bool,
}

async fn key(state: &ApiState) -> Result<ArchiveKey, ApiError> {
    let dir = state.data_dir.clone();
    tokio::task::spawn_blocking(move || ArchiveKey::load_or_create(&dir))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)
}

pub async fn run(
    State(state): State<ApiState>,
    query: Result<Query<RunOptions>, axum::extract::rejection::QueryRejection>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let Query(from_query) =
        query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let from_body: RunOptions = if body.iter().all(u8::is_ascii_whitespace) {
        RunOptions::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?
    };
    let include_metrics = from_query.include_metrics || from_body.include_metrics;
    let sources = make::Sources {
        storage: state.store.backend().clone(),
        metrics: Some(&*state.metrics),
        data_dir: &state.data_dir,
        firmware_dir: &state.firmware_dir(),
    };
    let made = make::make(sources, &state.backup_dir(), PREFIX, include_metrics)
        .await
        .map_err(|e| match e {
            MakeError::Storage(e) => e.into(),
            MakeError::Archive(e) => archive_error(e),
            MakeError::Metrics(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "metrics_not_backed_up", m)
            }
            MakeError::Io(m) => ApiError::internal(m),
        })?;
    let removed = prune(&state).await?;
    Ok(Json(
        json!({"id": made.id, "size": made.size, "manifest": made.manifest, "pruned": removed}),
    ))
}

pub async fn download(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let path = archive_path(&state, &id)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::not_found(format!("no backup `{id}`")))?;
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let stream = tokio_util_stream(file);
    Response::builder()
        .header(header::CONTENT_TYPE, "application/zip")
        .header(header::CONTENT_LENGTH, len)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{id}\""),
        )
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// The file as a stream of chunks, so a large archive is never held in memory.
fn tokio_util_stream(
    file: tokio::fs::File,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> {
    use tokio::io::AsyncReadExt;
    futures::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
}

async fn check_archive(state: &ApiState, path: PathBuf) -> Result<archive::Contents, ApiError> {
    let max = state.config.max_backup_bytes;
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|e| io_error("opening the archive", e))?;
        archive::read(std::io::BufReader::new(file), max).map_err(archive_error)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
}

pub async fn upload(
    State(state): State<ApiState>,
    mut multipart: Multipart,
) -> Result<Json<Value>, ApiError> {
    let dir = state.backup_dir();
    let id = make::new_id(UPLOADED);
    let path = dir.join(&id);
    let (size, sha, _) = receive_file(
        &mut multipart,
        "file",
        &dir,
        &path,
        state.config.max_backup_bytes,
    )
    .await?;
    let manifest = match check_archive(&state, path.clone()).await {
        Ok(c) => c.manifest,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    };
    let removed = prune(&state).await?;
    Ok(Json(
        json!({"id": id, "size": size, "checksum": format!("sha256:{sha}"), "manifest": manifest, "pruned": removed}),
    ))
}

pub async fn delete(
    State(state): State<ApiState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let ids = parse_ids(&body)?;
    let mut deleted = 0;
    for id in &ids {
        if let Ok(path) = archive_path(&state, id)
            && tokio::fs::remove_file(path).await.is_ok()
        {
            deleted += 1;
        }
    }
    Ok(Json(json!({"deleted": deleted})))
}

/// Replaces the firmware directory with the archive's files: written beside it, then swapped.
async fn replace_firmware(state: &ApiState, files: Vec<(String, Vec<u8>)>) -> Result<(), ApiError> {
    let live = state.firmware_dir();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let staged = state.data_dir.join(format!(".firmware-restore-{suffix}"));
    let old = state.data_dir.join(format!(".firmware-old-{suffix}"));
    tokio::fs::create_dir_all(&staged)
        .await
        .map_err(|e| io_error("staging firmware", e))?;
    for (id, data) in files {
        tokio::fs::write(staged.join(&id), data)
            .await
            .map_err(|e| io_error("staging firmware", e))?;
    }
    let had_live = tokio::fs::rename(&live, &old).await.is_ok();
    tokio::fs::rename(&staged, &live)
        .await
        .map_err(|e| io_error("placing restored firmware", e))?;
    if had_live {
        let _ = tokio::fs::remove_dir_all(&old).await;
    }
    Ok(())
}

pub async fn restore(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let path = archive_path(&state, &id)?;
    if tokio::fs::metadata(&path).await.is_err() {
        return Err(ApiError::not_found(format!("no backup `{id}`")));
    }
    let mut contents = check_archive(&state, path).await?;
    backup_metrics::check(&contents.metrics)
        .map_err(|e| ApiError::bad_request("invalid_archive", e))?;
    if let Some(secrets) = &contents.manifest.secrets {
        open_secrets(&state, secrets, &mut contents.snapshot).await?;
    }
    let backend = state.store.backend().clone();
    let before = backend.export().await?;
    let restored_counts: Value = contents
        .snapshot
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), json!(v.len())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    backend.import(contents.snapshot.clone()).await?;
    replace_firmware(&state, contents.firmware).await?;
    // Sessions of users that are gone or whose roles changed end.
    let users: std::collections::HashMap<String, Vec<String>> = contents
        .snapshot
        .get(&EntityKind::User)
        .map(|docs| {
            docs.iter()
                .filter_map(|d| {
                    let id = document_id(d).ok()?.to_string();
                    let roles = serde_json::from_value(d.get("roles").cloned().unwrap_or_default())
                        .unwrap_or_default();
                    Some((id, roles))
                })
                .collect()
        })
        .unwrap_or_default();
    state
        .sessions
        .retain(|s| users.get(&s.user_id).is_some_and(|roles| *roles == s.roles));
    let mut events = Vec::new();
    for kind in ANNOUNCED {
        let after: Vec<&Value> = contents
            .snapshot
            .get(&kind)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let kept: HashSet<&str> = after.iter().filter_map(|d| document_id(d).ok()).collect();
        for old in before.get(&kind).into_iter().flatten() {
            if let Ok(oid) = document_id(old)
                && !kept.contains(oid)
            {
                events.push(Event::new(EventType::Deleted, kind, oid, old.clone()));
            }
        }
        for doc in after {
            if let Ok(did) = document_id(doc) {
                events.push(Event::new(EventType::Updated, kind, did, doc.clone()));
            }
        }
    }
    announce(&state, &events).await;
    tracing::warn!(backup = %id, "restored every resource from a backup");
    let mut answer = json!({"restored": id, "entities": restored_counts, "events": events.len()});
    if contents.manifest.metrics.is_some() {
        // Storage and firmware are in place by now; a metric backend that fails here (an
        // outage) is reported rather than undoing them, and the restore can be run again.
        match backup_metrics::restore(&*state.metrics, &contents.metrics).await {
            Ok(n) => answer["metricPoints"] = n.into(),
            Err(e) => {
                tracing::error!(backup = %id, error = %e, "restoring the metric history failed");
                answer["metricsError"] = e.into();
            }
        }
    }
    Ok(Json(answer))
}

/// Decrypts the archive's secrets with this server's key, or refuses the restore (nothing
/// changed yet) with what to do.
async fn open_secrets(
    state: &ApiState,
    secrets: &SecretsInfo,
    snapshot: &mut switchyard_core::storage::Snapshot,
) -> Result<(), ApiError> {
    if secrets.encryption != ENCRYPTION {
        return Err(ApiError::bad_request(
            "invalid_archive",
            format!(
                "the archive's secrets are encrypted as `{}`; this server reads `{ENCRYPTION}`",
                secrets.encryption
            ),
        ));
    }
    let key = key(state).await?;
    let mismatch = |detail: String| {
        ApiError::new(
            StatusCode::CONFLICT,
            "secret_key_mismatch",
            format!(
                "{detail}: the archive's secrets were encrypted with the {KEY_FILE} of the server \
                 that made it (key id {}; this server's is {}). Stop this server, put that \
                 {KEY_FILE} in its data directory (keep a copy of the current one), start it and \
                 restore again. Nothing was changed.",
                secrets.key_id,
                key.id()
            ),
        )
    };
    if secrets.key_id != key.id() {
        return Err(mismatch("another secret key".into()));
    }
    key.open(snapshot)
        .map_err(|bad| mismatch(format!("{bad} secrets do not decrypt")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiConfig;
    use std::io::Write;
    use std::sync::Arc;
    use switchyard_bus::{EmbeddedBus, EmbeddedBusConfig};
    use switchyard_core::store::Store;
    use switchyard_storage::{MemoryConfig, MemoryStorage};
    use zip::write::SimpleFileOptions;

    async fn state(dir: &std::path::Path) -> ApiState {
        let storage = MemoryStorage::open(&dir.join("storage"), &MemoryConfig::default())
            .await
            .unwrap();
        let bus = Arc::new(EmbeddedBus::new(&EmbeddedBusConfig::default()).unwrap());
        let metrics = switchyard_metrics::open(&switchyard_metrics::MetricsConfig::default(), dir)
            .await
            .unwrap();
        ApiState::new(
            Store::new(Arc::new(storage)),
            bus,
            metrics,
            dir.to_path_buf(),
            ApiConfig::default(),
            Arc::new(|| json!({})),
        )
    }

    /// An archive in the version-1 layout (as Switchyard wrote it before version 2: no backend
    /// in the manifest, secrets in clear) restores through the upgrade step.
    #[tokio::test]
    async fn a_version_1_archive_restores_through_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path()).await;
        let backend = state.store.backend().clone();
        backend
            .upsert(EntityKind::Gateway, json!({"id": "now", "enabled": true}))
            .await
            .unwrap();
        std::fs::create_dir_all(state.backup_dir()).unwrap();
        let file = std::fs::File::create(state.backup_dir().join("old_backup.zip")).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let o = SimpleFileOptions::default();
        let entries: [(&str, Value); 3] = [
            (
                "backup.json",
                json!({"format": "switchyard-backup", "version": 1, "serverVersion": "0.1.0",
                       "createdOn": "2026-01-02T03:04:05Z", "entities": {"gateway": 1, "handler": 1},
                       "firmware": 1}),
            ),
            (
                "storage/gateway.json",
                json!([{"id": "then", "enabled": false}]),
            ),
            (
                "storage/handler.json",
                json!([{"id": "mail", "type": "email", "spec": {"password": "in-clear"}}]),
            ),
        ];
        for (name, v) in entries {
            zip.start_file(name, o).unwrap();
            zip.write_all(&serde_json::to_vec(&v).unwrap()).unwrap();
        }
        zip.start_file("firmware/fw1", o).unwrap();
        zip.write_all(b":00000001FF\n").unwrap();
        zip.finish().unwrap();

        let Json(answer) = restore(State(state.clone()), Path("old_backup.zip".into()))
            .await
            .unwrap();
        assert_eq!(answer["entities"]["gateway"], 1, "{answer}");
        assert!(
            backend
                .get(EntityKind::Gateway, "now")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            backend
                .get(EntityKind::Gateway, "then")
                .await
                .unwrap()
                .is_some()
        );
        let mail = backend
            .get(EntityKind::Handler, "mail")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(mail["spec"]["password"], "in-clear");
        assert_eq!(
            std::fs::read(state.firmware_dir().join("fw1")).unwrap(),
            b":00000001FF\n"
        );
    }

    /// A backup of this version holds its backend and sealed secrets, and restores them.
    #[tokio::test]
    async fn a_backup_restores_its_sealed_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path()).await;
        let backend = state.store.backend().clone();
        let mail = json!({"id": "mail", "type": "email", "spec": {"password": "p-4711"}});
        backend
            .upsert(EntityKind::Handler, mail.clone())
            .await
            .unwrap();
        let Json(made) = run(
            State(state.clone()),
            Ok(Query(RunOptions::default())),
            Default::default(),
        )
        .await
        .unwrap();
        assert_eq!(made["manifest"]["backend"], backend.name());
        assert_eq!(made["manifest"]["version"], archive::VERSION);
        let id = made["id"].as_str().unwrap().to_string();
        let bytes = std::fs::read(state.backup_dir().join(&id)).unwrap();
        let contents = archive::read(std::io::Cursor::new(bytes), 1 << 20).unwrap();
        let sealed = contents.snapshot[&EntityKind::Handler][0]["spec"]["password"].clone();
        assert!(
            sealed.as_str().unwrap().starts_with("sy-enc:v1:"),
            "{sealed}"
        );
        backend.clear().await.unwrap();
        let Json(_) = restore(State(state.clone()), Path(id)).await.unwrap();
        assert_eq!(
            backend.get(EntityKind::Handler, "mail").await.unwrap(),
            Some(mail)
        );
        // A body that is not the options is refused.
        let bad = run(
            State(state.clone()),
            Ok(Query(RunOptions::default())),
            axum::body::Bytes::from_static(b"{\"nope\": 1}"),
        )
        .await;
        assert!(bad.is_err());
    }
}
