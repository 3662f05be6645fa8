//! Reads a SAM/CloudFormation template (YAML with the short-form tags, or JSON) into a typed
//! model of the resources presso creates locally, with every intrinsic function resolved to
//! local names and ARNs.
//!
//! It does no network IO and starts nothing: [`load`] reads the template (and the state
//! machine definitions it names, relative to the template's folder) and returns a [`Stack`].
//! Applying the stack (creating tables, pools, rules, ...) is the host's job (presso-local).
//!
//! # What is supported
//!
//! - **Sections**: `Parameters` (`Type` `String`, `Number`, `CommaDelimitedList`, `List<...>`;
//!   `Default`; `AllowedValues`; overrides given as `Key=Value`, as `sam deploy
//!   --parameter-overrides` takes them), `Mappings`, `Conditions`, `Globals` (`Function`,
//!   `HttpApi`, `StateMachine`, `SimpleTable`; others are ignored with a warning), `Resources`
//!   (resource-level `Condition` included). `Outputs`, `Metadata` and `Transform` are not read.
//! - **Intrinsics** (long and short form): `Ref`, `Fn::GetAtt`, `Fn::Sub` (string and
//!   `[string, {vars}]` forms, `${Res.Attr}`, `${!Literal}`), `Fn::Join`, `Fn::If` (with
//!   `AWS::NoValue`), `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::Equals`, `Fn::Not`,
//!   `Fn::And`, `Fn::Or`, `Condition`. Any other (`Fn::ImportValue`, `Fn::GetAZs`,
//!   `Fn::Base64`, `Fn::Cidr`, `Fn::Transform`, ...) in a place presso evaluates is an error
//!   naming its path.
//! - **Pseudo parameters**: `AWS::Region`, `AWS::AccountId`, `AWS::StackName`, `AWS::StackId`,
//!   `AWS::Partition`, `AWS::URLSuffix`, `AWS::NotificationARNs`, `AWS::NoValue`.
//! - **Resources** (everything else is skipped with a warning; a `Ref` or `Fn::GetAtt` to a
//!   skipped resource stays a placeholder, with a warning):
//!
//! | type | `Ref` | `Fn::GetAtt` |
//! |---|---|---|
//! | `AWS::DynamoDB::Table`, `AWS::Serverless::SimpleTable` | table name | `Arn`, `StreamArn` |
//! | `AWS::Events::EventBus` | bus name | `Arn`, `Name` |
//! | `AWS::Events::Rule` | rule name | `Arn` |
//! | `AWS::Serverless::StateMachine`, `AWS::StepFunctions::StateMachine` | ARN | `Arn`, `Name` |
//! | `AWS::Serverless::Function` | function name | `Arn` |
//! | `AWS::Serverless::HttpApi` | API id | `ApiEndpoint` |
//! | `AWS::Cognito::UserPool` | pool id | `Arn`, `ProviderName`, `ProviderURL`, `UserPoolId` |
//! | `AWS::Cognito::UserPoolClient` | client id | `ClientId`, `Name` |
//! | `AWS::Cognito::UserPoolGroup` | group name | |
//! | `AWS::Cognito::UserPoolUser` | username | |
//! | `AWS::Cognito::UserPoolUserToGroupAttachment` | | |
//!
//!   Names the template leaves out are `<StackName>-<LogicalId>`; generated ids (pools,
//!   clients, APIs) are digests of names, so they are the same on every start.
//! - **Function events**: `HttpApi` (`ApiId` as `!Ref`, `Path`, `Method`, `Auth.Authorizer`
//!   including `NONE`, `Auth.AuthorizationScopes`; payload format 2.0 only), `EventBridgeRule`
//!   and `Schedule` (made into [`Rule`]s targeting the function). State machine events:
//!   `EventBridgeRule` and `Schedule`. Other event types are skipped with a warning.
//! - **HTTP APIs**: JWT authorizers (`JwtConfiguration.issuer`/`audience`, `IdentitySource`),
//!   `DefaultAuthorizer`, `CorsConfiguration` (`true` or the map); SAM's implicit
//!   `ServerlessHttpApi` takes `Globals.HttpApi`.
//! - **State machines**: `DefinitionUri` (a file, relative to the template's folder, JSON or
//!   YAML), inline `Definition`, `DefinitionSubstitutions`.
//!
//! Modules: `yaml` (text to long-form JSON), `eval` (intrinsics), `names` (local names and
//! ARNs), `read` (the typed builders), `model` (the [`Stack`] types), `error`.

mod error;
mod eval;
mod model;
mod names;
mod read;
mod yaml;

pub use error::{TemplateError, Warning};
pub use eval::SUPPORTED_FUNCTIONS;
pub use model::*;
pub use names::{api_id, client_id, user_pool_id};
pub use read::IMPLICIT_HTTP_API;

use std::path::Path;

use serde_json::Value;

/// The deployment a template is read for.
#[derive(Debug, Clone)]
pub struct Options {
    pub region: String,
    pub account_id: String,
    pub stack_name: String,
    /// `Key=Value` overrides, already split ([`parse_overrides`]).
    pub parameter_overrides: Vec<(String, String)>,
    /// Where the HTTP API is reached (an API's `ApiEndpoint`); AWS's shape when `None`.
    pub public_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            stack_name: "presso".into(),
            parameter_overrides: Vec::new(),
            public_url: None,
        }
    }
}

/// Splits `Key=Value` overrides (several may share one argument, separated by spaces, as
/// `sam deploy --parameter-overrides "A=1 B=2"` takes them).
pub fn parse_overrides<S: AsRef<str>>(args: &[S]) -> Result<Vec<(String, String)>, TemplateError> {
    let mut out = Vec::new();
    for arg in args {
        for pair in arg.as_ref().split_whitespace() {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                TemplateError::invalid("Parameters", format!("override {pair:?} is not Key=Value"))
            })?;
            out.push((k.to_string(), v.to_string()));
        }
    }
    Ok(out)
}

/// Reads the template at `path`.
pub fn load(path: &Path, options: &Options) -> Result<Stack, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, dir, options)
}

/// Reads template text; `template_dir` is what relative paths in it resolve against.
pub fn parse(text: &str, template_dir: &Path, options: &Options) -> Result<Stack, TemplateError> {
    let Value::Object(template) = yaml::parse(text, "template")? else {
        return Err(TemplateError::invalid("template", "is not a map"));
    };
    let mut warnings = Vec::new();
    let mut resources = match template.get("Resources") {
        Some(Value::Object(r)) => r.clone(),
        None => serde_json::Map::new(),
        Some(_) => return Err(TemplateError::invalid("Resources", "is not a map")),
    };
    read::apply_globals(&template, &mut resources, &mut warnings);
    let cx = eval::Cx::new(&template, &resources, options)?;
    cx.warnings.borrow_mut().extend(warnings);
    read::build(&cx, template_dir)
}
