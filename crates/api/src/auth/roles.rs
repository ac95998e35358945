//! Who may do what. Each route declares the [`Access`] it needs; a user's roles give theirs.
//! `admin` may do everything, `operator` reads everything, runs actions and edits automation
//! (tasks, schedules, handlers, forward payloads, dashboards, data repositories), `viewer` reads.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// No login needed (status, login).
    Open,
    /// Any logged-in user, whatever their roles (profile, logout).
    Authenticated,
    Viewer,
    Operator,
    Admin,
}

pub const ROLES: [&str; 3] = ["admin", "operator", "viewer"];

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Open => "open",
            Access::Authenticated => "authenticated",
            Access::Viewer => "viewer",
            Access::Operator => "operator",
            Access::Admin => "admin",
        }
    }

    /// The highest access any of `roles` grants; unknown role names grant nothing.
    pub fn of_roles<S: AsRef<str>>(roles: &[S]) -> Access {
        roles
            .iter()
            .filter_map(|r| match r.as_ref() {
                "admin" => Some(Access::Admin),
                "operator" => Some(Access::Operator),
                "viewer" => Some(Access::Viewer),
                _ => None,
            })
            .max()
            .unwrap_or(Access::Authenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_role_wins_and_unknown_roles_grant_nothing() {
        assert_eq!(Access::of_roles(&["viewer", "admin"]), Access::Admin);
        assert_eq!(Access::of_roles(&["operator"]), Access::Operator);
        assert_eq!(Access::of_roles(&["root"]), Access::Authenticated);
        assert_eq!(Access::of_roles::<&str>(&[]), Access::Authenticated);
        assert!(Access::Operator >= Access::Viewer && Access::Viewer < Access::Admin);
    }
}
