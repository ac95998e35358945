//! `webhook`: an HTTP request per parameter.
//!
//! Spec (defaults for every parameter): `url` (or `server` + `api`), `method`, `headers`,
//! `queryParameters`, `responseCode`, `insecure`, `timeout`, `allowOverwrite` (default true: a
//! parameter may replace the url and method). Parameter `{type: webhook, url|server+api, method,
//! headers, queryParameters, data, responseCode}`; headers and query parameters are merged over
//! the spec's. A non-GET request without `data` sends all variables as JSON.

use crate::error::AutomationError;
use crate::handler::plugin::get;
use crate::handler::{HandlerPlugin, Param};
use crate::variables::{check_status, http_request};
use async_trait::async_trait;
use serde_json::{Map, Value};

pub struct Webhook {
    spec: Map<String, Value>,
    allow_overwrite: bool,
}

impl Webhook {
    pub fn build(spec: &Map<String, Value>) -> Result<Self, AutomationError> {
        let allow_overwrite = get(spec, "allowOverwrite")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        Ok(Webhook {
            spec: spec.clone(),
            allow_overwrite,
        })
    }

    fn merged(&self, param: &Param) -> Map<String, Value> {
        let mut m = self.spec.clone();
        for (k, v) in &param.fields {
            match (k.as_str(), m.get_mut(k)) {
                ("headers" | "queryParameters", Some(Value::Object(base))) => {
                    if let Value::Object(add) = v {
                        base.extend(add.clone());
                    }
                }
                ("url" | "server" | "api" | "method", Some(_)) if !self.allow_overwrite => {}
                _ => {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        m
    }
}

#[async_trait]
impl HandlerPlugin for Webhook {
    fn accepts(&self, kind: &str) -> bool {
        kind == "webhook"
    }

    async fn post(
        &mut self,
        param: &Param,
        vars: &Map<String, Value>,
    ) -> Result<(), AutomationError> {
        let spec = self.merged(param);
        let mut req = http_request(&spec).map_err(AutomationError::Http)?;
        let is_get = req.method.is_empty() || req.method.eq_ignore_ascii_case("get");
        if req.body.is_null() && !is_get {
            req.body = Value::Object(vars.clone());
        }
        let resp = switchyard_script::http::send(&req, None)
            .await
            .map_err(AutomationError::Http)?;
        check_status(&spec, resp.status_code)
            .map_err(|e| AutomationError::Http(format!("{}: {e}", req.url)))
    }
}
