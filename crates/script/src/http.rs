//! The one HTTP client of scripts, webhook variables, webhook evaluation and webhook handlers:
//! reqwest over rustls (ring), with a timeout on every request and a bound on answer size.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Largest answer body read; more is an error rather than unbounded memory.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Used when a request names no timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub query_parameters: BTreeMap<String, serde_json::Value>,
    /// Sent as is when a string, as JSON otherwise; nothing when null.
    pub body: serde_json::Value,
    /// A duration such as `5s`; [`DEFAULT_TIMEOUT`] when empty.
    pub timeout: String,
    /// Accept any TLS certificate (self-signed devices on the LAN).
    pub insecure: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl HttpResponse {
    /// The body as JSON, or as a JSON string when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| serde_json::Value::String(self.body.clone()))
    }
}

/// One client per trust mode, built once: connection pools are shared by every caller.
fn client(insecure: bool) -> Result<reqwest::Client, String> {
    static CLIENTS: std::sync::OnceLock<Result<[reqwest::Client; 2], String>> =
        std::sync::OnceLock::new();
    let clients = CLIENTS.get_or_init(|| {
        crate::ensure_tls_provider();
        let build = |insecure: bool| {
            reqwest::Client::builder()
                .connect_timeout(DEFAULT_TIMEOUT)
                .tls_danger_accept_invalid_certs(insecure)
                .build()
                .map_err(|e| format!("http client: {e}"))
        };
        Ok([build(false)?, build(true)?])
    });
    match clients {
        Ok(c) => Ok(c[usize::from(insecure)].clone()),
        Err(e) => Err(e.clone()),
    }
}

/// Sends `req`, waiting at most its timeout (capped by `cap`) for the whole answer.
pub async fn send(req: &HttpRequest, cap: Option<Duration>) -> Result<HttpResponse, String> {
    let mut timeout = if req.timeout.trim().is_empty() {
        DEFAULT_TIMEOUT
    } else {
        switchyard_core::value::parse_std_duration(&req.timeout).map_err(|e| e.to_string())?
    };
    if let Some(cap) = cap {
        timeout = timeout.min(cap);
    }
    let method = if req.method.trim().is_empty() {
        reqwest::Method::GET
    } else {
        reqwest::Method::from_bytes(req.method.trim().to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("unknown HTTP method `{}`", req.method))?
    };
    let url = reqwest::Url::parse(req.url.trim()).map_err(|e| format!("url `{}`: {e}", req.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("url `{url}`: only http and https are allowed"));
    }
    let mut builder = client(req.insecure)?.request(method, url.clone());
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    if !req.query_parameters.is_empty() {
        let pairs: Vec<(String, String)> = req
            .query_parameters
            .iter()
            .map(|(k, v)| (k.clone(), switchyard_core::value::to_payload_string(v)))
            .collect();
        builder = builder.query(&pairs);
    }
    builder = match &req.body {
        serde_json::Value::Null => builder,
        serde_json::Value::String(s) => builder.body(s.clone()),
        other => builder.json(other),
    };
    let exchange = async {
        let mut resp = builder.send().await.map_err(|e| describe(&e))?;
        let status_code = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(format!("answer larger than {MAX_RESPONSE_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status_code,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r.map_err(|e| format!("{url}: {e}")),
        Err(_) => Err(format!("{url}: no answer within {timeout:?}")),
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}
