//! The server's secret key and the one sealing everything uses with it.
//!
//! The key is 32 random bytes in `<data_dir>/secret.key` (64 hex digits, mode 0600), made on
//! first use. A sealed value reads `sy-enc:v1:<hex of nonce + ciphertext + tag>`: AES-256-GCM
//! (ring) with a random 96-bit nonce per value, optionally bound to associated data. Secrets in
//! stored configs (the server's sealing storage wrapper), in backup archives and a Hue bridge's
//! app key file are all sealed here, so one `secret.key` opens them all.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "secret.key";
/// How every sealed value starts.
pub const PREFIX: &str = "sy-enc:v1:";
const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    #[error("{0}: expected 64 hex digits")]
    Malformed(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the system's random source failed")]
    Random,
}

/// The key's bytes from `<data_dir>/secret.key`; `None` when there is no such file.
pub fn load_bytes(data_dir: &Path) -> Result<Option<[u8; KEY_LEN]>, SecretKeyError> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = decode_hex(text.trim())
                .filter(|b| b.len() == KEY_LEN)
                .ok_or_else(|| SecretKeyError::Malformed(path.clone()))?;
            let mut key = [0u8; KEY_LEN];
            key.copy_from_slice(&bytes);
            Ok(Some(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SecretKeyError::Io { path, source }),
    }
}

/// The key's bytes, made (and written owner-only) when there is none yet. Two processes making
/// it at once both end with the one written first.
pub fn load_or_create_bytes(data_dir: &Path) -> Result<[u8; KEY_LEN], SecretKeyError> {
    let path = data_dir.join(KEY_FILE);
    for _ in 0..2 {
        if let Some(key) = load_bytes(data_dir)? {
            return Ok(key);
        }
        let mut key = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| SecretKeyError::Random)?;
        match write_new_private(&path, &encode_hex(&key)) {
            Ok(()) => {
                tracing::info!(file = %path.display(), "created the key that encrypts stored secrets; back it up with the data");
                return Ok(key);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(SecretKeyError::Io { path, source }),
        }
    }
    Err(SecretKeyError::Malformed(path))
}

fn write_new_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

pub struct SecretKey {
    key: LessSafeKey,
    id: String,
    rng: SystemRandom,
}

impl SecretKey {
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> SecretKey {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(b"switchyard secret.key id\0");
        ctx.update(bytes);
        let id = encode_hex(&ctx.finish().as_ref()[..8]);
        // AES-256 takes exactly a 32-byte key, which is what `bytes` is.
        let key = match UnboundKey::new(&AES_256_GCM, bytes) {
            Ok(k) => LessSafeKey::new(k),
            Err(_) => unreachable!("AES-256 takes a 32-byte key"),
        };
        SecretKey {
            key,
            id,
            rng: SystemRandom::new(),
        }
    }

    /// `<data_dir>/secret.key`, or `None` when there is none.
    pub fn load(data_dir: &Path) -> Result<Option<SecretKey>, SecretKeyError> {
        Ok(load_bytes(data_dir)?.map(|b| SecretKey::from_bytes(&b)))
    }

    /// `<data_dir>/secret.key`, made when there is none.
    pub fn load_or_create(data_dir: &Path) -> Result<SecretKey, SecretKeyError> {
        Ok(SecretKey::from_bytes(&load_or_create_bytes(data_dir)?))
    }

    /// Names the key without revealing it (a hash of it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `plain` sealed, bound to `aad` (which opening must give again).
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<String, SecretKeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| SecretKeyError::Random)?;
        let mut data = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut data,
            )
            .map_err(|_| SecretKeyError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{PREFIX}{}", encode_hex(&out)))
    }

    /// What [`SecretKey::seal`] sealed; `None` for anything else (not sealed, damaged, another
    /// key or other associated data).
    pub fn open(&self, stored: &str, aad: &[u8]) -> Option<Vec<u8>> {
        let bytes = decode_hex(stored.strip_prefix(PREFIX)?)?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut data)
            .ok()?;
        Some(plain.to_vec())
    }

    pub fn seal_text(&self, plain: &str) -> Result<String, SecretKeyError> {
        self.seal(plain.as_bytes(), b"")
    }

    pub fn open_text(&self, stored: &str) -> Option<String> {
        String::from_utf8(self.open(stored, b"")?).ok()
    }
}

/// Whether `value` is in the sealed form (it may still not open with this key).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_the_same_key_and_data_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(dir.path()).unwrap();
        let again = SecretKey::load(dir.path()).unwrap().unwrap();
        assert_eq!(key.id(), again.id());
        let sealed = key.seal_text("hunter2").unwrap();
        assert!(is_sealed(&sealed) && !sealed.contains("hunter2"));
        assert_ne!(
            sealed,
            key.seal_text("hunter2").unwrap(),
            "a nonce per value"
        );
        assert_eq!(again.open_text(&sealed).as_deref(), Some("hunter2"));
        let other = SecretKey::from_bytes(&[7u8; 32]);
        assert_ne!(other.id(), key.id());
        assert_eq!(other.open_text(&sealed), None);
        let bound = key.seal(b"{}", b"gw1").unwrap();
        assert_eq!(key.open(&bound, b"gw1").as_deref(), Some(&b"{}"[..]));
        assert_eq!(key.open(&bound, b"gw2"), None);
        assert_eq!(key.open_text("sy-enc:v1:zz"), None);
        assert_eq!(key.open_text("plain"), None);
    }

    #[test]
    fn the_key_file_is_private_and_a_bad_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SecretKey::load(dir.path()).unwrap().is_none());
        SecretKey::load_or_create(dir.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(KEY_FILE), "abc").unwrap();
        assert!(matches!(
            SecretKey::load(dir.path()),
            Err(SecretKeyError::Malformed(_))
        ));
    }
}
