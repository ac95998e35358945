//! Trusting the bridge's certificate. A Hue bridge serves HTTPS with a certificate no public CA
//! signed (its common name is the bridge id, not an address we could check), so the bridge is
//! recognised by the SHA-256 fingerprint of that certificate instead, as SSH recognises hosts:
//! either the fingerprint in `certificateFingerprint`, or the one seen on the first connection
//! (trust on first use), kept in `<data dir>/philips_hue/<gateway id>.sha256`. A bridge that
//! later shows another certificate is refused until the file is removed or the config says
//! which one to expect.

use parking_lot::Mutex;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

pub type Fingerprint = [u8; 32];

/// `AB:CD:…` (as `openssl x509 -fingerprint -sha256` prints it) or plain hex, any case.
pub fn parse_fingerprint(text: &str) -> Result<Fingerprint, String> {
    let hex: String = text.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect::<Option<Vec<u8>>>();
    bytes
        .and_then(|b| Fingerprint::try_from(b).ok())
        .ok_or_else(|| format!("{text:?} is not a SHA-256 fingerprint (64 hex digits)"))
}

pub fn format_fingerprint(f: &Fingerprint) -> String {
    f.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub fn fingerprint_of(cert: &[u8]) -> Fingerprint {
    Sha256::digest(cert).into()
}

/// Checks the bridge's certificate against the pinned fingerprint; learns it on first use.
#[derive(Debug)]
pub struct PinnedCertificate {
    expected: Mutex<Option<Fingerprint>>,
    /// Where a fingerprint learned on first use is kept; `None` when the config names one.
    learned_file: Option<PathBuf>,
    /// Why the last certificate was refused, for the gateway's error message (rustls' own
    /// error reaches us only as "error sending request").
    refusal: Mutex<Option<String>>,
}

impl PinnedCertificate {
    pub fn configured(fingerprint: Fingerprint) -> Arc<Self> {
        Arc::new(PinnedCertificate {
            expected: Mutex::new(Some(fingerprint)),
            learned_file: None,
            refusal: Mutex::new(None),
        })
    }

    /// Trust on first use, remembered in `file` (read now if it exists).
    pub fn first_use(file: PathBuf) -> Result<Arc<Self>, String> {
        let expected = match std::fs::read_to_string(&file) {
            Ok(text) => Some(
                parse_fingerprint(text.trim()).map_err(|e| format!("{}: {e}", file.display()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: {e}", file.display())),
        };
        Ok(Arc::new(PinnedCertificate {
            expected: Mutex::new(expected),
            learned_file: Some(file),
            refusal: Mutex::new(None),
        }))
    }

    /// Why the last handshake was refused, if it was.
    pub fn take_refusal(&self) -> Option<String> {
        self.refusal.lock().take()
    }

    fn check(&self, cert: &[u8]) -> Result<(), String> {
        let seen = fingerprint_of(cert);
        let mut expected = self.expected.lock();
        match (*expected, &self.learned_file) {
            (Some(e), _) if e == seen => Ok(()),
            (Some(e), file) => Err(format!(
                "the bridge's certificate has fingerprint {} but {} was expected{}",
                format_fingerprint(&seen),
                format_fingerprint(&e),
                match file {
                    Some(f) => format!(
                        " (learned on first use; remove {} if the bridge was replaced)",
                        f.display()
                    ),
                    None => " (certificateFingerprint)".into(),
                }
            )),
            (None, Some(file)) => {
                let text = format_fingerprint(&seen);
                if let Some(dir) = file.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                std::fs::write(file, format!("{text}\n"))
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                tracing::warn!(fingerprint = %text, file = %file.display(),
                    "philips_hue: trusting the bridge's certificate on first use");
                *expected = Some(seen);
                Ok(())
            }
            (None, None) => Err("no fingerprint to check the certificate against".into()),
        }
    }
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Name and validity dates are not checked: the pinned fingerprint identifies this very
        // certificate, and bridges do not renew theirs.
        match self.check(end_entity) {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(why) => {
                *self.refusal.lock() = Some(why.clone());
                Err(rustls::Error::General(why))
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &rustls::crypto::ring::default_provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &rustls::crypto::ring::default_provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client config (ring) that trusts only the pinned certificate.
pub fn client_config(verifier: Arc<PinnedCertificate>) -> rustls::ClientConfig {
    crate::transport::install_crypto_provider();
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_both_ways() {
        let f = fingerprint_of(b"cert");
        let text = format_fingerprint(&f);
        assert_eq!(parse_fingerprint(&text).unwrap(), f);
        assert_eq!(
            parse_fingerprint(&text.replace(':', "").to_lowercase()).unwrap(),
            f
        );
        assert!(parse_fingerprint("AB:CD").is_err());
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
        assert!(parse_fingerprint("é").is_err());
    }

    #[test]
    fn first_use_learns_then_refuses_another_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("philips_hue/hue.sha256");
        let pin = PinnedCertificate::first_use(file.clone()).unwrap();
        pin.check(b"first").unwrap();
        pin.check(b"first").unwrap();
        // A new process reads what was learned.
        let again = PinnedCertificate::first_use(file.clone()).unwrap();
        again.check(b"first").unwrap();
        let e = again.check(b"second").unwrap_err();
        assert!(e.contains("remove") && e.contains("hue.sha256"), "{e}");
        let configured = PinnedCertificate::configured(fingerprint_of(b"first"));
        assert!(
            configured
                .check(b"second")
                .unwrap_err()
                .contains("certificateFingerprint")
        );
    }
}
