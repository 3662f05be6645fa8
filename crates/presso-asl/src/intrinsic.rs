//! The 18 intrinsic functions (`States.Format`, `States.Array`, ...).
//!
//! An intrinsic call is parsed once at load into a small AST (`Call`) whose arguments
//! are literals, JSONPaths or nested calls; evaluation checks argument types and counts
//! exactly as AWS words them and returns the message as an error, which the engine
//! turns into a `States.Runtime` failure of the state. Randomness comes from the
//! execution's seeded generator, never from the system.

use crate::expr::Scope;
use crate::jsonpath::{JsonPath, type_name};
use base64::Engine as _;
use md5::Digest as _;
use serde_json::{Number, Value};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Func {
    fn from_name(n: &str) -> Option<Func> {
        Some(match n {
            "States.Format" => Func::Format,
            "States.StringToJson" => Func::StringToJson,
            "States.JsonToString" => Func::JsonToString,
            "States.Array" => Func::Array,
            "States.ArrayPartition" => Func::ArrayPartition,
            "States.ArrayContains" => Func::ArrayContains,
            "States.ArrayRange" => Func::ArrayRange,
            "States.ArrayGetItem" => Func::ArrayGetItem,
            "States.ArrayLength" => Func::ArrayLength,
            "States.ArrayUnique" => Func::ArrayUnique,
            "States.Base64Encode" => Func::Base64Encode,
            "States.Base64Decode" => Func::Base64Decode,
            "States.Hash" => Func::Hash,
            "States.JsonMerge" => Func::JsonMerge,
            "States.MathRandom" => Func::MathRandom,
            "States.MathAdd" => Func::MathAdd,
            "States.StringSplit" => Func::StringSplit,
            "States.UUID" => Func::Uuid,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Func::Format => "States.Format",
            Func::StringToJson => "States.StringToJson",
            Func::JsonToString => "States.JsonToString",
            Func::Array => "States.Array",
            Func::ArrayPartition => "States.ArrayPartition",
            Func::ArrayContains => "States.ArrayContains",
            Func::ArrayRange => "States.ArrayRange",
            Func::ArrayGetItem => "States.ArrayGetItem",
            Func::ArrayLength => "States.ArrayLength",
            Func::ArrayUnique => "States.ArrayUnique",
            Func::Base64Encode => "States.Base64Encode",
            Func::Base64Decode => "States.Base64Decode",
            Func::Hash => "States.Hash",
            Func::JsonMerge => "States.JsonMerge",
            Func::MathRandom => "States.MathRandom",
            Func::MathAdd => "States.MathAdd",
            Func::StringSplit => "States.StringSplit",
            Func::Uuid => "States.UUID",
        }
    }

    /// Allowed argument counts (min, max); `None` max means unbounded.
    fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::Format => (1, None),
            Func::Array => (0, None),
            Func::StringToJson
            | Func::JsonToString
            | Func::ArrayLength
            | Func::ArrayUnique
            | Func::Base64Encode
            | Func::Base64Decode => (1, Some(1)),
            Func::ArrayPartition
            | Func::ArrayContains
            | Func::ArrayGetItem
            | Func::Hash
            | Func::MathAdd
            | Func::StringSplit => (2, Some(2)),
            Func::ArrayRange | Func::JsonMerge => (3, Some(3)),
            Func::MathRandom => (2, Some(3)),
            Func::Uuid => (0, Some(0)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Lit(Value),
    Path(JsonPath),
    Call(Box<Call>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    func: Func,
    args: Vec<Arg>,
}

/// Whether a string looks like an intrinsic call (rather than a JSONPath).
pub(crate) fn looks_like_call(s: &str) -> bool {
    s.starts_with("States.")
}

impl Call {
    pub(crate) fn parse(src: &str) -> Result<Call, String> {
        let mut p = P {
            s: src.as_bytes(),
            i: 0,
            src,
            depth: 0,
        };
        let c = p.call()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!(
                "The value '{src}' is not a valid intrinsic function: unexpected text after the call"
            ));
        }
        Ok(c)
    }

    /// The value of a call that reads neither the input, the context nor randomness
    /// (`States.Base64Decode('bGF0dGU=')`), computed once when the definition loads.
    /// `None` for any other call, and for one that fails: that fails at run time, as
    /// it does on AWS.
    pub(crate) fn constant(&self) -> Option<Value> {
        fn literal(c: &Call) -> bool {
            !matches!(c.func, Func::Uuid | Func::MathRandom)
                && c.args.iter().all(|a| match a {
                    Arg::Lit(_) => true,
                    Arg::Path(_) => false,
                    Arg::Call(inner) => literal(inner),
                })
        }
        if !literal(self) {
            return None;
        }
        let ctx = crate::expr::ContextView::detached();
        let mut rng = crate::rng::Rng::new(0);
        self.eval(&Scope::new(&Value::Null, &ctx, &mut rng)).ok()
    }

    pub(crate) fn eval(&self, scope: &Scope<'_>) -> Result<Value, String> {
        // Arguments are borrowed where they can be: literals from the definition,
        // definite paths from the input. Only results are built.
        fn arg<'s>(a: &'s Arg, scope: &'s Scope<'_>) -> Result<Cow<'s, Value>, String> {
            Ok(match a {
                Arg::Lit(v) => Cow::Borrowed(v),
                Arg::Path(p) => scope.select_cow(p)?,
                Arg::Call(c) => Cow::Owned(c.eval(scope)?),
            })
        }
        let n = self.args.len();
        if n <= 4 {
            // Most calls take few arguments: keep them on the stack.
            let mut buf: [Cow<'_, Value>; 4] = Default::default();
            for (slot, a) in buf.iter_mut().zip(&self.args) {
                *slot = arg(a, scope)?;
            }
            return apply(self.func, &mut buf[..n], scope);
        }
        let mut args = Vec::with_capacity(n);
        for a in &self.args {
            args.push(arg(a, scope)?);
        }
        apply(self.func, &mut args, scope)
    }
}

struct P<'s> {
    s: &'s [u8],
    i: usize,
    src: &'s str,
    /// Nesting of calls, bounded so hostile input cannot exhaust the stack.
    depth: u32,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn bad(&self, why: &str) -> String {
        format!(
            "The value '{}' is not a valid intrinsic function: {why}",
            self.src
        )
    }

    fn call(&mut self) -> Result<Call, String> {
        if self.depth >= 32 {
            return Err(self.bad("calls are nested too deeply"));
        }
        self.depth += 1;
        let r = self.call_inner();
        self.depth -= 1;
        r
    }

    fn call_inner(&mut self) -> Result<Call, String> {
        self.ws();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
        {
            self.i += 1;
        }
        let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        let func =
            Func::from_name(name).ok_or_else(|| self.bad(&format!("unknown function '{name}'")))?;
        self.ws();
        if self.s.get(self.i) != Some(&b'(') {
            return Err(self.bad("expected '('"));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b')') {
            self.i += 1;
        } else {
            loop {
                args.push(self.arg()?);
                self.ws();
                match self.s.get(self.i) {
                    Some(b',') => self.i += 1,
                    Some(b')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.bad("expected ',' or ')'")),
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || max.is_some_and(|m| args.len() > m) {
            return Err(format!(
                "The function '{}' does not accept {} argument(s)",
                func.name(),
                args.len()
            ));
        }
        Ok(Call { func, args })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'\'') => {
                self.i += 1;
                let mut out = Vec::new();
                loop {
                    match self.s.get(self.i) {
                        None => return Err(self.bad("unterminated string literal")),
                        Some(b'\\') => {
                            let Some(&c) = self.s.get(self.i + 1) else {
                                return Err(self.bad("dangling escape"));
                            };
                            // `\{` and `\}` stay escaped: States.Format resolves them.
                            if c == b'{' || c == b'}' {
                                out.push(b'\\');
                            }
                            out.push(c);
                            self.i += 2;
                        }
                        Some(b'\'') => {
                            self.i += 1;
                            break;
                        }
                        Some(&c) => {
                            out.push(c);
                            self.i += 1;
                        }
                    }
                }
                Ok(Arg::Lit(Value::String(
                    String::from_utf8_lossy(&out).into_owned(),
                )))
            }
            Some(b'$') => {
                let start = self.i;
                let mut depth = 0i32;
                let mut quote: Option<u8> = None;
                while let Some(&c) = self.s.get(self.i) {
                    if let Some(q) = quote {
                        if c == q {
                            quote = None;
                        }
                    } else {
                        match c {
                            b'\'' | b'"' => quote = Some(c),
                            b'(' | b'[' => depth += 1,
                            b')' | b']' if depth > 0 => depth -= 1,
                            b',' | b')' if depth == 0 => break,
                            _ => {}
                        }
                    }
                    self.i += 1;
                }
                let txt = std::str::from_utf8(&self.s[start..self.i])
                    .unwrap_or("")
                    .trim_end();
                JsonPath::parse(txt)
                    .map(Arg::Path)
                    .map_err(|e| self.bad(&e.0))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let save = self.i;
                let mut j = self.i;
                while self
                    .s
                    .get(j)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
                {
                    j += 1;
                }
                let word = std::str::from_utf8(&self.s[save..j]).unwrap_or("");
                match word {
                    "true" => {
                        self.i = j;
                        Ok(Arg::Lit(Value::Bool(true)))
                    }
                    "false" => {
                        self.i = j;
                        Ok(Arg::Lit(Value::Bool(false)))
                    }
                    "null" => {
                        self.i = j;
                        Ok(Arg::Lit(Value::Null))
                    }
                    _ => Ok(Arg::Call(Box::new(self.call()?))),
                }
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                let start = self.i;
                self.i += 1;
                while self.s.get(self.i).is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')
                }) {
                    self.i += 1;
                }
                let txt = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                serde_json::from_str::<Number>(txt)
                    .map(|n| Arg::Lit(Value::Number(n)))
                    .map_err(|_| self.bad(&format!("'{txt}' is not a number")))
            }
            _ => Err(self.bad("expected an argument")),
        }
    }
}

fn want_int(f: Func, v: &Value, what: &str) -> Result<i64, String> {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
        _ => Err(format!(
            "The {what} argument of {} must be an integer, but was {}: {}",
            f.name(),
            type_name(v),
            v
        )),
    }
}

fn want_str(f: Func, v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| {
        format!(
            "The argument of {} must be a string, but was {}: {}",
            f.name(),
            type_name(v),
            v
        )
    })
}

/// Value equality with numbers compared by value (`1` equals `1.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// How `States.Format` renders an argument: strings raw, objects as `{k=v, ...}`.
fn format_arg(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                format_arg(x, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                format_arg(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn int(n: i64) -> Value {
    Value::Number(Number::from(n))
}

/// AWS's 10,000-character limit on string arguments (a byte count bounds it first).
fn over_10k_chars(s: &str) -> bool {
    s.len() > 10_000 && s.chars().count() > 10_000
}

/// Lower-case hex, as AWS prints digests.
fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn take(a: &mut [Cow<'_, Value>], i: usize) -> Value {
    std::mem::replace(&mut a[i], Cow::Owned(Value::Null)).into_owned()
}

fn want_arr_ref(f: Func, v: &Value) -> Result<&Vec<Value>, String> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(format!(
            "The first argument of {} must be an array, but was {}: {}",
            f.name(),
            type_name(other),
            other
        )),
    }
}

fn apply(f: Func, a: &mut [Cow<'_, Value>], scope: &Scope<'_>) -> Result<Value, String> {
    match f {
        Func::Format => {
            let tpl = want_str(f, &a[0])?;
            let mut out = String::with_capacity(tpl.len() + 16);
            let mut next = 1;
            let mut chars = tpl.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            out.push(n);
                        }
                    }
                    '{' if chars.peek() == Some(&'}') => {
                        chars.next();
                        let Some(v) = a.get(next) else {
                            return Err(format!(
                                "The number of arguments for States.Format does not match the number of placeholders in '{tpl}'"
                            ));
                        };
                        format_arg(v, &mut out);
                        next += 1;
                    }
                    c => out.push(c),
                }
            }
            if next != a.len() {
                return Err(format!(
                    "The number of arguments for States.Format does not match the number of placeholders in '{tpl}'"
                ));
            }
            Ok(Value::String(out))
        }
        Func::StringToJson => {
            let s = want_str(f, &a[0])?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(s)
                .map_err(|e| format!("The argument of States.StringToJson is not valid JSON: {e}"))
        }
        Func::JsonToString => Ok(Value::String(a[0].to_string())),
        Func::Array => Ok(Value::Array((0..a.len()).map(|i| take(a, i)).collect())),
        Func::ArrayPartition => {
            let size = want_int(f, &a[1], "second")?;
            let arr = want_arr_ref(f, &a[0])?;
            if size <= 0 {
                return Err(format!(
                    "Invalid value for the argument chunkSize of States.ArrayPartition: {size} must be greater than 0"
                ));
            }
            Ok(Value::Array(
                arr.chunks(size as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        Func::ArrayContains => {
            let arr = want_arr_ref(f, &a[0])?;
            Ok(Value::Bool(arr.iter().any(|x| json_eq(x, &a[1]))))
        }
        Func::ArrayRange => {
            let start = want_int(f, &a[0], "first")?;
            let end = want_int(f, &a[1], "second")?;
            let step = want_int(f, &a[2], "third")?;
            if step == 0 {
                return Err("The step argument of States.ArrayRange cannot be 0".into());
            }
            let count = if (step > 0 && start > end) || (step < 0 && start < end) {
                0
            } else {
                (end - start) / step + 1
            };
            if count > 1000 {
                return Err(format!(
                    "States.ArrayRange would produce {count} elements; the limit is 1000"
                ));
            }
            Ok(Value::Array(
                (0..count).map(|k| int(start + k * step)).collect(),
            ))
        }
        Func::ArrayGetItem => {
            let idx = want_int(f, &a[1], "second")?;
            let arr = want_arr_ref(f, &a[0])?;
            if idx < 0 || idx as usize >= arr.len() {
                return Err(format!(
                    "The index {idx} is out of bounds for States.ArrayGetItem on an array of length {}",
                    arr.len()
                ));
            }
            Ok(arr.get(idx as usize).cloned().unwrap_or(Value::Null))
        }
        Func::ArrayLength => Ok(int(want_arr_ref(f, &a[0])?.len() as i64)),
        Func::ArrayUnique => {
            let arr = want_arr_ref(f, &a[0])?;
            let mut out: Vec<Value> = Vec::with_capacity(arr.len());
            for x in arr {
                if !out.iter().any(|y| json_eq(y, x)) {
                    out.push(x.clone());
                }
            }
            Ok(Value::Array(out))
        }
        Func::Base64Encode => {
            let s = want_str(f, &a[0])?;
            if over_10k_chars(s) {
                return Err("The input of States.Base64Encode exceeds 10000 characters".into());
            }
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(s),
            ))
        }
        Func::Base64Decode => {
            let s = want_str(f, &a[0])?;
            if over_10k_chars(s) {
                return Err("The input of States.Base64Decode exceeds 10000 characters".into());
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| {
                    format!("The input of States.Base64Decode is not valid base64: {e}")
                })?;
            Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Func::Hash => {
            let data: Cow<'_, str> = match &*a[0] {
                Value::String(s) => Cow::Borrowed(s),
                Value::Null => {
                    return Err("The input data of States.Hash cannot be null".into());
                }
                other => Cow::Owned(other.to_string()),
            };
            if over_10k_chars(&data) {
                return Err("The input of States.Hash exceeds 10000 characters".into());
            }
            let alg = want_str(f, &a[1])?;
            let h = match alg {
                "MD5" => lower_hex(&md5::Md5::digest(data.as_bytes())),
                "SHA-1" => lower_hex(&sha1::Sha1::digest(data.as_bytes())),
                "SHA-256" => lower_hex(&sha2::Sha256::digest(data.as_bytes())),
                "SHA-384" => lower_hex(&sha2::Sha384::digest(data.as_bytes())),
                "SHA-512" => lower_hex(&sha2::Sha512::digest(data.as_bytes())),
                other => {
                    return Err(format!(
                        "The hash algorithm '{other}' is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                    ));
                }
            };
            Ok(Value::String(h))
        }
        Func::JsonMerge => {
            if *a[2] != Value::Bool(false) {
                return Err("States.JsonMerge supports only a shallow merge: its third argument must be false".into());
            }
            let b = take(a, 1);
            match (take(a, 0), b) {
                (Value::Object(mut x), Value::Object(y)) => {
                    for (k, v) in y {
                        x.insert(k, v);
                    }
                    Ok(Value::Object(x))
                }
                (x, y) => Err(format!(
                    "The arguments of States.JsonMerge must be objects, but were {} and {}",
                    type_name(&x),
                    type_name(&y)
                )),
            }
        }
        Func::MathRandom => {
            // AWS accepts any numbers here and drops the fractions.
            let trunc = |v: &Value, what: &str| -> Result<i64, String> {
                match v.as_f64() {
                    Some(x) if x.abs() < 9.0e15 => Ok(x.trunc() as i64),
                    _ => Err(format!(
                        "The {what} argument of States.MathRandom must be a number, but was {}: {v}",
                        type_name(v)
                    )),
                }
            };
            let start = trunc(&a[0], "first")?;
            let end = trunc(&a[1], "second")?;
            if end <= start {
                return Err(format!(
                    "The end of the range ({end}) of States.MathRandom must be greater than its start ({start})"
                ));
            }
            let r = match a.get(2) {
                Some(seed) => crate::rng::seeded_f64(want_int(f, seed, "third")?),
                None => scope.random_f64(),
            };
            let span = (end - start) as f64;
            Ok(int(
                start + ((r * span).floor() as i64).clamp(0, end - start - 1)
            ))
        }
        Func::MathAdd => {
            let round = |v: &Value, what: &str| -> Result<i64, String> {
                match v.as_f64() {
                    // Java's Math.round: halves go towards positive infinity.
                    Some(x) if x.abs() < 9.0e15 => Ok((x + 0.5).floor() as i64),
                    _ => Err(format!(
                        "The {what} argument of States.MathAdd must be a number, but was {}: {v}",
                        type_name(v)
                    )),
                }
            };
            Ok(int(round(&a[0], "first")? + round(&a[1], "second")?))
        }
        Func::StringSplit => {
            let s = want_str(f, &a[0])?;
            let delims = want_str(f, &a[1])?;
            let parts: Vec<Value> = s
                .split(|c: char| delims.contains(c))
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_owned()))
                .collect();
            Ok(Value::Array(parts))
        }
        Func::Uuid => Ok(Value::String(scope.uuid())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{ContextView, Scope};
    use crate::rng::Rng;
    use serde_json::json;

    fn run(expr: &str, input: Value) -> Result<Value, String> {
        let call = Call::parse(expr)?;
        let ctx = ContextView::detached();
        let mut rng = Rng::new(1);
        let scope = Scope::new(&input, &ctx, &mut rng);
        call.eval(&scope)
    }

    #[test]
    fn format_fills_placeholders_and_renders_objects_java_style() {
        assert_eq!(
            run(
                "States.Format('a={} b={}', $.a, $.b)",
                json!({"a": 1.5, "b": {"x": [1, 2]}})
            )
            .unwrap(),
            json!("a=1.5 b={x=[1, 2]}")
        );
        assert_eq!(
            run("States.Format('\\{\\}{}', 'x')", json!({})).unwrap(),
            json!("{}x")
        );
        assert!(run("States.Format('{} {}', 'x')", json!({})).is_err());
        assert_eq!(
            run("States.Format('it\\'s {}', null)", json!({})).unwrap(),
            json!("it's null")
        );
    }

    #[test]
    fn json_conversions_round_trip() {
        assert_eq!(
            run("States.StringToJson($.s)", json!({"s": "{\"a\":[1]}"})).unwrap(),
            json!({"a": [1]})
        );
        assert_eq!(
            run("States.JsonToString($)", json!({"a": [1, "x"]})).unwrap(),
            json!("{\"a\":[1,\"x\"]}")
        );
    }

    #[test]
    fn array_functions_follow_aws_rules() {
        assert_eq!(
            run("States.Array(1, 'a', true, null)", json!({})).unwrap(),
            json!([1, "a", true, null])
        );
        assert_eq!(
            run(
                "States.ArrayPartition(States.Array(1,2,3,4,5), 2)",
                json!({})
            )
            .unwrap(),
            json!([[1, 2], [3, 4], [5]])
        );
        assert!(run("States.ArrayPartition(States.Array(1), 0)", json!({})).is_err());
        assert_eq!(
            run("States.ArrayContains($.a, 2.0)", json!({"a": [1, 2]})).unwrap(),
            json!(true)
        );
        assert_eq!(
            run("States.ArrayRange(1, 9, 2)", json!({})).unwrap(),
            json!([1, 3, 5, 7, 9])
        );
        assert_eq!(
            run("States.ArrayRange(5, 1, -2)", json!({})).unwrap(),
            json!([5, 3, 1])
        );
        assert!(run("States.ArrayRange(0, 2000, 1)", json!({})).is_err());
        assert!(run("States.ArrayRange(0, 2, 0)", json!({})).is_err());
        assert_eq!(
            run("States.ArrayGetItem($.a, 1)", json!({"a": [5, 6]})).unwrap(),
            json!(6)
        );
        assert!(run("States.ArrayGetItem($.a, 2)", json!({"a": [5, 6]})).is_err());
        assert_eq!(
            run("States.ArrayLength($.a)", json!({"a": [5, 6]})).unwrap(),
            json!(2)
        );
        assert_eq!(
            run("States.ArrayUnique($.a)", json!({"a": [1, 2, 1, 3, 2]})).unwrap(),
            json!([1, 2, 3])
        );
        assert!(run("States.ArrayLength($.a)", json!({"a": "no"})).is_err());
    }

    #[test]
    fn encoding_and_hashing_match_known_digests() {
        assert_eq!(
            run("States.Base64Encode('Data to encode')", json!({})).unwrap(),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", json!({})).unwrap(),
            json!("Data to encode")
        );
        assert!(run("States.Base64Decode('***')", json!({})).is_err());
        assert_eq!(
            run("States.Hash('input data', 'MD5')", json!({})).unwrap(),
            json!("812f45842bc6d66ee14572ce20db8e86")
        );
        assert_eq!(
            run("States.Hash('input data', 'SHA-1')", json!({})).unwrap(),
            json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
        );
        assert!(run("States.Hash('x', 'SHA-3')", json!({})).is_err());
    }

    #[test]
    fn math_add_rounds_half_up_and_random_stays_in_range() {
        assert_eq!(
            run("States.MathAdd(1.5, 1.51)", json!({})).unwrap(),
            json!(4)
        );
        assert_eq!(
            run("States.MathAdd(-1.5, 0)", json!({})).unwrap(),
            json!(-1)
        );
        assert_eq!(
            run("States.MathAdd(-2.5, 0)", json!({})).unwrap(),
            json!(-2)
        );
        for _ in 0..20 {
            let v = run("States.MathRandom(3, 5)", json!({}))
                .unwrap()
                .as_i64()
                .unwrap();
            assert!((3..5).contains(&v));
        }
        assert_eq!(
            run("States.MathRandom(0, 1000, 7)", json!({})),
            run("States.MathRandom(0, 1000, 7)", json!({}))
        );
        assert!(run("States.MathRandom(5, 5)", json!({})).is_err());
    }

    #[test]
    fn merge_split_and_uuid() {
        assert_eq!(
            run(
                "States.JsonMerge($.a, $.b, false)",
                json!({"a": {"x": 1, "y": 1}, "b": {"y": 2}})
            )
            .unwrap(),
            json!({"x": 1, "y": 2})
        );
        assert!(
            run(
                "States.JsonMerge($.a, $.b, true)",
                json!({"a": {}, "b": {}})
            )
            .is_err()
        );
        assert_eq!(
            run("States.StringSplit('a,b;;c', ',;')", json!({})).unwrap(),
            json!(["a", "b", "c"])
        );
        assert_eq!(
            run("States.UUID()", json!({}))
                .unwrap()
                .as_str()
                .map(str::len),
            Some(36)
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}1{}", "States.Array(".repeat(5_000), ")".repeat(5_000));
        assert!(Call::parse(&deep).is_err());
    }

    #[test]
    fn bad_syntax_and_arity_are_rejected_at_parse() {
        assert!(Call::parse("States.Nope(1)").is_err());
        assert!(Call::parse("States.UUID(1)").is_err());
        assert!(Call::parse("States.ArrayLength(").is_err());
        assert!(Call::parse("States.Format('x'").is_err());
        assert!(Call::parse("States.Array(1) x").is_err());
    }
}
