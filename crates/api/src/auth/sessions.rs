//! Login sessions: random bearer tokens held in memory, each with an expiry. A restart logs
//! everyone out. The table is bounded: at the bound, expired sessions are swept and then the
//! oldest one is dropped.

use chrono::{DateTime, Duration, Utc};
use parking_lot::RwLock;
use std::collections::HashMap;

/// Most sessions held at once.
pub const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user_id: String,
    pub username: String,
    pub roles: Vec<String>,
    pub created: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    /// The service token exchanged for this session at login; revoking it ends the session.
    pub service_token_id: Option<String>,
}

pub struct Sessions {
    ttl: Duration,
    table: RwLock<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(ttl: Duration) -> Self {
        Sessions {
            ttl,
            table: RwLock::new(HashMap::new()),
        }
    }

    /// Opens a session and returns its token (256 random bits, hex).
    pub fn open(&self, user_id: &str, username: &str, roles: Vec<String>) -> (String, Session) {
        self.open_until(user_id, username, roles, None, None)
    }

    /// Like [`Sessions::open`], for a service token exchanged at login: ending no later than
    /// `not_after` (the token's expiry) and with the token.
    pub fn open_until(
        &self,
        user_id: &str,
        username: &str,
        roles: Vec<String>,
        not_after: Option<DateTime<Utc>>,
        service_token_id: Option<&str>,
    ) -> (String, Session) {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Utc::now();
        let session = Session {
            user_id: user_id.to_string(),
            username: username.to_string(),
            roles,
            created: now,
            expires: not_after.map_or(now + self.ttl, |n| n.min(now + self.ttl)),
            service_token_id: service_token_id.map(str::to_string),
        };
        let mut table = self.table.write();
        if table.len() >= MAX_SESSIONS {
            table.retain(|_, s| s.expires > now);
            if table.len() >= MAX_SESSIONS
                && let Some(oldest) = table
                    .iter()
                    .min_by_key(|(_, s)| s.created)
                    .map(|(t, _)| t.clone())
            {
                table.remove(&oldest);
            }
        }
        table.insert(token.clone(), session.clone());
        (token, session)
    }

    /// The live session of `token`, if any.
    pub fn get(&self, token: &str) -> Option<Session> {
        let session = self.table.read().get(token).cloned()?;
        if session.expires <= Utc::now() {
            self.table.write().remove(token);
            return None;
        }
        Some(session)
    }

    pub fn close(&self, token: &str) -> bool {
        self.table.write().remove(token).is_some()
    }

    /// Ends every session of a user (deleted, password or roles changed); returns how many.
    pub fn close_user(&self, user_id: &str) -> usize {
        let mut table = self.table.write();
        let before = table.len();
        table.retain(|_, s| s.user_id != user_id);
        before - table.len()
    }

    /// Ends the sessions a service token was exchanged for.
    pub fn close_service_token(&self, token_id: &str) -> usize {
        let mut table = self.table.write();
        let before = table.len();
        table.retain(|_, s| s.service_token_id.as_deref() != Some(token_id));
        before - table.len()
    }

    /// Keeps only the sessions `keep` approves of.
    pub fn retain(&self, mut keep: impl FnMut(&Session) -> bool) {
        self.table.write().retain(|_, s| keep(s));
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_open_expire_and_close() {
        let s = Sessions::new(Duration::hours(1));
        let (t, _) = s.open("u1", "admin", vec![]);
        assert_eq!(t.len(), 64);
        assert_eq!(s.get(&t).unwrap().user_id, "u1");
        assert!(s.get("nope").is_none());
        assert!(s.close(&t));
        assert!(s.get(&t).is_none());
        let (a, _) = s.open("u2", "op", vec![]);
        let (b, _) = s.open("u2", "op", vec![]);
        let (c, _) = s.open("u3", "x", vec![]);
        assert_eq!(s.close_user("u2"), 2);
        assert!(s.get(&a).is_none() && s.get(&b).is_none() && s.get(&c).is_some());
        let expired = Sessions::new(Duration::seconds(-1));
        let (t, _) = expired.open("u1", "admin", vec![]);
        assert!(expired.get(&t).is_none());
    }
}
