//! QR windows and their token buckets.
//!
//! Time is cut into 5-minute windows aligned to the clock (window `n` covers
//! `[n*300000, (n+1)*300000)` ms since the epoch). Each event has at most one bucket per window:
//! a random code good for `drinksPerBarcode` orders. A code stays valid for
//! [`GRACE_MS`] after its window ends, so a scan at the boundary does not fail.
//!
//! Race-freedom is the repository's contract ([`crate::ports::QrRepository`]): a bucket is
//! created only if absent (every display then shows the winner's code), and a token is taken
//! only if the code matches and a token is left, in the same transaction that creates the order.

use crate::ids::{EventId, QrToken};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Length of a window.
pub const WINDOW_MS: i64 = 300_000;
/// How long a code stays valid after its window ends.
pub const GRACE_MS: i64 = 15_000;

/// The number of whole windows since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WindowId(i64);

impl WindowId {
    pub fn containing(now: Timestamp) -> Self {
        Self(now.as_millis().div_euclid(WINDOW_MS))
    }

    pub const fn from_raw(n: i64) -> Self {
        Self(n)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub fn start(self) -> Timestamp {
        Timestamp::from_millis(self.0.saturating_mul(WINDOW_MS))
    }

    /// The last millisecond of the window (the reference's `end_ts`).
    pub fn end(self) -> Timestamp {
        self.start().plus_millis(WINDOW_MS - 1)
    }

    /// The first millisecond at which the window's code is no longer accepted.
    pub fn valid_until(self) -> Timestamp {
        self.start().plus_millis(WINDOW_MS + GRACE_MS)
    }

    pub fn previous(self) -> Self {
        Self(self.0.saturating_sub(1))
    }

    /// Whether a code of this window is accepted at `now`.
    pub fn accepts_at(self, now: Timestamp) -> bool {
        now >= self.start() && now < self.valid_until()
    }
}

/// The windows whose codes are accepted at `now`: the current one, and the previous one during
/// the first [`GRACE_MS`] of the current window. Newest first.
pub fn accepting_windows(now: Timestamp) -> Vec<WindowId> {
    let current = WindowId::containing(now);
    let previous = current.previous();
    if previous.accepts_at(now) {
        vec![current, previous]
    } else {
        vec![current]
    }
}

/// One event's code for one window and the orders it is still good for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrBucket {
    pub event_id: EventId,
    pub window_id: WindowId,
    pub code: QrToken,
    pub start_ts: Timestamp,
    pub end_ts: Timestamp,
    pub valid_until: Timestamp,
    pub available_tokens: u32,
    pub tokens_per_window: u32,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("this QR code is not valid (it may have expired): scan the code on the display")]
    InvalidCode,
    #[error("this QR code has been used up: the next one appears at the next window")]
    NoTokensRemaining { next_window_at: Timestamp },
}

impl QrBucket {
    pub fn new(
        event_id: EventId,
        window_id: WindowId,
        code: QrToken,
        tokens: u32,
        now: Timestamp,
    ) -> Self {
        Self {
            event_id,
            window_id,
            code,
            start_ts: window_id.start(),
            end_ts: window_id.end(),
            valid_until: window_id.valid_until(),
            available_tokens: tokens,
            tokens_per_window: tokens,
            created_at: now,
        }
    }

    /// The bucket with one token fewer, or why not.
    pub fn take_token(&self, code: &QrToken, now: Timestamp) -> Result<QrBucket, QrError> {
        if &self.code != code || !self.window_id.accepts_at(now) {
            return Err(QrError::InvalidCode);
        }
        if self.available_tokens == 0 {
            return Err(QrError::NoTokensRemaining {
                next_window_at: WindowId::containing(now).start().plus_millis(WINDOW_MS),
            });
        }
        let mut next = self.clone();
        next.available_tokens -= 1;
        Ok(next)
    }
}

/// Of the buckets found for the accepting windows, the one `code` belongs to.
pub fn find_bucket_for<'a>(
    buckets: &'a [QrBucket],
    code: &QrToken,
    now: Timestamp,
) -> Result<&'a QrBucket, QrError> {
    buckets
        .iter()
        .find(|b| &b.code == code && b.window_id.accepts_at(now))
        .ok_or(QrError::InvalidCode)
}

/// What a QR code encodes: the ordering app's URL with the event and the code.
/// Ids are URL-safe by construction, so nothing needs escaping.
pub fn order_url(public_url: &str, event_id: &EventId, code: &QrToken) -> String {
    format!(
        "{}/order/?eventId={}&token={}",
        public_url.trim_end_matches('/'),
        event_id,
        code
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_millis(ms)
    }
    fn code(s: &str) -> QrToken {
        QrToken::parse(s).unwrap()
    }
    fn bucket(window: i64, tokens: u32) -> QrBucket {
        QrBucket::new(
            EventId::parse("E").unwrap(),
            WindowId::from_raw(window),
            code("ABCDEFGHIJ"),
            tokens,
            t(0),
        )
    }

    #[test]
    fn windows_are_five_minutes_aligned_to_the_clock() {
        let w = WindowId::containing(t(1_645_200_300_000 + 12_345));
        assert_eq!(w.get(), 5_484_001);
        assert_eq!(w.start(), t(1_645_200_300_000));
        assert_eq!(w.end(), t(1_645_200_599_999));
    }

    #[test]
    fn a_code_stays_valid_for_fifteen_seconds_after_its_window() {
        let w = WindowId::from_raw(10);
        let boundary = w.start().plus_millis(WINDOW_MS);
        assert!(w.accepts_at(boundary.plus_millis(14_999)));
        assert!(!w.accepts_at(boundary.plus_millis(15_000)));
        assert_eq!(accepting_windows(boundary.plus_millis(5)).len(), 2);
        assert_eq!(accepting_windows(boundary.plus_millis(15_000)).len(), 1);
    }

    #[test]
    fn a_scan_at_the_boundary_is_accepted_by_the_previous_windows_code() {
        let b = bucket(10, 3);
        let just_after = WindowId::from_raw(11).start().plus_millis(200);
        let found = find_bucket_for(std::slice::from_ref(&b), &code("ABCDEFGHIJ"), just_after);
        assert!(found.is_ok());
        assert!(b.take_token(&code("ABCDEFGHIJ"), just_after).is_ok());
    }

    #[test]
    fn a_wrong_or_expired_code_is_invalid() {
        let b = bucket(10, 3);
        let inside = WindowId::from_raw(10).start().plus_millis(1);
        assert_eq!(
            b.take_token(&code("ZZZZZZZZZZ"), inside),
            Err(QrError::InvalidCode)
        );
        let late = WindowId::from_raw(11).start().plus_millis(GRACE_MS);
        assert_eq!(
            b.take_token(&code("ABCDEFGHIJ"), late),
            Err(QrError::InvalidCode)
        );
    }

    #[test]
    fn tokens_never_go_below_zero() {
        let now = WindowId::from_raw(10).start();
        let mut b = bucket(10, 2);
        for _ in 0..2 {
            b = b.take_token(&code("ABCDEFGHIJ"), now).unwrap();
        }
        assert_eq!(b.available_tokens, 0);
        assert!(matches!(
            b.take_token(&code("ABCDEFGHIJ"), now),
            Err(QrError::NoTokensRemaining { .. })
        ));
    }

    #[test]
    fn the_qr_url_points_at_the_order_app_with_event_and_code() {
        assert_eq!(
            order_url(
                "http://192.168.1.5:8080/",
                &EventId::parse("default").unwrap(),
                &code("ABCDEFGHIJ")
            ),
            "http://192.168.1.5:8080/order/?eventId=default&token=ABCDEFGHIJ"
        );
    }
}
