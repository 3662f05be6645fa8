//! MQTT topics the backend publishes to.
//!
//! Three families, named as in the reference: `serverlesspresso-admin-<eventId>` (everything
//! about an event's orders, for displays and baristas), `serverlesspresso-user-<sub>` (one
//! customer's orders) and `serverlesspresso-config-<eventId>` (store state and menu, public).
//! Topic names never contain `/`, `+`, `#` or `$`: the ids inside them cannot.

use crate::ids::{EventId, UserId};
use std::fmt;

pub const TOPIC_PREFIX: &str = "serverlesspresso-";
pub const ADMIN_PREFIX: &str = "serverlesspresso-admin-";
pub const USER_PREFIX: &str = "serverlesspresso-user-";
pub const CONFIG_PREFIX: &str = "serverlesspresso-config-";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    Admin(EventId),
    User(UserId),
    Config(EventId),
}

impl Topic {
    pub fn name(&self) -> String {
        match self {
            Self::Admin(e) => format!("{ADMIN_PREFIX}{e}"),
            Self::User(u) => format!("{USER_PREFIX}{u}"),
            Self::Config(e) => format!("{CONFIG_PREFIX}{e}"),
        }
    }

    /// Reads a topic name back; `None` for anything that is not exactly one of ours.
    pub fn parse(name: &str) -> Option<Self> {
        if let Some(rest) = name.strip_prefix(ADMIN_PREFIX) {
            return EventId::parse(rest).ok().map(Self::Admin);
        }
        if let Some(rest) = name.strip_prefix(USER_PREFIX) {
            return UserId::parse(rest).ok().map(Self::User);
        }
        if let Some(rest) = name.strip_prefix(CONFIG_PREFIX) {
            return EventId::parse(rest).ok().map(Self::Config);
        }
        None
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_round_trip() {
        for t in [
            Topic::Admin(EventId::parse("re-invent").unwrap()),
            Topic::User(UserId::parse("9f1c-22").unwrap()),
            Topic::Config(EventId::parse("default").unwrap()),
        ] {
            assert_eq!(Topic::parse(&t.name()), Some(t));
        }
    }

    #[test]
    fn an_event_id_with_dashes_stays_whole() {
        let t = Topic::parse("serverlesspresso-config-aws-summit-2026").unwrap();
        assert_eq!(t, Topic::Config(EventId::parse("aws-summit-2026").unwrap()));
    }

    #[test]
    fn foreign_names_are_not_topics() {
        for n in [
            "serverlesspresso-admin",
            "serverlesspresso-admin-",
            "serverlesspresso-admin-a/b",
            "other-admin-x",
            "serverlesspresso-user-#",
        ] {
            assert_eq!(Topic::parse(n), None, "{n}");
        }
    }
}
