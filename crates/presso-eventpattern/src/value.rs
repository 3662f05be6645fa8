//! Conditions on a single leaf value of an event: the entries of a pattern's value arrays.
//!
//! A leaf value is a JSON string, number, boolean or null. Conditions never look at objects, and
//! arrays are taken apart before a condition sees them (see `tree`). Everything here is decided with
//! the value borrowed from the event; nothing allocates.

use serde_json::{Number, Value};

use crate::ip::{Ip, IpRange, parse_ip};
use crate::number::{Range, micros_of, same_number};
use crate::wildcard::Wildcard;

/// One entry of a pattern's value array, other than `exists` (which is about the field, not a value).
#[derive(Debug, Clone)]
pub(crate) enum Condition {
    /// `"text"` (or `{"exactly": "text"}`). When the text is an address literal, any spelling of the
    /// same address matches.
    String {
        text: Box<str>,
        ip: Option<Ip>,
    },
    /// A bare number: numerically equal within the comparable range, otherwise the same number.
    Number {
        number: Number,
        micros: Option<i64>,
    },
    Bool(bool),
    Null,
    Prefix(Box<str>),
    /// Stored lower-cased.
    PrefixIgnoreCase(Box<str>),
    Suffix(Box<str>),
    /// Stored lower-cased.
    SuffixIgnoreCase(Box<str>),
    /// Stored lower-cased.
    EqualsIgnoreCase(Box<str>),
    Wildcard(Wildcard),
    Numeric(Range),
    Cidr(IpRange),
    /// Matches any present value the inner test does not accept.
    AnythingBut(AnythingBut),
}

/// The values an `anything-but` excludes.
#[derive(Debug, Clone)]
pub(crate) enum AnythingBut {
    Strings(Box<[Box<str>]>),
    Numbers(Box<[i64]>),
    /// Stored lower-cased.
    IgnoreCase(Box<[Box<str>]>),
    Prefixes(Box<[Box<str>]>),
    Suffixes(Box<[Box<str>]>),
    Wildcards(Box<[Wildcard]>),
}

impl Condition {
    pub(crate) fn matches(&self, value: &Value) -> bool {
        match self {
            Condition::String { text, ip } => match value {
                Value::String(s) => {
                    **text == **s || ip.is_some_and(|want| parse_ip(s) == Some(want))
                }
                _ => false,
            },
            Condition::Number { number, micros } => match value {
                Value::Number(n) => same_number(number, *micros, n),
                _ => false,
            },
            Condition::Bool(b) => value.as_bool() == Some(*b),
            Condition::Null => value.is_null(),
            Condition::Prefix(p) => value.as_str().is_some_and(|s| s.starts_with(&**p)),
            Condition::PrefixIgnoreCase(p) => value
                .as_str()
                .is_some_and(|s| starts_with_ignore_case(s, p)),
            Condition::Suffix(p) => value.as_str().is_some_and(|s| s.ends_with(&**p)),
            Condition::SuffixIgnoreCase(p) => {
                value.as_str().is_some_and(|s| ends_with_ignore_case(s, p))
            }
            Condition::EqualsIgnoreCase(p) => {
                value.as_str().is_some_and(|s| equals_ignore_case(s, p))
            }
            Condition::Wildcard(w) => value.as_str().is_some_and(|s| w.matches(s)),
            Condition::Numeric(range) => match value {
                Value::Number(n) => micros_of(n).is_some_and(|m| range.contains(m)),
                _ => false,
            },
            Condition::Cidr(range) => value
                .as_str()
                .and_then(parse_ip)
                .is_some_and(|ip| range.contains(ip)),
            Condition::AnythingBut(excluded) => !excluded.excludes(value),
        }
    }
}

impl AnythingBut {
    /// Whether the value is one of the excluded ones. Values of another type than the excluded ones
    /// are never excluded: `anything-but "x"` matches the number 5, as it does on EventBridge.
    fn excludes(&self, value: &Value) -> bool {
        match self {
            AnythingBut::Strings(list) => value
                .as_str()
                .is_some_and(|s| list.iter().any(|x| **x == *s)),
            AnythingBut::Numbers(list) => match value {
                Value::Number(n) => micros_of(n).is_some_and(|m| list.contains(&m)),
                _ => false,
            },
            AnythingBut::IgnoreCase(list) => value
                .as_str()
                .is_some_and(|s| list.iter().any(|x| equals_ignore_case(s, x))),
            AnythingBut::Prefixes(list) => value
                .as_str()
                .is_some_and(|s| list.iter().any(|x| s.starts_with(&**x))),
            AnythingBut::Suffixes(list) => value
                .as_str()
                .is_some_and(|s| list.iter().any(|x| s.ends_with(&**x))),
            AnythingBut::Wildcards(list) => value
                .as_str()
                .is_some_and(|s| list.iter().any(|w| w.matches(s))),
        }
    }
}

/// Lower-cases pattern text once, at compile time, so matching only folds the event's side.
pub(crate) fn fold(text: &str) -> Box<str> {
    text.chars()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .into_boxed_str()
}

fn equals_ignore_case(value: &str, folded: &str) -> bool {
    if value.is_ascii() && folded.is_ascii() {
        return value.eq_ignore_ascii_case(folded);
    }
    value
        .chars()
        .flat_map(char::to_lowercase)
        .eq(folded.chars())
}

fn starts_with_ignore_case(value: &str, folded: &str) -> bool {
    if value.is_ascii() && folded.is_ascii() {
        return value.len() >= folded.len()
            && value.as_bytes()[..folded.len()].eq_ignore_ascii_case(folded.as_bytes());
    }
    let mut chars = value.chars().flat_map(char::to_lowercase);
    folded.chars().all(|want| chars.next() == Some(want))
}

fn ends_with_ignore_case(value: &str, folded: &str) -> bool {
    if value.is_ascii() && folded.is_ascii() {
        let start = value.len().wrapping_sub(folded.len());
        return value.len() >= folded.len()
            && value.as_bytes()[start..].eq_ignore_ascii_case(folded.as_bytes());
    }
    let mut chars = value.chars().rev().flat_map(|c| c.to_lowercase().rev());
    folded.chars().rev().all(|want| chars.next() == Some(want))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_folding_handles_non_ascii_text() {
        assert!(equals_ignore_case("ÉCLAIR", &fold("éclair")));
        assert!(starts_with_ignore_case("ÄPFEL und Birnen", &fold("äpfel")));
        assert!(ends_with_ignore_case("grüße AUS KÖLN", &fold("köln")));
        assert!(!ends_with_ignore_case("n", &fold("köln")));
    }

    #[test]
    fn ascii_case_folding_respects_lengths() {
        assert!(starts_with_ignore_case("EventBridge", "eventb"));
        assert!(!starts_with_ignore_case("Ev", "eventb"));
        assert!(ends_with_ignore_case("photo.PNG", ".png"));
        assert!(!ends_with_ignore_case("png", ".png"));
    }
}
