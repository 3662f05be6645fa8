//! The workflow resumer on Step Functions: `SendTaskSuccess` with the resumption's output, or
//! `SendTaskFailure` with its error for a cancellation.

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
        let result = match resumption.failure() {
            Some((error, cause)) => self
                .client
                .send_task_failure()
                .task_token(token.as_str())
                .error(error)
                .cause(cause)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    (
                        e.code().map(str::to_owned),
                        DisplayErrorContext(e).to_string(),
                    )
                }),
            None => self
                .client
                .send_task_success()
                .task_token(token.as_str())
                .output(resumption.output_json())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    (
                        e.code().map(str::to_owned),
                        DisplayErrorContext(e).to_string(),
                    )
                }),
        };
        match result {
            Ok(()) => Ok(()),
            Err((Some(code), _)) if TOKEN_GONE.contains(&code.as_str()) => {
                Err(ResumeError::TokenGone)
            }
            Err((_, message)) => Err(ResumeError::Unavailable(message)),
        }
    }
}
