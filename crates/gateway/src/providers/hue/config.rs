//! `provider: {type: philips_hue, host, username, syncInterval, insecure, timeout}`: the factory
//! of the running provider.

use super::parse;
use super::provider::{Bridge, HueProvider, run_inbound};
use crate::context::ProviderContext;
use crate::error::GatewayError;
use crate::provider::{Provider, ProviderConfig, RunningProvider};
use crate::transport::http::{HttpClient, HttpConfig};
use async_trait::async_trait;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhilipsHueConfig {
    /// The bridge: `192.168.1.7`, `bridge.local:8080`, or a whole base URL (`http://…`).
    pub host: String,
    /// The whitelisted user (the app key the bridge handed out when its link button was pressed).
    pub username: String,
    /// How often lights and sensors are read (default `15m`, as in MyController).
    #[serde(default)]
    pub sync_interval: Option<String>,
    /// Accepted for MyController configs; like MyController, `syncInterval` is used instead.
    #[serde(default)]
    pub bridge_sync_interval: Option<String>,
    /// Accept any certificate when `host` is an `https://` URL.
    #[serde(default)]
    pub insecure: bool,
    /// Whole-request timeout (default `30s`).
    #[serde(default)]
    pub timeout: Option<String>,
}

impl PhilipsHueConfig {
    fn base_url(&self) -> Result<String, GatewayError> {
        let host = self.host.trim().trim_end_matches('/');
        let user = self.username.trim();
        if host.is_empty() {
            return Err(GatewayError::Config("philips_hue: `host` is empty".into()));
        }
        if user.is_empty() || !user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(GatewayError::Config(
                "philips_hue: `username` must be the bridge's app key (letters, digits, -); \
                 press the bridge's link button and POST /api {\"devicetype\": …} to get one"
                    .into(),
            ));
        }
        let base = if host.contains("://") {
            host.to_string()
        } else {
            format!("http://{host}")
        };
        Ok(format!("{base}/api/{user}/"))
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
        let interval = self.sync_interval()?;
        let client = HttpClient::new(&HttpConfig {
            url: self.base_url()?,
            headers: Default::default(),
            username: String::new(),
            password: String::new(),
            insecure: self.insecure,
            timeout: self.timeout.clone(),
        })?;
        let bridge = Arc::new(Bridge { client, ctx });
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
        let outbound = Arc::new(HueProvider {
            bridge: bridge.clone(),
        });
        Ok(RunningProvider {
            outbound: outbound as Arc<dyn Provider>,
            inbound: Box::pin(run_inbound(bridge, interval)),
        })
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
        assert_eq!(c.base_url().unwrap(), "http://192.168.1.7/api/abc-1/");
        assert_eq!(c.sync_interval().unwrap(), Duration::from_secs(900));
        let c =
            config(json!({"host": "https://b.local:8443/", "username": "u", "syncInterval": "5s"}))
                .unwrap();
        assert_eq!(c.base_url().unwrap(), "https://b.local:8443/api/u/");
        assert_eq!(c.sync_interval().unwrap(), Duration::from_secs(5));
        let c = config(json!({"host": "h", "username": "../x"})).unwrap();
        assert!(c.base_url().unwrap_err().to_string().contains("app key"));
        let c = config(json!({"host": "h", "username": "u", "syncInterval": "soon"})).unwrap();
        assert!(c.sync_interval().is_err());
        let e = config(json!({"host": "h", "username": "u", "hots": 1})).unwrap_err();
        assert!(e.to_string().contains("hots"), "{e}");
    }
}
