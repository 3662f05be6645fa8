//! Time, as the host decides it.
//!
//! Codes, sessions, lockouts and tokens expire on this clock, never on the wall clock read
//! directly, so presso's `/_presso/clock` can move sign-in time forward together with workflow
//! timers. The identity provider never sleeps on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    fn now_millis(&self) -> i64;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        system_now_millis()
    }
}

pub(crate) fn system_now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A clock that stands still until told to move: for tests and for hosts that own time.
/// Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn at_millis(millis: i64) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(millis)),
        }
    }

    /// Starts at the current wall-clock time, so standard JWT verifiers accept its tokens.
    pub fn starting_now() -> Self {
        Self::at_millis(system_now_millis())
    }

    pub fn advance_secs(&self, secs: i64) {
        self.millis
            .fetch_add(secs.saturating_mul(1000), Ordering::SeqCst);
    }

    pub fn set_millis(&self, millis: i64) {
        self.millis.store(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.millis.load(Ordering::SeqCst)
    }
}

/// Lets a host pass any `Fn() -> i64` (milliseconds) as the clock.
impl<F> Clock for F
where
    F: Fn() -> i64 + Send + Sync,
{
    fn now_millis(&self) -> i64 {
        self()
    }
}
