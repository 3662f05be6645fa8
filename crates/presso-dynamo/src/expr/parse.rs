//! Tokeniser and recursive-descent parser for every kind of expression.
//!
//! Precedence follows DynamoDB: comparisons, `IN`, `BETWEEN`, then `NOT`, `AND`, `OR`.
//! Nesting is bounded so hostile input cannot exhaust the stack.

use super::{CmpOp, Cond, Elem, KeyCond, Operand, Path, SetValue, SortCond, UpdOperand, Update};
use crate::error::{Error, Result};
use crate::value::{AttributeValue, validate_value};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const MAX_EXPRESSION_LEN: usize = 4096;
const MAX_DEPTH: usize = 100;

static RESERVED: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("../reserved_words.txt").lines().collect());

fn is_reserved(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    RESERVED.contains(upper.as_str())
}

/// The placeholders a request supplies, and which of them its expressions used.
pub struct ExprContext<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: HashMap<String, AttributeValue>,
    values_given: bool,
    used_names: HashSet<String>,
    used_values: HashSet<String>,
}

impl<'a> ExprContext<'a> {
    pub fn new(
        names: Option<&'a HashMap<String, String>>,
        values: Option<&HashMap<String, AttributeValue>>,
    ) -> Result<ExprContext<'a>> {
        if names.is_some_and(HashMap::is_empty) {
            return Err(Error::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if values.is_some_and(HashMap::is_empty) {
            return Err(Error::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        let mut resolved = HashMap::new();
        if let Some(values) = values {
            for (k, v) in values {
                let mut v = v.clone();
                validate_value(&mut v).map_err(|e| {
                    Error::validation(format!(
                        "{}; for ExpressionAttributeValues key {k}",
                        e.to_string().trim_end_matches('.')
                    ))
                })?;
                resolved.insert(k.clone(), v);
            }
        }
        Ok(ExprContext {
            names,
            values: resolved,
            values_given: values.is_some(),
            used_names: HashSet::new(),
            used_values: HashSet::new(),
        })
    }

    /// After all of a request's expressions are parsed: AWS refuses placeholders that no
    /// expression used.
    pub fn finish(&self, any_expression: bool) -> Result<()> {
        if let Some(names) = self.names {
            if !any_expression {
                return Err(Error::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            let mut unused: Vec<&String> = names
                .keys()
                .filter(|k| !self.used_names.contains(*k))
                .collect();
            if !unused.is_empty() {
                unused.sort();
                return Err(Error::validation(format!(
                    "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                    join(&unused)
                )));
            }
        }
        if self.values_given {
            if !any_expression {
                return Err(Error::validation(
                    "ExpressionAttributeValues can only be specified when using expressions",
                ));
            }
            let mut unused: Vec<&String> = self
                .values
                .keys()
                .filter(|k| !self.used_values.contains(*k))
                .collect();
            if !unused.is_empty() {
                unused.sort();
                return Err(Error::validation(format!(
                    "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                    join(&unused)
                )));
            }
        }
        Ok(())
    }
}

fn join(keys: &[&String]) -> String {
    keys.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Name(String),
    Value(String),
    Int(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Eof,
}

impl Tok {
    fn text(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Name(s) | Tok::Value(s) | Tok::Int(s) => s.clone(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::LBracket => "[".into(),
            Tok::RBracket => "]".into(),
            Tok::Comma => ",".into(),
            Tok::Dot => ".".into(),
            Tok::Eq => "=".into(),
            Tok::Ne => "<>".into(),
            Tok::Lt => "<".into(),
            Tok::Le => "<=".into(),
            Tok::Gt => ">".into(),
            Tok::Ge => ">=".into(),
            Tok::Plus => "+".into(),
            Tok::Minus => "-".into(),
            Tok::Eof => "<EOF>".into(),
        }
    }
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn tokenize(kind: &str, text: &str) -> Result<Vec<Tok>> {
    let mut toks = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let word = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && is_word(chars[*i]) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | '[' | ']' | ',' | '.' | '=' | '+' | '-' => {
                toks.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    ',' => Tok::Comma,
                    '.' => Tok::Dot,
                    '=' => Tok::Eq,
                    '+' => Tok::Plus,
                    _ => Tok::Minus,
                });
                i += 1;
            }
            '<' => {
                if chars.get(i + 1) == Some(&'=') {
                    toks.push(Tok::Le);
                    i += 2;
                } else if chars.get(i + 1) == Some(&'>') {
                    toks.push(Tok::Ne);
                    i += 2;
                } else {
                    toks.push(Tok::Lt);
                    i += 1;
                }
            }
            '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    toks.push(Tok::Ge);
                    i += 2;
                } else {
                    toks.push(Tok::Gt);
                    i += 1;
                }
            }
            '#' | ':' => {
                i += 1;
                let w = word(&mut i);
                if w.is_empty() {
                    return Err(syntax(kind, &c.to_string(), text));
                }
                let full = format!("{c}{w}");
                toks.push(if c == '#' {
                    Tok::Name(full)
                } else {
                    Tok::Value(full)
                });
            }
            c if c.is_ascii_digit() => {
                let w = word(&mut i);
                if w.chars().all(|c| c.is_ascii_digit()) {
                    toks.push(Tok::Int(w));
                } else {
                    toks.push(Tok::Ident(w));
                }
            }
            c if is_word(c) => toks.push(Tok::Ident(word(&mut i))),
            other => {
                return Err(Error::validation(format!(
                    "Invalid {kind}: Syntax error; token: \"{other}\", near: \"{}\"",
                    near(text, i)
                )));
            }
        }
    }
    toks.push(Tok::Eof);
    Ok(toks)
}

fn near(text: &str, char_pos: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let start = char_pos.saturating_sub(8);
    let end = (char_pos + 8).min(chars.len());
    chars[start.min(end)..end].iter().collect()
}

fn syntax(kind: &str, token: &str, text: &str) -> Error {
    let shown: String = text.chars().take(40).collect();
    Error::validation(format!(
        "Invalid {kind}: Syntax error; token: \"{token}\", near: \"{shown}\""
    ))
}

struct Parser<'c, 'a> {
    kind: &'static str,
    text: &'c str,
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    ctx: &'c mut ExprContext<'a>,
}

impl<'c, 'a> Parser<'c, 'a> {
    fn new(kind: &'static str, text: &'c str, ctx: &'c mut ExprContext<'a>) -> Result<Self> {
        if text.trim().is_empty() {
            return Err(Error::validation(format!(
                "Invalid {kind}: The expression can not be empty;"
            )));
        }
        if text.len() > MAX_EXPRESSION_LEN {
            return Err(Error::validation(format!(
                "Invalid {kind}: Expression size has exceeded the maximum allowed size; expression size: {}",
                text.len()
            )));
        }
        let toks = tokenize(kind, text)?;
        Ok(Parser {
            kind,
            text,
            toks,
            pos: 0,
            depth: 0,
            ctx,
        })
    }

    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).unwrap_or(&Tok::Eof)
    }

    fn peek_at(&self, n: usize) -> &Tok {
        self.toks.get(self.pos + n).unwrap_or(&Tok::Eof)
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn err(&self) -> Error {
        syntax(self.kind, &self.peek().text(), self.text)
    }

    fn expect(&mut self, want: &Tok) -> Result<()> {
        if self.peek() == want {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn is_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::validation(format!(
                "Invalid {}: The expression has too many nested levels",
                self.kind
            )));
        }
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn value(&mut self, placeholder: &str) -> Result<AttributeValue> {
        match self.ctx.values.get(placeholder) {
            Some(v) => {
                self.ctx.used_values.insert(placeholder.to_string());
                Ok(v.clone())
            }
            None => Err(Error::validation(format!(
                "Invalid {}: An expression attribute value used in expression is not defined; attribute value: {placeholder}",
                self.kind
            ))),
        }
    }

    fn name_elem(&mut self, tok: &Tok) -> Result<String> {
        match tok {
            Tok::Ident(w) => {
                if is_reserved(w) {
                    return Err(Error::validation(format!(
                        "Invalid {}: Attribute name is a reserved keyword; reserved keyword: {w}",
                        self.kind
                    )));
                }
                if !w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                    return Err(syntax(self.kind, w, self.text));
                }
                Ok(w.clone())
            }
            Tok::Name(n) => match self.ctx.names.and_then(|m| m.get(n)) {
                Some(real) => {
                    self.ctx.used_names.insert(n.clone());
                    Ok(real.clone())
                }
                None => Err(Error::validation(format!(
                    "Invalid {}: An expression attribute name used in the document path is not defined; attribute name: {n}",
                    self.kind
                ))),
            },
            _ => Err(self.err()),
        }
    }

    fn path(&mut self) -> Result<Path> {
        let first = self.next();
        let mut path = vec![Elem::Key(self.name_elem(&first)?)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.pos += 1;
                    let t = self.next();
                    path.push(Elem::Key(self.name_elem(&t)?));
                }
                Tok::LBracket => {
                    self.pos += 1;
                    let idx = match self.next() {
                        Tok::Int(n) => n.parse::<usize>().map_err(|_| self.err())?,
                        _ => {
                            self.pos -= 1;
                            return Err(self.err());
                        }
                    };
                    self.expect(&Tok::RBracket)?;
                    path.push(Elem::Index(idx));
                }
                _ => break,
            }
            if path.len() > 32 {
                return Err(Error::validation(format!(
                    "Invalid {}: The document path has too many nesting levels",
                    self.kind
                )));
            }
        }
        Ok(path)
    }

    fn is_function(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w == name) && *self.peek_at(1) == Tok::LParen
    }

    // ---- conditions ----

    fn condition(&mut self) -> Result<Cond> {
        self.enter()?;
        let mut left = self.and()?;
        while self.is_keyword("OR") {
            self.pos += 1;
            let right = self.and()?;
            left = Cond::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond> {
        let mut left = self.not()?;
        while self.is_keyword("AND") {
            self.pos += 1;
            let right = self.not()?;
            left = Cond::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Cond> {
        if self.is_keyword("NOT") {
            self.pos += 1;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond> {
        if *self.peek() == Tok::LParen {
            self.pos += 1;
            let c = self.condition()?;
            self.expect(&Tok::RParen)?;
            return Ok(c);
        }
        for (fname, nargs) in [
            ("attribute_exists", 1),
            ("attribute_not_exists", 1),
            ("attribute_type", 2),
            ("begins_with", 2),
            ("contains", 2),
        ] {
            if self.is_function(fname) {
                self.pos += 2;
                let cond = match nargs {
                    1 => {
                        let p = self.path()?;
                        if fname == "attribute_exists" {
                            Cond::Exists(p)
                        } else {
                            Cond::NotExists(p)
                        }
                    }
                    _ => {
                        let a = self.operand()?;
                        self.expect(&Tok::Comma)?;
                        let b = self.operand()?;
                        self.function2(fname, a, b)?
                    }
                };
                self.expect(&Tok::RParen)?;
                return Ok(cond);
            }
        }
        if self.is_function("size") {
            // size() can only be an operand, handled below.
        } else if let Tok::Ident(w) = self.peek()
            && *self.peek_at(1) == Tok::LParen
        {
            return Err(Error::validation(format!(
                "Invalid {}: Invalid function name; function: {w}",
                self.kind
            )));
        }
        let left = self.operand()?;
        let op = match self.peek() {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Ne => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let right = self.operand()?;
            return Ok(Cond::Cmp(left, op, right));
        }
        if self.is_keyword("BETWEEN") {
            self.pos += 1;
            let lo = self.operand()?;
            if !self.is_keyword("AND") {
                return Err(self.err());
            }
            self.pos += 1;
            let hi = self.operand()?;
            if let (Operand::Value(a), Operand::Value(b)) = (&lo, &hi)
                && let Some(std::cmp::Ordering::Greater) = super::eval::compare_values(a, b)
            {
                return Err(Error::validation(format!(
                    "Invalid {}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {{{}}}, upper bound operand: AttributeValue: {{{}}}",
                    self.kind,
                    short(a),
                    short(b)
                )));
            }
            return Ok(Cond::Between(left, lo, hi));
        }
        if self.is_keyword("IN") {
            self.pos += 1;
            self.expect(&Tok::LParen)?;
            let mut list = vec![self.operand()?];
            while *self.peek() == Tok::Comma {
                self.pos += 1;
                list.push(self.operand()?);
            }
            self.expect(&Tok::RParen)?;
            if list.len() > 100 {
                return Err(Error::validation(format!(
                    "Invalid {}: The IN operator is provided with too many operands; number of operands: {}",
                    self.kind,
                    list.len()
                )));
            }
            return Ok(Cond::In(left, list));
        }
        Err(self.err())
    }

    fn function2(&mut self, fname: &str, a: Operand, b: Operand) -> Result<Cond> {
        match fname {
            "attribute_type" => {
                let Operand::Path(p) = a else {
                    return Err(self.bad_operand(fname, &a));
                };
                match &b {
                    Operand::Value(AttributeValue::S(t)) => {
                        const TYPES: [&str; 10] =
                            ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];
                        if !TYPES.contains(&t.as_str()) {
                            return Err(Error::validation(format!(
                                "Invalid {}: Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}",
                                self.kind
                            )));
                        }
                    }
                    other => return Err(self.bad_operand(fname, other)),
                }
                Ok(Cond::Type(p, b))
            }
            "begins_with" => {
                for op in [&a, &b] {
                    if let Operand::Value(v) = op
                        && !matches!(v, AttributeValue::S(_) | AttributeValue::B(_))
                    {
                        return Err(self.bad_operand(fname, op));
                    }
                    if let Operand::Size(_) = op {
                        return Err(self.bad_operand(fname, op));
                    }
                }
                Ok(Cond::BeginsWith(a, b))
            }
            _ => {
                if let Operand::Size(_) = a {
                    return Err(self.bad_operand(fname, &a));
                }
                Ok(Cond::Contains(a, b))
            }
        }
    }

    fn bad_operand(&self, fname: &str, op: &Operand) -> Error {
        let ty = match op {
            Operand::Value(v) => v.type_name(),
            Operand::Size(_) => "N",
            Operand::Path(_) => "path",
        };
        Error::validation(format!(
            "Invalid {}: Incorrect operand type for operator or function; operator or function: {fname}, operand type: {ty}",
            self.kind
        ))
    }

    fn operand(&mut self) -> Result<Operand> {
        if self.is_function("size") {
            self.pos += 2;
            let p = self.path()?;
            self.expect(&Tok::RParen)?;
            return Ok(Operand::Size(p));
        }
        match self.peek().clone() {
            Tok::Value(v) => {
                self.pos += 1;
                Ok(Operand::Value(self.value(&v)?))
            }
            Tok::Ident(w) if *self.peek_at(1) == Tok::LParen => Err(Error::validation(format!(
                "Invalid {}: The function is not allowed to be used this way in an expression; function: {w}",
                self.kind
            ))),
            Tok::Ident(_) | Tok::Name(_) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.err()),
        }
    }

    // ---- updates ----

    fn update(&mut self) -> Result<Update> {
        let mut up = Update::default();
        let mut seen: Vec<&'static str> = Vec::new();
        loop {
            let clause = match self.peek() {
                Tok::Ident(w) if w.eq_ignore_ascii_case("SET") => "SET",
                Tok::Ident(w) if w.eq_ignore_ascii_case("REMOVE") => "REMOVE",
                Tok::Ident(w) if w.eq_ignore_ascii_case("ADD") => "ADD",
                Tok::Ident(w) if w.eq_ignore_ascii_case("DELETE") => "DELETE",
                Tok::Eof if !seen.is_empty() => break,
                _ => return Err(self.err()),
            };
            if seen.contains(&clause) {
                return Err(Error::validation(format!(
                    "Invalid UpdateExpression: The \"{clause}\" section can only be used once in an update expression;"
                )));
            }
            seen.push(clause);
            self.pos += 1;
            loop {
                match clause {
                    "SET" => {
                        let p = self.path()?;
                        self.expect(&Tok::Eq)?;
                        let v = self.set_value()?;
                        up.set.push((p, v));
                    }
                    "REMOVE" => up.remove.push(self.path()?),
                    _ => {
                        let p = self.path()?;
                        let v = match self.next() {
                            Tok::Value(v) => self.value(&v)?,
                            _ => {
                                self.pos -= 1;
                                return Err(self.err());
                            }
                        };
                        if clause == "ADD" {
                            if !matches!(
                                v,
                                AttributeValue::N(_)
                                    | AttributeValue::Ss(_)
                                    | AttributeValue::Ns(_)
                                    | AttributeValue::Bs(_)
                            ) {
                                return Err(Error::validation(format!(
                                    "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: {}",
                                    v.type_name()
                                )));
                            }
                            up.add.push((p, v));
                        } else {
                            if !matches!(
                                v,
                                AttributeValue::Ss(_)
                                    | AttributeValue::Ns(_)
                                    | AttributeValue::Bs(_)
                            ) {
                                return Err(Error::validation(format!(
                                    "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: {}",
                                    v.type_name()
                                )));
                            }
                            up.delete.push((p, v));
                        }
                    }
                }
                if *self.peek() == Tok::Comma {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        Ok(up)
    }

    fn set_value(&mut self) -> Result<SetValue> {
        let a = self.upd_operand()?;
        match self.peek() {
            Tok::Plus => {
                self.pos += 1;
                Ok(SetValue::Plus(a, self.upd_operand()?))
            }
            Tok::Minus => {
                self.pos += 1;
                Ok(SetValue::Minus(a, self.upd_operand()?))
            }
            _ => Ok(SetValue::Single(a)),
        }
    }

    fn upd_operand(&mut self) -> Result<UpdOperand> {
        self.enter()?;
        let result = if self.is_function("if_not_exists") {
            self.pos += 2;
            let p = self.path()?;
            self.expect(&Tok::Comma)?;
            let v = self.upd_operand()?;
            self.expect(&Tok::RParen)?;
            UpdOperand::IfNotExists(p, Box::new(v))
        } else if self.is_function("list_append") {
            self.pos += 2;
            let a = self.upd_operand()?;
            self.expect(&Tok::Comma)?;
            let b = self.upd_operand()?;
            self.expect(&Tok::RParen)?;
            UpdOperand::ListAppend(Box::new(a), Box::new(b))
        } else {
            match self.peek().clone() {
                Tok::Value(v) => {
                    self.pos += 1;
                    UpdOperand::Value(self.value(&v)?)
                }
                Tok::Ident(w) if *self.peek_at(1) == Tok::LParen => {
                    return Err(Error::validation(format!(
                        "Invalid UpdateExpression: Invalid function name; function: {w}"
                    )));
                }
                Tok::Ident(_) | Tok::Name(_) => UpdOperand::Path(self.path()?),
                _ => return Err(self.err()),
            }
        };
        self.depth -= 1;
        Ok(result)
    }
}

fn short(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => format!("S:{s}"),
        AttributeValue::N(n) => format!("N:{n}"),
        other => other.type_name().to_string(),
    }
}

/// Parses a ConditionExpression or FilterExpression (`kind` names it in messages).
pub fn parse_condition(kind: &'static str, text: &str, ctx: &mut ExprContext<'_>) -> Result<Cond> {
    let mut p = Parser::new(kind, text, ctx)?;
    let c = p.condition()?;
    p.end()?;
    Ok(c)
}

pub fn parse_update(text: &str, ctx: &mut ExprContext<'_>) -> Result<Update> {
    let mut p = Parser::new("UpdateExpression", text, ctx)?;
    let u = p.update()?;
    p.end()?;
    let paths: Vec<&Path> = u.target_paths().collect();
    super::check_paths_disjoint(&paths)
        .map_err(|m| Error::validation(format!("Invalid UpdateExpression: {m}")))?;
    Ok(u)
}

pub fn parse_projection(text: &str, ctx: &mut ExprContext<'_>) -> Result<Vec<Path>> {
    let mut p = Parser::new("ProjectionExpression", text, ctx)?;
    let mut paths = vec![p.path()?];
    while *p.peek() == Tok::Comma {
        p.pos += 1;
        paths.push(p.path()?);
    }
    p.end()?;
    let refs: Vec<&Path> = paths.iter().collect();
    super::check_paths_disjoint(&refs)
        .map_err(|m| Error::validation(format!("Invalid ProjectionExpression: {m}")))?;
    Ok(paths)
}

/// Parses a KeyConditionExpression into its partition-key and sort-key parts. Which
/// attribute is which is decided by the caller's key schema (`hash_key`).
pub fn parse_key_condition(
    text: &str,
    ctx: &mut ExprContext<'_>,
    hash_key: &str,
) -> Result<KeyCond> {
    let cond = parse_condition("KeyConditionExpression", text, ctx)?;
    let mut parts = Vec::new();
    flatten_and(cond, &mut parts, 0)?;
    let unsupported = || Error::validation("Query key condition not supported");
    let top_name = |op: &Operand| -> Result<String> {
        match op {
            Operand::Path(p) if p.len() == 1 => match &p[0] {
                Elem::Key(k) => Ok(k.clone()),
                Elem::Index(_) => Err(unsupported()),
            },
            _ => Err(unsupported()),
        }
    };
    let value = |op: Operand| -> Result<AttributeValue> {
        match op {
            Operand::Value(v) => Ok(v),
            _ => Err(unsupported()),
        }
    };
    let mut hash: Option<(String, AttributeValue)> = None;
    let mut sort: Option<(String, SortCond)> = None;
    for part in parts {
        match part {
            Cond::Cmp(l, op, r) => {
                let name = top_name(&l)?;
                let v = value(r)?;
                if op == CmpOp::Ne {
                    return Err(Error::validation(
                        "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: <>",
                    ));
                }
                if op == CmpOp::Eq && name == hash_key && hash.is_none() {
                    hash = Some((name, v));
                } else if sort.is_none() {
                    sort = Some((name, SortCond::Cmp(op, v)));
                } else {
                    return Err(Error::validation("Conditions can be of length 1 or 2 only"));
                }
            }
            Cond::Between(l, lo, hi) => {
                let name = top_name(&l)?;
                if sort.is_some() {
                    return Err(Error::validation("Conditions can be of length 1 or 2 only"));
                }
                sort = Some((name, SortCond::Between(value(lo)?, value(hi)?)));
            }
            Cond::BeginsWith(l, r) => {
                let name = top_name(&l)?;
                if sort.is_some() {
                    return Err(Error::validation("Conditions can be of length 1 or 2 only"));
                }
                sort = Some((name, SortCond::BeginsWith(value(r)?)));
            }
            Cond::In(..) => {
                return Err(Error::validation(
                    "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: IN",
                ));
            }
            Cond::Or(..) => {
                return Err(Error::validation(
                    "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR",
                ));
            }
            Cond::Not(..) => {
                return Err(Error::validation(
                    "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: NOT",
                ));
            }
            Cond::Exists(_) | Cond::NotExists(_) | Cond::Type(..) | Cond::Contains(..) => {
                return Err(Error::validation(
                    "Invalid KeyConditionExpression: Invalid function name used in KeyConditionExpression",
                ));
            }
            Cond::And(..) => return Err(unsupported()),
        }
    }
    let Some((hash_name, hash_value)) = hash else {
        return Err(Error::validation(format!(
            "Query condition missed key schema element: {hash_key}"
        )));
    };
    Ok(KeyCond {
        hash_name,
        hash_value,
        sort,
    })
}

fn flatten_and(cond: Cond, out: &mut Vec<Cond>, depth: usize) -> Result<()> {
    if depth > 4 || out.len() > 2 {
        return Err(Error::validation("Conditions can be of length 1 or 2 only"));
    }
    match cond {
        Cond::And(a, b) => {
            flatten_and(*a, out, depth + 1)?;
            flatten_and(*b, out, depth + 1)
        }
        other => {
            out.push(other);
            if out.len() > 2 {
                return Err(Error::validation("Conditions can be of length 1 or 2 only"));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_with<'a>(names: &'a HashMap<String, String>) -> ExprContext<'a> {
        let values: HashMap<String, AttributeValue> = [
            (":a".to_string(), AttributeValue::N("1".into())),
            (":s".to_string(), AttributeValue::S("x".into())),
            (":l".to_string(), AttributeValue::L(vec![])),
        ]
        .into_iter()
        .collect();
        ExprContext::new(Some(names), Some(&values)).unwrap()
    }

    #[test]
    fn well_formed_expressions_parse() {
        let names: HashMap<String, String> = [("#n".to_string(), "status".to_string())]
            .into_iter()
            .collect();
        let conds = [
            "a = :a",
            "#n <> :s AND NOT attribute_exists(b.c[1])",
            "(a < :a OR a >= :a) and b between :a and :a",
            "a IN (:a, :s)",
            "size(a.b) > :a",
            "begins_with(a, :s) OR contains(l, :a)",
        ];
        for c in conds {
            let mut ctx = ctx_with(&names);
            parse_condition("ConditionExpression", c, &mut ctx)
                .unwrap_or_else(|e| panic!("{c}: {e}"));
        }
        let updates = [
            "SET a = a + :a, b = list_append(if_not_exists(b, :l), :l) REMOVE c[1] ADD d :a",
            "set #n = :s",
            "REMOVE a, b.c DELETE s :a",
        ];
        for u in updates {
            let mut ctx = ctx_with(&names);
            let r = parse_update(u, &mut ctx);
            // DELETE needs a set value, so the last case is a typed error rather than a parse.
            if u.contains("DELETE") {
                assert!(r.is_err());
            } else {
                r.unwrap_or_else(|e| panic!("{u}: {e}"));
            }
        }
    }

    #[test]
    fn malformed_expressions_are_validation_errors() {
        let names: HashMap<String, String> = HashMap::from([("#n".into(), "x".into())]);
        let bad = [
            "",
            "a =",
            "a = :missing",
            "#missing = :a",
            "status = :a",
            "a = :a AND",
            "((a = :a)",
            "unknown_fn(a)",
            "a BETWEEN :a",
            "begins_with(a, :a)",
            "attribute_type(a, :a)",
            "a = :a extra",
            "a[x] = :a",
            "$ = :a",
        ];
        for c in bad {
            let mut ctx = ctx_with(&names);
            let r = parse_condition("ConditionExpression", c, &mut ctx);
            assert!(matches!(r, Err(Error::Validation(_))), "{c}: {r:?}");
        }
        let deep = format!("{}a = :a{}", "(".repeat(5000), ")".repeat(5000));
        let mut ctx = ctx_with(&names);
        assert!(parse_condition("ConditionExpression", &deep[..4000], &mut ctx).is_err());
    }

    #[test]
    fn unused_placeholders_are_reported() {
        let names: HashMap<String, String> = HashMap::from([("#n".into(), "x".into())]);
        let mut ctx = ctx_with(&names);
        parse_condition("ConditionExpression", "#n = :a", &mut ctx).unwrap();
        let err = ctx.finish(true).unwrap_err().to_string();
        assert!(err.contains("ExpressionAttributeValues unused"), "{err}");
    }

    #[test]
    fn overlapping_update_paths_are_refused() {
        let names = HashMap::from([("#n".to_string(), "x".to_string())]);
        let mut ctx = ctx_with(&names);
        let r = parse_update("SET a = :a, a.b = :s, #n = :l", &mut ctx);
        assert!(r.unwrap_err().to_string().contains("overlap"));
    }
}
