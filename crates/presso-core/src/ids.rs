//! Identifiers: newtypes with parse constructors, so a value that exists is a valid one.
//!
//! Every identifier that reaches a table key, an MQTT topic or an event detail goes through
//! `parse` first. The charset is deliberately narrow (`A-Z a-z 0-9 _ -`): such values can sit
//! inside a DynamoDB key, a topic name and a URL without escaping, and can never smuggle an
//! MQTT wildcard (`+`, `#`), a topic separator (`/`) or a `$` into a topic.
//! Nothing here reads a clock or a random source: generators take the host's randomness.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} is {len} characters long; at most {max} are allowed")]
    TooLong {
        kind: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{kind} must be exactly {expected} characters long, got {len}")]
    WrongLength {
        kind: &'static str,
        len: usize,
        expected: usize,
    },
    #[error("{kind} contains {found:?}; only letters, digits, '_' and '-' are allowed")]
    BadCharacter { kind: &'static str, found: char },
    #[error("{kind} must be a positive whole number, got {found:?}")]
    NotAPositiveNumber { kind: &'static str, found: String },
}

/// The 64 characters of the URL-safe alphabet nanoid uses; 64 is a power of two, so a random
/// byte masked to 6 bits picks a character without bias.
pub const URL_SAFE_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn check_charset(kind: &'static str, s: &str, max: usize) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty { kind });
    }
    let len = s.chars().count();
    if len > max {
        return Err(IdError::TooLong { kind, len, max });
    }
    match s.chars().find(|c| !is_id_char(*c)) {
        Some(found) => Err(IdError::BadCharacter { kind, found }),
        None => Ok(()),
    }
}

/// Builds a random identifier of `len` characters from the URL-safe alphabet.
pub(crate) fn random_string(rng: &impl crate::ports::Randomness, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| URL_SAFE_ALPHABET[usize::from(b & 63)] as char)
        .collect()
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal, max = $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The longest value accepted.
            pub const MAX_LEN: usize = $max;

            /// Parses a value, refusing empty, over-long and out-of-charset input.
            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check_charset($kind, &s, $max)?;
                Ok(Self(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// For identifiers written in this crate's source: a literal that is known valid.
            #[allow(dead_code)]
            pub(crate) fn from_const(s: &str) -> Self {
                debug_assert!(check_charset($kind, s, $max).is_ok(), "{s}");
                Self(s.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id!(
    /// An event (a pop-up coffee bar at one venue): every key, event, topic and call carries one.
    EventId, "eventId", max = 64
);
string_id!(
    /// An order: 21 URL-safe characters when generated here; robots and tools may use a UUID.
    OrderId, "orderId", max = 64
);
string_id!(
    /// A user: the Cognito `sub` claim (a UUID on AWS and locally), or `robot`.
    UserId, "userId", max = 128
);
string_id!(
    /// A drink on a menu (`americano`).
    DrinkId, "drink id", max = 64
);
string_id!(
    /// A modifier group of a drink (`milk`).
    ModifierId, "modifier id", max = 64
);
string_id!(
    /// An option of a modifier group (`oat`). The same option id means the same thing in every
    /// group of a menu, so marking `oat` sold out takes it off every drink.
    OptionId, "option id", max = 64
);

impl EventId {
    /// The event seeded on first start, with the reference's menu.
    pub fn default_event() -> Self {
        Self::from_const("default")
    }
}

impl OrderId {
    /// Length of a generated order id (nanoid's default).
    pub const GENERATED_LEN: usize = 21;

    /// A fresh order id from the host's randomness.
    pub fn generate(rng: &impl crate::ports::Randomness) -> Self {
        Self(random_string(rng, Self::GENERATED_LEN))
    }
}

/// The code a QR shows: exactly [`QrToken::LEN`] characters of the URL-safe alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QrToken(String);

impl QrToken {
    pub const LEN: usize = 10;

    pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        check_charset("token", &s, Self::LEN)?;
        let len = s.chars().count();
        if len != Self::LEN {
            return Err(IdError::WrongLength {
                kind: "token",
                len,
                expected: Self::LEN,
            });
        }
        Ok(Self(s))
    }

    pub fn generate(rng: &impl crate::ports::Randomness) -> Self {
        Self(random_string(rng, Self::LEN))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QrToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for QrToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for QrToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A Step Functions task token. Opaque; it must never leave the backend (see
/// [`crate::events::MqttMessage`], which strips it). `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TaskToken(String);

impl TaskToken {
    /// Step Functions' documented bound on task token length.
    pub const MAX_LEN: usize = 1024;

    pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
        let s = s.into();
        if s.is_empty() {
            return Err(IdError::Empty { kind: "TaskToken" });
        }
        let len = s.len();
        if len > Self::MAX_LEN {
            return Err(IdError::TooLong {
                kind: "TaskToken",
                len,
                max: Self::MAX_LEN,
            });
        }
        if let Some(found) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
            return Err(IdError::BadCharacter {
                kind: "TaskToken",
                found,
            });
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TaskToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskToken(<{} chars>)", self.0.len())
    }
}

impl Serialize for TaskToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TaskToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The human-readable number a customer listens for, allocated per event from 1.
///
/// Serialised as a JSON number; also read from a numeric string, because a workflow that takes it
/// from DynamoDB's `N` attribute (`$.Attributes.IDvalue.N`) passes it on as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderNumber(u64);

impl OrderNumber {
    pub fn new(n: u64) -> Result<Self, IdError> {
        if n == 0 {
            return Err(IdError::NotAPositiveNumber {
                kind: "orderNumber",
                found: "0".to_owned(),
            });
        }
        Ok(Self(n))
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bad = || IdError::NotAPositiveNumber {
            kind: "orderNumber",
            found: s.chars().take(32).collect(),
        };
        let n: u64 = s.trim().parse().map_err(|_| bad())?;
        Self::new(n).map_err(|_| bad())
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for OrderNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for OrderNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Self::new(n).map_err(serde::de::Error::custom),
            Raw::Text(s) => Self::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// The customer's name as shown on the display: the `given_name` claim, trimmed, at most
/// [`DisplayName::MAX_CHARS`] characters, without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 64;

    /// Cleans a claim into a display name; `None` when nothing printable is left.
    pub fn from_claim(raw: &str) -> Option<Self> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .trim()
            .chars()
            .take(Self::MAX_CHARS)
            .collect();
        if cleaned.is_empty() {
            None
        } else {
            Some(Self(cleaned))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SeqRandomness;

    #[test]
    fn event_ids_accept_letters_digits_dash_and_underscore() {
        for ok in ["default", "ABC", "re-invent_2026", "a"] {
            assert!(EventId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn event_ids_refuse_topic_and_key_metacharacters() {
        for bad in ["a/b", "a+b", "a#b", "$SYS", "a b", "é", "a.b"] {
            assert!(
                matches!(EventId::parse(bad), Err(IdError::BadCharacter { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn empty_and_overlong_ids_are_refused_with_their_reason() {
        assert_eq!(EventId::parse(""), Err(IdError::Empty { kind: "eventId" }));
        let long = "a".repeat(65);
        assert!(matches!(
            EventId::parse(long),
            Err(IdError::TooLong {
                len: 65,
                max: 64,
                ..
            })
        ));
    }

    #[test]
    fn generated_order_ids_are_21_url_safe_characters_and_parse_back() {
        let rng = SeqRandomness::new(7);
        let id = OrderId::generate(&rng);
        assert_eq!(id.as_str().len(), 21);
        assert_eq!(OrderId::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn qr_tokens_must_be_exactly_ten_characters() {
        assert!(QrToken::parse("abcdefghij").is_ok());
        assert!(matches!(
            QrToken::parse("abc"),
            Err(IdError::WrongLength { len: 3, .. })
        ));
        assert!(QrToken::parse("abcdefghijk").is_err());
        assert!(QrToken::parse("abcdefghi/").is_err());
    }

    #[test]
    fn order_numbers_read_numbers_and_numeric_strings_but_not_zero() {
        let n: OrderNumber = serde_json::from_str("12").unwrap();
        assert_eq!(n.get(), 12);
        let s: OrderNumber = serde_json::from_str("\"112\"").unwrap();
        assert_eq!(s.get(), 112);
        assert!(serde_json::from_str::<OrderNumber>("0").is_err());
        assert!(serde_json::from_str::<OrderNumber>("\"x\"").is_err());
        assert_eq!(serde_json::to_string(&s).unwrap(), "112");
    }

    #[test]
    fn task_tokens_are_not_printed_by_debug() {
        let t = TaskToken::parse("AAAAKgAAAAIAAAAAAAAAA-secret").unwrap();
        assert!(!format!("{t:?}").contains("secret"));
    }

    #[test]
    fn display_names_are_trimmed_cleaned_and_bounded() {
        assert_eq!(
            DisplayName::from_claim("  Ana\u{7}  ").map(|d| d.as_str().to_owned()),
            Some("Ana".to_owned())
        );
        assert_eq!(DisplayName::from_claim("   "), None);
        let long = "x".repeat(200);
        assert_eq!(
            DisplayName::from_claim(&long).map(|d| d.as_str().len()),
            Some(64)
        );
    }
}
