//! The errors the service answers with, one variant per AWS error type.
//!
//! Each variant maps to the `__type` Step Functions sends ([`SfnError::aws_type`]), so the
//! HTTP edge only formats them; the message is what a user reads, so it names the ARN, the
//! field or the token that was wrong.

/// A Step Functions API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SfnError {
    #[error("{0}")]
    StateMachineDoesNotExist(String),
    #[error("{0}")]
    StateMachineAlreadyExists(String),
    #[error("{0}")]
    ExecutionDoesNotExist(String),
    #[error("{0}")]
    ExecutionAlreadyExists(String),
    #[error("{0}")]
    InvalidDefinition(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    InvalidExecutionInput(String),
    #[error("{0}")]
    InvalidOutput(String),
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    TaskDoesNotExist(String),
    #[error("{0}")]
    TaskTimedOut(String),
    #[error("{0}")]
    ValidationException(String),
    #[error("{0}")]
    UnknownOperation(String),
    /// The request body is not JSON (or not an object).
    #[error("{0}")]
    Serialization(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl SfnError {
    /// AWS's error name (the part of `__type` after `#`).
    pub fn aws_type(&self) -> &'static str {
        match self {
            SfnError::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
            SfnError::StateMachineAlreadyExists(_) => "StateMachineAlreadyExists",
            SfnError::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
            SfnError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
            SfnError::InvalidDefinition(_) => "InvalidDefinition",
            SfnError::InvalidArn(_) => "InvalidArn",
            SfnError::InvalidName(_) => "InvalidName",
            SfnError::InvalidExecutionInput(_) => "InvalidExecutionInput",
            SfnError::InvalidOutput(_) => "InvalidOutput",
            SfnError::InvalidToken(_) => "InvalidToken",
            SfnError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            SfnError::TaskTimedOut(_) => "TaskTimedOut",
            SfnError::ValidationException(_) => "ValidationException",
            SfnError::UnknownOperation(_) => "UnknownOperationException",
            SfnError::Serialization(_) => "SerializationException",
            SfnError::Internal(_) => "InternalFailure",
        }
    }

    /// Whether the fault is the service's (HTTP 500) rather than the caller's (400).
    pub fn is_server_error(&self) -> bool {
        matches!(self, SfnError::Internal(_))
    }
}

impl From<rusqlite::Error> for SfnError {
    fn from(e: rusqlite::Error) -> SfnError {
        SfnError::Internal(format!("database: {e}"))
    }
}

impl From<serde_json::Error> for SfnError {
    fn from(e: serde_json::Error) -> SfnError {
        SfnError::Internal(format!("serialization: {e}"))
    }
}
