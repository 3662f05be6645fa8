//! `template.yaml` held against the code: every function crate has its function and every
//! function its crate (by the last segment of `CodeUri`), every HTTP route of `presso-core`
//! is an `HttpApi` event of the function that serves it (public exactly when the route is),
//! every rule's pattern selects exactly the catalogue events its target handles, and every
//! `${...}` of the state machine has its substitution.

use presso_core::api::{Access, ROUTES};
use presso_core::config::StoreConfig;
use presso_core::events::{CATALOGUE, ConfigChanged, Event, SOURCE, detail_type};
use presso_core::ids::EventId;
use presso_core::time::Timestamp;
use presso_eventpattern::Pattern;
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// YAML as JSON; a tag (`!Ref X`) becomes `{"!Ref": X}`.
fn to_json(v: &Yaml) -> Value {
    match v {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => serde_json::to_value(n).unwrap(),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(s) => Value::Array(s.iter().map(to_json).collect()),
        Yaml::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().expect("string keys").to_owned(), to_json(v)))
                .collect(),
        ),
        Yaml::Tagged(t) => json!({ t.tag.to_string(): to_json(&t.value) }),
    }
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml");
    let yaml: Yaml = serde_yaml::from_str(&text).expect("template.yaml is YAML");
    // Anchors are resolved by the parser; merge keys are not used.
    to_json(&yaml)
}

fn resources_of(template: &Value, kind: &str) -> BTreeMap<String, Value> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Function resources by crate name.
fn functions(template: &Value) -> BTreeMap<String, Value> {
    resources_of(template, "AWS::Serverless::Function")
        .into_values()
        .map(|f| {
            let uri = f["Properties"]["CodeUri"]
                .as_str()
                .expect("a CodeUri")
                .to_owned();
            let name = Path::new(&uri)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            (name, f)
        })
        .collect()
}

fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(root().join("crates"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("src/main.rs").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("presso-fn-"))
        .collect()
}

#[test]
fn every_function_crate_has_its_function_and_every_function_its_crate() {
    let t = template();
    let functions = functions(&t);
    let declared: BTreeSet<String> = functions.keys().cloned().collect();
    assert_eq!(declared, function_crates());
    for (name, f) in &functions {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let manifest =
            std::fs::read_to_string(root().join("crates").join(name).join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("[package.metadata.lambda.build]\ncompiler = { type = \"cargo\" }"),
            "{name} builds with cargo, without zig"
        );
    }
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
    assert_eq!(t["Parameters"]["Architecture"]["Default"], "arm64");
}

#[test]
fn every_route_is_an_http_api_event_of_the_function_that_serves_it() {
    let t = template();
    let mut declared = BTreeSet::new();
    for (name, f) in functions(&t) {
        for (event, e) in f["Properties"]["Events"].as_object().into_iter().flatten() {
            if e["Type"] != "HttpApi" {
                continue;
            }
            let p = &e["Properties"];
            let public = p["Auth"]["Authorizer"] == "NONE";
            declared.insert((
                p["Method"].as_str().unwrap().to_owned(),
                p["Path"].as_str().unwrap().to_owned(),
                name.clone(),
                public,
            ));
            assert_eq!(p["ApiId"], json!({"!Ref": "HttpApi"}), "{name}.{event}");
        }
    }
    let expected: BTreeSet<(String, String, String, bool)> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.to_owned(),
                r.access == Access::Public,
            )
        })
        .collect();
    assert_eq!(declared, expected);
}

/// One event of each detail-type, as the bus carries it.
fn catalogue_events() -> Vec<(&'static str, Value)> {
    let config = StoreConfig::new_event(EventId::default_event(), Timestamp::from_millis(0));
    detail_type::ALL
        .iter()
        .map(|dt| {
            let detail = if *dt == detail_type::CONFIG_CHANGED {
                Event::ConfigChanged(ConfigChanged::of(&config)).detail().unwrap()
            } else {
                json!({"orderId": "o1", "userId": "u1", "eventId": "default", "state": "pending"})
            };
            (*dt, json!({"source": SOURCE, "detail-type": dt, "detail": detail, "account": "123456789012", "region": "us-east-1", "time": "2026-01-01T00:00:00Z", "id": "1", "version": "0", "resources": []}))
        })
        .collect()
}

/// Which detail-types a rule's target must receive, from the catalogue's `handled_by`.
fn expected_for(target: &str) -> BTreeSet<&'static str> {
    match target {
        // The publisher forwards everything; the journey records every order event.
        "presso-fn-publisher" => detail_type::ALL.into_iter().collect(),
        "presso-fn-journey" => detail_type::ALL
            .into_iter()
            .filter(|d| *d != detail_type::CONFIG_CHANGED)
            .collect(),
        "OrderProcessor" => CATALOGUE
            .iter()
            .filter(|c| c.handled_by.starts_with("Order Processor"))
            .map(|c| c.detail_type)
            .collect(),
        "presso-fn-order-timeouts" => {
            let mut set: BTreeSet<&str> = CATALOGUE
                .iter()
                .filter(|c| c.handled_by.starts_with("order-timeouts"))
                .map(|c| c.detail_type)
                .collect();
            // Robot orders put on the bus by tools are created here too.
            set.insert(detail_type::NEW_ORDER);
            set
        }
        other => {
            let short = other.trim_start_matches("presso-fn-");
            CATALOGUE
                .iter()
                .filter(|c| c.handled_by == short)
                .map(|c| c.detail_type)
                .collect()
        }
    }
}

#[test]
fn every_rule_selects_exactly_the_catalogue_events_its_target_handles() {
    let t = template();
    let mut targets: Vec<(String, Value)> = functions(&t).into_iter().collect();
    for (_, sm) in resources_of(&t, "AWS::Serverless::StateMachine") {
        targets.push(("OrderProcessor".to_owned(), sm));
    }
    let events = catalogue_events();
    let mut rules = 0;
    for (target, resource) in targets {
        for (name, e) in resource["Properties"]["Events"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if e["Type"] != "EventBridgeRule" {
                continue;
            }
            rules += 1;
            assert_eq!(
                e["Properties"]["EventBusName"],
                json!({"!Ref": "EventBus"}),
                "{target}.{name}"
            );
            let pattern = Pattern::parse(&e["Properties"]["Pattern"].to_string())
                .unwrap_or_else(|err| panic!("{target}.{name}: {err}"));
            let matched: BTreeSet<&str> = events
                .iter()
                .filter(|(_, ev)| pattern.matches(ev))
                .map(|(dt, _)| *dt)
                .collect();
            assert_eq!(matched, expected_for(&target), "{target}.{name}");
        }
    }
    assert_eq!(rules, 6, "the workflow and five event functions");
}

#[test]
fn every_substitution_of_the_state_machine_resolves() {
    let t = template();
    for (name, sm) in resources_of(&t, "AWS::Serverless::StateMachine") {
        let uri = sm["Properties"]["DefinitionUri"].as_str().unwrap();
        let text = std::fs::read_to_string(root().join(uri)).expect("the DefinitionUri file");
        let used: BTreeSet<String> = text
            .split("${")
            .skip(1)
            .map(|rest| rest.split('}').next().unwrap().to_owned())
            .collect();
        let given: BTreeSet<String> = sm["Properties"]["DefinitionSubstitutions"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(used, given, "{name}");
        assert_eq!(
            sm["Properties"]["DefinitionSubstitutions"]["DrinkTimeoutSeconds"],
            "300"
        );
        assert_eq!(
            sm["Properties"]["DefinitionSubstitutions"]["BaristaTimeoutSeconds"],
            "900"
        );
    }
}
