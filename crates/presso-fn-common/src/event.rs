//! EventBridge envelopes in, catalogue events out.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use presso_core::events::{Event, EventError};
use presso_core::time::Timestamp;
use presso_core::usecases::UseCaseError;
use serde_json::Value;

/// The envelope every event function receives.
pub type Envelope = EventBridgeEvent<Value>;

/// Why an event handler failed. Lambda reports it (and EventBridge retries the delivery).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("the event is not in the catalogue: {0}")]
    Event(#[from] EventError),
    #[error(transparent)]
    UseCase(#[from] UseCaseError),
}

impl HandlerError {
    /// Whether retrying the delivery can help (a malformed event never gets better).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Event(_) => false,
            Self::UseCase(e) => e.status() >= 500 || e.status() == 409,
        }
    }
}

/// What an event function answers (Lambda logs it; EventBridge ignores it).
pub fn outcome(handled: presso_core::usecases::Handled) -> Value {
    let word = match handled {
        presso_core::usecases::Handled::Applied => "applied",
        presso_core::usecases::Handled::Unchanged => "unchanged",
    };
    serde_json::json!({ "handled": word })
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        let error_type = match &e {
            HandlerError::Event(_) => "BadEvent".to_owned(),
            HandlerError::UseCase(u) => u.code().to_owned(),
        };
        lambda_runtime::Diagnostic {
            error_type,
            error_message: e.to_string(),
        }
    }
}

/// The catalogue event an envelope carries.
pub fn parse(envelope: &Envelope) -> Result<Event, EventError> {
    let detail_type = envelope.detail_type.as_str();
    Event::from_parts(detail_type, envelope.detail.clone())
}

/// The envelope's time (`time`), or `fallback` when it has none.
pub fn time_of(envelope: &Envelope, fallback: Timestamp) -> Timestamp {
    envelope
        .time
        .map(|t| Timestamp::from_millis(t.timestamp_millis()))
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_becomes_its_catalogue_event_and_unknown_types_are_errors() {
        let raw = serde_json::json!({
            "version": "0", "id": "1", "detail-type": "OrderProcessor.OrderTimeOut",
            "source": "awsserverlessda.serverlesspresso", "account": "123456789012",
            "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"orderId": "o1", "userId": "u1", "eventId": "E", "cause": "Customer timedout"}
        });
        let envelope: Envelope = serde_json::from_value(raw.clone()).unwrap();
        assert!(matches!(parse(&envelope).unwrap(), Event::OrderTimeOut(_)));
        assert_eq!(
            time_of(&envelope, Timestamp::from_millis(0)).as_millis(),
            1_767_225_600_000
        );
        let mut bad = raw;
        bad["detail-type"] = "Nope".into();
        let envelope: Envelope = serde_json::from_value(bad).unwrap();
        assert!(parse(&envelope).is_err());
    }
}
