//! JSONPath as Step Functions evaluates it (the Jayway dialect).
//!
//! Paths are parsed once, at definition load, into segments; evaluation borrows from
//! the document and clones only what the caller keeps. A *definite* path (only names
//! and indexes) selects one value or nothing; any wildcard, slice, union, filter or
//! `..` makes the path *indefinite* and its result is always an array (possibly empty),
//! which is what AWS does. *Reference paths* (ResultPath, Choice variables) must be
//! definite. Evaluation never panics and never allocates for a definite hit.

use serde_json::{Map, Value};
use std::cmp::Ordering;

/// A compiled JSONPath: `$...` over the state input, `$$...` over the context object,
/// or `$name...` over the workflow variable `name`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPath {
    pub(crate) source: String,
    pub(crate) context: bool,
    /// The variable a `$name...` path starts from.
    pub(crate) var: Option<String>,
    segs: Vec<Seg>,
    definite: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Seg {
    deep: bool,
    sel: Sel,
}

#[derive(Debug, Clone, PartialEq)]
enum Sel {
    Key(String),
    Index(i64),
    Wild,
    Keys(Vec<String>),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Cmp(Operand, CmpOp, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    /// `@...`: relative to the element under test.
    Current(Vec<Seg>),
    /// `$...`: relative to the document root.
    Root(Vec<Seg>),
    Lit(Value),
}

/// What a path selected.
#[derive(Debug)]
pub(crate) enum Selected<'a> {
    One(&'a Value),
    Many(Vec<&'a Value>),
    Missing,
}

impl<'a> Selected<'a> {
    /// The value as AWS hands it on: indefinite results become an array.
    pub(crate) fn into_value(self) -> Option<Value> {
        match self {
            Selected::One(v) => Some(v.clone()),
            Selected::Many(vs) => Some(Value::Array(vs.into_iter().cloned().collect())),
            Selected::Missing => None,
        }
    }
}

/// A path that could not be parsed, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct PathError(pub(crate) String);

impl JsonPath {
    pub(crate) fn parse(src: &str) -> Result<Self, PathError> {
        let mut p = Parser {
            s: src.as_bytes(),
            i: 0,
            src,
            depth: 0,
        };
        let mut var = None;
        let context = if src.starts_with("$$") {
            p.i = 2;
            true
        } else if src.starts_with('$') {
            p.i = 1;
            // `$name` reads a variable: a name starts with a letter or `_`.
            if p.peek()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
            {
                let start = p.i;
                while p
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    p.i += 1;
                }
                var = Some(src[start..p.i].to_owned());
            }
            false
        } else {
            return Err(PathError(format!("The path '{src}' must start with '$'")));
        };
        let segs = p.segments(false)?;
        if p.i != p.s.len() {
            return Err(PathError(format!("The path '{src}' could not be parsed")));
        }
        let definite = segs
            .iter()
            .all(|s| !s.deep && matches!(s.sel, Sel::Key(_) | Sel::Index(_)));
        Ok(JsonPath {
            source: src.to_owned(),
            context,
            var,
            segs,
            definite,
        })
    }

    /// Parses a reference path: names and indexes only (ResultPath, Choice `Variable`).
    pub(crate) fn parse_reference(src: &str) -> Result<Self, PathError> {
        let p = Self::parse(src)?;
        if !p.definite {
            return Err(PathError(format!(
                "The value for the field must be a valid Reference Path: {src}"
            )));
        }
        Ok(p)
    }

    /// `$` (or `$$`) alone; a bare `$name` is a variable, not the root.
    pub(crate) fn is_root(&self) -> bool {
        self.segs.is_empty() && self.var.is_none()
    }

    pub(crate) fn select<'a>(&self, root: &'a Value) -> Selected<'a> {
        if self.definite {
            let mut cur = root;
            for s in &self.segs {
                match step_definite(cur, &s.sel) {
                    Some(v) => cur = v,
                    None => return Selected::Missing,
                }
            }
            return Selected::One(cur);
        }
        let mut nodes = vec![root];
        for s in &self.segs {
            let mut next = Vec::new();
            for n in nodes {
                if s.deep {
                    deep_apply(n, &s.sel, root, &mut next);
                } else {
                    apply(n, &s.sel, root, &mut next);
                }
            }
            nodes = next;
        }
        Selected::Many(nodes)
    }

    /// Writes `value` at this (definite) path inside `doc`, creating objects on the way,
    /// the way `ResultPath` merges a result into the state input.
    pub(crate) fn set(&self, doc: &mut Value, value: Value) -> Result<(), String> {
        let Some((last, init)) = self.segs.split_last() else {
            *doc = value;
            return Ok(());
        };
        let mut cur = doc;
        for s in init {
            cur = match (&s.sel, cur) {
                (Sel::Key(k), Value::Object(m)) => m
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new())),
                (Sel::Index(i), Value::Array(a)) => {
                    let len = a.len();
                    match norm_index(*i, len).and_then(|i| a.get_mut(i)) {
                        Some(v) => v,
                        None => return Err(format!("index {i} is out of bounds")),
                    }
                }
                (_, other) => {
                    return Err(format!("cannot descend into a {}", type_name(other)));
                }
            };
        }
        match (&last.sel, cur) {
            (Sel::Key(k), Value::Object(m)) => {
                m.insert(k.clone(), value);
                Ok(())
            }
            (Sel::Index(i), Value::Array(a)) => {
                let len = a.len();
                match norm_index(*i, len).and_then(|i| a.get_mut(i)) {
                    Some(slot) => {
                        *slot = value;
                        Ok(())
                    }
                    None => Err(format!("index {i} is out of bounds")),
                }
            }
            (_, other) => Err(format!("cannot set a field in a {}", type_name(other))),
        }
    }
}

impl JsonPath {
    /// Like [`JsonPath::set`] on a copy of `doc`, without copying the part being replaced
    /// (a ResultPath merge into input that history still shows).
    pub(crate) fn set_copy(&self, doc: &Value, value: Value) -> Result<Value, String> {
        fn go(segs: &[Seg], cur: Option<&Value>, value: Value) -> Result<Value, String> {
            let Some((first, rest)) = segs.split_first() else {
                return Ok(value);
            };
            match (&first.sel, cur) {
                (Sel::Key(k), Some(Value::Object(m))) => {
                    let mut out = Map::with_capacity(m.len() + 1);
                    let mut value = Some(value);
                    for (key, v) in m {
                        match value.take_if(|_| key == k) {
                            Some(new) => out.insert(key.clone(), go(rest, Some(v), new)?),
                            None => out.insert(key.clone(), v.clone()),
                        };
                    }
                    if let Some(new) = value {
                        out.insert(k.clone(), go(rest, None, new)?);
                    }
                    Ok(Value::Object(out))
                }
                (Sel::Key(k), None) => {
                    let mut out = Map::new();
                    out.insert(k.clone(), go(rest, None, value)?);
                    Ok(Value::Object(out))
                }
                (Sel::Index(i), Some(Value::Array(a))) => {
                    let Some(at) = norm_index(*i, a.len()) else {
                        return Err(format!("index {i} is out of bounds"));
                    };
                    let mut out = Vec::with_capacity(a.len());
                    let mut value = Some(value);
                    for (j, v) in a.iter().enumerate() {
                        out.push(match value.take_if(|_| j == at) {
                            Some(new) => go(rest, Some(v), new)?,
                            None => v.clone(),
                        });
                    }
                    Ok(Value::Array(out))
                }
                (Sel::Index(i), None) => Err(format!("index {i} is out of bounds")),
                (_, Some(other)) => Err(format!("cannot set a field in a {}", type_name(other))),
                (_, None) => Err("cannot set through a missing value".into()),
            }
        }
        go(&self.segs, Some(doc), value)
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn norm_index(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let j = if i < 0 { len + i } else { i };
    (0..len).contains(&j).then_some(j as usize)
}

/// A field of an object. Most state inputs are small objects, where comparing keys is
/// cheaper than hashing the one looked for.
pub(crate) fn field<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    if m.len() <= 16 {
        m.iter().find_map(|(key, v)| (key == k).then_some(v))
    } else {
        m.get(k)
    }
}

fn step_definite<'a>(v: &'a Value, sel: &Sel) -> Option<&'a Value> {
    match (sel, v) {
        (Sel::Key(k), Value::Object(m)) => field(m, k),
        (Sel::Index(i), Value::Array(a)) => norm_index(*i, a.len()).and_then(|i| a.get(i)),
        _ => None,
    }
}

fn apply<'a>(v: &'a Value, sel: &Sel, root: &'a Value, out: &mut Vec<&'a Value>) {
    match sel {
        Sel::Key(_) | Sel::Index(_) => {
            if let Some(x) = step_definite(v, sel) {
                out.push(x);
            }
        }
        Sel::Wild => match v {
            Value::Object(m) => out.extend(m.values()),
            Value::Array(a) => out.extend(a.iter()),
            _ => {}
        },
        Sel::Keys(ks) => {
            if let Value::Object(m) = v {
                out.extend(ks.iter().filter_map(|k| field(m, k)));
            }
        }
        Sel::Indexes(is) => {
            if let Value::Array(a) = v {
                out.extend(
                    is.iter()
                        .filter_map(|i| norm_index(*i, a.len()).and_then(|i| a.get(i))),
                );
            }
        }
        Sel::Slice(start, end, step) => {
            if let Value::Array(a) = v {
                slice(a, *start, *end, *step, out);
            }
        }
        Sel::Filter(f) => match v {
            Value::Array(a) => out.extend(a.iter().filter(|x| f.test(x, root))),
            Value::Object(m) if f.test(v, root) => {
                let _ = m;
                out.push(v)
            }
            _ => {}
        },
    }
}

fn deep_apply<'a>(v: &'a Value, sel: &Sel, root: &'a Value, out: &mut Vec<&'a Value>) {
    apply(v, sel, root, out);
    match v {
        Value::Object(m) => m.values().for_each(|c| deep_apply(c, sel, root, out)),
        Value::Array(a) => a.iter().for_each(|c| deep_apply(c, sel, root, out)),
        _ => {}
    }
}

fn slice<'a>(
    a: &'a [Value],
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
    out: &mut Vec<&'a Value>,
) {
    let len = a.len() as i64;
    let step = step.unwrap_or(1);
    if step <= 0 {
        return;
    }
    let clamp = |x: i64| -> i64 {
        let x = if x < 0 { len + x } else { x };
        x.clamp(0, len)
    };
    let s = start.map_or(0, clamp);
    let e = end.map_or(len, clamp);
    let mut i = s;
    while i < e {
        if let Some(x) = a.get(i as usize) {
            out.push(x);
        }
        i += step;
    }
}

impl Filter {
    fn test(&self, cur: &Value, root: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.test(cur, root) || b.test(cur, root),
            Filter::And(a, b) => a.test(cur, root) && b.test(cur, root),
            Filter::Not(a) => !a.test(cur, root),
            Filter::Exists(o) => match o.eval(cur, root) {
                Some(Value::Bool(b)) => b,
                Some(_) => true,
                None => false,
            },
            Filter::Cmp(l, op, r) => {
                let (Some(l), Some(r)) = (l.eval(cur, root), r.eval(cur, root)) else {
                    return false;
                };
                let ord = match (&l, &r) {
                    (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                    (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                    _ => {
                        if l == r {
                            Some(Ordering::Equal)
                        } else {
                            None
                        }
                    }
                };
                match op {
                    CmpOp::Eq => ord == Some(Ordering::Equal),
                    CmpOp::Ne => ord != Some(Ordering::Equal),
                    CmpOp::Lt => ord == Some(Ordering::Less),
                    CmpOp::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                    CmpOp::Gt => ord == Some(Ordering::Greater),
                    CmpOp::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                }
            }
        }
    }
}

impl Operand {
    fn eval(&self, cur: &Value, root: &Value) -> Option<Value> {
        let (start, segs) = match self {
            Operand::Lit(v) => return Some(v.clone()),
            Operand::Current(s) => (cur, s),
            Operand::Root(s) => (root, s),
        };
        let mut v = start;
        for s in segs {
            v = step_definite(v, &s.sel)?;
        }
        Some(v.clone())
    }
}

struct Parser<'s> {
    s: &'s [u8],
    i: usize,
    src: &'s str,
    /// Nesting of filters and parentheses, bounded so hostile input cannot exhaust the stack.
    depth: u32,
}

const MAX_DEPTH: u32 = 32;

impl Parser<'_> {
    fn err(&self, what: &str) -> PathError {
        PathError(format!(
            "The path '{}' is invalid: {what} at position {}",
            self.src, self.i
        ))
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// Segments until the end (or, inside a filter, until a character that ends an operand).
    fn segments(&mut self, in_filter: bool) -> Result<Vec<Seg>, PathError> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.i += 1;
                    let deep = if self.peek() == Some(b'.') {
                        self.i += 1;
                        true
                    } else {
                        false
                    };
                    match self.peek() {
                        Some(b'*') => {
                            self.i += 1;
                            segs.push(Seg {
                                deep,
                                sel: Sel::Wild,
                            });
                        }
                        Some(b'[') if deep => {
                            let sel = self.bracket()?;
                            segs.push(Seg { deep, sel });
                        }
                        _ => {
                            let name = self.name(in_filter);
                            if name.is_empty() {
                                return Err(self.err("expected a field name"));
                            }
                            segs.push(Seg {
                                deep,
                                sel: Sel::Key(name),
                            });
                        }
                    }
                }
                Some(b'[') => {
                    let sel = self.bracket()?;
                    segs.push(Seg { deep: false, sel });
                }
                _ => return Ok(segs),
            }
        }
    }

    fn name(&mut self, in_filter: bool) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            let stop = c == b'.'
                || c == b'['
                || (in_filter
                    && matches!(
                        c,
                        b' ' | b')' | b'=' | b'!' | b'<' | b'>' | b'&' | b'|' | b','
                    ));
            if stop {
                break;
            }
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn bracket(&mut self) -> Result<Sel, PathError> {
        // at '['
        self.i += 1;
        self.ws();
        let sel = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Sel::Wild
            }
            Some(b'?') => {
                self.i += 1;
                self.ws();
                if self.peek() != Some(b'(') {
                    return Err(self.err("expected '(' after '?'"));
                }
                self.i += 1;
                let f = self.filter_or()?;
                self.ws();
                if self.peek() != Some(b')') {
                    return Err(self.err("expected ')' to close the filter"));
                }
                self.i += 1;
                Sel::Filter(Box::new(f))
            }
            Some(b'\'' | b'"') => {
                let mut keys = vec![self.quoted()?];
                loop {
                    self.ws();
                    if self.peek() == Some(b',') {
                        self.i += 1;
                        self.ws();
                        keys.push(self.quoted()?);
                    } else {
                        break;
                    }
                }
                if keys.len() == 1 {
                    Sel::Key(keys.remove(0))
                } else {
                    Sel::Keys(keys)
                }
            }
            _ => {
                let first = self.opt_int()?;
                self.ws();
                if self.peek() == Some(b':') {
                    self.i += 1;
                    let end = self.opt_int()?;
                    let mut step = None;
                    if self.peek() == Some(b':') {
                        self.i += 1;
                        step = self.opt_int()?;
                    }
                    Sel::Slice(first, end, step)
                } else {
                    let Some(first) = first else {
                        return Err(self.err("expected an index"));
                    };
                    let mut idx = vec![first];
                    loop {
                        self.ws();
                        if self.peek() == Some(b',') {
                            self.i += 1;
                            self.ws();
                            match self.opt_int()? {
                                Some(n) => idx.push(n),
                                None => return Err(self.err("expected an index")),
                            }
                        } else {
                            break;
                        }
                    }
                    if idx.len() == 1 {
                        Sel::Index(idx[0])
                    } else {
                        Sel::Indexes(idx)
                    }
                }
            }
        };
        self.ws();
        if self.peek() != Some(b']') {
            return Err(self.err("expected ']'"));
        }
        self.i += 1;
        Ok(sel)
    }

    fn opt_int(&mut self) -> Result<Option<i64>, PathError> {
        self.ws();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i == start {
            return Ok(None);
        }
        let txt = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
        txt.parse::<i64>()
            .map(Some)
            .map_err(|_| self.err("bad index"))
    }

    fn quoted(&mut self) -> Result<String, PathError> {
        let Some(q) = self.peek().filter(|c| *c == b'\'' || *c == b'"') else {
            return Err(self.err("expected a quoted name"));
        };
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'\\') => {
                    // Only the enclosing quote is escaped; any other backslash is literal.
                    self.i += 1;
                    match self.peek() {
                        Some(c) if c == q => {
                            out.push(c);
                            self.i += 1;
                        }
                        _ => out.push(b'\\'),
                    }
                }
                Some(c) if c == q => {
                    self.i += 1;
                    break;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn filter_or(&mut self) -> Result<Filter, PathError> {
        let mut l = self.filter_and()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"||") {
                self.i += 2;
                let r = self.filter_and()?;
                l = Filter::Or(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, PathError> {
        let mut l = self.filter_atom()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"&&") {
                self.i += 2;
                let r = self.filter_atom()?;
                l = Filter::And(Box::new(l), Box::new(r));
            } else {
                return Ok(l);
            }
        }
    }

    fn filter_atom(&mut self) -> Result<Filter, PathError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err("the filter is nested too deeply"));
        }
        self.depth += 1;
        let r = self.filter_atom_inner();
        self.depth -= 1;
        r
    }

    fn filter_atom_inner(&mut self) -> Result<Filter, PathError> {
        self.ws();
        if self.peek() == Some(b'!') && self.s.get(self.i + 1) != Some(&b'=') {
            self.i += 1;
            let inner = self.filter_atom()?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(b'(') {
            self.i += 1;
            let f = self.filter_or()?;
            self.ws();
            if self.peek() != Some(b')') {
                return Err(self.err("expected ')'"));
            }
            self.i += 1;
            return Ok(f);
        }
        let l = self.operand()?;
        self.ws();
        let rest = &self.s[self.i..];
        let op = if rest.starts_with(b"==") {
            Some((CmpOp::Eq, 2))
        } else if rest.starts_with(b"!=") {
            Some((CmpOp::Ne, 2))
        } else if rest.starts_with(b"<=") {
            Some((CmpOp::Le, 2))
        } else if rest.starts_with(b">=") {
            Some((CmpOp::Ge, 2))
        } else if rest.starts_with(b"<") {
            Some((CmpOp::Lt, 1))
        } else if rest.starts_with(b">") {
            Some((CmpOp::Gt, 1))
        } else {
            None
        };
        match op {
            Some((op, n)) => {
                self.i += n;
                let r = self.operand()?;
                Ok(Filter::Cmp(l, op, r))
            }
            None => Ok(Filter::Exists(l)),
        }
    }

    fn operand(&mut self) -> Result<Operand, PathError> {
        self.ws();
        match self.peek() {
            Some(b'@') => {
                self.i += 1;
                Ok(Operand::Current(self.segments(true)?))
            }
            Some(b'$') => {
                self.i += 1;
                Ok(Operand::Root(self.segments(true)?))
            }
            Some(b'\'' | b'"') => Ok(Operand::Lit(Value::String(self.quoted()?))),
            _ => {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                {
                    self.i += 1;
                }
                let word = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                match word {
                    "true" => Ok(Operand::Lit(Value::Bool(true))),
                    "false" => Ok(Operand::Lit(Value::Bool(false))),
                    "null" => Ok(Operand::Lit(Value::Null)),
                    _ => serde_json::from_str::<serde_json::Number>(word)
                        .map(|n| Operand::Lit(Value::Number(n)))
                        .map_err(|_| self.err("expected a value in the filter")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(path: &str, doc: &Value) -> Option<Value> {
        JsonPath::parse(path).unwrap().select(doc).into_value()
    }

    #[test]
    fn definite_paths_select_one_value_or_nothing() {
        let doc = json!({"a": {"b": [1, 2, 3]}, "x-y": 5});
        assert_eq!(sel("$.a.b[1]", &doc), Some(json!(2)));
        assert_eq!(sel("$.a.b[-1]", &doc), Some(json!(3)));
        assert_eq!(sel("$['a']['b'][0]", &doc), Some(json!(1)));
        assert_eq!(sel("$.x-y", &doc), Some(json!(5)));
        assert_eq!(sel("$.a.c", &doc), None);
        assert_eq!(sel("$", &doc), Some(doc.clone()));
    }

    #[test]
    fn indefinite_paths_always_give_an_array() {
        let doc = json!({"items": [{"v": 1}, {"v": 2}, {"w": 3}]});
        assert_eq!(sel("$.items[*].v", &doc), Some(json!([1, 2])));
        assert_eq!(sel("$.items[1:].v", &doc), Some(json!([2])));
        assert_eq!(sel("$.missing[1:].v", &doc), Some(json!([])));
        assert_eq!(sel("$..v", &doc), Some(json!([1, 2])));
        assert_eq!(sel("$.items[0,2]", &doc), Some(json!([{"v": 1}, {"w": 3}])));
        assert_eq!(sel("$.items[::2]", &doc), Some(json!([{"v": 1}, {"w": 3}])));
    }

    #[test]
    fn filters_compare_numbers_strings_and_existence() {
        let doc = json!({"xs": [{"n": 1, "s": "a"}, {"n": 5, "s": "b"}, {"s": "c"}]});
        assert_eq!(sel("$.xs[?(@.n > 2)].s", &doc), Some(json!(["b"])));
        assert_eq!(
            sel("$.xs[?(@.s == 'a' || @.s == 'c')].s", &doc),
            Some(json!(["a", "c"]))
        );
        assert_eq!(sel("$.xs[?(@.n)].s", &doc), Some(json!(["a", "b"])));
        assert_eq!(
            sel("$.xs[?(@.n >= 1 && @.n < 5)].s", &doc),
            Some(json!(["a"]))
        );
    }

    #[test]
    fn deeply_nested_filters_are_refused_not_overflowed() {
        let deep = format!("$[?({}@.a{})]", "(".repeat(10_000), ")".repeat(10_000));
        assert!(JsonPath::parse(&deep).is_err());
        let nots = format!("$[?({}@.a)]", "!".repeat(10_000));
        assert!(JsonPath::parse(&nots).is_err());
    }

    #[test]
    fn reference_paths_refuse_wildcards() {
        assert!(JsonPath::parse_reference("$.a[*]").is_err());
        assert!(JsonPath::parse_reference("$..a").is_err());
        assert!(JsonPath::parse_reference("$.a[0].b").is_ok());
        assert!(JsonPath::parse("a.b").is_err());
        assert!(JsonPath::parse("$.a[").is_err());
    }

    #[test]
    fn set_copy_agrees_with_set() {
        let p = JsonPath::parse("$.a.b[1].c").unwrap();
        let doc = json!({"a": {"b": [0, {"c": 1, "d": 2}], "e": 3}, "f": 4});
        let mut in_place = doc.clone();
        p.set(&mut in_place, json!("new")).unwrap();
        assert_eq!(p.set_copy(&doc, json!("new")).unwrap(), in_place);
        let q = JsonPath::parse("$.x.y").unwrap();
        let mut in_place = doc.clone();
        q.set(&mut in_place, json!(1)).unwrap();
        assert_eq!(q.set_copy(&doc, json!(1)).unwrap(), in_place);
        assert!(
            JsonPath::parse("$.f.g")
                .unwrap()
                .set_copy(&doc, json!(1))
                .is_err()
        );
        assert!(
            JsonPath::parse("$.a.b[5]")
                .unwrap()
                .set_copy(&doc, json!(1))
                .is_err()
        );
    }

    #[test]
    fn set_creates_missing_objects_and_replaces_leaves() {
        let mut doc = json!({"a": {"keep": 1}});
        JsonPath::parse("$.a.b.c")
            .unwrap()
            .set(&mut doc, json!(2))
            .unwrap();
        assert_eq!(doc, json!({"a": {"keep": 1, "b": {"c": 2}}}));
        let mut s = json!("text");
        assert!(
            JsonPath::parse("$.a")
                .unwrap()
                .set(&mut s, json!(1))
                .is_err()
        );
    }
}
