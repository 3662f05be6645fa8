//! The typed model: the resources presso creates locally, with every intrinsic resolved.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use crate::error::Warning;

/// A template, read and resolved.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    /// The folder the template is in; relative paths in it resolve against this.
    pub template_dir: PathBuf,
    pub region: String,
    pub account_id: String,
    pub stack_name: String,
    /// Every parameter's value (a string, or a list of strings for list types).
    pub parameters: BTreeMap<String, Value>,
    pub tables: Vec<Table>,
    pub event_buses: Vec<EventBus>,
    /// `AWS::Events::Rule`s and the rules SAM makes from `EventBridgeRule`/`Schedule` events
    /// of functions and state machines.
    pub rules: Vec<Rule>,
    pub state_machines: Vec<StateMachine>,
    pub functions: Vec<Function>,
    pub http_apis: Vec<HttpApi>,
    pub user_pools: Vec<UserPool>,
    pub user_pool_clients: Vec<UserPoolClient>,
    pub user_pool_groups: Vec<UserPoolGroup>,
    pub user_pool_users: Vec<UserPoolUser>,
    pub user_to_group: Vec<UserToGroup>,
    /// What was skipped, for the caller to log.
    pub warnings: Vec<Warning>,
}

impl Stack {
    /// The function a target ARN or a function name points at.
    pub fn function(&self, name_or_arn: &str) -> Option<&Function> {
        self.functions
            .iter()
            .find(|f| f.name == name_or_arn || f.arn == name_or_arn || f.logical_id == name_or_arn)
    }
}

/// `AWS::DynamoDB::Table` (or `AWS::Serverless::SimpleTable`).
#[derive(Debug, Clone)]
pub struct Table {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    /// A DynamoDB `CreateTable` request body (CloudFormation's properties that the API shares,
    /// `TableName` set).
    pub create_request: Value,
    /// `TimeToLiveSpecification` (`{AttributeName, Enabled}`), applied with `UpdateTimeToLive`.
    pub time_to_live: Option<Value>,
}

/// `AWS::Events::EventBus`.
#[derive(Debug, Clone)]
pub struct EventBus {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
}

/// An EventBridge rule with its targets.
#[derive(Debug, Clone)]
pub struct Rule {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    /// The bus's name (`default` when the template names none).
    pub event_bus_name: String,
    pub event_pattern: Option<Value>,
    pub schedule_expression: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    pub targets: Vec<Target>,
}

/// One target of a rule, in `PutTargets`' shape.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub arn: String,
    pub input: Option<String>,
    pub input_path: Option<String>,
    pub input_transformer: Option<Value>,
}

/// `AWS::Serverless::StateMachine` (or `AWS::StepFunctions::StateMachine`).
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    /// `STANDARD` or `EXPRESS`.
    pub kind: String,
    /// The ASL definition with `DefinitionSubstitutions` applied, as text.
    pub definition: String,
}

/// `AWS::Serverless::Function`.
#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    pub name: String,
    pub arn: String,
    pub code_uri: String,
    /// The crate that implements it: the last path segment of `CodeUri`.
    pub crate_name: String,
    /// `Environment.Variables` (after `Globals.Function`).
    pub environment: BTreeMap<String, String>,
    pub timeout_seconds: Option<u64>,
    pub http_routes: Vec<HttpRoute>,
}

/// An `HttpApi` event of a function: one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    pub event_name: String,
    /// The `AWS::Serverless::HttpApi` it belongs to (`ServerlessHttpApi` for SAM's implicit one).
    pub api_logical_id: String,
    /// Upper case, or `ANY`.
    pub method: String,
    /// The full path, as API Gateway matches it (`/api/orders/{id}`, `/api/{proxy+}`).
    pub path: String,
    /// The authorizer's name, or `None` for an open route.
    pub authorizer: Option<String>,
    pub authorization_scopes: Vec<String>,
}

impl HttpRoute {
    /// API Gateway's route key (`POST /api/orders`).
    pub fn route_key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// `AWS::Serverless::HttpApi` (explicit or SAM's implicit `ServerlessHttpApi`).
#[derive(Debug, Clone)]
pub struct HttpApi {
    pub logical_id: String,
    pub id: String,
    pub authorizers: BTreeMap<String, JwtAuthorizer>,
    pub default_authorizer: Option<String>,
    pub cors: Option<Cors>,
}

/// A JWT authorizer as the template declares it (issuer as written, for AWS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthorizer {
    pub name: String,
    pub issuer: String,
    pub audience: Vec<String>,
    /// `$request.header.Authorization` unless the template says otherwise.
    pub identity_source: String,
}

/// `CorsConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    pub max_age: Option<u64>,
}

/// `AWS::Cognito::UserPool`.
#[derive(Debug, Clone)]
pub struct UserPool {
    pub logical_id: String,
    pub id: String,
    pub name: String,
    /// The other properties, in `CreateUserPool`'s shape.
    pub properties: Value,
}

/// `AWS::Cognito::UserPoolClient`.
#[derive(Debug, Clone)]
pub struct UserPoolClient {
    pub logical_id: String,
    pub id: String,
    pub user_pool_id: String,
    pub name: String,
    /// The other properties, in `CreateUserPoolClient`'s shape.
    pub properties: Value,
}

/// `AWS::Cognito::UserPoolGroup`.
#[derive(Debug, Clone)]
pub struct UserPoolGroup {
    pub logical_id: String,
    pub user_pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub precedence: Option<i64>,
}

/// `AWS::Cognito::UserPoolUser`.
#[derive(Debug, Clone)]
pub struct UserPoolUser {
    pub logical_id: String,
    pub user_pool_id: String,
    pub username: String,
    pub attributes: Vec<(String, String)>,
}

/// `AWS::Cognito::UserPoolUserToGroupAttachment`.
#[derive(Debug, Clone)]
pub struct UserToGroup {
    pub logical_id: String,
    pub user_pool_id: String,
    pub username: String,
    pub group_name: String,
}
