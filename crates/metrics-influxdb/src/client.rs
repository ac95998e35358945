//! HTTP to InfluxDB: writes (line protocol) and queries (InfluxQL JSON, Flux annotated CSV).

use reqwest::StatusCode;
use std::time::Duration;
use switchyard_core::metrics::MetricError;
use switchyard_metrics::{InfluxConfig, InfluxVersion};

/// Why a write did not land.
#[derive(Debug)]
pub enum WriteFailure {
    /// The server is unreachable or failing (5xx, 404 database missing, timeouts): keep the points
    /// and try again.
    Retry(String),
    /// The server refused the points themselves (4xx): retrying would fail the same way.
    Rejected(String),
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: InfluxConfig,
    base: String,
}

impl Client {
    pub fn new(config: &InfluxConfig, timeout: Duration) -> Result<Self, MetricError> {
        // reqwest is built without a default crypto provider; ring is ours. Installing twice is
        // harmless (the first one stays).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| MetricError::Backend(format!("influxdb client: {e}")))?;
        Ok(Client {
            http,
            config: config.clone(),
            base: config.url.trim_end_matches('/').to_string(),
        })
    }

    pub fn version(&self) -> InfluxVersion {
        self.config.version
    }

    /// `<url><path>?k=v&…`, percent-encoded.
    fn url(&self, path: &str, params: &[(&str, &str)]) -> Result<reqwest::Url, String> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| format!("influxdb url `{}`: {e}", self.base))?;
        {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in params {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn v1_auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.config.username.is_empty() {
            req
        } else {
            req.basic_auth(&self.config.username, Some(&self.config.password))
        }
    }

    fn v2_auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.header("Authorization", format!("Token {}", self.config.token))
    }

    pub async fn write(&self, body: String) -> Result<(), WriteFailure> {
        let req = match self.config.version {
            InfluxVersion::V1 => {
                let mut query = vec![("db", self.config.database.as_str()), ("precision", "ns")];
                if !self.config.retention_policy.is_empty() {
                    query.push(("rp", self.config.retention_policy.as_str()));
                }
                let url = self.url("/write", &query).map_err(WriteFailure::Rejected)?;
                self.v1_auth(self.http.post(url))
            }
            InfluxVersion::V2 => {
                let params = [
                    ("org", self.config.org.as_str()),
                    ("bucket", self.config.bucket.as_str()),
                    ("precision", "ns"),
                ];
                let url = self
                    .url("/api/v2/write", &params)
                    .map_err(WriteFailure::Rejected)?;
                self.v2_auth(self.http.post(url))
            }
        };
        let resp = req
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(|e| WriteFailure::Retry(e.to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        let msg = format!("{status}: {}", text.trim());
        if status.is_server_error()
            || status == StatusCode::NOT_FOUND
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
        {
            Err(WriteFailure::Retry(msg))
        } else {
            Err(WriteFailure::Rejected(msg))
        }
    }

    /// Runs InfluxQL on `/query` (v1) and returns the JSON answer.
    pub async fn influxql(
        &self,
        q: &str,
        method_post: bool,
    ) -> Result<serde_json::Value, MetricError> {
        let params = [
            ("db", self.config.database.as_str()),
            ("q", q),
            ("epoch", "ns"),
        ];
        let url = self.url("/query", &params).map_err(MetricError::Backend)?;
        // Statements that change the server (CREATE DATABASE) must be POSTed.
        let req = if method_post {
            self.http.post(url)
        } else {
            self.http.get(url)
        };
        let resp = self
            .v1_auth(req)
            .send()
            .await
            .map_err(|e| MetricError::Backend(format!("influxdb query: {e}")))?;
        let status = resp.status();
        let body: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| MetricError::Backend(format!("influxdb query answer ({status}): {e}")))?;
        if let Some(err) = body.get("error").and_then(|e| e.as_str()) {
            return Err(MetricError::Backend(format!("influxdb: {err}")));
        }
        if let Some(err) = body.pointer("/results/0/error").and_then(|e| e.as_str()) {
            return Err(MetricError::Backend(format!("influxdb: {err}")));
        }
        Ok(body)
    }

    /// Runs Flux on `/api/v2/query` (v2) and returns the annotated CSV.
    pub async fn flux(&self, q: &str) -> Result<String, MetricError> {
        let body = serde_json::json!({
            "query": q,
            "type": "flux",
            "dialect": {"header": true, "annotations": ["datatype", "group", "default"]},
        });
        let resp = self
            .v2_auth(
                self.http.post(
                    self.url("/api/v2/query", &[("org", self.config.org.as_str())])
                        .map_err(MetricError::Backend)?,
                ),
            )
            .header("Accept", "application/csv")
            .json(&body)
            .send()
            .await
            .map_err(|e| MetricError::Backend(format!("influxdb query: {e}")))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| MetricError::Backend(format!("influxdb query answer: {e}")))?;
        if !status.is_success() {
            return Err(MetricError::Backend(format!(
                "influxdb query: {status}: {}",
                text.trim()
            )));
        }
        Ok(text)
    }
}
