//! The template's custom resource that resolves the account's IoT data-ATS endpoint
//! (`iot:DescribeEndpoint`, `endpointType=iot:Data-ATS`), so no output is copied by hand: the
//! publisher and `/config.json` get it from `!GetAtt IotEndpoint.Address`.
//!
//! An event function: [`handle`] takes CloudFormation's custom-resource request and always
//! answers it on its pre-signed `ResponseURL` (a custom resource that never answers blocks the
//! stack for an hour). `Delete` has nothing to undo. The one IoT control-plane call is signed
//! with SigV4 directly (`aws-sigv4`): the IoT SDK client is large, and this is all it would do.

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use lambda_runtime::LambdaEvent;
use presso_aws::{AwsSettings, Env};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::SystemTime;

/// CloudFormation's custom-resource request (the fields this resource reads).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceRequest {
    pub request_type: String,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("no AWS credentials: {0}")]
    Credentials(String),
    #[error("could not sign the request: {0}")]
    Sign(String),
    #[error("DescribeEndpoint failed: {0}")]
    Call(String),
    #[error("could not answer CloudFormation: {0}")]
    Respond(String),
}

impl From<EndpointError> for lambda_runtime::Diagnostic {
    fn from(e: EndpointError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "IotEndpointError".to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// What the handler needs: the SDK configuration (region, credentials) and where the IoT
/// control plane answers.
#[derive(Debug, Clone)]
pub struct Deps {
    pub config: aws_config::SdkConfig,
    /// `https://iot.<region>.amazonaws.com` unless `IOT_CONTROL_ENDPOINT` says otherwise.
    pub control_endpoint: String,
    pub http: reqwest::Client,
}

pub async fn deps_from_env(env: &Env) -> Deps {
    let config = AwsSettings::from_env(env).load().await;
    let region = config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let control_endpoint = presso_fn_common::env::get(env, "IOT_CONTROL_ENDPOINT")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("https://iot.{region}.amazonaws.com"));
    Deps {
        config,
        control_endpoint,
        http: reqwest::Client::new(),
    }
}

impl Deps {
    /// `GET /endpoint?endpointType=iot:Data-ATS`, signed for service `iot`.
    pub async fn describe_data_ats_endpoint(&self) -> Result<String, EndpointError> {
        let provider = self
            .config
            .credentials_provider()
            .ok_or_else(|| EndpointError::Credentials("no provider".to_owned()))?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| EndpointError::Credentials(e.to_string()))?;
        let identity = credentials.into();
        let region = self
            .config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".to_owned());
        let url = format!(
            "{}/endpoint?endpointType=iot%3AData-ATS",
            self.control_endpoint.trim_end_matches('/')
        );
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&region)
            .name("iot")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| EndpointError::Sign(e.to_string()))?
            .into();
        let signable =
            SignableRequest::new("GET", &url, std::iter::empty(), SignableBody::Bytes(&[]))
                .map_err(|e| EndpointError::Sign(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| EndpointError::Sign(e.to_string()))?
            .into_parts();
        let mut request = self.http.get(&url);
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| EndpointError::Call(e.to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| EndpointError::Call(e.to_string()))?;
        if !status.is_success() {
            return Err(EndpointError::Call(format!("{status}: {body}")));
        }
        body["endpointAddress"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| EndpointError::Call(format!("no endpointAddress in {body}")))
    }

    async fn respond(&self, url: &str, body: &Value) -> Result<(), EndpointError> {
        // The pre-signed S3 URL was signed without a content type: send none.
        self.http
            .put(url)
            .header("content-type", "")
            .body(body.to_string())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| EndpointError::Respond(e.to_string()))?;
        Ok(())
    }
}

/// Resolves the endpoint (on `Create` and `Update`) and answers CloudFormation either way.
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<CustomResourceRequest>,
) -> Result<Value, EndpointError> {
    let request = event.payload;
    let result = match request.request_type.as_str() {
        "Delete" => Ok(None),
        _ => deps.describe_data_ats_endpoint().await.map(Some),
    };
    let physical = request
        .physical_resource_id
        .clone()
        .unwrap_or_else(|| "iot-data-ats-endpoint".to_owned());
    let mut answer = json!({
        "StackId": request.stack_id,
        "RequestId": request.request_id,
        "LogicalResourceId": request.logical_resource_id,
        "PhysicalResourceId": physical,
    });
    match &result {
        Ok(address) => {
            answer["Status"] = "SUCCESS".into();
            if let Some(address) = address {
                answer["Data"] = json!({ "Address": address });
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "the endpoint could not be resolved");
            answer["Status"] = "FAILED".into();
            answer["Reason"] = e.to_string().into();
        }
    }
    deps.respond(&request.response_url, &answer).await?;
    Ok(answer)
}
