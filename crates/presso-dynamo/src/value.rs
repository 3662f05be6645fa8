//! Attribute values and items, in DynamoDB's JSON shape (`{"S": "x"}`, `{"N": "1"}`, …).
//!
//! Values arrive from clients through `serde`; `validate_item`/`validate_value` then enforce
//! DynamoDB's rules (non-empty, duplicate-free sets; `NULL` is `true`; numbers canonical), so
//! everything stored is already canonical and compares by plain equality where DynamoDB does.

use crate::error::{Error, Result};
use crate::number::Number;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AttributeValue {
    S(String),
    N(String),
    #[serde(with = "b64")]
    B(Vec<u8>),
    #[serde(rename = "BOOL")]
    Bool(bool),
    #[serde(rename = "NULL")]
    Null(bool),
    M(Item),
    L(Vec<AttributeValue>),
    #[serde(rename = "SS")]
    Ss(Vec<String>),
    #[serde(rename = "NS")]
    Ns(Vec<String>),
    #[serde(rename = "BS", with = "b64_list")]
    Bs(Vec<Vec<u8>>),
}

/// The scalar types a key attribute may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }
}

impl AttributeValue {
    /// DynamoDB's type descriptor (`S`, `N`, `BOOL`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null(_) => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }

    pub fn scalar_type(&self) -> Option<ScalarType> {
        match self {
            AttributeValue::S(_) => Some(ScalarType::S),
            AttributeValue::N(_) => Some(ScalarType::N),
            AttributeValue::B(_) => Some(ScalarType::B),
            _ => None,
        }
    }

    /// Equality as DynamoDB's `=` sees it: sets compare as sets.
    pub fn dynamo_eq(&self, other: &AttributeValue) -> bool {
        fn set_eq<T: PartialEq>(a: &[T], b: &[T]) -> bool {
            a.len() == b.len() && a.iter().all(|x| b.contains(x))
        }
        match (self, other) {
            (AttributeValue::Ss(a), AttributeValue::Ss(b)) => set_eq(a, b),
            (AttributeValue::Ns(a), AttributeValue::Ns(b)) => set_eq(a, b),
            (AttributeValue::Bs(a), AttributeValue::Bs(b)) => set_eq(a, b),
            (AttributeValue::M(a), AttributeValue::M(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k).is_some_and(|w| v.dynamo_eq(w)))
            }
            (AttributeValue::L(a), AttributeValue::L(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.dynamo_eq(y))
            }
            _ => self == other,
        }
    }

    /// The value's share of an item's size, as DynamoDB documents it.
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => number_size(n),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>()
            }
            AttributeValue::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            AttributeValue::Ss(s) => s.iter().map(String::len).sum(),
            AttributeValue::Ns(s) => s.iter().map(|n| number_size(n)).sum(),
            AttributeValue::Bs(s) => s.iter().map(Vec::len).sum(),
        }
    }
}

fn number_size(n: &str) -> usize {
    let digits = Number::parse(n)
        .map(|n| n.significant_digits())
        .unwrap_or(1);
    digits.div_ceil(2) + 1
}

/// Size of an item: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

pub const MAX_ITEM_SIZE: usize = 400 * 1024;

/// Enforces DynamoDB's value rules and canonicalises numbers in place.
pub fn validate_value(value: &mut AttributeValue) -> Result<()> {
    match value {
        AttributeValue::N(n) => *n = Number::canonical(n)?,
        AttributeValue::Null(v) => {
            if !*v {
                return Err(Error::validation(
                    "One or more parameter values were invalid: Null attribute value types must have the value of true",
                ));
            }
        }
        AttributeValue::M(m) => {
            for v in m.values_mut() {
                validate_value(v)?;
            }
        }
        AttributeValue::L(l) => {
            for v in l.iter_mut() {
                validate_value(v)?;
            }
        }
        AttributeValue::Ss(s) => {
            if s.is_empty() {
                return Err(empty_set("string"));
            }
            check_duplicates(s, |x| x.clone())?;
        }
        AttributeValue::Ns(s) => {
            if s.is_empty() {
                return Err(empty_set("number"));
            }
            for n in s.iter_mut() {
                *n = Number::canonical(n)?;
            }
            check_duplicates(s, |x| x.clone())?;
        }
        AttributeValue::Bs(s) => {
            if s.is_empty() {
                return Err(empty_set("binary"));
            }
            check_duplicates(s, |x| x.clone())?;
        }
        AttributeValue::S(_) | AttributeValue::B(_) | AttributeValue::Bool(_) => {}
    }
    Ok(())
}

fn empty_set(kind: &str) -> Error {
    Error::validation(format!(
        "One or more parameter values were invalid: An {kind} set  may not be empty"
    ))
}

fn check_duplicates<T: std::hash::Hash + Eq + std::fmt::Debug, K: std::hash::Hash + Eq>(
    set: &[T],
    key: impl Fn(&T) -> K,
) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(set.len());
    for x in set {
        if !seen.insert(key(x)) {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: Input collection contains duplicates: {x:?}"
            )));
        }
    }
    Ok(())
}

pub fn validate_item(item: &mut Item) -> Result<()> {
    for v in item.values_mut() {
        validate_value(v)?;
    }
    Ok(())
}

/// Appends an order-preserving encoding of a key value (its type is fixed by the schema).
pub fn encode_key(value: &AttributeValue, out: &mut Vec<u8>) {
    match value {
        AttributeValue::S(s) => out.extend_from_slice(s.as_bytes()),
        AttributeValue::B(b) => out.extend_from_slice(b),
        AttributeValue::N(n) => match Number::parse(n) {
            Ok(n) => n.sort_key(out),
            Err(_) => out.extend_from_slice(n.as_bytes()),
        },
        _ => {}
    }
}

pub fn key_bytes(value: &AttributeValue) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_key(value, &mut out);
    out
}

mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("Invalid Base64 encoding of binary value"))
    }
}

mod b64_list {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for bytes in list {
            seq.serialize_element(&STANDARD.encode(bytes))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| {
                STANDARD.decode(t.as_bytes()).map_err(|_| {
                    serde::de::Error::custom("Invalid Base64 encoding of binary value")
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_dynamodb_json() {
        let text = r#"{"a":{"S":"x"},"b":{"N":"1"},"c":{"B":"AQI="},"d":{"BOOL":true},"e":{"NULL":true},"f":{"M":{"g":{"L":[{"S":"y"}]}}},"h":{"SS":["p"]},"i":{"NS":["2"]},"j":{"BS":["AA=="]}}"#;
        let item: Item = serde_json::from_str(text).unwrap();
        assert_eq!(item["c"], AttributeValue::B(vec![1, 2]));
        let back: Item = serde_json::from_str(&serde_json::to_string(&item).unwrap()).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn sets_must_be_non_empty_and_free_of_duplicates() {
        let bad = [
            AttributeValue::Ss(vec![]),
            AttributeValue::Ss(vec!["a".into(), "a".into()]),
            AttributeValue::Ns(vec!["1".into(), "1.0".into()]),
            AttributeValue::Null(false),
        ];
        for mut v in bad {
            assert!(validate_value(&mut v).is_err(), "{v:?}");
        }
    }
}
