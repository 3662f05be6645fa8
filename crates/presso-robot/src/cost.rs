//! The AWS cost of a robot run: what `presso serve` counted (`GET /_presso/usage`) between
//! the start and the end of the run, per drink, times a checked-in table of AWS prices
//! (`prices.json`: list prices of us-east-1 with their sources and the date they were read).

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The price table the cost model uses.
pub const PRICES: &str = include_str!("../prices.json");

/// What the system did per drink.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PerDrink {
    pub api_requests: f64,
    pub lambda_invocations: f64,
    /// Billed milliseconds (each invocation rounded up), summed.
    pub lambda_billed_ms: f64,
    pub state_transitions: f64,
    pub events: f64,
    pub read_units: f64,
    pub write_units: f64,
    /// IoT messages: publications plus deliveries, in 5 KB units.
    pub iot_messages: f64,
    /// Modelled (see `prices.json`).
    pub connection_minutes: f64,
}

/// The cost of 1,000 drinks, per service, and in total.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub drinks: u64,
    pub per_drink: PerDrink,
    pub per_thousand_drinks: BTreeMap<String, f64>,
    pub total_per_thousand_drinks: f64,
    /// The original's figure, for comparison.
    pub original_per_thousand_drinks: f64,
}

fn n(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// Usage between two `/_presso/usage` snapshots, per drink.
pub fn per_drink(before: &Value, after: &Value, drinks: u64, prices: &Value) -> PerDrink {
    let d = drinks.max(1) as f64;
    let delta = |path: &[&str]| {
        let get = |v: &Value| path.iter().fold(v.clone(), |v, k| v[*k].clone());
        (n(&get(after)) - n(&get(before))) / d
    };
    let mut invocations = 0.0;
    let mut billed = 0.0;
    if let Some(fs) = after["lambda"].as_object() {
        for (name, f) in fs {
            let b = &before["lambda"][name];
            invocations += n(&f["invocations"]) - n(&b["invocations"]);
            billed += n(&f["billedMs"]) - n(&b["billedMs"]);
        }
    }
    let c = &prices["connections"];
    PerDrink {
        api_requests: delta(&["apiRequests"]),
        lambda_invocations: invocations / d,
        lambda_billed_ms: billed / d,
        state_transitions: delta(&["stepFunctions", "stateTransitions"]),
        events: delta(&["eventBridge", "events"]),
        read_units: delta(&["dynamodb", "readUnits"]),
        write_units: delta(&["dynamodb", "writeUnits"]),
        iot_messages: delta(&["iot", "published"]) + delta(&["iot", "delivered"]),
        connection_minutes: n(&c["phoneMinutesPerDrink"]) + n(&c["staffMinutesPerDrink"]),
    }
}

/// Prices what one drink used.
pub fn cost(per_drink: PerDrink, drinks: u64, prices: &Value) -> Cost {
    let l = &prices["lambda"];
    let per_gb_s = if l["architecture"] == "x86_64" {
        n(&l["perGbSecondX86_64"])
    } else {
        n(&l["perGbSecondArm64"])
    };
    let gb = n(&l["memoryMb"]) / 1024.0;
    let p = &per_drink;
    let mut by = BTreeMap::new();
    let mut put = |k: &str, per_drink_cost: f64| {
        by.insert(k.to_string(), per_drink_cost * 1000.0);
    };
    put(
        "API Gateway",
        p.api_requests * n(&prices["apiGateway"]["perHttpApiRequest"]),
    );
    put(
        "Lambda",
        p.lambda_invocations * n(&l["perRequest"]) + p.lambda_billed_ms / 1000.0 * gb * per_gb_s,
    );
    put(
        "Step Functions",
        p.state_transitions * n(&prices["stepFunctions"]["perStateTransition"]),
    );
    put(
        "EventBridge",
        p.events * n(&prices["eventBridge"]["perEvent"]),
    );
    put(
        "DynamoDB",
        p.read_units * n(&prices["dynamodb"]["perReadRequestUnit"])
            + p.write_units * n(&prices["dynamodb"]["perWriteRequestUnit"]),
    );
    put(
        "IoT Core",
        p.iot_messages * n(&prices["iot"]["perMessage"])
            + p.connection_minutes * n(&prices["iot"]["perConnectionMinute"]),
    );
    let total = by.values().sum();
    Cost {
        drinks,
        per_drink,
        per_thousand_drinks: by,
        total_per_thousand_drinks: total,
        original_per_thousand_drinks: n(&prices["original"]["perThousandDrinks"]),
    }
}

impl Cost {
    pub fn table(&self) -> String {
        let p = &self.per_drink;
        let mut out = format!(
            "per drink ({} drinks): {:.1} API requests, {:.1} Lambda invocations ({:.1} billed ms), {:.1} state transitions, {:.1} events, {:.2} RRU, {:.2} WRU, {:.1} IoT messages, {:.1} connection-minutes (modelled)\n",
            self.drinks,
            p.api_requests,
            p.lambda_invocations,
            p.lambda_billed_ms,
            p.state_transitions,
            p.events,
            p.read_units,
            p.write_units,
            p.iot_messages,
            p.connection_minutes
        );
        out.push_str(
            "cost of 1,000 drinks (us-east-1 list prices, crates/presso-robot/prices.json):\n",
        );
        for (k, v) in &self.per_thousand_drinks {
            out.push_str(&format!("  {k:<16} ${v:.4}\n"));
        }
        out.push_str(&format!(
            "  {:<16} ${:.4}   (the original: ${:.2}; target ≤ $0.25)\n",
            "total", self.total_per_thousand_drinks, self.original_per_thousand_drinks
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prices() -> Value {
        serde_json::from_str(PRICES).expect("prices.json is JSON")
    }

    #[test]
    fn the_price_table_names_its_sources_and_matches_the_template() {
        let p = prices();
        for k in [
            "lambda",
            "stepFunctions",
            "eventBridge",
            "dynamodb",
            "iot",
            "apiGateway",
        ] {
            assert!(
                p[k]["source"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://aws.amazon.com/"),
                "{k}"
            );
        }
        // The functions' memory and architecture are the template's.
        let template =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml"))
                .unwrap();
        assert!(template.contains(&format!("MemorySize: {}", p["lambda"]["memoryMb"])));
        assert!(template.contains(&format!(
            "Default: {}",
            p["lambda"]["architecture"].as_str().unwrap()
        )));
    }

    #[test]
    fn a_run_is_priced_per_thousand_drinks() {
        let before = json!({"apiRequests": 10, "lambda": {"f": {"invocations": 5, "billedMs": 50}},
            "stepFunctions": {"stateTransitions": 0}, "eventBridge": {"events": 0},
            "dynamodb": {"readUnits": 0.0, "writeUnits": 0.0}, "iot": {"published": 0, "delivered": 0}});
        let after = json!({"apiRequests": 50, "lambda": {"f": {"invocations": 105, "billedMs": 250}, "g": {"invocations": 100, "billedMs": 100}},
            "stepFunctions": {"stateTransitions": 1000}, "eventBridge": {"events": 800},
            "dynamodb": {"readUnits": 300.0, "writeUnits": 1500.0}, "iot": {"published": 700, "delivered": 1400}});
        let p = prices();
        let pd = per_drink(&before, &after, 100, &p);
        assert_eq!(pd.api_requests, 0.4);
        assert_eq!(pd.lambda_invocations, 2.0);
        assert_eq!(pd.lambda_billed_ms, 3.0);
        assert_eq!(pd.state_transitions, 10.0);
        assert_eq!(pd.iot_messages, 21.0);
        let c = cost(pd, 100, &p);
        // 10 transitions × $0.000025 × 1,000 drinks = $0.25.
        assert!((c.per_thousand_drinks["Step Functions"] - 0.25).abs() < 1e-12);
        // 8 events × $1 per million × 1,000.
        assert!((c.per_thousand_drinks["EventBridge"] - 0.008).abs() < 1e-12);
        let sum: f64 = c.per_thousand_drinks.values().sum();
        assert!((c.total_per_thousand_drinks - sum).abs() < 1e-12);
        assert!(c.table().contains("Step Functions"));
    }
}
