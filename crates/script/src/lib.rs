//! User code that tasks, schedules, handlers and gateways run: sandboxed JavaScript (QuickJS) and
//! minijinja templates. Both see resources with their JSON (camelCase) field names, exactly as the
//! API shows them.
//!
//! The JavaScript sandbox has no file, process or network access of its own; what a script may do
//! beyond computing is what [`js`] gives it: hashes, encodings and an HTTP client with a timeout.
//! Every run has a memory limit and a time limit, and at most a configured number run at once.

pub mod error;
pub mod http;
pub mod js;
pub mod sun;
pub mod template;

pub use error::{ScriptError, TemplateError};
pub use http::{HttpRequest, HttpResponse};
pub use js::{ScriptEngine, ScriptLimits};
pub use template::Templates;

/// Installs ring as rustls' process-wide crypto provider, once. Every TLS user calls this first:
/// if two providers were compiled in, rustls could not pick one by itself.
pub fn ensure_tls_provider() {
    let _ = rustls_provider::install();
}

mod rustls_provider {
    pub fn install() -> Result<(), ()> {
        rustls::crypto::ring::default_provider()
            .install_default()
            .map_err(|_| ())
    }
}
