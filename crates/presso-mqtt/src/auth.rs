//! The authorisation hook: who may connect, and which topics they may subscribe to.
//!
//! The broker asks the [`Authorizer`] once per CONNECT and once per requested filter. It never
//! asks about wildcard, `$`-prefixed or shared filters (it refuses those itself, see
//! [`broker_refuses_filter`]), and never about client publications, which are always refused.
//! Implementations must be quick and must not block: they run on the session's task.

use crate::codec::ConnectReturnCode;

/// The identity a session runs as, decided by the [`Authorizer`] at CONNECT.
///
/// `sub` is `None` for an anonymous client (no or an empty password).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    pub sub: Option<String>,
    pub groups: Vec<String>,
}

impl Principal {
    /// The principal of a client that presented no credentials.
    pub fn anonymous() -> Principal {
        Principal::default()
    }

    pub fn is_anonymous(&self) -> bool {
        self.sub.is_none()
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// Why a CONNECT is refused; each maps to its CONNACK return code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectRefused {
    /// CONNACK 2.
    #[error("client identifier rejected")]
    IdentifierRejected,
    /// CONNACK 3.
    #[error("server unavailable")]
    ServerUnavailable,
    /// CONNACK 4.
    #[error("bad user name or password")]
    BadUsernameOrPassword,
    /// CONNACK 5: what an invalid or expired token gets.
    #[error("not authorized")]
    NotAuthorized,
}

impl ConnectRefused {
    pub fn return_code(self) -> ConnectReturnCode {
        match self {
            ConnectRefused::IdentifierRejected => ConnectReturnCode::IdentifierRejected,
            ConnectRefused::ServerUnavailable => ConnectReturnCode::ServerUnavailable,
            ConnectRefused::BadUsernameOrPassword => ConnectReturnCode::BadUsernameOrPassword,
            ConnectRefused::NotAuthorized => ConnectReturnCode::NotAuthorized,
        }
    }
}

/// Decides who may connect and what each session may subscribe to.
pub trait Authorizer: Send + Sync {
    /// Checks a CONNECT's credentials. `password` is `None` when the client sent none or an empty
    /// one; such clients are anonymous, and an implementation typically lets them in with
    /// [`Principal::anonymous`] and public topics only.
    fn connect(
        &self,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<Principal, ConnectRefused>;

    /// Whether `principal` may subscribe to the exact topic `filter` (never a wildcard).
    fn may_subscribe(&self, principal: &Principal, filter: &str) -> bool;
}

/// Whether the broker refuses a filter before the authorizer sees it: wildcards (`#`, `+`),
/// `$`-prefixed topics (`$SYS`, `$aws`, shared `$share/...`) and anything over 256 bytes.
///
/// The broker delivers to exact topics only, so a wildcard would either leak other users' topics
/// or match nothing; refusing it keeps the ACL one exact-match table.
pub fn broker_refuses_filter(filter: &str) -> bool {
    filter.is_empty()
        || filter.len() > 256
        || filter.starts_with('$')
        || filter.contains(['#', '+'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_dollar_and_shared_filters_are_refused_by_the_broker() {
        for (filter, refused) in [
            ("serverlesspresso-config-default", false),
            ("serverlesspresso-user-1234", false),
            ("a/b/c", false),
            ("#", true),
            ("serverlesspresso-user-+", true),
            ("a/+/c", true),
            ("a/#", true),
            ("$SYS/broker", true),
            ("$share/group/serverlesspresso-admin-default", true),
            ("$aws/things/x", true),
            ("", true),
        ] {
            assert_eq!(broker_refuses_filter(filter), refused, "{filter:?}");
        }
        assert!(broker_refuses_filter(&"a".repeat(257)));
    }
}
