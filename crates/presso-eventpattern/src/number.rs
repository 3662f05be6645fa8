//! Numbers as EventBridge compares them: within ±5.0e9, to six digits after the decimal point.
//!
//! EventBridge does not compare numbers as doubles: it turns every number in range into a fixed-point
//! form with six decimal places and compares those, so `301.8`, `3.018e2` and `301.8000001` are the
//! same number while `5e10` takes part in no numeric comparison at all. We keep the same model as a
//! count of millionths in an `i64`, which makes every comparison an integer comparison.

use serde_json::Number;

/// The largest magnitude a number may have to take part in numeric matching.
pub(crate) const LIMIT: f64 = 5.0e9;

/// The message EventBridge gives when a pattern uses a number outside the range.
pub(crate) const OUT_OF_RANGE: &str = "Value must be between -5.0E9 and 5.0E9, inclusive";

/// A number in millionths, or `None` when it lies outside the comparable range.
pub(crate) fn micros(value: f64) -> Option<i64> {
    if !value.is_finite() || !(-LIMIT..=LIMIT).contains(&value) {
        return None;
    }
    // |value| <= 5e9, so |value * 1e6| <= 5e15 < 2^53: the product is exact to the unit and the cast cannot
    // saturate.
    Some((value * 1e6).round() as i64)
}

/// The comparable form of a JSON number, if it has one.
pub(crate) fn micros_of(number: &Number) -> Option<i64> {
    number.as_f64().and_then(micros)
}

/// Equality of two JSON numbers as EventBridge's exact matching sees it: numerically equal when both
/// are in the comparable range, otherwise equal only when they are the very same number (which lets an
/// exact match on a twelve-digit account number work).
pub(crate) fn same_number(pattern: &Number, pattern_micros: Option<i64>, event: &Number) -> bool {
    if let (Some(p), Some(e)) = (pattern_micros, micros_of(event)) {
        return p == e;
    }
    if let (Some(p), Some(e)) = (pattern.as_i64(), event.as_i64()) {
        return p == e;
    }
    if let (Some(p), Some(e)) = (pattern.as_u64(), event.as_u64()) {
        return p == e;
    }
    match (pattern.as_f64(), event.as_f64()) {
        (Some(p), Some(e)) => p == e,
        _ => false,
    }
}

/// One end of a numeric range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    pub(crate) micros: i64,
    pub(crate) inclusive: bool,
}

/// A numeric condition: `=`, `<`, `<=`, `>`, `>=` or a two-sided range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) lower: Option<Bound>,
    pub(crate) upper: Option<Bound>,
}

impl Range {
    pub(crate) fn contains(&self, value: i64) -> bool {
        let above = match self.lower {
            None => true,
            Some(b) if b.inclusive => value >= b.micros,
            Some(b) => value > b.micros,
        };
        let below = match self.upper {
            None => true,
            Some(b) if b.inclusive => value <= b.micros,
            Some(b) => value < b.micros,
        };
        above && below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_numbers_in_different_notation_have_the_same_comparable_form() {
        assert_eq!(micros(301.8), micros(3.018e2));
        assert_eq!(micros(0.1), Some(100_000));
        assert_eq!(micros(-0.1), Some(-100_000));
    }

    #[test]
    fn numbers_beyond_five_billion_have_no_comparable_form() {
        assert_eq!(micros(5.0e9), Some(5_000_000_000_000_000));
        assert_eq!(micros(5.000_001e9), None);
        assert_eq!(micros(f64::NAN), None);
    }

    #[test]
    fn large_integers_still_match_exactly_outside_the_range() {
        let account = Number::from(123_456_789_012_u64);
        assert!(same_number(
            &account,
            None,
            &Number::from(123_456_789_012_u64)
        ));
        assert!(!same_number(
            &account,
            None,
            &Number::from(123_456_789_013_u64)
        ));
    }
}
