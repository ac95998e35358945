//! HTTP client for providers that poll or call a device's REST API (Hue bridge, generic HTTP).

use super::tls;
use crate::error::TransportError;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Largest response body read; a larger one is an error rather than a memory hazard.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// `protocol: {type: http, url: "https://bridge.local/api", headers: {…}, insecure: false}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpConfig {
    /// Base URL; request paths are resolved against it.
    pub url: String,
    /// Headers sent with every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Basic authentication, when `username` is set.
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    /// Accept any server certificate (self-signed devices).
    #[serde(default)]
    pub insecure: bool,
    /// Whole-request timeout (default `30s`).
    #[serde(default)]
    pub timeout: Option<String>,
}

/// A response, its body read up to [`MAX_RESPONSE_BYTES`].
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base: url::Url,
    username: String,
    password: String,
}

fn config_err(reason: impl Into<String>) -> TransportError {
    TransportError::Config {
        transport: "http",
        reason: reason.into(),
    }
}

impl HttpClient {
    pub fn new(config: &HttpConfig) -> Result<HttpClient, TransportError> {
        Self::with_tls(config, None)
    }

    /// Like [`HttpClient::new`], with a rustls config of the caller's instead of the platform's
    /// roots (a device pinned by its certificate's fingerprint).
    pub fn with_tls(
        config: &HttpConfig,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<HttpClient, TransportError> {
        tls::install_crypto_provider();
        let mut base = url::Url::parse(config.url.trim())
            .map_err(|e| config_err(format!("`url` {:?}: {e}", config.url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(config_err(format!("`url` {:?} is not http(s)", config.url)));
        }
        // So that `lights` resolves to `<base>/lights`, not a sibling of the last segment.
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let mut headers = HeaderMap::new();
        for (k, v) in &config.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|e| config_err(format!("header {k:?}: {e}")))?;
            let value =
                HeaderValue::from_str(v).map_err(|e| config_err(format!("header {k:?}: {e}")))?;
            headers.insert(name, value);
        }
        let timeout =
            super::duration_setting("http", "timeout", &config.timeout, Duration::from_secs(30))?;
        let builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(timeout)
            .tcp_nodelay(true);
        let builder = match tls {
            Some(tls) => builder.tls_backend_preconfigured(tls),
            None => builder.tls_danger_accept_invalid_certs(config.insecure),
        };
        let client = builder.build().map_err(|e| config_err(e.to_string()))?;
        Ok(HttpClient {
            client,
            base,
            username: config.username.clone(),
            password: config.password.clone(),
        })
    }

    /// `path` resolved against the base URL (an absolute URL stays as it is).
    pub fn url(&self, path: &str) -> Result<url::Url, TransportError> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| TransportError::Http(format!("path {path:?}: {e}")))
    }

    /// Sends a request, with a JSON body when given, and reads the response.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        json: Option<&serde_json::Value>,
    ) -> Result<HttpResponse, TransportError> {
        let url = self.url(path)?;
        let mut req = self.client.request(method, url.clone());
        if !self.username.is_empty() {
            req = req.basic_auth(&self.username, Some(&self.password));
        }
        if let Some(body) = json {
            req = req.json(body);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| TransportError::Http(format!("{url}: {e}")))?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| TransportError::Http(format!("{url}: {e}")))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(TransportError::Http(format!(
                    "{url}: response larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            body: Bytes::from(body),
        })
    }

    pub async fn get(&self, path: &str) -> Result<HttpResponse, TransportError> {
        self.request(reqwest::Method::GET, path, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(v: serde_json::Value) -> HttpConfig {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn paths_resolve_under_the_base() {
        let c = HttpClient::new(&config(json!({"url": "http://bridge.local/api/user"}))).unwrap();
        assert_eq!(
            c.url("lights/1").unwrap().as_str(),
            "http://bridge.local/api/user/lights/1"
        );
        assert_eq!(
            c.url("/lights").unwrap().as_str(),
            "http://bridge.local/api/user/lights"
        );
        assert!(HttpClient::new(&config(json!({"url": "ftp://x"}))).is_err());
        assert!(
            HttpClient::new(&config(
                json!({"url": "http://x", "headers": {"bad header": "v"}})
            ))
            .is_err()
        );
    }

    /// A real server on loopback: headers and basic auth arrive, the body comes back.
    #[tokio::test]
    async fn talks_to_a_real_server() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; 4096];
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                req.extend_from_slice(&buf[..n]);
            }
            let body = b"{\"ok\":true}";
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).await.unwrap();
            s.write_all(body).await.unwrap();
            String::from_utf8(req).unwrap()
        });
        let client = HttpClient::new(&config(json!({
            "url": format!("http://{addr}/api"),
            "headers": {"X-Token": "t1"},
            "username": "u", "password": "p"
        })))
        .unwrap();
        let resp = client.get("status").await.unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(&resp.body[..], b"{\"ok\":true}");
        let req = server.await.unwrap().to_ascii_lowercase();
        assert!(req.starts_with("get /api/status http/1.1"), "{req}");
        assert!(req.contains("x-token: t1"), "{req}");
        assert!(req.contains("authorization: basic dtpw"), "{req}");
    }
}
