//! Local names and ARNs of the resources presso creates: what `Ref` and `Fn::GetAtt` resolve to.
//!
//! Names a template leaves to CloudFormation are derived from the stack and the logical id
//! (`<StackName>-<LogicalId>`), and generated ids (user pools, app clients, HTTP APIs) are
//! digests of their names, so every start with the same template gets the same names.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::TemplateError;
use crate::eval::{Cx, scalar_string};

/// What a resource's `Ref` and attributes resolve to.
#[derive(Debug, Clone)]
pub struct Names {
    pub reference: Value,
    pub attributes: BTreeMap<String, Value>,
    /// The resource is of a type presso does not create: its names are placeholders.
    pub placeholder: bool,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn digest(seed: &str, alphabet: &[u8], len: usize) -> String {
    let hash = Sha256::digest(seed.as_bytes());
    hash.iter()
        .cycle()
        .take(len)
        .enumerate()
        .map(|(i, b)| char::from(alphabet[(usize::from(*b) + i) % alphabet.len()]))
        .collect()
}

/// A user pool id shaped like AWS's (`us-east-1_AbC123xyz`), derived from region and name.
pub fn user_pool_id(region: &str, pool_name: &str) -> String {
    format!(
        "{region}_{}",
        digest(&format!("pool\n{region}\n{pool_name}"), ALNUM, 9)
    )
}

/// An app client id shaped like AWS's (26 lowercase letters and digits).
pub fn client_id(pool_id: &str, client_name: &str) -> String {
    digest(
        &format!("client\n{pool_id}\n{client_name}"),
        LOWER_ALNUM,
        26,
    )
}

/// An HTTP API id shaped like AWS's (10 lowercase letters and digits).
pub fn api_id(stack_name: &str, logical_id: &str) -> String {
    digest(&format!("api\n{stack_name}\n{logical_id}"), LOWER_ALNUM, 10)
}

fn attrs(pairs: &[(&str, String)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
        .collect()
}

pub(crate) fn compute(
    cx: &Cx<'_>,
    logical: &str,
    resource: &Value,
) -> Result<Names, TemplateError> {
    let empty = Map::new();
    let props = resource
        .get("Properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let base = format!("Resources.{logical}.Properties");
    let prop = |key: &str| -> Result<Option<String>, TemplateError> {
        match props.get(key) {
            None => Ok(None),
            Some(v) => {
                let path = format!("{base}.{key}");
                match cx.eval(v, &path)? {
                    None => Ok(None),
                    Some(v) => scalar_string(&v, &path, key).map(Some),
                }
            }
        }
    };
    let o = cx.opts;
    let (region, account) = (o.region.as_str(), o.account_id.as_str());
    let generated = format!("{}-{logical}", o.stack_name);
    let ty = resource.get("Type").and_then(Value::as_str).unwrap_or("");
    let named = |reference: String, a: BTreeMap<String, Value>| Names {
        reference: Value::String(reference),
        attributes: a,
        placeholder: false,
    };
    Ok(match ty {
        "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => {
            let name = prop("TableName")?.unwrap_or(generated);
            let arn = format!("arn:aws:dynamodb:{region}:{account}:table/{name}");
            let stream = format!("{arn}/stream/1970-01-01T00:00:00.000");
            named(name, attrs(&[("Arn", arn), ("StreamArn", stream)]))
        }
        "AWS::Events::EventBus" => {
            let name = prop("Name")?.unwrap_or(generated);
            let arn = format!("arn:aws:events:{region}:{account}:event-bus/{name}");
            named(name.clone(), attrs(&[("Arn", arn), ("Name", name)]))
        }
        "AWS::Events::Rule" => {
            let name = prop("Name")?.unwrap_or(generated);
            let bus = prop("EventBusName")?
                .map(|b| b.rsplit('/').next().unwrap_or_default().to_string())
                .filter(|b| b != "default");
            let arn = match &bus {
                Some(bus) => format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}"),
                None => format!("arn:aws:events:{region}:{account}:rule/{name}"),
            };
            named(name, attrs(&[("Arn", arn)]))
        }
        "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
            let name = prop(if ty == "AWS::Serverless::StateMachine" {
                "Name"
            } else {
                "StateMachineName"
            })?
            .unwrap_or(generated);
            let arn = format!("arn:aws:states:{region}:{account}:stateMachine:{name}");
            named(arn.clone(), attrs(&[("Arn", arn), ("Name", name)]))
        }
        "AWS::Serverless::Function" => {
            let name = prop("FunctionName")?.unwrap_or(generated);
            let arn = format!("arn:aws:lambda:{region}:{account}:function:{name}");
            named(name, attrs(&[("Arn", arn)]))
        }
        "AWS::Serverless::HttpApi" => {
            let id = api_id(&o.stack_name, logical);
            let endpoint = o
                .public_url
                .clone()
                .unwrap_or_else(|| format!("https://{id}.execute-api.{region}.amazonaws.com"));
            named(id, attrs(&[("ApiEndpoint", endpoint)]))
        }
        "AWS::Cognito::UserPool" => {
            let name = prop("UserPoolName")?.unwrap_or(generated);
            let id = user_pool_id(region, &name);
            named(
                id.clone(),
                attrs(&[
                    (
                        "Arn",
                        format!("arn:aws:cognito-idp:{region}:{account}:userpool/{id}"),
                    ),
                    (
                        "ProviderName",
                        format!("cognito-idp.{region}.amazonaws.com/{id}"),
                    ),
                    (
                        "ProviderURL",
                        format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
                    ),
                    ("UserPoolId", id.clone()),
                ]),
            )
        }
        "AWS::Cognito::UserPoolClient" => {
            let pool = prop("UserPoolId")?.ok_or_else(|| {
                TemplateError::invalid(&base, "a UserPoolClient needs a UserPoolId")
            })?;
            let name = prop("ClientName")?.unwrap_or_else(|| logical.to_string());
            let id = client_id(&pool, &name);
            named(id.clone(), attrs(&[("ClientId", id), ("Name", name)]))
        }
        "AWS::Cognito::UserPoolGroup" => {
            let name = prop("GroupName")?.unwrap_or(generated);
            named(name, BTreeMap::new())
        }
        "AWS::Cognito::UserPoolUser" => {
            let name = prop("Username")?.ok_or_else(|| {
                TemplateError::invalid(&base, "a UserPoolUser needs a Username here")
            })?;
            named(name, BTreeMap::new())
        }
        _ => Names {
            reference: Value::String(generated),
            attributes: BTreeMap::new(),
            placeholder: true,
        },
    })
}
