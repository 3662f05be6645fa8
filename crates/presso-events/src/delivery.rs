//! Getting matched events to their targets: the [`TargetInvoker`] port the host implements,
//! retries with back-off, the built-in log target, and the dead-letter list.
//!
//! A delivery is never dropped silently: it either reaches its target or, after
//! [`RetryPolicy::attempts`] tries (or at once, when the target does not exist or the input
//! cannot be built), lands in the dead-letter list with the reason, and a warning is logged.

use async_trait::async_trait;
use serde_json::Value;
use std::time::Duration;

/// Why a target did not take a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// No such target (an unknown function or state machine): retrying cannot help.
    #[error("target {0} does not exist")]
    NotFound(String),
    /// The target exists but failed or refused; the delivery is retried.
    #[error("{0}")]
    Failed(String),
}

/// Delivers inputs to the targets presso hosts (state machines, functions). The log target is
/// built in and never reaches the invoker.
#[async_trait]
pub trait TargetInvoker: Send + Sync + 'static {
    async fn deliver(&self, target_arn: &str, input: Value) -> Result<(), DeliveryError>;
}

/// An invoker that knows no targets: every delivery goes to the dead-letter list.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTargets;

#[async_trait]
impl TargetInvoker for NoTargets {
    async fn deliver(&self, target_arn: &str, _input: Value) -> Result<(), DeliveryError> {
        Err(DeliveryError::NotFound(target_arn.to_string()))
    }
}

/// How often and how patiently a failing delivery is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second try; each later wait doubles, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three tries over about 0.6 s: a local target that fails three times in a row is broken,
    /// and the user should see that in the dead-letter list quickly.
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    pub(crate) fn delay_before(&self, attempt: u32) -> Duration {
        // attempt 2 waits first_delay, attempt 3 twice that, ...
        let factor = 2u32.saturating_pow(attempt.saturating_sub(2));
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// One matched (event, target) pair on its way.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub event_id: String,
    pub rule_arn: String,
    pub target_id: String,
    pub target_arn: String,
    /// The input, or why it could not be built (the delivery then goes straight to the
    /// dead-letter list).
    pub input: Result<Value, String>,
}

/// The log group a CloudWatch Logs ARN names (`arn:aws:logs:<region>:<account>:log-group:NAME`,
/// optionally ending in `:*`), with any leading `/` removed so `/aws/events/x` and
/// `aws/events/x` are one group.
pub fn log_group_of(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:aws:logs:")?;
    let (_, name) = rest.split_once(":log-group:")?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    let name = name.trim_start_matches('/');
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_arns_name_their_group_without_the_leading_slash() {
        assert_eq!(
            log_group_of("arn:aws:logs:us-east-1:123456789012:log-group:/aws/events/orders:*"),
            Some("aws/events/orders")
        );
        assert_eq!(
            log_group_of("arn:aws:logs:us-east-1:123456789012:log-group:orders"),
            Some("orders")
        );
        assert_eq!(log_group_of("arn:aws:lambda:us-east-1:1:function:f"), None);
    }

    #[test]
    fn retry_waits_double_up_to_the_bound() {
        let p = RetryPolicy {
            attempts: 5,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        assert_eq!(p.delay_before(2), Duration::from_millis(100));
        assert_eq!(p.delay_before(3), Duration::from_millis(200));
        assert_eq!(p.delay_before(4), Duration::from_millis(300));
    }
}
