//! `email`: SMTP through lettre (rustls with ring).
//!
//! Spec: `host`, `port` (default 587 for `starttls`, 465 for `tls`, 25 for `none`), `security`
//! (`starttls` default, `tls` for implicit TLS, `none`), `username`, `password` (authenticated
//! when a username is given; PLAIN or LOGIN as the server offers), `fromEmail`, `toEmails`
//! (array or `"a@x,b@y"`), `insecure` (accept any certificate), `timeout`.
//! Parameter: `{type: email, from, to, subject, body}`; empty fields take the spec's.

use crate::error::AutomationError;
use crate::handler::plugin::{get, list, text};
use crate::handler::{HandlerPlugin, Param};
use async_trait::async_trait;
use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::{Map, Value};

pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: String,
    to: Vec<String>,
}

fn cfg(msg: impl Into<String>) -> AutomationError {
    AutomationError::config(format!("email: {}", msg.into()))
}

impl Email {
    pub fn build(spec: &Map<String, Value>) -> Result<Self, AutomationError> {
        switchyard_script::ensure_tls_provider();
        let host = text(spec, "host");
        if host.trim().is_empty() {
            return Err(cfg("spec.host is required"));
        }
        let security = text(spec, "security").to_ascii_lowercase();
        let security = if security.is_empty() {
            "starttls".to_string()
        } else {
            security
        };
        let insecure = get(spec, "insecure")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let tls_params = || {
            TlsParameters::builder(host.clone())
                .dangerous_accept_invalid_certs(insecure)
                .build_rustls()
                .map_err(|e| cfg(format!("TLS: {e}")))
        };
        let (tls, default_port) = match security.as_str() {
            "starttls" => (Tls::Required(tls_params()?), 587),
            "tls" | "ssl" => (Tls::Wrapper(tls_params()?), 465),
            "none" => (Tls::None, 25),
            other => {
                return Err(cfg(format!(
                    "security `{other}`: expected starttls, tls or none"
                )));
            }
        };
        let port = match get(spec, "port") {
            None | Some(Value::Null) => default_port,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| cfg(format!("port `{v}` is not a port number")))?,
        };
        let timeout = match text(spec, "timeout") {
            t if t.trim().is_empty() => std::time::Duration::from_secs(20),
            t => switchyard_core::value::parse_std_duration(&t)?,
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.trim())
            .port(port)
            .tls(tls)
            .timeout(Some(timeout));
        let user = text(spec, "username");
        if !user.is_empty() {
            b = b.credentials(Credentials::new(user, text(spec, "password")));
        }
        Ok(Email {
            transport: b.build(),
            from: text(spec, "fromEmail"),
            to: list(spec, "toEmails"),
        })
    }
}

fn mailbox(s: &str) -> Result<Mailbox, AutomationError> {
    s.trim()
        .parse()
        .map_err(|e| AutomationError::Handler(format!("email address `{s}`: {e}")))
}

#[async_trait]
impl HandlerPlugin for Email {
    fn accepts(&self, kind: &str) -> bool {
        kind == "email"
    }

    async fn post(
        &mut self,
        param: &Param,
        _vars: &Map<String, Value>,
    ) -> Result<(), AutomationError> {
        let from = match param.text("from") {
            f if f.trim().is_empty() => self.from.clone(),
            f => f,
        };
        let mut to = list(&param.fields, "to");
        if to.is_empty() {
            to = self.to.clone();
        }
        if from.trim().is_empty() || to.is_empty() {
            return Err(AutomationError::Handler(
                "email needs a sender and at least one recipient".into(),
            ));
        }
        let mut builder = Message::builder()
            .from(mailbox(&from)?)
            .subject(param.text("subject"))
            .header(ContentType::TEXT_PLAIN);
        for t in &to {
            builder = builder.to(mailbox(t)?);
        }
        let msg = builder
            .body(param.text("body"))
            .map_err(|e| AutomationError::Handler(format!("email: {e}")))?;
        self.transport
            .send(msg)
            .await
            .map_err(|e| AutomationError::Handler(format!("SMTP: {e}")))?;
        Ok(())
    }
}
