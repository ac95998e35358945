//! The generic provider's HTTP calls: polled endpoints, their `preRun`/`postRun` calls, and the
//! requests a set turns into. Unlike the shared [`crate::transport::http::HttpClient`] (a REST
//! API with fixed headers), each call here has its own headers and query parameters, and the
//! cookies a `preRun` login answers with are carried to the calls after it.

use crate::error::TransportError;
use crate::transport::http::{HttpConfig, MAX_RESPONSE_BYTES};
use reqwest::header::{COOKIE, HeaderName, HeaderValue, SET_COOKIE};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// Most cookies kept from one poll's `preRun` answers; more are ignored (a login sets a few).
pub const MAX_COOKIES: usize = 32;

/// One configured HTTP call (an endpoint's request, a `preRun`/`postRun` entry, a node's request).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Call {
    /// Path under `protocol.url`, or a whole URL.
    pub url: String,
    /// `GET` (default), `POST`, `PUT` …
    #[serde(default)]
    pub method: Option<String>,
    /// Added to `protocol.headers` (and win over them).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub query_parameters: BTreeMap<String, String>,
    /// Text is sent as it is, anything else as JSON.
    #[serde(default)]
    pub body: Option<Value>,
    /// The status that counts as success; default any 2xx.
    #[serde(default)]
    pub response_code: Option<u16>,
}

impl Call {
    pub fn method(&self) -> Result<reqwest::Method, String> {
        let m = self.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        reqwest::Method::from_bytes(m.as_bytes()).map_err(|e| format!("method {m:?}: {e}"))
    }

    /// Whether the call can be made as configured (its method and headers).
    pub fn check(&self) -> Result<(), String> {
        self.method()?;
        for (k, v) in &self.headers {
            header(k, v)?;
        }
        Ok(())
    }

    /// Whether `status` is what this call expects.
    pub fn succeeded(&self, status: u16) -> bool {
        match self.response_code {
            Some(code) => status == code,
            None => (200..300).contains(&status),
        }
    }
}

/// An answer, its body read up to [`MAX_RESPONSE_BYTES`].
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// `name=value` of each `Set-Cookie`.
    pub cookies: Vec<(String, String)>,
}

impl Answer {
    /// What a script sees of a `preRun` answer: `{statusCode, body}` (JSON when it parses).
    pub fn to_script(&self) -> Value {
        json!({"statusCode": self.status, "body": super::mapping::data_in(&self.body)})
    }
}

/// Cookies carried from a poll's `preRun` answers to its endpoint call and `postRun` calls.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CookieJar(BTreeMap<String, String>);

impl CookieJar {
    /// Keeps the answer's cookies (a later one of the same name replaces the earlier); beyond
    /// [`MAX_COOKIES`] new names are ignored.
    pub fn keep(&mut self, cookies: &[(String, String)]) {
        for (k, v) in cookies {
            if self.0.len() < MAX_COOKIES || self.0.contains_key(k) {
                self.0.insert(k.clone(), v.clone());
            }
        }
    }

    /// The `Cookie` header's value, or `None` when empty.
    pub fn header(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| {
            self.0
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

/// `name=value` of a `Set-Cookie` header value (its attributes after `;` are not needed to send
/// it back within one poll).
pub fn set_cookie(header: &str) -> Option<(String, String)> {
    let pair = header.split(';').next()?;
    let (name, value) = pair.split_once('=')?;
    let name = name.trim();
    (!name.is_empty()).then(|| (name.to_string(), value.trim().to_string()))
}

#[derive(Clone)]
pub struct GenericHttp {
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

impl GenericHttp {
    pub fn new(config: &HttpConfig) -> Result<GenericHttp, TransportError> {
        crate::transport::install_crypto_provider();
        let mut base = url::Url::parse(config.url.trim())
            .map_err(|e| config_err(format!("`url` {:?}: {e}", config.url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(config_err(format!("`url` {:?} is not http(s)", config.url)));
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &config.headers {
            let (name, value) = header(k, v).map_err(config_err)?;
            headers.insert(name, value);
        }
        let timeout = match &config.timeout {
            None => Duration::from_secs(30),
            Some(s) => switchyard_core::value::parse_std_duration(s)
                .map_err(|e| config_err(format!("`timeout`: {e}")))?,
        };
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(timeout)
            // A login answering `302` with its cookie must be seen as it is, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .tls_danger_accept_invalid_certs(config.insecure)
            .build()
            .map_err(|e| config_err(e.to_string()))?;
        Ok(GenericHttp {
            client,
            base,
            username: config.username.clone(),
            password: config.password.clone(),
        })
    }

    pub fn url(&self, path: &str) -> Result<url::Url, String> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| format!("url {path:?}: {e}"))
    }

    /// Makes the call with the jar's cookies. `Err(Http)` when the server cannot be reached or
    /// the answer cannot be read; `Err(Send)` for a call that cannot be made as configured.
    pub async fn call(&self, call: &Call, jar: &CookieJar) -> Result<Answer, TransportError> {
        let url = self.url(&call.url).map_err(TransportError::Send)?;
        let method = call.method().map_err(TransportError::Send)?;
        let mut req = self.client.request(method, url.clone());
        if !call.query_parameters.is_empty() {
            req = req.query(&call.query_parameters);
        }
        if !self.username.is_empty() {
            req = req.basic_auth(&self.username, Some(&self.password));
        }
        for (k, v) in &call.headers {
            let (name, value) = header(k, v).map_err(TransportError::Send)?;
            req = req.header(name, value);
        }
        if let Some(cookies) = jar.header() {
            req = req.header(COOKIE, cookies);
        }
        req = match &call.body {
            None => req,
            Some(Value::String(text)) => req.body(text.clone()),
            Some(other) => req.json(other),
        };
        let mut resp = req
            .send()
            .await
            .map_err(|e| TransportError::Http(format!("{url}: {e}")))?;
        let status = resp.status().as_u16();
        let cookies = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().and_then(set_cookie))
            .collect();
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
        Ok(Answer {
            status,
            body,
            cookies,
        })
    }
}

fn header(k: &str, v: &str) -> Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("header {k:?}: {e}"))?;
    let value = HeaderValue::from_str(v).map_err(|e| format!("header {k:?}: {e}"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookies_become_one_cookie_header() {
        assert_eq!(
            set_cookie("sid=abc123; Path=/; HttpOnly"),
            Some(("sid".into(), "abc123".into()))
        );
        assert_eq!(set_cookie("=x"), None);
        assert_eq!(set_cookie("novalue"), None);
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        jar.keep(&[("sid".into(), "1".into()), ("lang".into(), "en".into())]);
        jar.keep(&[("sid".into(), "2".into())]);
        assert_eq!(jar.header().as_deref(), Some("lang=en; sid=2"));
        let many: Vec<_> = (0..100)
            .map(|i| (format!("c{i}"), "v".to_string()))
            .collect();
        jar.keep(&many);
        assert_eq!(jar.0.len(), MAX_COOKIES);
    }

    #[test]
    fn calls_expect_2xx_or_their_response_code() {
        let call = Call::default();
        assert!(call.succeeded(204) && !call.succeeded(302));
        let login = Call {
            response_code: Some(302),
            ..Call::default()
        };
        assert!(login.succeeded(302) && !login.succeeded(200));
        assert_eq!(call.method().unwrap(), reqwest::Method::GET);
        let bad = Call {
            method: Some("NO T".into()),
            ..Call::default()
        };
        assert!(bad.method().is_err());
    }
}
