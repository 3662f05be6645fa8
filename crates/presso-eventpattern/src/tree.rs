//! The compiled form of one `$or`-free alternative of a pattern, and how it walks an event.
//!
//! A [`Node`] mirrors an object of the pattern: each [`Field`] names a key and holds the conditions on
//! the value found there — leaf conditions, a nested object, or (rarely) both. Matching looks each key
//! up in the event and never copies anything out of it.
//!
//! Arrays in events follow EventBridge's rules:
//! - a leaf condition sees every scalar in an array (nested arrays flattened) and matches if any does;
//!   objects inside the array are not leaf values;
//! - a nested pattern object facing an array of objects must be satisfied by one element as a whole,
//!   so `{"a": {"x": [1], "y": [2]}}` never matches `x` in one element and `y` in another;
//! - `exists: false` asks that no leaf be found at the path. When a pattern object holds only such
//!   absence conditions nothing pins an element, so the field must be absent from every element;
//!   otherwise absence is judged within the element that satisfied the rest of the object.

use serde_json::{Map, Value};

use crate::value::Condition;

/// Events nest arrays inside arrays only so deep before we stop looking further down; this keeps
/// matching free of unbounded recursion whatever the event.
const MAX_ARRAY_DEPTH: usize = 64;

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) fields: Box<[Field]>,
    /// Whether anything below this node requires a value to be present. Decides how the node treats
    /// an array in the event (see the module documentation).
    pub(crate) pins: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) key: Box<str>,
    pub(crate) leaf: Option<Leaf>,
    pub(crate) object: Option<Node>,
}

/// The conditions of one pattern value array, e.g. `["a", {"prefix": "b"}, {"exists": false}]`.
/// Any one of them matching is enough.
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub(crate) conditions: Box<[Condition]>,
    /// The array holds `{"exists": true}`.
    pub(crate) when_present: bool,
    /// The array holds `{"exists": false}`.
    pub(crate) when_absent: bool,
}

impl Leaf {
    /// Whether this leaf can only match when a value is present.
    pub(crate) fn pins(&self) -> bool {
        !(self.when_absent && self.conditions.is_empty() && !self.when_present)
    }

    fn matches(&self, value: Option<&Value>) -> bool {
        match value {
            None | Some(Value::Object(_)) => self.when_absent,
            Some(Value::Array(items)) => {
                let mut found = false;
                let hit = self.any_in_array(items, &mut found, 0);
                if found {
                    hit || self.when_present
                } else {
                    self.when_absent
                }
            }
            Some(scalar) => self.when_present || self.conditions.iter().any(|c| c.matches(scalar)),
        }
    }

    /// Tries the conditions on every scalar of an array, nested arrays included; records in `found`
    /// whether the array held any scalar at all.
    fn any_in_array(&self, items: &[Value], found: &mut bool, depth: usize) -> bool {
        if depth > MAX_ARRAY_DEPTH {
            return false;
        }
        for item in items {
            match item {
                Value::Object(_) => {}
                Value::Array(inner) => {
                    if self.any_in_array(inner, found, depth + 1) {
                        return true;
                    }
                }
                scalar => {
                    *found = true;
                    if self.conditions.iter().any(|c| c.matches(scalar)) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

impl Node {
    /// Matches this node against an event object (`None` when there is no object here).
    pub(crate) fn matches_object(&self, object: Option<&Map<String, Value>>) -> bool {
        self.fields
            .iter()
            .all(|field| field.matches(object.and_then(|o| o.get(&*field.key))))
    }

    /// Matches this node against whatever value the event has at its position.
    fn matches_value(&self, value: Option<&Value>, depth: usize) -> bool {
        match value {
            Some(Value::Object(object)) => self.matches_object(Some(object)),
            Some(Value::Array(items)) if depth <= MAX_ARRAY_DEPTH => {
                if self.pins {
                    items
                        .iter()
                        .any(|item| self.matches_value(Some(item), depth + 1))
                } else {
                    items
                        .iter()
                        .all(|item| self.matches_value(Some(item), depth + 1))
                }
            }
            _ => self.matches_object(None),
        }
    }
}

impl Field {
    fn matches(&self, value: Option<&Value>) -> bool {
        if let Some(leaf) = &self.leaf
            && !leaf.matches(value)
        {
            return false;
        }
        match &self.object {
            Some(node) => node.matches_value(value, 0),
            None => true,
        }
    }
}
