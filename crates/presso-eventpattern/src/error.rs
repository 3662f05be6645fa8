//! The one error type of this crate: why a pattern was refused.
//!
//! Every variant renders as the message EventBridge itself returns, so the local EventBridge service can
//! put `to_string()` straight into its `InvalidEventPatternException` (or, for an over-long pattern, its
//! `ValidationException`) response.

/// Why an event pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The pattern text is not JSON at all.
    #[error("Event pattern is not valid. Reason: {0}")]
    Json(String),

    /// The pattern is JSON but breaks a rule of the pattern language; `reason` is EventBridge's wording.
    #[error("Event pattern is not valid. Reason: {reason}")]
    Invalid {
        /// What is wrong, in the words EventBridge uses.
        reason: String,
    },

    /// The pattern is valid but its `$or` blocks multiply out to more alternatives than presso evaluates.
    #[error(
        "Event pattern is not valid. Reason: Rule is too complex - $or expands to {combinations} combinations, more than the {max} allowed"
    )]
    TooComplex {
        /// How many alternatives the pattern expanded to before presso stopped counting.
        combinations: usize,
        /// The bound, [`crate::MAX_OR_COMBINATIONS`].
        max: usize,
    },

    /// The pattern text is longer than the `EventPattern` API parameter allows.
    #[error(
        "1 validation error detected: Value at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to {max}"
    )]
    TooLong {
        /// The length of the refused pattern, in characters.
        length: usize,
        /// The bound, [`crate::MAX_PATTERN_LENGTH`].
        max: usize,
    },
}

impl PatternError {
    /// The AWS error type (`__type`) a service answers with for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            PatternError::TooLong { .. } => "ValidationException",
            _ => "InvalidEventPatternException",
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        PatternError::Invalid {
            reason: reason.into(),
        }
    }
}
