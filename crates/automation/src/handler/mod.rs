//! The handler service: receives `handler.notify`, renders each parameter against the
//! notification's variables, hands it to the handler's plugin, and records success or the error
//! on the handler's `state`. Each handler runs in its own task with a bounded queue and a
//! per-delivery timeout: a hanging webhook delays only its own handler.

pub mod handlers;
mod plugin;
mod service;

pub use plugin::{HandlerPlugin, Param};
pub use service::HandlerService;
