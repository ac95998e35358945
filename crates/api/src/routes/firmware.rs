//! `POST /api/firmware/upload/{id}`: the multipart part `file` is streamed to
//! `<data_dir>/firmware/<id>` (through a temporary file, renamed when complete) while its SHA-256
//! is computed; name, size and `sha256:<hex>` are recorded on the firmware resource, which must
//! exist. Files larger than `max_firmware_bytes` are refused with `payload_too_large` and leave
//! nothing behind. Ids that are not plain file names are refused, so no path can escape the
//! directory.

use super::resources::announce;
use crate::error::ApiError;
use crate::secrets::public_view;
use crate::state::ApiState;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path as FsPath, PathBuf};
use switchyard_core::model::{Firmware, FirmwareFile};
use switchyard_core::store::to_document;
use switchyard_core::{EntityKind, Event, EventType};
use tokio::io::AsyncWriteExt;

/// Whether `id` can be a file name in our directories: 1 to 128 of `[A-Za-z0-9_-]`.
pub fn is_safe_file_name(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Streams one multipart part to `dest` via a temporary file; returns (size, sha256 hex, name).
pub async fn receive_file(
    multipart: &mut Multipart,
    part_name: &str,
    dir: &FsPath,
    dest: &FsPath,
    max: u64,
) -> Result<(u64, String, String), ApiError> {
    // A part over the body limit is 413 `payload_too_large`; anything else `invalid_body`.
    let bad_multipart = |e: axum::extract::multipart::MultipartError| {
        ApiError::from_status(e.status(), e.body_text())
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad_multipart)? {
        if field.name() != Some(part_name) {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_string();
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| ApiError::internal(format!("creating {}: {e}", dir.display())))?;
        let tmp: PathBuf = dir.join(format!(".upload-{}", uuid::Uuid::new_v4().simple()));
        let result = async {
            let mut out = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| ApiError::internal(format!("creating {}: {e}", tmp.display())))?;
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
                size += chunk.len() as u64;
                if size > max {
                    return Err(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!("the file is larger than the limit of {max} bytes"),
                    ));
                }
                hasher.update(&chunk);
                out.write_all(&chunk)
                    .await
                    .map_err(|e| ApiError::internal(format!("writing upload: {e}")))?;
            }
            out.sync_all()
                .await
                .map_err(|e| ApiError::internal(format!("writing upload: {e}")))?;
            tokio::fs::rename(&tmp, dest)
                .await
                .map_err(|e| ApiError::internal(format!("storing upload: {e}")))?;
            Ok((size, hex(&hasher.finalize()), file_name))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        return result;
    }
    Err(ApiError::invalid(
        "invalid_body",
        vec![(
            part_name.to_string(),
            format!("no multipart part named `{part_name}`"),
        )],
    ))
}

pub async fn upload(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Json<Value>, ApiError> {
    if !is_safe_file_name(&id) {
        return Err(ApiError::invalid(
            "invalid_id",
            vec![(
                "id".into(),
                "firmware ids for uploads are 1 to 128 of A-Z a-z 0-9 _ -".into(),
            )],
        ));
    }
    let mut firmware = state.store.get::<Firmware>(&id).await?.ok_or_else(|| {
        ApiError::not_found(format!("firmware `{id}` not found: create it first"))
    })?;
    let dir = state.firmware_dir();
    let dest = dir.join(&id);
    let (size, sha, name) = receive_file(
        &mut multipart,
        "file",
        &dir,
        &dest,
        state.config.max_firmware_bytes as u64,
    )
    .await?;
    let now = chrono::Utc::now();
    firmware.file = FirmwareFile {
        name: if name.is_empty() { id.clone() } else { name },
        internal_name: id.clone(),
        checksum: format!("sha256:{sha}"),
        size,
        modified_on: Some(now),
    };
    firmware.modified_on = Some(now);
    state.store.upsert(&firmware).await?;
    let doc = to_document(&firmware)?;
    announce(
        &state,
        &[Event::new(
            EventType::Updated,
            EntityKind::Firmware,
            id,
            doc.clone(),
        )],
    )
    .await;
    Ok(Json(public_view(EntityKind::Firmware, doc)))
}
