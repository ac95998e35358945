//! Service tokens: `<id>_<secret>` with 256 random bits of secret. Only a SHA-256 of the raw token
//! is stored: the secret is random and long, so a slow password hash would add nothing but
//! latency to every request that uses one.

use sha2::{Digest, Sha256};

const PREFIX: &str = "sha256:";

/// A new raw token for the token `id`.
pub fn generate(id: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{id}_{secret}")
}

pub fn hash(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex}")
}

/// Compares in constant time for equal lengths.
pub fn verify(raw: &str, stored: &str) -> bool {
    let computed = hash(raw);
    computed.len() == stored.len()
        && computed
            .bytes()
            .zip(stored.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The token id of a raw token (`<id>_<secret>`), if it has that shape.
pub fn token_id(raw: &str) -> Option<&str> {
    let (id, secret) = raw.rsplit_once('_')?;
    (!id.is_empty() && secret.len() == 64).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_verify_against_their_hash_only() {
        let raw = generate("abc");
        assert_eq!(token_id(&raw), Some("abc"));
        let h = hash(&raw);
        assert!(h.starts_with("sha256:"));
        assert!(verify(&raw, &h));
        assert!(!verify(&generate("abc"), &h));
        assert_eq!(token_id("no-underscore"), None);
        assert_eq!(token_id("a_short"), None);
    }
}
