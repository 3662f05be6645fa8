//! Functions this crate supplies to the evaluator: deterministic replacements for the impure
//! built-ins (`$now`, `$millis`, `$random`, `$shuffle`) and the functions Step Functions adds to
//! JSONata (`$partition`, `$range`, `$hash`, `$random(seed)`, `$uuid`, `$parse`).
//!
//! Nothing here reads a clock or an entropy source: time and randomness come from the
//! [`Bindings`](crate::Bindings) of the evaluation, through its [`Scope`].

use std::cell::Cell;
use std::rc::Rc;
use std::sync::OnceLock;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError};
use jsonata_core::value::JValue;

use crate::convert;
use crate::error::codes;
use crate::scope::Scope;

type Outcome = Result<JValue, EvaluatorError>;

fn fail(code: &str, message: impl std::fmt::Display) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!("{code}: {message}"))
}

fn arg(args: &[JValue], i: usize) -> &JValue {
    args.get(i).unwrap_or(&JValue::Undefined)
}

fn wrong_type(name: &str, position: usize, expected: &str) -> EvaluatorError {
    fail(
        codes::ARGUMENT_TYPE,
        format!("Argument {position} of function ${name} must be {expected}"),
    )
}

fn number_arg(name: &str, args: &[JValue], i: usize) -> Result<Option<f64>, EvaluatorError> {
    match arg(args, i) {
        JValue::Undefined => Ok(None),
        JValue::Number(n) => Ok(Some(*n)),
        _ => Err(wrong_type(name, i + 1, "a number")),
    }
}

/// SplitMix64: tiny, fast, and good enough for `$random` (which is no cryptographic source in
/// jsonata-js either). The same seed always gives the same stream.
#[derive(Debug)]
pub(crate) struct SplitMix(Cell<u64>);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(Cell::new(seed))
    }

    pub(crate) fn next_u64(&self) -> u64 {
        let s = self.0.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.0.set(s);
        mix(s)
    }

    /// A float in [0, 1) with 53 random bits.
    pub(crate) fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Registers this crate's functions on an evaluator for one evaluation.
///
/// Host functions receive every argument a caller passes, including the index and array that
/// `$map`/`$filter` add (the evaluator knows no arity for them), so the functions here ignore
/// arguments beyond their own instead of rejecting them: `$map(strings, $parse)` must work.
pub(crate) fn install(ev: &mut Evaluator, scope: &Scope) -> Result<(), EvaluatorError> {
    let rng = Rc::clone(&scope.rng);
    let now = scope.now_millis;
    let sfn = scope.step_functions;

    ev.register_fn_override("millis", move |_args: &[JValue]| {
        Ok(JValue::Number(now as f64))
    })?;
    ev.register_fn_override("now", move |args: &[JValue]| now_fn(now, args))?;
    let r = Rc::clone(&rng);
    ev.register_fn_override("random", move |args: &[JValue]| random(&r, sfn, args))?;
    ev.register_fn_override("pad", pad)?;
    ev.register_fn(GUARDED_FROM_MILLIS, from_millis)?;
    ev.register_fn(GUARDED_TO_MILLIS, to_millis)?;
    ev.register_fn(GUARDED_SUBSTRING, substring)?;
    ev.register_fn_override("formatInteger", format_integer)?;
    let r = Rc::clone(&rng);
    ev.register_fn_override("shuffle", move |args: &[JValue]| shuffle(&r, args))?;

    if sfn {
        ev.register_fn_override("eval", |_args: &[JValue]| -> Outcome {
            Err(fail(
                codes::EVAL_UNSUPPORTED,
                "$eval is not supported in Step Functions; use $parse",
            ))
        })?;
        ev.register_fn("partition", partition)?;
        ev.register_fn("range", range)?;
        ev.register_fn("hash", hash)?;
        ev.register_fn("parse", parse)?;
        let r = Rc::clone(&rng);
        ev.register_fn("uuid", move |_args: &[JValue]| uuid(&r))?;
    }
    Ok(())
}

/// `$now([picture [, timezone]])`: the host's instant as ISO 8601, or formatted like
/// `$fromMillis`, whose implementation it borrows through a tiny cached expression.
fn now_fn(now: i64, args: &[JValue]) -> Outcome {
    check_date_args(now as f64, arg(args, 1))?;
    check_picture(arg(args, 0))?;
    static FORMAT: OnceLock<Option<AstNode>> = OnceLock::new();
    let args = [
        JValue::Number(now as f64),
        arg(args, 0).clone(),
        arg(args, 1).clone(),
    ];
    delegate(&FORMAT, "$fromMillis($a0, $a1, $a2)", &args)
}

/// Furthest instant JavaScript dates (and so JSONata's) reach: 100,000,000 days either side of
/// the epoch.
pub const MAX_MILLIS: f64 = 8.64e15;

/// Refuses instants and timezone offsets outside what a date can be, before the evaluator's
/// millisecond arithmetic on them could overflow.
fn check_date_args(millis: f64, timezone: &JValue) -> Result<(), EvaluatorError> {
    if millis.abs() > MAX_MILLIS {
        return Err(fail(
            codes::DATE_OUT_OF_RANGE,
            format!("{millis} milliseconds is outside the range of dates"),
        ));
    }
    if let JValue::String(tz) = timezone {
        let digits = tz
            .trim_start_matches(['+', '-'])
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if digits > 4 {
            return Err(fail(
                codes::DATE_OUT_OF_RANGE,
                format!("timezone {tz:?} is not an offset of the form ±HHMM"),
            ));
        }
    }
    Ok(())
}

/// The name `$fromMillis(...)` calls with arguments are compiled to (see
/// `expression::guard_calls`); a call without arguments reads the context and stays as it is.
pub(crate) const GUARDED_FROM_MILLIS: &str = "__presso_fromMillis";

/// `$fromMillis(number [, picture [, timezone]])`: the evaluator's own, after
/// [`check_date_args`].
fn from_millis(args: &[JValue]) -> Outcome {
    if let JValue::Number(n) = arg(args, 0) {
        check_date_args(*n, arg(args, 2))?;
    }
    check_picture(arg(args, 1))?;
    static ONE: OnceLock<Option<AstNode>> = OnceLock::new();
    static TWO: OnceLock<Option<AstNode>> = OnceLock::new();
    static THREE: OnceLock<Option<AstNode>> = OnceLock::new();
    static MORE: OnceLock<Option<AstNode>> = OnceLock::new();
    match args.len() {
        0 | 1 => delegate(&ONE, "$fromMillis($a0)", args),
        2 => delegate(&TWO, "$fromMillis($a0, $a1)", args),
        3 => delegate(&THREE, "$fromMillis($a0, $a1, $a2)", args),
        _ => delegate(&MORE, "$fromMillis($a0, $a1, $a2, $a3)", args),
    }
}

/// Refuses date/time pictures with a component marker that does not begin with a letter
/// (`[,2]`, `[‰]`): no component is named so, and the evaluator's picture parser cannot take
/// such markers apart.
fn check_picture(picture: &JValue) -> Result<(), EvaluatorError> {
    let JValue::String(picture) = picture else {
        return Ok(());
    };
    let mut chars = picture.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' if chars.peek() == Some(&'[') => {
                chars.next();
            }
            '[' => {
                let marker: String = chars
                    .by_ref()
                    .take_while(|&d| d != ']')
                    .filter(|d| !d.is_whitespace())
                    .collect();
                if marker.starts_with(|first: char| !first.is_ascii_alphabetic()) {
                    return Err(fail(
                        "D3132",
                        format!("Unknown component specifier in date/time picture: [{marker}]"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The name `$toMillis(...)` calls with arguments are compiled to (see
/// `expression::guard_calls`).
pub(crate) const GUARDED_TO_MILLIS: &str = "__presso_toMillis";

/// `$toMillis(timestamp [, picture])`: the evaluator's own, after [`check_picture`].
fn to_millis(args: &[JValue]) -> Outcome {
    check_picture(arg(args, 1))?;
    static ONE: OnceLock<Option<AstNode>> = OnceLock::new();
    static TWO: OnceLock<Option<AstNode>> = OnceLock::new();
    static MORE: OnceLock<Option<AstNode>> = OnceLock::new();
    match args.len() {
        0 | 1 => delegate(&ONE, "$toMillis($a0)", args),
        2 => delegate(&TWO, "$toMillis($a0, $a1)", args),
        _ => delegate(&MORE, "$toMillis($a0, $a1, $a2)", args),
    }
}

/// Calls the evaluator's own built-in through a tiny cached expression such as
/// `$pad($a0, $a1, $a2)`: how an override hands over to the function it guards.
fn delegate(cell: &'static OnceLock<Option<AstNode>>, source: &str, args: &[JValue]) -> Outcome {
    let ast = cell
        .get_or_init(|| jsonata_core::parser::parse(source).ok())
        .as_ref()
        .ok_or_else(|| fail(codes::INTERNAL, format!("{source} unavailable")))?;
    let mut ctx = Context::new();
    for i in 0..4 {
        ctx.bind(format!("a{i}"), arg(args, i).clone());
    }
    Evaluator::with_context(ctx).evaluate(ast, &JValue::Undefined)
}

/// Widest `$pad` this crate lets through: far beyond any Step Functions payload (256 KiB), far
/// below the gigabytes a stray huge width would otherwise allocate in one call.
pub const PAD_MAX_WIDTH: f64 = 1_000_000.0;

/// `$pad(string, width [, char])`: the evaluator's own `$pad`, after refusing widths that would
/// allocate more than [`PAD_MAX_WIDTH`] characters.
fn pad(args: &[JValue]) -> Outcome {
    if let JValue::Number(width) = arg(args, 1)
        && width.abs() > PAD_MAX_WIDTH
    {
        return Err(fail(
            codes::STRING_TOO_LONG,
            format!("$pad width {width} exceeds {PAD_MAX_WIDTH}"),
        ));
    }
    static PAD: OnceLock<Option<AstNode>> = OnceLock::new();
    delegate(&PAD, "$pad($a0, $a1, $a2)", args)
}

/// The name `$substring` calls are compiled to (see `expression::guard_calls`).
pub(crate) const GUARDED_SUBSTRING: &str = "__presso_substring";

/// `$substring(string, start [, length])`: the evaluator's own, with `start` and `length` clamped
/// to ±2^53 first. No string is that long, so the result is unchanged, but the evaluator's
/// integer arithmetic on the two can no longer overflow.
fn substring(args: &[JValue]) -> Outcome {
    const LIMIT: f64 = 9_007_199_254_740_992.0;
    let clamped: Vec<JValue> = args
        .iter()
        .enumerate()
        .map(|(i, a)| match a {
            JValue::Number(n) if i > 0 => JValue::Number(n.clamp(-LIMIT, LIMIT)),
            other => other.clone(),
        })
        .collect();
    // The evaluator tells an explicit undefined length from a missing one, so call it with
    // exactly as many arguments as were given.
    static ONE: OnceLock<Option<AstNode>> = OnceLock::new();
    static TWO: OnceLock<Option<AstNode>> = OnceLock::new();
    static THREE: OnceLock<Option<AstNode>> = OnceLock::new();
    static MORE: OnceLock<Option<AstNode>> = OnceLock::new();
    match clamped.len() {
        0 | 1 => delegate(&ONE, "$substring($a0)", &clamped),
        2 => delegate(&TWO, "$substring($a0, $a1)", &clamped),
        3 => delegate(&THREE, "$substring($a0, $a1, $a2)", &clamped),
        // Too many arguments: let the evaluator raise its own error for them.
        _ => delegate(&MORE, "$substring($a0, $a1, $a2, $a3)", &clamped),
    }
}

/// Largest number `$formatInteger` writes as Roman numerals, which repeat `M` once per thousand.
pub const ROMAN_MAX: f64 = 1_000_000.0;

/// `$formatInteger(number, picture)`: the evaluator's own, after refusing Roman numerals for
/// numbers whose numeral would run to gigabytes.
fn format_integer(args: &[JValue]) -> Outcome {
    if let (JValue::Number(n), JValue::String(picture)) = (arg(args, 0), arg(args, 1))
        && n.abs() > ROMAN_MAX
        && picture.contains(['I', 'i'])
    {
        return Err(fail(
            codes::STRING_TOO_LONG,
            format!("$formatInteger: {n} is too large for Roman numerals"),
        ));
    }
    static FORMAT_INTEGER: OnceLock<Option<AstNode>> = OnceLock::new();
    delegate(&FORMAT_INTEGER, "$formatInteger($a0, $a1)", args)
}

/// `$random()`, and in Step Functions `$random(seed)`: the same seed gives the same number.
/// Plain JSONata's `$random` takes no argument and ignores any it is handed.
fn random(rng: &SplitMix, sfn: bool, args: &[JValue]) -> Outcome {
    if !sfn {
        return Ok(JValue::Number(rng.next_f64()));
    }
    let seed = match arg(args, 0) {
        JValue::Undefined => None,
        JValue::Number(n) if n.is_finite() => Some(if n.fract() == 0.0 {
            *n as i64 as u64
        } else {
            n.to_bits()
        }),
        JValue::String(s) => Some(fnv1a(s.as_bytes())),
        _ => return Err(wrong_type("random", 1, "a number or a string")),
    };
    Ok(JValue::Number(match seed {
        Some(seed) => SplitMix::new(seed).next_f64(),
        None => rng.next_f64(),
    }))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `$shuffle(array)`: a Fisher-Yates shuffle drawing from the evaluation's generator.
fn shuffle(rng: &SplitMix, args: &[JValue]) -> Outcome {
    let mut items = match arg(args, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::Array(a) => a.to_vec(),
        other => vec![other.clone()],
    };
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
    Ok(JValue::array(items))
}

/// `$partition(array, size)`: consecutive chunks of `size` items; the last may be shorter.
fn partition(args: &[JValue]) -> Outcome {
    let items = match arg(args, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::Array(a) => a.to_vec(),
        other => vec![other.clone()],
    };
    let size = match number_arg("partition", args, 1)? {
        Some(n) if n.fract() == 0.0 && n >= 1.0 => n as usize,
        Some(n) => {
            return Err(fail(
                codes::PARTITION_SIZE,
                format!("$partition chunk size must be a positive integer, got {n}"),
            ));
        }
        None => return Err(wrong_type("partition", 2, "a positive integer")),
    };
    Ok(JValue::array(
        items
            .chunks(size.max(1))
            .map(|c| JValue::array(c.to_vec()))
            .collect(),
    ))
}

/// Most items `$range` produces, as for `States.ArrayRange`.
pub const RANGE_MAX_ITEMS: usize = 1_000;

/// `$range(start, end [, step])`: from `start` towards `end` inclusive, `step` apart (default 1).
fn range(args: &[JValue]) -> Outcome {
    let (Some(start), Some(end)) = (number_arg("range", args, 0)?, number_arg("range", args, 1)?)
    else {
        return Ok(JValue::Undefined);
    };
    let step = number_arg("range", args, 2)?.unwrap_or(1.0);
    if !(start.is_finite() && end.is_finite() && step.is_finite()) || step == 0.0 {
        return Err(fail(
            codes::RANGE_INVALID,
            "$range needs finite numbers and a non-zero step",
        ));
    }
    let span = (end - start) / step;
    if span < 0.0 {
        return Ok(JValue::array(Vec::new()));
    }
    // A tiny epsilon keeps 0.1-style steps from losing their last item to rounding.
    let count = (span + 1e-9).floor() + 1.0;
    if count > RANGE_MAX_ITEMS as f64 {
        return Err(fail(
            codes::RANGE_INVALID,
            format!("$range would produce more than {RANGE_MAX_ITEMS} items"),
        ));
    }
    // The result is a JSONata sequence: one item stands alone, as AWS returns it
    // (`$range(1, 9, 9)` is `1`).
    if count as usize == 1 {
        return Ok(JValue::Number(start));
    }
    Ok(JValue::array(
        (0..count as usize)
            .map(|i| JValue::Number(start + i as f64 * step))
            .collect(),
    ))
}

/// `$hash(string, algorithm)`: lowercase hex digest with MD5, SHA-1, SHA-256, SHA-384 or SHA-512.
fn hash(args: &[JValue]) -> Outcome {
    use sha2::Digest;
    let data = match arg(args, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(wrong_type("hash", 1, "a string")),
    };
    let algorithm = match arg(args, 1) {
        JValue::String(s) => s.clone(),
        _ => return Err(wrong_type("hash", 2, "a string naming the algorithm")),
    };
    let bytes = data.as_bytes();
    let digest = match &*algorithm {
        "MD5" => hex::encode(md5::Md5::digest(bytes)),
        "SHA-1" => hex::encode(sha1::Sha1::digest(bytes)),
        "SHA-256" => hex::encode(sha2::Sha256::digest(bytes)),
        "SHA-384" => hex::encode(sha2::Sha384::digest(bytes)),
        "SHA-512" => hex::encode(sha2::Sha512::digest(bytes)),
        other => {
            return Err(fail(
                codes::HASH_ALGORITHM,
                format!(
                    "$hash algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, got {other:?}"
                ),
            ));
        }
    };
    Ok(JValue::string(digest))
}

/// `$parse(string)`: the JSON value a string holds.
fn parse(args: &[JValue]) -> Outcome {
    let text = match arg(args, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(wrong_type("parse", 1, "a string")),
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| fail(codes::PARSE_INVALID, format!("$parse: invalid JSON: {e}")))?;
    convert::to_jvalue(&value).map_err(|e| fail(e.code(), e.message()))
}

/// `$uuid()`: a version 4 UUID from the evaluation's generator.
fn uuid(rng: &SplitMix) -> Outcome {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex::encode(bytes);
    Ok(JValue::string(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let (a, b) = (SplitMix::new(7), SplitMix::new(7));
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let x = SplitMix::new(1).next_f64();
        assert!((0.0..1.0).contains(&x));
    }

    #[test]
    fn fnv_hashes_differ_for_different_strings() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
    }
}
