//! The one clock of the local cloud: workflow timers, history timestamps and (later) the
//! functions' clock port all read it.
//!
//! It runs `--time-scale` times as fast as the wall clock (so a 5-minute Wait takes 5 s at
//! 60) and jumps forward on `POST /_presso/clock {"advanceSeconds": N}`. It starts at the
//! wall-clock time presso started; it never goes backwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A cheap, cloneable handle on the shared clock.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    started: Instant,
    started_ms: i64,
    scale: f64,
    advanced_ms: AtomicI64,
}

impl Clock {
    /// A clock reading the wall-clock time now and running `scale` times as fast.
    pub fn new(scale: f64) -> Clock {
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Clock {
            inner: Arc::new(Inner {
                started: Instant::now(),
                started_ms,
                scale,
                advanced_ms: AtomicI64::new(0),
            }),
        }
    }

    /// Milliseconds since the Unix epoch, on this clock.
    pub fn now_ms(&self) -> i64 {
        let real = self.inner.started.elapsed().as_secs_f64() * 1000.0;
        self.inner.started_ms
            + (real * self.inner.scale) as i64
            + self.inner.advanced_ms.load(Ordering::SeqCst)
    }

    /// How much faster than the wall clock this clock runs.
    pub fn scale(&self) -> f64 {
        self.inner.scale
    }

    /// Moves the clock forward (negative amounts are ignored: time does not go back).
    pub fn advance(&self, by: Duration) {
        let ms = by.as_millis().min(i64::MAX as u128) as i64;
        self.inner.advanced_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// The wall-clock wait until this clock shows `at_ms`.
    pub fn real_delay_until(&self, at_ms: i64) -> Duration {
        let ahead = at_ms.saturating_sub(self.now_ms());
        if ahead <= 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(ahead as f64 / 1000.0 / self.inner.scale)
    }
}

impl presso_core::ports::Clock for Clock {
    fn now(&self) -> presso_core::time::Timestamp {
        presso_core::time::Timestamp::from_millis(self.now_ms())
    }
}

impl presso_sfn::Clock for Clock {
    fn now_ms(&self) -> i64 {
        Clock::now_ms(self)
    }

    fn real_delay_until(&self, at_ms: i64) -> Duration {
        Clock::real_delay_until(self, at_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone_forward() {
        let a = Clock::new(1.0);
        let b = a.clone();
        let before = b.now_ms();
        a.advance(Duration::from_secs(300));
        assert!(b.now_ms() >= before + 300_000);
    }

    #[test]
    fn a_scaled_clock_waits_a_fraction_of_the_real_time() {
        let c = Clock::new(60.0);
        let delay = c.real_delay_until(c.now_ms() + 60_000);
        assert!(delay <= Duration::from_millis(1000), "{delay:?}");
        assert!(delay >= Duration::from_millis(900), "{delay:?}");
    }

    #[test]
    fn a_deadline_in_the_past_is_due_now() {
        let c = Clock::new(1.0);
        assert_eq!(c.real_delay_until(c.now_ms() - 5), Duration::ZERO);
    }
}
