//! What a target receives: the whole event, a constant `Input`, the part an `InputPath` selects,
//! or an `InputTransformer`'s template filled from the event.
//!
//! Paths are the JSONPath subset EventBridge documents for these fields: `$`, `.name`,
//! `['name']` and `[index]` steps. Templates follow AWS's quoting rules: a placeholder inside a
//! JSON string is replaced by the value's text (a string without its quotes, anything else as
//! JSON), a placeholder outside a string by the value as JSON. A template that is not JSON at
//! all (neither an object, an array nor a string) is plain text and gets each value's text.
//! The result of a JSON template must be valid JSON, or the delivery fails.

use crate::error::EventsError;
use serde_json::Value;

/// A parsed JSONPath: the steps from the event's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl JsonPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = text
            .strip_prefix('$')
            .ok_or_else(|| format!("{text} is not a valid JSONPath: it must start with $"))?;
        let bad = || format!("{text} is not a valid JSONPath");
        let mut steps = Vec::new();
        let mut chars = rest;
        while !chars.is_empty() {
            if let Some(after) = chars.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let key = &after[..end];
                if key.is_empty() || key == "*" {
                    return Err(bad());
                }
                steps.push(Step::Key(key.to_string()));
                chars = &after[end..];
            } else if let Some(after) = chars.strip_prefix("['") {
                let end = after.find("']").ok_or_else(bad)?;
                steps.push(Step::Key(after[..end].to_string()));
                chars = &after[end + 2..];
            } else if let Some(after) = chars.strip_prefix('[') {
                let end = after.find(']').ok_or_else(bad)?;
                let index = after[..end].parse::<usize>().map_err(|_| bad())?;
                steps.push(Step::Index(index));
                chars = &after[end + 1..];
            } else {
                return Err(bad());
            }
        }
        Ok(JsonPath {
            text: text.to_string(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value the path selects, if the event has one there.
    pub fn select<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.steps.iter().try_fold(root, |v, step| match step {
            Step::Key(k) => v.get(k.as_str()),
            Step::Index(i) => v.get(*i),
        })
    }
}

/// An `InputTransformer`, validated once when the target is put.
#[derive(Debug, Clone)]
pub struct Transformer {
    paths: Vec<(String, JsonPath)>,
    template: String,
}

/// The longest `InputTemplate` EventBridge accepts.
pub const MAX_TEMPLATE_LENGTH: usize = 8192;
/// The most entries an `InputPathsMap` may have.
pub const MAX_INPUT_PATHS: usize = 100;

/// Placeholders EventBridge fills itself; users may not define them.
const RULE_ARN: &str = "aws.events.rule-arn";
const RULE_NAME: &str = "aws.events.rule-name";
const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
const EVENT: &str = "aws.events.event";
const EVENT_JSON: &str = "aws.events.event.json";

/// What the reserved placeholders stand for in one delivery.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryContext<'a> {
    pub rule_arn: &'a str,
    pub rule_name: &'a str,
    /// The event's `time`, as the envelope has it.
    pub ingestion_time: &'a str,
}

impl Transformer {
    /// Validates `InputTransformer` as `PutTargets` receives it.
    pub fn from_json(value: &Value) -> Result<Self, EventsError> {
        let template = value
            .get("InputTemplate")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                EventsError::validation("InputTransformer must have an InputTemplate.")
            })?;
        if template.chars().count() > MAX_TEMPLATE_LENGTH {
            return Err(EventsError::validation(format!(
                "InputTemplate must have length less than or equal to {MAX_TEMPLATE_LENGTH}."
            )));
        }
        let mut paths = Vec::new();
        if let Some(map) = value.get("InputPathsMap") {
            let map = map.as_object().ok_or_else(|| {
                EventsError::validation("InputPathsMap must be a map of names to JSONPaths.")
            })?;
            if map.len() > MAX_INPUT_PATHS {
                return Err(EventsError::validation(format!(
                    "InputPathsMap has {} entries, more than the {MAX_INPUT_PATHS} allowed.",
                    map.len()
                )));
            }
            for (name, path) in map {
                if name.is_empty()
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(EventsError::validation(format!(
                        "InputPathsMap key {name:?} is not valid: use letters, digits, '_' and '-'."
                    )));
                }
                if name.to_ascii_lowercase().starts_with("aws.") {
                    return Err(EventsError::validation(format!(
                        "InputPathsMap key {name} is reserved."
                    )));
                }
                let path = path.as_str().ok_or_else(|| {
                    EventsError::validation(format!(
                        "InputPathsMap value of {name} is not a string."
                    ))
                })?;
                let path = JsonPath::parse(path)
                    .map_err(|e| EventsError::validation(format!("InputPathsMap: {e}")))?;
                paths.push((name.clone(), path));
            }
        }
        let t = Transformer {
            paths,
            template: template.to_string(),
        };
        // A JSON template must stay JSON whatever values come in; checking it with every
        // placeholder as `null` catches the templates that never could.
        if t.is_json_template() {
            let probe = t.fill(
                &Value::Null,
                &DeliveryContext {
                    rule_arn: "",
                    rule_name: "",
                    ingestion_time: "",
                },
            );
            if probe.is_err() {
                return Err(EventsError::validation(
                    "InputTemplate is not valid JSON once its placeholders are filled.",
                ));
            }
        }
        Ok(t)
    }

    fn is_json_template(&self) -> bool {
        matches!(
            self.template.trim_start().chars().next(),
            Some('{' | '[' | '"')
        )
    }

    fn lookup(&self, name: &str, event: &Value, cx: &DeliveryContext<'_>) -> Option<Value> {
        match name {
            RULE_ARN => return Some(Value::String(cx.rule_arn.to_string())),
            RULE_NAME => return Some(Value::String(cx.rule_name.to_string())),
            INGESTION_TIME => return Some(Value::String(cx.ingestion_time.to_string())),
            EVENT | EVENT_JSON => return Some(event.clone()),
            _ => {}
        }
        self.paths
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.select(event).cloned().unwrap_or(Value::Null))
    }

    /// The input for one delivery of `event`.
    pub fn fill(&self, event: &Value, cx: &DeliveryContext<'_>) -> Result<Value, String> {
        let json = self.is_json_template();
        let mut out = String::with_capacity(self.template.len() + 64);
        let mut in_string = false;
        let mut escaped = false;
        let mut rest = self.template.as_str();
        while let Some(c) = rest.chars().next() {
            if c == '<'
                && let Some(end) = rest[1..].find('>')
                && let Some(value) = self.lookup(&rest[1..=end], event, cx)
            {
                if !json {
                    out.push_str(&text_of(&value));
                } else if in_string {
                    // Inside quotes the value's text goes in escaped, so the string stays one.
                    let quoted = Value::String(text_of(&value)).to_string();
                    out.push_str(&quoted[1..quoted.len() - 1]);
                } else {
                    out.push_str(&value.to_string());
                }
                rest = &rest[end + 2..];
                escaped = false;
                continue;
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
        if json {
            serde_json::from_str(&out)
                .map_err(|e| format!("the InputTemplate did not give valid JSON ({e}): {out}"))
        } else {
            Ok(Value::String(out))
        }
    }
}

/// A value as text: strings without quotes, `null` as nothing, the rest as JSON.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cx() -> DeliveryContext<'static> {
        DeliveryContext {
            rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r",
            rule_name: "r",
            ingestion_time: "2026-01-01T00:00:00Z",
        }
    }

    fn event() -> Value {
        json!({"source": "s", "detail": {"drink": "Latte", "n": 2, "tags": ["a", "b"], "odd key": true}})
    }

    #[test]
    fn paths_select_keys_indexes_and_bracketed_names() {
        let e = event();
        assert_eq!(JsonPath::parse("$").unwrap().select(&e), Some(&e));
        assert_eq!(
            JsonPath::parse("$.detail.tags[1]").unwrap().select(&e),
            Some(&json!("b"))
        );
        assert_eq!(
            JsonPath::parse("$.detail['odd key']").unwrap().select(&e),
            Some(&json!(true))
        );
        assert_eq!(JsonPath::parse("$.nope.deeper").unwrap().select(&e), None);
        assert!(JsonPath::parse("detail").is_err());
        assert!(JsonPath::parse("$.a[x]").is_err());
        assert!(JsonPath::parse("$..a").is_err());
    }

    fn transform(paths: Value, template: &str) -> Value {
        Transformer::from_json(&json!({"InputPathsMap": paths, "InputTemplate": template}))
            .unwrap()
            .fill(&event(), &cx())
            .unwrap()
    }

    #[test]
    fn placeholders_outside_quotes_become_json_values() {
        let out = transform(
            json!({"drink": "$.detail.drink", "n": "$.detail.n", "tags": "$.detail.tags"}),
            r#"{"d": <drink>, "n": <n>, "t": <tags>}"#,
        );
        assert_eq!(out, json!({"d": "Latte", "n": 2, "t": ["a", "b"]}));
    }

    #[test]
    fn placeholders_inside_quotes_become_text_and_stay_one_string() {
        let out = transform(
            json!({"drink": "$.detail.drink", "tags": "$.detail.tags"}),
            r#"{"msg": "one <drink> with <tags>", "rule": "<aws.events.rule-name>"}"#,
        );
        assert_eq!(
            out,
            json!({"msg": "one Latte with [\"a\",\"b\"]", "rule": "r"})
        );
    }

    #[test]
    fn a_string_template_gives_a_string_and_plain_text_stays_text() {
        assert_eq!(
            transform(
                json!({"drink": "$.detail.drink"}),
                r#""a <drink> is ready""#
            ),
            json!("a Latte is ready")
        );
        assert_eq!(
            transform(json!({"drink": "$.detail.drink"}), "a <drink> is ready"),
            json!("a Latte is ready")
        );
    }

    #[test]
    fn missing_values_are_null_and_unknown_placeholders_are_kept() {
        let out = transform(
            json!({"x": "$.detail.missing"}),
            r#"{"x": <x>, "y": "<x>", "z": "<unknown>"}"#,
        );
        assert_eq!(out, json!({"x": null, "y": "", "z": "<unknown>"}));
    }

    #[test]
    fn the_whole_event_and_the_rule_arn_are_reserved_placeholders() {
        let out = transform(
            json!({}),
            r#"{"e": <aws.events.event>, "a": "<aws.events.rule-arn>"}"#,
        );
        assert_eq!(out["e"], event());
        assert_eq!(out["a"], json!(cx().rule_arn));
    }

    #[test]
    fn bad_transformers_are_refused_when_put() {
        for bad in [
            json!({"InputPathsMap": {"x": "detail"}, "InputTemplate": "<x>"}),
            json!({"InputPathsMap": {"aws.x": "$"}, "InputTemplate": "<x>"}),
            json!({"InputPathsMap": {"x": "$"}}),
            json!({"InputPathsMap": {}, "InputTemplate": "{\"a\": }"}),
        ] {
            assert!(Transformer::from_json(&bad).is_err(), "{bad}");
        }
    }
}
