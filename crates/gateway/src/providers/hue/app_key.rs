//! The app key a pairing got, kept encrypted at rest.
//!
//! The server seals the secrets of configs it stores (`crates/server/src/secrets_at_rest.rs`),
//! but a provider does not write its own gateway resource, so the key lives beside the
//! certificate pin, sealed the same way with the same key: `<data dir>/philips_hue/<gateway>.appkey`
//! holds `sy-enc:v1:` and the hex of a random 12-byte nonce followed by the AES-256-GCM sealing
//! (ring) of `{"username", "clientkey"}`, the gateway id as associated data (a file copied to
//! another gateway does not open). The key is the server's `<data dir>/secret.key` (64 hex
//! digits, 0600); a data directory without one (the server makes it on its first start) gets
//! one in that format. Files are written owner-only through a temporary file and a rename.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use switchyard_core::secret_key::{KEY_FILE, SecretKey, SecretKeyError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppKeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: not a stored app key (wrong format, or sealed with another secret.key)")]
    Corrupt(PathBuf),
    #[error("the system's random source failed")]
    Random,
}

/// What the bridge handed out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppKey {
    pub username: String,
    #[serde(default)]
    pub clientkey: Option<String>,
}

/// The stored app key of one gateway.
pub struct AppKeyFile {
    data_dir: PathBuf,
    dir: PathBuf,
    gateway: String,
}

impl AppKeyFile {
    pub fn new(data_dir: &Path, gateway: &str) -> AppKeyFile {
        AppKeyFile {
            data_dir: data_dir.to_path_buf(),
            dir: data_dir.join("philips_hue"),
            gateway: gateway.to_string(),
        }
    }

    pub fn path(&self) -> PathBuf {
        let name: String = self
            .gateway
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{name}.appkey"))
    }

    /// `None` when nothing was stored yet.
    pub fn load(&self) -> Result<Option<AppKey>, AppKeyError> {
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(AppKeyError::Io { path, source }),
        };
        let key = self.secret(false)?;
        let corrupt = || AppKeyError::Corrupt(path.clone());
        let plain = key
            .open(text.trim(), self.gateway.as_bytes())
            .ok_or_else(corrupt)?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|_| corrupt())
    }

    pub fn store(&self, app_key: &AppKey) -> Result<(), AppKeyError> {
        let key = self.secret(true)?;
        let data = serde_json::to_vec(app_key).map_err(|_| AppKeyError::Random)?;
        let sealed = key
            .seal(&data, self.gateway.as_bytes())
            .map_err(|_| AppKeyError::Random)?;
        write_private(&self.path(), format!("{sealed}\n").as_bytes())
    }

    /// The server's key (`<data dir>/secret.key`), made when `create` and there is none.
    fn secret(&self, create: bool) -> Result<SecretKey, AppKeyError> {
        let key_error = |e: SecretKeyError| match e {
            SecretKeyError::Io { path, source } => AppKeyError::Io { path, source },
            SecretKeyError::Malformed(path) => AppKeyError::Corrupt(path),
            SecretKeyError::Random => AppKeyError::Random,
        };
        if create {
            return SecretKey::load_or_create(&self.data_dir).map_err(key_error);
        }
        SecretKey::load(&self.data_dir)
            .map_err(key_error)?
            .ok_or_else(|| AppKeyError::Io {
                path: self.data_dir.join(KEY_FILE),
                source: std::io::ErrorKind::NotFound.into(),
            })
    }
}

/// Writes `bytes` to `path` readable by the owner only, replacing it whole.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AppKeyError> {
    let io = |source| AppKeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    {
        use std::io::Write as _;
        let mut f = options.open(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::secret_key::{PREFIX, decode_hex};

    #[test]
    fn stored_sealed_and_bound_to_the_gateway() {
        let dir = tempfile::tempdir().unwrap();
        let file = AppKeyFile::new(dir.path(), "hue/1");
        assert_eq!(file.load().unwrap(), None);
        let key = AppKey {
            username: "abcdef0123456789".into(),
            clientkey: Some("00FF".into()),
        };
        file.store(&key).unwrap();
        assert_eq!(file.load().unwrap(), Some(key));
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.starts_with(PREFIX) && !text.contains("abcdef0123456789"));
        // Another gateway's name does not open it.
        std::fs::copy(file.path(), dir.path().join("philips_hue/other.appkey")).unwrap();
        let other = AppKeyFile::new(dir.path(), "other");
        assert!(matches!(other.load(), Err(AppKeyError::Corrupt(_))));
        // The server's key file: 64 hex digits.
        let key_hex = std::fs::read_to_string(dir.path().join("secret.key")).unwrap();
        assert_eq!(key_hex.trim().len(), 64);
        assert!(decode_hex(key_hex.trim()).is_some());
        std::fs::write(file.path(), "sy-enc:v1:zz").unwrap();
        assert!(matches!(file.load(), Err(AppKeyError::Corrupt(_))));
    }
}
