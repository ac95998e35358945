//! The first administrator: created when no user exists, with the password from
//! `SWITCHYARD_ADMIN_PASSWORD` or a generated one written once to `<data_dir>/admin-password`
//! (readable by the owner only), so a fresh install is never open with a known password.

use super::password::hash_password;
use std::io::Write;
use std::path::Path;
use switchyard_core::filter::Query;
use switchyard_core::model::User;
use switchyard_core::storage::StorageError;
use switchyard_core::store::Store;

pub const ADMIN_PASSWORD_FILE: &str = "admin-password";

fn generated_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

fn write_secret_file(path: &Path, content: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Creates the `admin` user when there are no users. Returns where the password is, if generated.
pub async fn ensure_admin(
    store: &Store,
    data_dir: &Path,
    env_password: Option<String>,
) -> Result<Option<std::path::PathBuf>, StorageError> {
    if store.find::<User>(&Query::all().page(1, 0)).await?.count > 0 {
        return Ok(None);
    }
    let (password, file) = match env_password.filter(|p| !p.is_empty()) {
        Some(p) => (p, None),
        None => {
            let p = generated_password();
            let path = data_dir.join(ADMIN_PASSWORD_FILE);
            // A leftover file from an earlier install is replaced: it no longer matches any user.
            let _ = std::fs::remove_file(&path);
            write_secret_file(&path, &p)
                .map_err(|e| StorageError::Backend(format!("writing {}: {e}", path.display())))?;
            (p, Some(path))
        }
    };
    let user = User {
        id: "admin".into(),
        username: "admin".into(),
        password: hash_password(&password).map_err(StorageError::Backend)?,
        full_name: "Administrator".into(),
        roles: vec!["admin".into()],
        modified_on: Some(chrono::Utc::now()),
        ..Default::default()
    };
    store.insert(&user).await?;
    Ok(file)
}
