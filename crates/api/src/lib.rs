//! The HTTP API. Every route answers JSON; errors have one shape, `{code, message, details}`.
//! Only `/api/status` and `/api/user/login` answer without a session.

pub mod auth;
pub mod error;
mod routes;
mod state;

pub use routes::router;
pub use state::{ApiState, StatusSource};
