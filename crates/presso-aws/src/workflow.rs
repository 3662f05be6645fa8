//! The workflow resumer on Step Functions: `SendTaskSuccess` with the resumption's output.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::{DisplayErrorContext, ProvideErrorMetadata};
use presso_core::ids::TaskToken;
use presso_core::order::Resumption;
use presso_core::ports::{ResumeError, WorkflowResumer};

/// The errors that mean the execution no longer waits on the token: nothing to retry.
const TOKEN_GONE: [&str; 3] = ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"];

#[derive(Debug, Clone)]
pub struct StepFunctionsResumer {
    client: Client,
}

impl StepFunctionsResumer {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self::new(Client::new(config))
    }
}

impl WorkflowResumer for StepFunctionsResumer {
    async fn resume(&self, token: &TaskToken, resumption: Resumption) -> Result<(), ResumeError> {
        match self
            .client
            .send_task_success()
            .task_token(token.as_str())
            .output(resumption.output_json())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code().is_some_and(|c| TOKEN_GONE.contains(&c)) => {
                Err(ResumeError::TokenGone)
            }
            Err(e) => Err(ResumeError::Unavailable(DisplayErrorContext(e).to_string())),
        }
    }
}
