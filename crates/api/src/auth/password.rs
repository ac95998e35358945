use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// An argon2id hash in PHC string form (salt and parameters included).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt_bytes = [0u8; 16];
    rand::fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// False for a wrong password and for a stored hash that does not parse. Besides Switchyard's
/// argon2 hashes this accepts bcrypt (`$2a$`, `$2b$`, `$2y$`, as MyController stored them):
/// [`is_foreign_hash`] then says the caller should store [`hash_password`] in its place.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if is_foreign_hash(hash) {
        // bcrypt reads only the first 72 bytes: a longer password is refused rather than let
        // every password sharing those bytes pass (Go's bcrypt, MyController's, refuses them too).
        return bcrypt::non_truncating_verify(password, hash).unwrap_or(false);
    }
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A bcrypt hash (imported from MyController), to be replaced by argon2 at the next login.
pub fn is_foreign_hash(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("s3cret").unwrap();
        let b = hash_password("s3cret").unwrap();
        assert_ne!(a, b, "salted");
        assert!(verify_password("s3cret", &a));
        assert!(!verify_password("s3cret!", &a));
        assert!(!verify_password("s3cret", "not a hash"));
        assert!(!is_foreign_hash(&a));
    }

    #[test]
    fn bcrypt_hashes_of_every_prefix_verify() {
        // From Openwall's crypt_blowfish test vectors (independent of the crate used here).
        let known = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
        assert!(is_foreign_hash(known));
        assert!(verify_password("U*U", known));
        assert!(!verify_password("U*V", known));
        for version in [
            bcrypt::Version::TwoA,
            bcrypt::Version::TwoB,
            bcrypt::Version::TwoY,
        ] {
            let hash = bcrypt::hash_with_result("mc password", 4)
                .unwrap()
                .format_for_version(version);
            assert!(is_foreign_hash(&hash), "{hash}");
            assert!(verify_password("mc password", &hash), "{hash}");
            assert!(!verify_password("mc passwore", &hash), "{hash}");
        }
        assert!(!verify_password("x", "$2a$05$broken"));
    }
}
