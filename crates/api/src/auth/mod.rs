//! Who may call the API: users with argon2-hashed passwords, and sessions handed out at login.

mod bootstrap;
mod middleware;
mod password;
mod sessions;

pub use bootstrap::{ADMIN_PASSWORD_FILE, ensure_admin};
pub use middleware::{CurrentUser, require_session};
pub use password::{hash_password, verify_password};
pub use sessions::{Session, Sessions};
