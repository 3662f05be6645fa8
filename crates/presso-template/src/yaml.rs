//! YAML (and JSON, which YAML reads too) into JSON values, with the short-form tags rewritten
//! to their long forms: `!Ref X` becomes `{"Ref": "X"}`, `!GetAtt A.B` becomes
//! `{"Fn::GetAtt": ["A", "B"]}`, `!Sub s` becomes `{"Fn::Sub": "s"}`, and so on. After this step
//! the evaluator sees one shape only.

use serde_json::{Map, Number, Value};
use serde_yaml::Value as Yaml;

use crate::error::TemplateError;

/// Parses template text (YAML or JSON).
pub fn parse(text: &str, name: &str) -> Result<Value, TemplateError> {
    let yaml: Yaml = serde_yaml::from_str(text).map_err(|e| TemplateError::Syntax {
        path: name.to_string(),
        message: e.to_string(),
    })?;
    to_json(yaml, name)
}

fn to_json(yaml: Yaml, path: &str) -> Result<Value, TemplateError> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| to_json(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    other => {
                        return Err(TemplateError::invalid(
                            path,
                            format!("a map key must be a string, not {other:?}"),
                        ));
                    }
                };
                let child = format!("{path}.{key}");
                out.insert(key, to_json(v, &child)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!').to_string();
            let inner = to_json(tagged.value, path)?;
            let (key, value) = match name.as_str() {
                "Ref" => ("Ref".to_string(), inner),
                "Condition" => ("Condition".to_string(), inner),
                "GetAtt" => (
                    "Fn::GetAtt".to_string(),
                    match inner {
                        // `!GetAtt Resource.Attr.With.Dots`: the resource name has no dots.
                        Value::String(s) => match s.split_once('.') {
                            Some((res, attr)) => Value::Array(vec![res.into(), attr.into()]),
                            None => Value::String(s),
                        },
                        other => other,
                    },
                ),
                other => (format!("Fn::{other}"), inner),
            };
            let mut out = Map::new();
            out.insert(key, value);
            Value::Object(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_form_tags_become_long_form_intrinsics() {
        let v = parse(
            "a: !Ref X\nb: !GetAtt T.Arn\nc: !Sub '${AWS::Region}'\nd: !Join [',', [a, b]]\ne: !If [C, 1, 2]\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({
                "a": {"Ref": "X"},
                "b": {"Fn::GetAtt": ["T", "Arn"]},
                "c": {"Fn::Sub": "${AWS::Region}"},
                "d": {"Fn::Join": [",", ["a", "b"]]},
                "e": {"Fn::If": ["C", 1, 2]},
            })
        );
    }

    #[test]
    fn json_templates_read_the_same_way() {
        let v = parse(r#"{"Resources": {"T": {"Type": "X", "N": 1.5}}}"#, "t").unwrap();
        assert_eq!(v, json!({"Resources": {"T": {"Type": "X", "N": 1.5}}}));
    }
}
