//! The host's clock and randomness on Lambda, and a shareable clock handle so presso can hand
//! a function its virtual clock instead; and the host's transport, so presso can answer the
//! functions it hosts without a socket.

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use presso_core::ports::{Clock, Randomness};
use presso_core::time::Timestamp;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp::from_millis(ms)
    }
}

/// Any clock behind an `Arc`: the system clock on Lambda, presso's virtual clock locally.
#[derive(Clone)]
pub struct SharedClock(pub Arc<dyn Clock>);

impl SharedClock {
    /// The host's clock: the operating system's on Lambda; under presso, the virtual clock
    /// presso installed with [`install_host_clock`] (so `--time-scale` and
    /// `POST /_presso/clock` move QR windows, deadlines and timestamps too). Read on every
    /// `now()`, so a clock installed later still applies.
    pub fn system() -> Self {
        Self(Arc::new(HostClock))
    }
}

static HOST_CLOCK: std::sync::RwLock<Option<Arc<dyn Clock>>> = std::sync::RwLock::new(None);

/// Makes `clock` the clock of every [`SharedClock::system`] in this process (presso does
/// this once at start, before it hosts the functions; the last one installed wins).
pub fn install_host_clock(clock: Arc<dyn Clock>) {
    *HOST_CLOCK
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(clock);
}

/// The installed host clock, else the system clock.
#[derive(Debug, Clone, Copy, Default)]
struct HostClock;

impl Clock for HostClock {
    fn now(&self) -> Timestamp {
        let installed = HOST_CLOCK
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        match installed {
            Some(clock) => clock.now(),
            None => SystemClock.now(),
        }
    }
}

impl std::fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedClock").field(&self.0.now()).finish()
    }
}

impl Clock for SharedClock {
    fn now(&self) -> Timestamp {
        self.0.now()
    }
}

/// The operating system's randomness (order ids and QR codes must not be guessable).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn fill_bytes(&self, buf: &mut [u8]) {
        use rand::RngCore;
        rand::rng().fill_bytes(buf);
    }
}

/// Any randomness behind an `Arc`: the OS's on Lambda, a seeded one in tests.
#[derive(Clone)]
pub struct SharedRandomness(pub Arc<dyn Randomness>);

impl SharedRandomness {
    pub fn os() -> Self {
        Self(Arc::new(OsRandomness))
    }
}

impl std::fmt::Debug for SharedRandomness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedRandomness")
    }
}

impl Randomness for SharedRandomness {
    fn fill_bytes(&self, buf: &mut [u8]) {
        self.0.fill_bytes(buf);
    }
}

/// The transport presso installed for requests to its own endpoint.
static HOST_TRANSPORT: std::sync::RwLock<Option<(String, SharedHttpClient)>> =
    std::sync::RwLock::new(None);

/// Makes `client` the HTTP client of every SDK configuration whose endpoint is `endpoint`
/// (presso hosting functions: their calls to presso go straight to its router, with no
/// loopback connection each). Requests to any other endpoint are untouched.
pub fn install_host_transport(endpoint: &str, client: SharedHttpClient) {
    *HOST_TRANSPORT
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some((endpoint.trim_end_matches('/').to_owned(), client));
}

/// The installed transport for `endpoint`, if presso installed one for it.
pub(crate) fn host_transport(endpoint: &str) -> Option<SharedHttpClient> {
    HOST_TRANSPORT
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .filter(|(e, _)| e == endpoint.trim_end_matches('/'))
        .map(|(_, c)| c.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_after_2020_and_randomness_differs_between_calls() {
        assert!(SharedClock::system().now().as_millis() > 1_577_836_800_000);
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        OsRandomness.fill_bytes(&mut a);
        OsRandomness.fill_bytes(&mut b);
        assert_ne!(a, b);
    }
}
