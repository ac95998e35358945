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

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

const PREFIX: &str = "sy-enc:v1:";
const KEY_LEN: usize = 32;

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
        let sealed = text
            .trim()
            .strip_prefix(PREFIX)
            .and_then(decode_hex)
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or_else(corrupt)?;
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| corrupt())?;
        let mut rest = rest.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(self.gateway.as_bytes()), &mut rest)
            .map_err(|_| corrupt())?;
        serde_json::from_slice(plain)
            .map(Some)
            .map_err(|_| corrupt())
    }

    pub fn store(&self, app_key: &AppKey) -> Result<(), AppKeyError> {
        let key = self.secret(true)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| AppKeyError::Random)?;
        let mut data = serde_json::to_vec(app_key).map_err(|_| AppKeyError::Random)?;
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(self.gateway.as_bytes()),
            &mut data,
        )
        .map_err(|_| AppKeyError::Random)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&data);
        let text = format!("{PREFIX}{}\n", encode_hex(&sealed));
        write_private(&self.path(), text.as_bytes())
    }

    /// The server's key (`<data dir>/secret.key`), made when `create` and there is none.
    fn secret(&self, create: bool) -> Result<LessSafeKey, AppKeyError> {
        let path = self.data_dir.join("secret.key");
        let bytes = match std::fs::read_to_string(&path) {
            Ok(text) => decode_hex(text.trim())
                .filter(|b| b.len() == KEY_LEN)
                .ok_or_else(|| AppKeyError::Corrupt(path.clone()))?,
            Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
                let mut b = vec![0u8; KEY_LEN];
                SystemRandom::new()
                    .fill(&mut b)
                    .map_err(|_| AppKeyError::Random)?;
                write_private(&path, encode_hex(&b).as_bytes())?;
                b
            }
            Err(source) => return Err(AppKeyError::Io { path, source }),
        };
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| AppKeyError::Corrupt(path.clone()))?;
        Ok(LessSafeKey::new(unbound))
    }
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
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
