//! The one error type of the store. Each variant is one of DynamoDB's documented error
//! types; `aws_type()` gives the `__type` suffix the HTTP edge puts on the wire.

use crate::value::Item;
use serde::Serialize;

/// Why a transaction was cancelled, one entry per action, in request order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancellationReason {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or breaks a rule (bad expression, wrong key type, …).
    #[error("{0}")]
    Validation(String),
    /// A condition expression evaluated to false.
    #[error("The conditional request failed")]
    ConditionalCheckFailed { item: Option<Item> },
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{message}")]
    TransactionCanceled {
        message: String,
        reasons: Vec<CancellationReason>,
    },
    /// The request body is not the JSON shape the operation takes.
    #[error("{0}")]
    Serialization(String),
    /// An operation name this store does not answer.
    #[error("{0}")]
    UnknownOperation(String),
    /// Anything the client cannot fix: storage failures.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn validation(message: impl Into<String>) -> Error {
        Error::Validation(message.into())
    }

    /// The error's name as DynamoDB spells it (the part after `#` in `__type`).
    pub fn aws_type(&self) -> &'static str {
        match self {
            Error::Validation(_) => "ValidationException",
            Error::ConditionalCheckFailed { .. } => "ConditionalCheckFailedException",
            Error::ResourceNotFound(_) => "ResourceNotFoundException",
            Error::ResourceInUse(_) => "ResourceInUseException",
            Error::TransactionCanceled { .. } => "TransactionCanceledException",
            Error::Serialization(_) => "SerializationException",
            Error::UnknownOperation(_) => "UnknownOperationException",
            Error::Internal(_) => "InternalServerError",
        }
    }

    /// Whether the failure is the server's (HTTP 500) rather than the client's (400).
    pub fn is_server_error(&self) -> bool {
        matches!(self, Error::Internal(_))
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Error {
        Error::Internal(err.to_string())
    }
}

impl From<crate::number::NumberError> for Error {
    fn from(err: crate::number::NumberError) -> Error {
        Error::Validation(err.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
