//! DynamoDB's expression language: condition, filter, key-condition, update and projection
//! expressions, with `ExpressionAttributeNames` and `ExpressionAttributeValues`.
//!
//! Parsing resolves `#names` and `:values` right away and records which ones were used, so a
//! request can then be checked for unused or undefined placeholders as AWS checks them. The
//! parser is the store's fuzzed surface: it must never panic and never recurse without bound,
//! whatever the input.

mod eval;
mod parse;

pub use eval::{apply_update, compare_values, eval_condition, project, resolve_path};
pub use parse::{
    ExprContext, parse_condition, parse_key_condition, parse_projection, parse_update,
};

use crate::value::AttributeValue;

/// One step of a document path: an attribute name or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elem {
    Key(String),
    Index(usize),
}

/// A document path such as `a.b[2].c`; the first element is always a `Key`.
pub type Path = Vec<Elem>;

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Path),
    Value(AttributeValue),
    Size(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Cmp(Operand, CmpOp, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Exists(Path),
    NotExists(Path),
    Type(Path, Operand),
    BeginsWith(Operand, Operand),
    Contains(Operand, Operand),
}

/// An operand on the right of `SET path = …`.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdOperand {
    Path(Path),
    Value(AttributeValue),
    IfNotExists(Path, Box<UpdOperand>),
    ListAppend(Box<UpdOperand>, Box<UpdOperand>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Single(UpdOperand),
    Plus(UpdOperand, UpdOperand),
    Minus(UpdOperand, UpdOperand),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(Path, SetValue)>,
    pub remove: Vec<Path>,
    pub add: Vec<(Path, AttributeValue)>,
    pub delete: Vec<(Path, AttributeValue)>,
}

impl Update {
    /// Every path the update writes, for UPDATED_OLD/UPDATED_NEW and key-attribute checks.
    pub fn target_paths(&self) -> impl Iterator<Item = &Path> {
        self.set
            .iter()
            .map(|(p, _)| p)
            .chain(self.remove.iter())
            .chain(self.add.iter().map(|(p, _)| p))
            .chain(self.delete.iter().map(|(p, _)| p))
    }
}

/// The sort-key part of a key condition.
#[derive(Debug, Clone, PartialEq)]
pub enum SortCond {
    Cmp(CmpOp, AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

/// A parsed key condition: the partition key's value and an optional sort-key condition,
/// with the attribute names they name (checked against the schema by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCond {
    pub hash_name: String,
    pub hash_value: AttributeValue,
    pub sort: Option<(String, SortCond)>,
}

/// Renders a path the way DynamoDB's messages do (`a.b[1]`).
pub fn path_to_string(path: &Path) -> String {
    let mut out = String::new();
    for (i, e) in path.iter().enumerate() {
        match e {
            Elem::Key(k) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(k);
            }
            Elem::Index(n) => {
                out.push('[');
                out.push_str(&n.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Checks that no two paths overlap (one is a prefix of the other) or conflict (one goes
/// through a list index where the other goes through a map key at the same step).
pub fn check_paths_disjoint(paths: &[&Path]) -> Result<(), String> {
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            let common = a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count();
            if common == a.len() || common == b.len() {
                return Err(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [{}], path two: [{}]",
                    path_to_string(a),
                    path_to_string(b)
                ));
            }
            let kinds_differ = matches!(
                (&a[common], &b[common]),
                (Elem::Key(_), Elem::Index(_)) | (Elem::Index(_), Elem::Key(_))
            );
            if kinds_differ {
                return Err(format!(
                    "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [{}], path two: [{}]",
                    path_to_string(a),
                    path_to_string(b)
                ));
            }
        }
    }
    Ok(())
}
