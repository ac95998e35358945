//! Who may call the API: users with argon2-hashed passwords, login sessions, service tokens,
//! roles, and a limit on failed logins.

mod bootstrap;
mod middleware;
mod password;
mod rate_limit;
mod roles;
pub mod service_token;
mod sessions;

pub use bootstrap::{ADMIN_PASSWORD_FILE, ensure_admin};
pub use middleware::{
    CurrentUser, Gate, authenticate, authorize, check_service_token, query_token,
};
pub use password::{hash_password, is_foreign_hash, verify_password};
pub use rate_limit::LoginLimiter;
pub use roles::{Access, ROLES};
pub use sessions::{Session, Sessions};
