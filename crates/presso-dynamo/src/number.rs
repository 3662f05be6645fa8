//! DynamoDB's number type: up to 38 significant digits, magnitudes from 1E-130 to
//! 9.99…E+125, exact decimal arithmetic, and a canonical text form.
//!
//! Numbers travel as strings; DynamoDB trims leading and trailing zeros and answers in plain
//! notation, so `"1.50"` comes back as `"1.5"` and `"1E+3"` as `"1000"`. This module owns that
//! canonical form, numeric ordering (for conditions and sort keys) and `+`/`-`. It must never
//! round silently: a result that needs more than 38 digits is an error, as in DynamoDB.

use std::cmp::Ordering;

/// Why a string is not a DynamoDB number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("A value provided cannot be converted into a number")]
    NotANumber,
    #[error("Attempting to store more than 38 significant digits in a Number")]
    TooPrecise,
    #[error(
        "Number overflow. Attempting to store a number with magnitude larger than supported range"
    )]
    Overflow,
    #[error(
        "Number underflow. Attempting to store a number with magnitude smaller than supported range"
    )]
    Underflow,
}

/// A parsed number: `(-1)^neg × 0.d1d2…dn × 10^exp`, with `digits` free of leading and
/// trailing zeros (empty for zero, which is never negative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    neg: bool,
    digits: Vec<u8>,
    exp: i32,
}

const MAX_DIGITS: usize = 38;

impl Number {
    /// Parses DynamoDB's number syntax: optional sign, digits with an optional point, optional
    /// exponent. Whitespace, `NaN` and `Infinity` are refused.
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&c) = bytes.first()
            && (c == b'-' || c == b'+')
        {
            neg = c == b'-';
            i = 1;
        }
        let mut digits: Vec<u8> = Vec::with_capacity(bytes.len());
        let mut int_len: i64 = 0;
        let mut seen_point = false;
        let mut any_digit = false;
        while i < bytes.len() {
            let c = bytes[i];
            if c.is_ascii_digit() {
                any_digit = true;
                if digits.is_empty() && c == b'0' {
                    // Leading zeros only move the point.
                    if seen_point {
                        int_len -= 1;
                    }
                } else {
                    digits.push(c - b'0');
                    if !seen_point {
                        int_len += 1;
                    }
                }
            } else if c == b'.' && !seen_point {
                seen_point = true;
            } else {
                break;
            }
            i += 1;
        }
        if !any_digit {
            return Err(NumberError::NotANumber);
        }
        let mut exp10: i64 = 0;
        if i < bytes.len() {
            if bytes[i] != b'e' && bytes[i] != b'E' {
                return Err(NumberError::NotANumber);
            }
            i += 1;
            let mut eneg = false;
            if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
                eneg = bytes[i] == b'-';
                i += 1;
            }
            if i >= bytes.len() {
                return Err(NumberError::NotANumber);
            }
            while i < bytes.len() {
                let c = bytes[i];
                if !c.is_ascii_digit() {
                    return Err(NumberError::NotANumber);
                }
                // Saturate: anything this large is out of range anyway.
                exp10 = (exp10 * 10 + i64::from(c - b'0')).min(1_000_000_000);
                i += 1;
            }
            if eneg {
                exp10 = -exp10;
            }
        }
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooPrecise);
        }
        let exp = int_len + exp10;
        Number::checked(neg, digits, exp)
    }

    fn checked(neg: bool, digits: Vec<u8>, exp: i64) -> Result<Number, NumberError> {
        // The leading digit sits at 10^(exp-1); DynamoDB allows 1E-130 ..< 1E+126.
        if exp - 1 > 125 {
            return Err(NumberError::Overflow);
        }
        if exp - 1 < -130 {
            return Err(NumberError::Underflow);
        }
        Ok(Number {
            neg,
            digits,
            exp: exp as i32,
        })
    }

    pub fn zero() -> Number {
        Number {
            neg: false,
            digits: Vec::new(),
            exp: 0,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The canonical text DynamoDB answers with (plain notation, no redundant zeros).
    pub fn to_canonical(&self) -> String {
        if self.digits.is_empty() {
            return "0".to_string();
        }
        let mut out = String::with_capacity(self.digits.len() + 4);
        if self.neg {
            out.push('-');
        }
        let n = self.digits.len() as i64;
        let p = i64::from(self.exp);
        let push_digits = |out: &mut String, ds: &[u8]| {
            for d in ds {
                out.push(char::from(b'0' + d));
            }
        };
        if p >= n {
            push_digits(&mut out, &self.digits);
            for _ in 0..(p - n) {
                out.push('0');
            }
        } else if p > 0 {
            push_digits(&mut out, &self.digits[..p as usize]);
            out.push('.');
            push_digits(&mut out, &self.digits[p as usize..]);
        } else {
            out.push_str("0.");
            for _ in 0..(-p) {
                out.push('0');
            }
            push_digits(&mut out, &self.digits);
        }
        out
    }

    /// Canonicalises a number given as text.
    pub fn canonical(text: &str) -> Result<String, NumberError> {
        Ok(Number::parse(text)?.to_canonical())
    }

    /// A byte string whose bytewise order is the numeric order (used for sort keys).
    pub fn sort_key(&self, out: &mut Vec<u8>) {
        if self.digits.is_empty() {
            out.push(0x80);
            return;
        }
        // Bias the exponent into an unsigned 16-bit field.
        let e = (self.exp + 1000) as u16;
        if self.neg {
            out.push(0x7F);
            out.extend_from_slice(&(!e).to_be_bytes());
            out.extend(self.digits.iter().map(|d| !(d + 1)));
            out.push(0xFF);
        } else {
            out.push(0x81);
            out.extend_from_slice(&e.to_be_bytes());
            out.extend(self.digits.iter().map(|d| d + 1));
            out.push(0x00);
        }
    }

    /// Significant digits, for item-size accounting.
    pub fn significant_digits(&self) -> usize {
        self.digits.len()
    }

    fn to_big(&self) -> bigdecimal::BigDecimal {
        use bigdecimal::num_bigint::BigInt;
        if self.digits.is_empty() {
            return bigdecimal::BigDecimal::from(0);
        }
        let mut mag = BigInt::from(0u8);
        for d in &self.digits {
            mag = mag * 10u8 + *d;
        }
        let mag = if self.neg { -mag } else { mag };
        // value = digits × 10^(exp - n)  ⇒ scale = n - exp
        let scale = self.digits.len() as i64 - i64::from(self.exp);
        bigdecimal::BigDecimal::new(mag, scale)
    }

    fn from_big(value: &bigdecimal::BigDecimal) -> Result<Number, NumberError> {
        let (mag, scale) = value.as_bigint_and_exponent();
        let text = mag.to_string();
        let (neg, ds) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.as_str()),
        };
        let mut digits: Vec<u8> = ds.bytes().map(|b| b - b'0').collect();
        let n = digits.len() as i64;
        while digits.first() == Some(&0) {
            digits.remove(0);
        }
        let lead_removed = n - digits.len() as i64;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        if digits.is_empty() {
            return Ok(Number::zero());
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooPrecise);
        }
        // value = mag × 10^-scale; mag has (n - lead_removed) digits.
        let exp = (n - lead_removed) - scale;
        Number::checked(neg, digits, exp)
    }

    pub fn add(&self, other: &Number) -> Result<Number, NumberError> {
        Number::from_big(&(self.to_big() + other.to_big()))
    }

    pub fn sub(&self, other: &Number) -> Result<Number, NumberError> {
        Number::from_big(&(self.to_big() - other.to_big()))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Number| {
            if n.digits.is_empty() {
                0
            } else if n.neg {
                -1
            } else {
                1
            }
        };
        let (a, b) = (sign(self), sign(other));
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let mag = self
            .exp
            .cmp(&other.exp)
            .then_with(|| self.digits.cmp(&other.digits));
        if a < 0 { mag.reverse() } else { mag }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_answered_in_canonical_plain_form() {
        let cases = [
            ("1.50", "1.5"),
            ("01", "1"),
            ("-0", "0"),
            ("0.000", "0"),
            ("1E+3", "1000"),
            ("1e-3", "0.001"),
            ("-12.3400e1", "-123.4"),
            (".5", "0.5"),
            ("5.", "5"),
            ("+7", "7"),
            (
                "123456789012345678901234567890123456780000",
                "123456789012345678901234567890123456780000",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Number::canonical(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn malformed_or_out_of_range_numbers_are_refused() {
        let cases = [
            ("", NumberError::NotANumber),
            ("abc", NumberError::NotANumber),
            ("1e", NumberError::NotANumber),
            (" 1", NumberError::NotANumber),
            ("NaN", NumberError::NotANumber),
            ("1.2.3", NumberError::NotANumber),
            (
                "123456789012345678901234567890123456789",
                NumberError::TooPrecise,
            ),
            ("1E126", NumberError::Overflow),
            ("1E-131", NumberError::Underflow),
        ];
        for (input, want) in cases {
            assert_eq!(Number::parse(input), Err(want), "{input}");
        }
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(Number::parse("1E-130").is_ok());
    }

    #[test]
    fn sort_keys_order_like_numbers() {
        let values = [
            "-1e100", "-1000", "-10.5", "-10", "-1", "-0.5", "-0.05", "0", "0.001", "0.5", "1",
            "1.5", "10", "10.01", "99", "100", "1e100",
        ];
        let keys: Vec<Vec<u8>> = values
            .iter()
            .map(|v| {
                let mut out = Vec::new();
                Number::parse(v).unwrap().sort_key(&mut out);
                out
            })
            .collect();
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        for pair in values.windows(2) {
            assert!(Number::parse(pair[0]).unwrap() < Number::parse(pair[1]).unwrap());
        }
    }

    #[test]
    fn arithmetic_is_exact_up_to_38_digits() {
        let a = Number::parse("0.1").unwrap();
        let b = Number::parse("0.2").unwrap();
        assert_eq!(a.add(&b).unwrap().to_canonical(), "0.3");
        let big = Number::parse("99999999999999999999999999999999999999").unwrap();
        assert_eq!(
            big.add(&Number::parse("1").unwrap())
                .unwrap()
                .to_canonical(),
            "100000000000000000000000000000000000000"
        );
        assert_eq!(
            big.add(&Number::parse("0.1").unwrap()),
            Err(NumberError::TooPrecise)
        );
        assert_eq!(a.sub(&a).unwrap().to_canonical(), "0");
        assert_eq!(
            Number::parse("5")
                .unwrap()
                .sub(&Number::parse("7.25").unwrap())
                .unwrap()
                .to_canonical(),
            "-2.25"
        );
    }
}
