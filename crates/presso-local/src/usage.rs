//! What presso has done since it started, counted as AWS bills it: API requests, function
//! invocations and their durations, state transitions, events, capacity units and IoT
//! messages. `GET /_presso/usage` answers it; `presso robot` prices a run from it.

use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The counters presso-local keeps itself (the services keep their own).
#[derive(Debug, Default)]
pub struct Meter {
    api_requests: AtomicU64,
    functions: Mutex<BTreeMap<String, FunctionUse>>,
}

/// One function's invocations and the time they took, in presso's process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionUse {
    pub invocations: u64,
    pub duration_ms: f64,
    /// Each invocation's duration rounded up to the millisecond, as Lambda bills.
    pub billed_ms: u64,
}

impl Meter {
    /// A request reached the HTTP API.
    pub fn api_request(&self) {
        self.api_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// `function` handled one invocation in `took`.
    pub fn invoked(&self, function: &str, took: Duration) {
        let mut f = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        let u = f.entry(function.to_string()).or_default();
        u.invocations += 1;
        u.duration_ms += took.as_secs_f64() * 1000.0;
        u.billed_ms += u64::try_from(took.as_micros().div_ceil(1000))
            .unwrap_or(u64::MAX)
            .max(1);
    }

    pub fn api_requests(&self) -> u64 {
        self.api_requests.load(Ordering::Relaxed)
    }

    pub fn functions(&self) -> BTreeMap<String, FunctionUse> {
        self.functions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// `GET /_presso/usage`: every counter, from presso-local and the services.
pub fn snapshot(state: &crate::server::AppState) -> Value {
    let capacity = state.dynamodb.capacity_used();
    let sfn = state.stepfunctions.service.usage();
    let iot = state.broker.usage();
    json!({
        "apiRequests": state.meter.api_requests(),
        "lambda": state.meter.functions(),
        "stepFunctions": sfn,
        "eventBridge": {"events": state.events.service.billed_events()},
        "dynamodb": capacity,
        "iot": {"published": iot.published, "delivered": iot.delivered},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_bill_whole_milliseconds() {
        let m = Meter::default();
        m.invoked("f", Duration::from_micros(2_100));
        m.invoked("f", Duration::from_micros(10));
        m.api_request();
        let f = m.functions()["f"];
        assert_eq!(f.invocations, 2);
        assert_eq!(f.billed_ms, 4);
        assert!((f.duration_ms - 2.11).abs() < 1e-9);
        assert_eq!(m.api_requests(), 1);
    }
}
