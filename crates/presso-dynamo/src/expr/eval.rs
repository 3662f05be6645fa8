//! Evaluating parsed expressions against items: conditions, projections and updates.
//!
//! Conditions never fail at run time: a missing attribute or a type mismatch makes a
//! comparison false, as in DynamoDB. Updates can fail (adding a string to a number, a path
//! through a missing map) with the ValidationException DynamoDB gives.

use super::{CmpOp, Cond, Elem, Operand, Path, SetValue, UpdOperand, Update};
use crate::error::{Error, Result};
use crate::number::Number;
use crate::value::{AttributeValue, Item};
use std::borrow::Cow;
use std::cmp::Ordering;

pub fn resolve_path<'v>(item: &'v Item, path: &Path) -> Option<&'v AttributeValue> {
    let mut iter = path.iter();
    let mut cur = match iter.next()? {
        Elem::Key(k) => item.get(k)?,
        Elem::Index(_) => return None,
    };
    for e in iter {
        cur = match (e, cur) {
            (Elem::Key(k), AttributeValue::M(m)) => m.get(k)?,
            (Elem::Index(i), AttributeValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Ordering for `<`, `<=`, `>`, `>=` and BETWEEN: defined only for two S, two N or two B.
pub fn compare_values(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        (AttributeValue::N(x), AttributeValue::N(y)) => {
            let x = Number::parse(x).ok()?;
            let y = Number::parse(y).ok()?;
            Some(x.cmp(&y))
        }
        _ => None,
    }
}

fn operand<'v>(item: &'v Item, op: &'v Operand) -> Option<Cow<'v, AttributeValue>> {
    match op {
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Path(p) => resolve_path(item, p).map(Cow::Borrowed),
        Operand::Size(p) => {
            let n = match resolve_path(item, p)? {
                AttributeValue::S(s) => s.chars().count(),
                AttributeValue::B(b) => b.len(),
                AttributeValue::M(m) => m.len(),
                AttributeValue::L(l) => l.len(),
                AttributeValue::Ss(s) => s.len(),
                AttributeValue::Ns(s) => s.len(),
                AttributeValue::Bs(s) => s.len(),
                _ => return None,
            };
            Some(Cow::Owned(AttributeValue::N(n.to_string())))
        }
    }
}

/// Evaluates a condition; a missing item behaves like an item with no attributes.
pub fn eval_condition(cond: &Cond, item: &Item) -> bool {
    match cond {
        Cond::And(a, b) => eval_condition(a, item) && eval_condition(b, item),
        Cond::Or(a, b) => eval_condition(a, item) || eval_condition(b, item),
        Cond::Not(a) => !eval_condition(a, item),
        Cond::Exists(p) => resolve_path(item, p).is_some(),
        Cond::NotExists(p) => resolve_path(item, p).is_none(),
        Cond::Type(p, t) => match (resolve_path(item, p), t) {
            (Some(v), Operand::Value(AttributeValue::S(t))) => v.type_name() == t,
            _ => false,
        },
        Cond::Cmp(l, op, r) => {
            let (l, r) = (operand(item, l), operand(item, r));
            match op {
                CmpOp::Eq => matches!((&l, &r), (Some(a), Some(b)) if a.dynamo_eq(b)),
                CmpOp::Ne => !matches!((&l, &r), (Some(a), Some(b)) if a.dynamo_eq(b)),
                _ => {
                    let (Some(a), Some(b)) = (l, r) else {
                        return false;
                    };
                    match compare_values(&a, &b) {
                        Some(ord) => match op {
                            CmpOp::Lt => ord == Ordering::Less,
                            CmpOp::Le => ord != Ordering::Greater,
                            CmpOp::Gt => ord == Ordering::Greater,
                            _ => ord != Ordering::Less,
                        },
                        None => false,
                    }
                }
            }
        }
        Cond::Between(x, lo, hi) => {
            let (Some(x), Some(lo), Some(hi)) =
                (operand(item, x), operand(item, lo), operand(item, hi))
            else {
                return false;
            };
            matches!(
                compare_values(&x, &lo),
                Some(Ordering::Greater | Ordering::Equal)
            ) && matches!(
                compare_values(&x, &hi),
                Some(Ordering::Less | Ordering::Equal)
            )
        }
        Cond::In(x, list) => {
            let Some(x) = operand(item, x) else {
                return false;
            };
            list.iter()
                .any(|o| operand(item, o).is_some_and(|v| v.dynamo_eq(&x)))
        }
        Cond::BeginsWith(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => match (a.as_ref(), b.as_ref()) {
                (AttributeValue::S(x), AttributeValue::S(y)) => x.starts_with(y.as_str()),
                (AttributeValue::B(x), AttributeValue::B(y)) => x.starts_with(y),
                _ => false,
            },
            _ => false,
        },
        Cond::Contains(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => match (a.as_ref(), b.as_ref()) {
                (AttributeValue::S(x), AttributeValue::S(y)) => x.contains(y.as_str()),
                (AttributeValue::B(x), AttributeValue::B(y)) => {
                    y.is_empty() || x.windows(y.len()).any(|w| w == y.as_slice())
                }
                (AttributeValue::Ss(s), AttributeValue::S(y)) => s.contains(y),
                (AttributeValue::Ns(s), AttributeValue::N(y)) => s.contains(y),
                (AttributeValue::Bs(s), AttributeValue::B(y)) => s.contains(y),
                (AttributeValue::L(l), v) => l.iter().any(|e| e.dynamo_eq(v)),
                _ => false,
            },
            _ => false,
        },
    }
}

/// Builds the item a ProjectionExpression asks for: each path's value, nested as in the
/// original, list elements kept in index order.
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut root = ProjNode::default();
    for path in paths {
        let mut node = &mut root;
        for e in path {
            let key = match e {
                Elem::Key(k) => ProjKey::Key(k.clone()),
                Elem::Index(i) => ProjKey::Index(*i),
            };
            node = node.children.entry(key).or_default();
        }
        node.leaf = true;
    }
    let mut out = Item::new();
    for (key, child) in &root.children {
        if let ProjKey::Key(k) = key
            && let Some(v) = item.get(k)
            && let Some(p) = child.apply(v)
        {
            out.insert(k.clone(), p);
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ProjKey {
    Key(String),
    Index(usize),
}

#[derive(Default)]
struct ProjNode {
    leaf: bool,
    children: std::collections::BTreeMap<ProjKey, ProjNode>,
}

impl ProjNode {
    fn apply(&self, v: &AttributeValue) -> Option<AttributeValue> {
        if self.leaf {
            return Some(v.clone());
        }
        match v {
            AttributeValue::M(m) => {
                let mut out = Item::new();
                for (key, child) in &self.children {
                    if let ProjKey::Key(k) = key
                        && let Some(cv) = m.get(k)
                        && let Some(p) = child.apply(cv)
                    {
                        out.insert(k.clone(), p);
                    }
                }
                (!out.is_empty()).then_some(AttributeValue::M(out))
            }
            AttributeValue::L(l) => {
                let mut out = Vec::new();
                for (key, child) in &self.children {
                    if let ProjKey::Index(i) = key
                        && let Some(cv) = l.get(*i)
                        && let Some(p) = child.apply(cv)
                    {
                        out.push(p);
                    }
                }
                (!out.is_empty()).then_some(AttributeValue::L(out))
            }
            _ => None,
        }
    }
}

fn invalid_path() -> Error {
    Error::validation("The document path provided in the update expression is invalid for update")
}

fn missing_operand() -> Error {
    Error::validation(
        "The provided expression refers to an attribute that does not exist in the item",
    )
}

fn upd_value(item: &Item, op: &UpdOperand) -> Result<AttributeValue> {
    match op {
        UpdOperand::Value(v) => Ok(v.clone()),
        UpdOperand::Path(p) => resolve_path(item, p).cloned().ok_or_else(missing_operand),
        UpdOperand::IfNotExists(p, fallback) => match resolve_path(item, p) {
            Some(v) => Ok(v.clone()),
            None => upd_value(item, fallback),
        },
        UpdOperand::ListAppend(a, b) => {
            let a = upd_value(item, a)?;
            let b = upd_value(item, b)?;
            match (a, b) {
                (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                    x.extend(y);
                    Ok(AttributeValue::L(x))
                }
                (x, y) => Err(Error::validation(format!(
                    "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: {}",
                    if matches!(x, AttributeValue::L(_)) {
                        y.type_name()
                    } else {
                        x.type_name()
                    }
                ))),
            }
        }
    }
}

fn arith(a: AttributeValue, b: AttributeValue, plus: bool) -> Result<AttributeValue> {
    match (&a, &b) {
        (AttributeValue::N(x), AttributeValue::N(y)) => {
            let x = Number::parse(x)?;
            let y = Number::parse(y)?;
            let r = if plus { x.add(&y)? } else { x.sub(&y)? };
            Ok(AttributeValue::N(r.to_canonical()))
        }
        _ => {
            let bad = if matches!(a, AttributeValue::N(_)) {
                &b
            } else {
                &a
            };
            Err(Error::validation(format!(
                "An operand in the update expression has an incorrect data type; operator or function: {}, operand type: {}",
                if plus { "+" } else { "-" },
                bad.type_name()
            )))
        }
    }
}

/// Where a path points inside an item, for writing.
fn parent_mut<'v>(item: &'v mut Item, path: &Path) -> Result<Option<&'v mut AttributeValue>> {
    // Returns the container holding the last element (None when the path is top-level).
    if path.len() == 1 {
        return Ok(None);
    }
    let Some(Elem::Key(first)) = path.first() else {
        return Err(invalid_path());
    };
    let mut cur = item.get_mut(first).ok_or_else(invalid_path)?;
    for e in &path[1..path.len() - 1] {
        cur = match (e, cur) {
            (Elem::Key(k), AttributeValue::M(m)) => m.get_mut(k).ok_or_else(invalid_path)?,
            (Elem::Index(i), AttributeValue::L(l)) => l.get_mut(*i).ok_or_else(invalid_path)?,
            _ => return Err(invalid_path()),
        };
    }
    Ok(Some(cur))
}

fn set_path(item: &mut Item, path: &Path, value: AttributeValue) -> Result<()> {
    let last = path.last().ok_or_else(invalid_path)?;
    match parent_mut(item, path)? {
        None => {
            if let Elem::Key(k) = last {
                item.insert(k.clone(), value);
                Ok(())
            } else {
                Err(invalid_path())
            }
        }
        Some(container) => match (last, container) {
            (Elem::Key(k), AttributeValue::M(m)) => {
                m.insert(k.clone(), value);
                Ok(())
            }
            (Elem::Index(i), AttributeValue::L(l)) => {
                if *i < l.len() {
                    l[*i] = value;
                } else {
                    l.push(value);
                }
                Ok(())
            }
            _ => Err(invalid_path()),
        },
    }
}

fn remove_path(item: &mut Item, path: &Path) -> Result<()> {
    let Some(last) = path.last() else {
        return Ok(());
    };
    // A path through a missing or mistyped parent is an invalid document path, as for SET.
    let container = parent_mut(item, path)?;
    match (last, container) {
        (Elem::Key(k), None) => {
            item.remove(k);
        }
        (Elem::Key(k), Some(AttributeValue::M(m))) => {
            m.remove(k);
        }
        (Elem::Index(i), Some(AttributeValue::L(l))) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
    Ok(())
}

/// Applies an update to `item` in place. All right-hand sides are read from the item as it
/// was before the update, as DynamoDB does.
pub fn apply_update(update: &Update, item: &mut Item) -> Result<()> {
    let original = item.clone();
    let mut sets = Vec::with_capacity(update.set.len());
    for (path, value) in &update.set {
        let v = match value {
            SetValue::Single(op) => upd_value(&original, op)?,
            SetValue::Plus(a, b) => {
                arith(upd_value(&original, a)?, upd_value(&original, b)?, true)?
            }
            SetValue::Minus(a, b) => {
                arith(upd_value(&original, a)?, upd_value(&original, b)?, false)?
            }
        };
        sets.push((path, v));
    }
    for (path, v) in sets {
        set_path(item, path, v)?;
    }
    // Remove list elements from the highest index down so earlier removals do not shift
    // later ones.
    let mut removes: Vec<&Path> = update.remove.iter().collect();
    removes.sort_by(|a, b| index_order(b, a));
    for path in removes {
        remove_path(item, path)?;
    }
    for (path, v) in &update.add {
        let current = resolve_path(item, path).cloned();
        let new = match (current, v) {
            (None, v) => v.clone(),
            (Some(AttributeValue::N(x)), AttributeValue::N(y)) => {
                let r = Number::parse(&x)?.add(&Number::parse(y)?)?;
                AttributeValue::N(r.to_canonical())
            }
            (Some(AttributeValue::Ss(mut x)), AttributeValue::Ss(y)) => {
                union(&mut x, y);
                AttributeValue::Ss(x)
            }
            (Some(AttributeValue::Ns(mut x)), AttributeValue::Ns(y)) => {
                union(&mut x, y);
                AttributeValue::Ns(x)
            }
            (Some(AttributeValue::Bs(mut x)), AttributeValue::Bs(y)) => {
                union(&mut x, y);
                AttributeValue::Bs(x)
            }
            (Some(cur), v) => {
                return Err(Error::validation(format!(
                    "An operand in the update expression has an incorrect data type; operator: ADD, operand types: {}, {}",
                    cur.type_name(),
                    v.type_name()
                )));
            }
        };
        set_path(item, path, new)?;
    }
    for (path, v) in &update.delete {
        let Some(current) = resolve_path(item, path).cloned() else {
            continue;
        };
        let new = match (current, v) {
            (AttributeValue::Ss(mut x), AttributeValue::Ss(y)) => {
                x.retain(|e| !y.contains(e));
                (!x.is_empty()).then_some(AttributeValue::Ss(x))
            }
            (AttributeValue::Ns(mut x), AttributeValue::Ns(y)) => {
                x.retain(|e| !y.contains(e));
                (!x.is_empty()).then_some(AttributeValue::Ns(x))
            }
            (AttributeValue::Bs(mut x), AttributeValue::Bs(y)) => {
                x.retain(|e| !y.contains(e));
                (!x.is_empty()).then_some(AttributeValue::Bs(x))
            }
            (cur, v) => {
                return Err(Error::validation(format!(
                    "An operand in the update expression has an incorrect data type; operator: DELETE, operand types: {}, {}",
                    cur.type_name(),
                    v.type_name()
                )));
            }
        };
        match new {
            Some(v) => set_path(item, path, v)?,
            None => remove_path(item, path)?,
        }
    }
    Ok(())
}

fn union<T: PartialEq + Clone>(x: &mut Vec<T>, y: &[T]) {
    for e in y {
        if !x.contains(e) {
            x.push(e.clone());
        }
    }
}

fn index_order(a: &Path, b: &Path) -> Ordering {
    for (x, y) in a.iter().zip(b.iter()) {
        let o = match (x, y) {
            (Elem::Index(i), Elem::Index(j)) => i.cmp(j),
            (Elem::Key(i), Elem::Key(j)) => i.cmp(j),
            (Elem::Key(_), Elem::Index(_)) => Ordering::Less,
            (Elem::Index(_), Elem::Key(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{ExprContext, parse_condition, parse_projection, parse_update};
    use std::collections::HashMap;

    fn item(json: &str) -> Item {
        serde_json::from_str(json).unwrap()
    }

    fn values() -> HashMap<String, AttributeValue> {
        serde_json::from_str(
            r#"{":one":{"N":"1"},":two":{"N":"2"},":x":{"S":"x"},":ab":{"S":"ab"},":l":{"L":[{"S":"z"}]},":ss":{"SS":["q"]},":t":{"S":"N"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn conditions_evaluate_like_dynamodb() {
        let it = item(
            r#"{"n":{"N":"1"},"s":{"S":"abc"},"l":{"L":[{"S":"x"},{"N":"2"}]},"m":{"M":{"k":{"S":"x"}}},"ss":{"SS":["q","r"]}}"#,
        );
        let cases = [
            ("n = :one", true),
            ("n < :two", true),
            ("n <> :two", true),
            ("absent <> :two", true),
            ("absent = :two", false),
            ("absent < :two", false),
            ("s > :one", false),
            ("begins_with(s, :ab)", true),
            ("contains(l, :two)", true),
            ("contains(ss, :x)", false),
            ("m.k = :x", true),
            ("l[0] = :x", true),
            ("size(l) = :two", true),
            ("n BETWEEN :one AND :two", true),
            ("n IN (:two, :one)", true),
            ("NOT attribute_exists(l[5])", true),
            ("attribute_type(n, :t)", true),
            ("n = :one AND (s = :x OR m.k = :x)", true),
        ];
        let vals = values();
        for (text, want) in cases {
            let mut ctx = ExprContext::new(None, Some(&vals)).unwrap();
            let c = parse_condition("ConditionExpression", text, &mut ctx).unwrap();
            assert_eq!(eval_condition(&c, &it), want, "{text}");
        }
    }

    #[test]
    fn updates_apply_like_dynamodb() {
        let vals = values();
        let cases = [
            (
                r#"{"n":{"N":"1"}}"#,
                "SET n = n + :two",
                r#"{"n":{"N":"3"}}"#,
            ),
            (
                r#"{}"#,
                "SET n = if_not_exists(n, :one) - :two",
                r#"{"n":{"N":"-1"}}"#,
            ),
            (
                r#"{"l":{"L":[{"S":"a"}]}}"#,
                "SET l = list_append(l, :l)",
                r#"{"l":{"L":[{"S":"a"},{"S":"z"}]}}"#,
            ),
            (
                r#"{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"c"}]}}"#,
                "REMOVE l[0], l[2]",
                r#"{"l":{"L":[{"S":"b"}]}}"#,
            ),
            (
                r#"{}"#,
                "ADD n :one, s :ss",
                r#"{"n":{"N":"1"},"s":{"SS":["q"]}}"#,
            ),
            (r#"{"s":{"SS":["q"]}}"#, "DELETE s :ss", r#"{}"#),
            (
                r#"{"m":{"M":{}}}"#,
                "SET m.k = :x",
                r#"{"m":{"M":{"k":{"S":"x"}}}}"#,
            ),
            (
                r#"{"l":{"L":[]}}"#,
                "SET l[7] = :x",
                r#"{"l":{"L":[{"S":"x"}]}}"#,
            ),
        ];
        for (before, text, after) in cases {
            let mut ctx = ExprContext::new(None, Some(&vals)).unwrap();
            let u = parse_update(text, &mut ctx).unwrap();
            let mut it = item(before);
            apply_update(&u, &mut it).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(it, item(after), "{text}");
        }
        let failing = [
            (r#"{}"#, "SET m.k = :x"),
            (r#"{"s":{"S":"a"}}"#, "SET s = s + :one"),
            (r#"{}"#, "SET n = absent + :one"),
            (r#"{"s":{"S":"a"}}"#, "ADD s :one"),
        ];
        for (before, text) in failing {
            let mut ctx = ExprContext::new(None, Some(&vals)).unwrap();
            let u = parse_update(text, &mut ctx).unwrap();
            assert!(apply_update(&u, &mut item(before)).is_err(), "{text}");
        }
    }

    #[test]
    fn projections_keep_nesting_and_list_order() {
        let it = item(
            r#"{"a":{"N":"1"},"l":{"L":[{"S":"x"},{"S":"y"},{"S":"z"}]},"m":{"M":{"k":{"S":"v"},"j":{"N":"2"}}}}"#,
        );
        let mut ctx = ExprContext::new(None, None).unwrap();
        let paths = parse_projection("l[2], l[0], m.k, nope", &mut ctx).unwrap();
        let got = project(&it, &paths);
        assert_eq!(
            got,
            item(r#"{"l":{"L":[{"S":"x"},{"S":"z"}]},"m":{"M":{"k":{"S":"v"}}}}"#)
        );
    }
}
