//! The one error type of the service: what a caller did wrong (or what broke), as EventBridge
//! names it on the wire.

use serde_json::{Value, json};

/// The `__type`s this service answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    ResourceNotFoundException,
    ResourceAlreadyExistsException,
    ValidationException,
    InvalidEventPatternException,
    LimitExceededException,
    UnknownOperationException,
    SerializationException,
    InternalException,
}

impl ErrorType {
    pub fn name(self) -> &'static str {
        match self {
            Self::ResourceNotFoundException => "ResourceNotFoundException",
            Self::ResourceAlreadyExistsException => "ResourceAlreadyExistsException",
            Self::ValidationException => "ValidationException",
            Self::InvalidEventPatternException => "InvalidEventPatternException",
            Self::LimitExceededException => "LimitExceededException",
            Self::UnknownOperationException => "UnknownOperationException",
            Self::SerializationException => "SerializationException",
            Self::InternalException => "InternalException",
        }
    }

    /// EventBridge answers every client error with 400 and its own failures with 500.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InternalException => 500,
            _ => 400,
        }
    }
}

/// A failed call: the wire type and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct EventsError {
    kind: ErrorType,
    message: String,
}

impl EventsError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ValidationException, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ResourceNotFoundException, message)
    }

    pub fn kind(&self) -> ErrorType {
        self.kind
    }

    pub fn type_name(&self) -> &'static str {
        self.kind.name()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }

    /// The body AWS's JSON 1.1 protocol carries for an error.
    pub fn to_json(&self) -> Value {
        json!({"__type": self.type_name(), "message": self.message})
    }
}

impl From<rusqlite::Error> for EventsError {
    fn from(e: rusqlite::Error) -> Self {
        Self::new(
            ErrorType::InternalException,
            format!("the event store failed: {e}"),
        )
    }
}

impl From<presso_eventpattern::PatternError> for EventsError {
    fn from(e: presso_eventpattern::PatternError) -> Self {
        let kind = match e.error_type() {
            "ValidationException" => ErrorType::ValidationException,
            _ => ErrorType::InvalidEventPatternException,
        };
        Self::new(kind, e.to_string())
    }
}
