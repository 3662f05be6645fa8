//! The whole of EventBridge's `TestEventPattern` decision, so a service only maps the result to its
//! wire format.
//!
//! AWS checks the pattern first (an `InvalidEventPatternException`), then the event: it must be a JSON
//! object carrying the envelope fields `id`, `account`, `source`, `time`, `region` and `detail-type`,
//! or the call fails with a `ValidationException` saying only "Parameter Event is not valid.". The API
//! reference also lists `resources` as mandatory, but AWS accepts events without it, and so do we.

use serde_json::Value;

use crate::{Pattern, PatternError};

/// The envelope fields an event given to `TestEventPattern` must carry.
pub const MANDATORY_EVENT_FIELDS: [&str; 6] =
    ["id", "account", "source", "time", "region", "detail-type"];

/// Why a `TestEventPattern` call fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TestEventPatternError {
    /// The pattern is refused; its message is EventBridge's.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// The event is not JSON, not an object, or lacks an envelope field (named here for logs; AWS's
    /// message does not name it).
    #[error("Parameter Event is not valid.")]
    Event {
        /// What is wrong with the event.
        detail: String,
    },
}

impl TestEventPatternError {
    /// The AWS error type (`__type`) a service answers with.
    pub fn error_type(&self) -> &'static str {
        match self {
            TestEventPatternError::Pattern(e) => e.error_type(),
            TestEventPatternError::Event { .. } => "ValidationException",
        }
    }
}

/// Decides a `TestEventPattern` request: whether the event text matches the pattern text.
pub fn test_event_pattern(pattern: &str, event: &str) -> Result<bool, TestEventPatternError> {
    let pattern = Pattern::parse(pattern)?;
    let event: Value = serde_json::from_str(event).map_err(|e| TestEventPatternError::Event {
        detail: format!("the event is not JSON: {e}"),
    })?;
    let Some(object) = event.as_object() else {
        return Err(TestEventPatternError::Event {
            detail: "the event is not a JSON object".to_owned(),
        });
    };
    if let Some(missing) = MANDATORY_EVENT_FIELDS
        .iter()
        .find(|f| !object.contains_key(**f))
    {
        return Err(TestEventPatternError::Event {
            detail: format!("the event has no \"{missing}\" field"),
        });
    }
    Ok(pattern.matches(&event))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"id": "1", "account": "123456789012", "source": "aws.ec2", "time": "2017-12-22T18:43:48Z",
        "region": "us-west-1", "detail-type": "EC2 Instance State-change Notification", "resources": [],
        "detail": {"state": "terminated"}}"#;

    #[test]
    fn a_matching_event_gives_true_and_another_gives_false() {
        assert_eq!(
            test_event_pattern(r#"{"detail": {"state": ["terminated"]}}"#, EVENT),
            Ok(true)
        );
        assert_eq!(
            test_event_pattern(r#"{"detail": {"state": ["running"]}}"#, EVENT),
            Ok(false)
        );
    }

    #[test]
    fn an_invalid_pattern_is_reported_before_the_event_is_looked_at() {
        let error = test_event_pattern(r#"{"source": "aws.ec2"}"#, "not json")
            .expect_err("invalid pattern");
        assert_eq!(error.error_type(), "InvalidEventPatternException");
        assert!(
            error
                .to_string()
                .contains("\"source\" must be an object or an array")
        );
    }

    #[test]
    fn an_event_without_its_envelope_is_a_validation_error() {
        let error = test_event_pattern(r#"{"source": ["aws.ec2"]}"#, r#"{"source": "aws.ec2"}"#)
            .expect_err("no id");
        assert_eq!(error.error_type(), "ValidationException");
        assert_eq!(error.to_string(), "Parameter Event is not valid.");
        let error =
            test_event_pattern(r#"{"source": ["aws.ec2"]}"#, "[1]").expect_err("not an object");
        assert_eq!(error.error_type(), "ValidationException");
    }

    #[test]
    fn resources_may_be_left_out() {
        let event = EVENT.replace(r#""resources": [],"#, "");
        assert_eq!(
            test_event_pattern(r#"{"source": ["aws.ec2"]}"#, &event),
            Ok(true)
        );
    }
}
