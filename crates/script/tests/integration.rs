//! The script crate's integration tests: the JavaScript sandbox and the templates.

mod js;
mod templates;
