//! The one error type of the identity provider: an AWS error type name and a message.
//!
//! Every failure a caller can cause maps to the `__type` that Amazon Cognito documents for it,
//! so the host only has to copy [`CognitoError::type_name`] and [`CognitoError::message`] into
//! the JSON 1.1 error body. Storage and key failures are `InternalErrorException` (HTTP 500).

use std::fmt;

/// The error types this subset can answer with, named exactly as AWS names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    CodeMismatchException,
    ExpiredCodeException,
    GroupExistsException,
    InternalErrorException,
    InvalidParameterException,
    InvalidPasswordException,
    LimitExceededException,
    NotAuthorizedException,
    PasswordResetRequiredException,
    ResourceNotFoundException,
    SerializationException,
    TooManyFailedAttemptsException,
    TooManyRequestsException,
    UnknownOperationException,
    UserNotConfirmedException,
    UserNotFoundException,
    UsernameExistsException,
}

impl ErrorType {
    /// The `__type` string of AWS's JSON error body.
    pub fn name(self) -> &'static str {
        match self {
            Self::CodeMismatchException => "CodeMismatchException",
            Self::ExpiredCodeException => "ExpiredCodeException",
            Self::GroupExistsException => "GroupExistsException",
            Self::InternalErrorException => "InternalErrorException",
            Self::InvalidParameterException => "InvalidParameterException",
            Self::InvalidPasswordException => "InvalidPasswordException",
            Self::LimitExceededException => "LimitExceededException",
            Self::NotAuthorizedException => "NotAuthorizedException",
            Self::PasswordResetRequiredException => "PasswordResetRequiredException",
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::SerializationException => "SerializationException",
            Self::TooManyFailedAttemptsException => "TooManyFailedAttemptsException",
            Self::TooManyRequestsException => "TooManyRequestsException",
            Self::UnknownOperationException => "UnknownOperationException",
            Self::UserNotConfirmedException => "UserNotConfirmedException",
            Self::UserNotFoundException => "UserNotFoundException",
            Self::UsernameExistsException => "UsernameExistsException",
        }
    }

    /// The HTTP status AWS answers this error with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InternalErrorException => 500,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed operation, as AWS would report it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CognitoError {
    kind: ErrorType,
    message: String,
}

impl CognitoError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorType {
        self.kind
    }

    /// AWS's `__type` for this error (for example `UserNotFoundException`).
    pub fn type_name(&self) -> &'static str {
        self.kind.name()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }

    /// The JSON 1.1 error body: `{"__type": ..., "message": ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "__type": self.type_name(), "message": self.message })
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InvalidParameterException, message)
    }

    pub(crate) fn not_authorized(message: impl Into<String>) -> Self {
        Self::new(ErrorType::NotAuthorizedException, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InternalErrorException, message)
    }

    pub(crate) fn user_not_found() -> Self {
        Self::new(ErrorType::UserNotFoundException, "User does not exist.")
    }

    pub(crate) fn pool_not_found(pool_id: &str) -> Self {
        Self::new(
            ErrorType::ResourceNotFoundException,
            format!("User pool {pool_id} does not exist."),
        )
    }

    pub(crate) fn client_not_found(client_id: &str) -> Self {
        Self::new(
            ErrorType::ResourceNotFoundException,
            format!("User pool client {client_id} does not exist."),
        )
    }
}

impl From<rusqlite::Error> for CognitoError {
    fn from(err: rusqlite::Error) -> Self {
        tracing::error!(error = %err, "cognito storage failed");
        Self::internal(format!("storage failure: {err}"))
    }
}

impl From<serde_json::Error> for CognitoError {
    fn from(err: serde_json::Error) -> Self {
        Self::internal(format!("stored record is unreadable: {err}"))
    }
}

/// Why a token was refused by [`crate::IdentityProvider::verify`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("token is malformed: {0}")]
    Malformed(String),
    #[error("token signature or key id does not match this identity provider")]
    BadSignature,
    #[error("token issuer {0} is not a user pool of this identity provider")]
    UnknownIssuer(String),
    #[error("token has expired")]
    Expired,
    #[error("token_use {0:?} is neither id nor access")]
    BadTokenUse(String),
}

impl From<VerifyError> for CognitoError {
    fn from(err: VerifyError) -> Self {
        match err {
            VerifyError::Expired => Self::not_authorized("Access Token has expired"),
            _ => Self::not_authorized("Invalid Access Token"),
        }
    }
}
