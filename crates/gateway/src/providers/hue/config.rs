//! `provider: {type: philips_hue, host, username, apiVersion, certificateFingerprint,
//! syncInterval, pairingInterval, insecure, timeout}`: the factory of the running provider.
//! Without `username` it uses the app key an earlier pairing stored, or pairs
//! ([`super::pairing`]). It reads the bridge's
//! config (proving the bridge answers and knows the username), then asks for API v2's resource
//! list: a bridge that has it gets its changes from the event stream, one that answers 404 is
//! polled over API v1.

use super::app_key::AppKeyFile;
use super::events::EventStream;
use super::pairing::Pairing;
use super::parse::{self, HueError};
use super::parse_v2::{self, Resources};
use super::pin::{self, PinnedCertificate};
use super::provider::{Bridge, HueProvider, run_inbound};
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{Provider, ProviderConfig, RunningProvider};
use crate::transport::http::{HttpClient, HttpConfig};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhilipsHueConfig {
    /// The bridge: `192.168.1.7`, `bridge.local:8443`, or a whole base URL (`https://…`,
    /// `http://…`). Without a scheme, HTTPS (HTTP with `apiVersion: 1`).
    pub host: String,
    /// The whitelisted user (the app key the bridge handed out when its link button was pressed).
    /// Absent (or empty): the key stored by an earlier pairing, else pairing starts.
    #[serde(default)]
    pub username: Option<String>,
    /// How often pairing asks the bridge for a key while its link button is not pressed
    /// (default `5s`, at least 100ms).
    #[serde(default)]
    pub pairing_interval: Option<String>,
    /// How often lights and sensors are read (default `15m`, as in MyController).
    #[serde(default)]
    pub sync_interval: Option<String>,
    /// Accepted for MyController configs; like MyController, `syncInterval` is used instead.
    #[serde(default)]
    pub bridge_sync_interval: Option<String>,
    /// `1`: poll API v1 only. `2`: API v2 is required (its event stream). Absent: v2 when the
    /// bridge has it (HTTPS only), else v1.
    #[serde(default)]
    pub api_version: Option<u8>,
    /// SHA-256 fingerprint of the bridge's certificate (`AB:CD:…` or hex). Absent: the one seen
    /// first is trusted and remembered under the data directory.
    #[serde(default)]
    pub certificate_fingerprint: Option<String>,
    /// Accept any certificate (encrypted, but the bridge is not identified).
    #[serde(default)]
    pub insecure: bool,
    /// Whole-request timeout (default `30s`).
    #[serde(default)]
    pub timeout: Option<String>,
}

/// Where the bridge is.
#[derive(Debug)]
struct Endpoints {
    /// `https://host[:port]` (no trailing slash).
    origin: String,
    https: bool,
}

impl PhilipsHueConfig {
    fn endpoints(&self) -> Result<Endpoints, GatewayError> {
        let origin = self.origin()?;
        let https = origin.starts_with("https://");
        match self.api_version {
            None | Some(1) => {}
            Some(2) if https => {}
            Some(2) => {
                return Err(GatewayError::Config(
                    "philips_hue: API v2 is served over HTTPS only; use an https:// host".into(),
                ));
            }
            Some(v) => {
                return Err(GatewayError::Config(format!(
                    "philips_hue: `apiVersion` {v}: 1 or 2"
                )));
            }
        }
        Ok(Endpoints { origin, https })
    }

    /// The bridge's certificate check: `None` for plain HTTP or `insecure`.
    fn pin(&self, ctx: &ProviderContext) -> Result<Option<Arc<PinnedCertificate>>, GatewayError> {
        if self.insecure {
            return Ok(None);
        }
        let pinned = match &self.certificate_fingerprint {
            Some(f) => PinnedCertificate::configured(pin::parse_fingerprint(f).map_err(|e| {
                GatewayError::Config(format!("philips_hue: `certificateFingerprint`: {e}"))
            })?),
            None => {
                let name: String = ctx
                    .gateway_id()
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let file = ctx
                    .data_dir()
                    .join("philips_hue")
                    .join(format!("{name}.sha256"));
                PinnedCertificate::first_use(file)
                    .map_err(|e| GatewayError::Config(format!("philips_hue: {e}")))?
            }
        };
        Ok(Some(pinned))
    }

    /// The configured app key, when there is one.
    fn configured_username(&self) -> Option<String> {
        self.username
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
    }

    /// `https://host[:port]` (or `http://`), no trailing slash.
    fn origin(&self) -> Result<String, GatewayError> {
        let host = self.host.trim().trim_end_matches('/');
        if host.is_empty() {
            return Err(GatewayError::Config("philips_hue: `host` is empty".into()));
        }
        Ok(if host.contains("://") {
            host.to_string()
        } else if self.api_version == Some(1) {
            format!("http://{host}")
        } else {
            format!("https://{host}")
        })
    }

    fn base_url(&self, user: &str) -> Result<String, GatewayError> {
        let origin = self.origin()?;
        let user = user.trim();
        if user.is_empty() || !user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(GatewayError::Config(
                "philips_hue: `username` must be the bridge's app key (letters, digits, -); \
                 leave it out to pair (press the bridge's link button)"
                    .into(),
            ));
        }
        Ok(format!("{origin}/api/{user}/"))
    }

    fn pairing_interval(&self) -> Result<Duration, GatewayError> {
        let d = match &self.pairing_interval {
            None => Duration::from_secs(5),
            Some(s) => switchyard_core::value::parse_std_duration(s).map_err(|e| {
                GatewayError::Config(format!("philips_hue: `pairingInterval`: {e}"))
            })?,
        };
        if d < Duration::from_millis(100) {
            return Err(GatewayError::Config(
                "philips_hue: `pairingInterval` must be at least 100ms".into(),
            ));
        }
        Ok(d)
    }

    fn http(
        &self,
        url: String,
        headers: BTreeMap<String, String>,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<HttpClient, GatewayError> {
        Ok(HttpClient::with_tls(
            &HttpConfig {
                url,
                headers,
                username: String::new(),
                password: String::new(),
                insecure: self.insecure,
                timeout: self.timeout.clone(),
            },
            tls,
        )?)
    }

    fn sync_interval(&self) -> Result<Duration, GatewayError> {
        let d = match &self.sync_interval {
            None => Duration::from_secs(15 * 60),
            Some(s) => switchyard_core::value::parse_std_duration(s)
                .map_err(|e| GatewayError::Config(format!("philips_hue: `syncInterval`: {e}")))?,
        };
        if d < Duration::from_millis(100) {
            return Err(GatewayError::Config(
                "philips_hue: `syncInterval` must be at least 100ms".into(),
            ));
        }
        Ok(d)
    }
}

#[async_trait]
impl ProviderConfig for PhilipsHueConfig {
    async fn start(&self, ctx: ProviderContext) -> Result<RunningProvider, GatewayError> {
        self.sync_interval()?;
        let pairing_interval = self.pairing_interval()?;
        let endpoints = self.endpoints()?;
        if let Some(user) = self.configured_username() {
            return self.connect(ctx, user).await;
        }
        let file = AppKeyFile::new(ctx.data_dir(), ctx.gateway_id());
        match file.load() {
            Ok(Some(key)) => return self.connect(ctx, key.username).await,
            Ok(None) => {}
            Err(e) => {
                return Err(GatewayError::Config(format!(
                    "philips_hue: the stored app key: {e}; delete it to pair again"
                )));
            }
        }
        let pin = if endpoints.https {
            self.pin(&ctx)?
        } else {
            None
        };
        let tls = pin.clone().map(pin::client_config);
        let client = self.http(format!("{}/", endpoints.origin), BTreeMap::new(), tls)?;
        Ok(Pairing {
            config: self.clone(),
            ctx,
            file,
            client,
            pin,
            interval: pairing_interval,
        }
        .running())
    }
}

impl PhilipsHueConfig {
    /// Connects with this app key: reads the bridge's config, then picks API v2 or v1.
    pub(super) async fn connect(
        &self,
        ctx: ProviderContext,
        user: String,
    ) -> Result<RunningProvider, GatewayError> {
        let interval = self.sync_interval()?;
        let endpoints = self.endpoints()?;
        let pin = if endpoints.https {
            self.pin(&ctx)?
        } else {
            None
        };
        let tls = pin.clone().map(pin::client_config);
        let key_header = BTreeMap::from([("hue-application-key".to_string(), user.clone())]);
        let client = self.http(self.base_url(&user)?, BTreeMap::new(), tls.clone())?;
        let v2 = self.http(format!("{}/", endpoints.origin), key_header, tls.clone())?;
        let bridge = Arc::new(Bridge {
            client,
            v2,
            pin,
            ctx,
        });
        // The bridge's own config: proves the bridge answers and the username is whitelisted.
        match bridge.read("config").await? {
            Ok(body) => match parse::bridge(&body) {
                Ok(messages) => bridge.emit_all(messages).await,
                Err(e) => bridge.ctx.reject(format!("config: {e}")),
            },
            Err(e) if e.is_unauthorized() => {
                return Err(GatewayError::Config(format!(
                    "philips_hue: {e}; the username is not whitelisted on this bridge"
                )));
            }
            Err(e) => return Err(GatewayError::Config(format!("philips_hue: config: {e}"))),
        }
        let events = match (self.api_version, endpoints.https) {
            (Some(1), _) | (None, false) => None,
            _ => self.v2_resources(&bridge).await?.map(|resources| {
                EventStream::new(
                    &endpoints.origin,
                    &user,
                    self.insecure,
                    tls.clone(),
                    resources,
                )
            }),
        };
        let events = events.transpose()?;
        let outbound = Arc::new(HueProvider {
            bridge: bridge.clone(),
        });
        Ok(RunningProvider {
            outbound: outbound as Arc<dyn Provider>,
            inbound: Box::pin(run_inbound(bridge, interval, events)),
        })
    }
}

impl PhilipsHueConfig {
    /// `GET /clip/v2/resource`: `None` when the bridge has no API v2 (it answers 404) or its
    /// answer cannot be read (rejected with the reason; this run polls API v1 instead).
    async fn v2_resources(&self, bridge: &Bridge) -> Result<Option<Resources>, GatewayError> {
        let resp = bridge
            .v2
            .get("clip/v2/resource")
            .await
            .map_err(|e| bridge.transport_error(e))?;
        let required = self.api_version == Some(2);
        let answer = match resp.status {
            404 if required => {
                return Err(GatewayError::Config(
                    "philips_hue: `apiVersion: 2` but the bridge has no API v2 (404 on /clip/v2)"
                        .into(),
                ));
            }
            404 => {
                tracing::info!(gateway = %bridge.ctx.gateway_id(),
                    "philips_hue: the bridge has no API v2; polling API v1");
                return Ok(None);
            }
            401 | 403 => {
                return Err(GatewayError::Config(format!(
                    "philips_hue: HTTP {} on /clip/v2; the username is not whitelisted on this bridge",
                    resp.status
                )));
            }
            s if (200..300).contains(&s) => {
                parse::parse_body(&resp.body).and_then(|body| parse_v2::resources(&body))
            }
            s => Err(HueError::Shape(format!(
                "HTTP {s}: {}",
                String::from_utf8_lossy(&resp.body)
                    .chars()
                    .take(120)
                    .collect::<String>()
            ))),
        };
        match answer {
            Ok(r) => Ok(Some(r)),
            Err(e) if required => Err(GatewayError::Config(format!(
                "philips_hue: clip/v2/resource: {e}"
            ))),
            Err(e) => {
                bridge
                    .ctx
                    .reject(format!("clip/v2/resource: {e}; polling API v1 instead"));
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: serde_json::Value) -> Result<PhilipsHueConfig, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn urls_intervals_and_unknown_keys() {
        let c = config(json!({"host": "192.168.1.7", "username": "abc-1"})).unwrap();
        assert_eq!(
            c.base_url("abc-1").unwrap(),
            "https://192.168.1.7/api/abc-1/"
        );
        assert_eq!(c.endpoints().unwrap().origin, "https://192.168.1.7");
        let c =
            config(json!({"host": "192.168.1.7", "username": "abc-1", "apiVersion": 1})).unwrap();
        assert_eq!(
            c.base_url("abc-1").unwrap(),
            "http://192.168.1.7/api/abc-1/"
        );
        assert!(!c.endpoints().unwrap().https);
        let c = config(json!({"host": "http://h", "username": "u", "apiVersion": 2})).unwrap();
        assert!(c.endpoints().unwrap_err().to_string().contains("HTTPS"));
        let c = config(json!({"host": "h", "username": "u", "apiVersion": 3})).unwrap();
        assert!(c.endpoints().is_err());
        let c = config(json!({"host": "192.168.1.7", "username": "abc-1"})).unwrap();
        assert_eq!(c.sync_interval().unwrap(), Duration::from_secs(900));
        let c =
            config(json!({"host": "https://b.local:8443/", "username": "u", "syncInterval": "5s"}))
                .unwrap();
        assert_eq!(c.base_url("u").unwrap(), "https://b.local:8443/api/u/");
        assert_eq!(c.sync_interval().unwrap(), Duration::from_secs(5));
        let c = config(json!({"host": "h", "username": "../x"})).unwrap();
        assert!(
            c.base_url("../x")
                .unwrap_err()
                .to_string()
                .contains("app key")
        );
        let c = config(json!({"host": "h"})).unwrap();
        assert_eq!(c.configured_username(), None);
        assert_eq!(c.pairing_interval().unwrap(), Duration::from_secs(5));
        let c = config(json!({"host": "h", "username": " ", "pairingInterval": "1ms"})).unwrap();
        assert_eq!(c.configured_username(), None);
        assert!(c.pairing_interval().is_err());
        let c = config(json!({"host": "h", "username": "u", "syncInterval": "soon"})).unwrap();
        assert!(c.sync_interval().is_err());
        let e = config(json!({"host": "h", "username": "u", "hots": 1})).unwrap_err();
        assert!(e.to_string().contains("hots"), "{e}");
    }
}
