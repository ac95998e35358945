//! `telegram`: the Bot API's `sendMessage`.
//!
//! Spec: `token`, `chatIds` (defaults), `baseUrl` (default `https://api.telegram.org`, for a
//! local Bot API server), `timeout`. Parameter: `{type: telegram, chatIds, parseMode (Text,
//! Markdown, MarkdownV2, HTML), text}`.

use crate::error::AutomationError;
use crate::handler::plugin::{list, text};
use crate::handler::{HandlerPlugin, Param};
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use switchyard_script::HttpRequest;

pub struct Telegram {
    base_url: String,
    token: String,
    chat_ids: Vec<String>,
    timeout: String,
}

impl Telegram {
    pub fn build(spec: &Map<String, Value>) -> Result<Self, AutomationError> {
        let token = text(spec, "token");
        if token.trim().is_empty() {
            return Err(AutomationError::config("telegram: spec.token is required"));
        }
        let base_url = match text(spec, "baseUrl") {
            b if b.trim().is_empty() => "https://api.telegram.org".to_string(),
            b => b.trim().trim_end_matches('/').to_string(),
        };
        Ok(Telegram {
            base_url,
            token: token.trim().to_string(),
            chat_ids: list(spec, "chatIds"),
            timeout: text(spec, "timeout"),
        })
    }
}

#[async_trait]
impl HandlerPlugin for Telegram {
    fn accepts(&self, kind: &str) -> bool {
        kind == "telegram"
    }

    async fn post(
        &mut self,
        param: &Param,
        _vars: &Map<String, Value>,
    ) -> Result<(), AutomationError> {
        let mut chats = list(&param.fields, "chatIds");
        if chats.is_empty() {
            chats = self.chat_ids.clone();
        }
        if chats.is_empty() {
            return Err(AutomationError::Handler("telegram: no chat ids".into()));
        }
        let mode = param.text("parseMode");
        let mut errors = Vec::new();
        for chat in chats {
            let mut body = json!({"chat_id": chat, "text": param.text("text")});
            if !mode.is_empty() && !mode.eq_ignore_ascii_case("text") {
                body["parse_mode"] = Value::String(mode.clone());
            }
            let req = HttpRequest {
                method: "POST".into(),
                url: format!("{}/bot{}/sendMessage", self.base_url, self.token),
                body,
                timeout: self.timeout.clone(),
                ..Default::default()
            };
            // The token is part of the URL: never let it into an error message.
            let result = switchyard_script::http::send(&req, None)
                .await
                .map_err(|e| e.replace(&self.token, "<token>"))
                .and_then(|resp| {
                    let answer = resp.json();
                    if answer.get("ok") == Some(&Value::Bool(true)) {
                        Ok(())
                    } else {
                        Err(format!(
                            "answered {}: {}",
                            resp.status_code,
                            answer
                                .get("description")
                                .and_then(Value::as_str)
                                .unwrap_or("no description")
                        ))
                    }
                });
            if let Err(e) = result {
                errors.push(format!("chat {chat}: {e}"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AutomationError::Handler(format!(
                "telegram: {}",
                errors.join("; ")
            )))
        }
    }
}
