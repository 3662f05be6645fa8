//! Conversion between `serde_json::Value` (what the host speaks) and the evaluator's value type.
//!
//! Both directions recurse, so both stop at [`MAX_NESTING`] levels with a `U1001` error instead
//! of risking the stack on a pathological document.

use indexmap::IndexMap;
use jsonata_core::value::JValue;
use serde_json::{Map, Number, Value};

use crate::error::{Error, codes};

/// Deeper JSON than this is refused. serde_json's own parser stops at 128 levels, so real
/// documents never come near.
pub const MAX_NESTING: usize = 256;

fn too_deep() -> Error {
    Error::evaluate(
        codes::LIMIT_EXCEEDED,
        format!("JSON value nested deeper than {MAX_NESTING} levels"),
    )
}

/// A host JSON value as the evaluator's value.
pub fn to_jvalue(value: &Value) -> Result<JValue, Error> {
    to_jvalue_at(value, 0)
}

fn to_jvalue_at(value: &Value, depth: usize) -> Result<JValue, Error> {
    if depth > MAX_NESTING {
        return Err(too_deep());
    }
    Ok(match value {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        // JSONata's numbers are IEEE doubles, as in jsonata-js.
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JValue::string(s.as_str()),
        Value::Array(items) => JValue::array(
            items
                .iter()
                .map(|v| to_jvalue_at(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = IndexMap::with_capacity(map.len());
            for (k, v) in map {
                out.insert(k.clone(), to_jvalue_at(v, depth + 1)?);
            }
            JValue::object(out)
        }
    })
}

/// An evaluation result as a host JSON value; `None` for undefined.
///
/// Functions and regexes inside a result become `""`, as `JSON.stringify` with jsonata-js's
/// replacer renders them; non-finite numbers (which JSON cannot hold) become `null`.
pub fn from_jvalue(value: &JValue) -> Result<Option<Value>, Error> {
    match value {
        JValue::Undefined => Ok(None),
        other => from_jvalue_at(other, 0).map(Some),
    }
}

fn from_jvalue_at(value: &JValue, depth: usize) -> Result<Value, Error> {
    if depth > MAX_NESTING {
        return Err(too_deep());
    }
    Ok(match value {
        JValue::Null | JValue::Undefined => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => Value::Array(
            items
                .iter()
                .filter(|v| !matches!(v, JValue::Undefined))
                .map(|v| from_jvalue_at(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        JValue::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map.iter() {
                // jsonata-js drops undefined-valued keys when serialising.
                if !matches!(v, JValue::Undefined) {
                    out.insert(k.clone(), from_jvalue_at(v, depth + 1)?);
                }
            }
            Value::Object(out)
        }
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            Value::String(String::new())
        }
    })
}

/// Whole numbers within the exactly representable range come out as JSON integers, as
/// `JSON.stringify` would print them.
pub fn number(n: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.is_finite() && n.fract() == 0.0 && n.abs() <= EXACT {
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_the_evaluator_value() {
        let v = json!({"b": [1, 2.5, "x", null, true], "a": {"c": -3}});
        let back = from_jvalue(&to_jvalue(&v).unwrap()).unwrap().unwrap();
        assert_eq!(back, v);
        // preserve_order: key order survives.
        assert_eq!(back.as_object().unwrap().keys().next().unwrap(), "b");
    }

    #[test]
    fn whole_numbers_come_out_as_integers() {
        assert_eq!(number(3.0), json!(3));
        assert_eq!(number(-0.5), json!(-0.5));
        assert_eq!(number(f64::NAN), Value::Null);
    }

    #[test]
    fn nesting_beyond_the_limit_is_an_error_not_a_crash() {
        let mut v = json!(1);
        for _ in 0..(MAX_NESTING + 5) {
            v = Value::Array(vec![v]);
        }
        assert_eq!(to_jvalue(&v).unwrap_err().code(), "U1001");
        // Dropping a deep serde_json value recurses too; unwrap it level by level.
        while let Value::Array(mut items) = v {
            v = items.pop().unwrap_or(Value::Null);
        }
    }
}
