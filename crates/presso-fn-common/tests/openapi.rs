//! `docs/api/openapi.json`, the OpenAPI 3.1 document of the HTTP API, generated from
//! `presso_core::api::ROUTES` (paths, parameters, access, statuses) and from the serde types the
//! routes name (each schema is read off a fully populated value of its type). The test fails
//! when the committed document differs; `PRESSO_WRITE_OPENAPI=1 cargo test -p presso-fn-common
//! --test openapi` rewrites it.

use presso_core::api::{Access, Problem, ROUTES, RuntimeSettings, StoreStateRequest};
use presso_core::config::{ConfigUpdate, StoreConfig, StoreState};
use presso_core::ids::{DisplayName, EventId, OrderId, OrderNumber, QrToken, TaskToken, UserId};
use presso_core::menu::{DrinkRequest, Menu};
use presso_core::order::{CancelledBy, Order, QueueEstimate, RejectReason, Wait};
use presso_core::ports::JourneyEntry;
use presso_core::qr::{QrBucket, WindowId};
use presso_core::time::Timestamp;
use presso_core::usecases::UseCaseError;
use presso_core::usecases::views::{NewOrderView, OrderView, QrCodeView};
use serde_json::{Map, Value, json};

/// JSON Schema read off a sample value (types and properties; optionality is not inferred).
fn schema_of(v: &Value) -> Value {
    match v {
        Value::Null => json!({}),
        Value::Bool(_) => json!({"type": "boolean"}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"type": "integer"}),
        Value::Number(_) => json!({"type": "number"}),
        Value::String(_) => json!({"type": "string"}),
        Value::Array(items) => {
            json!({"type": "array", "items": items.first().map(schema_of).unwrap_or(json!({}))})
        }
        Value::Object(m) => {
            let props: Map<String, Value> =
                m.iter().map(|(k, v)| (k.clone(), schema_of(v))).collect();
            json!({"type": "object", "properties": props})
        }
    }
}

fn sample<T: serde::Serialize>(t: &T) -> Value {
    schema_of(&serde_json::to_value(t).unwrap())
}

fn schemas() -> Map<String, Value> {
    let now = Timestamp::from_millis(1_767_225_600_000);
    let event = EventId::default_event();
    let config = StoreConfig::seed_default(now);
    let user = UserId::parse("u1").unwrap();
    let drink = config
        .menu
        .check_order(&DrinkRequest {
            drink: "Flat White".into(),
            modifiers: vec!["Oat".into()],
        })
        .unwrap();
    // An order that went all the way, so every field of the view is present.
    let o = Order::new_pending(
        OrderId::parse("o1").unwrap(),
        event.clone(),
        user.clone(),
        None,
        now,
    );
    let o = o
        .record_workflow_started(TaskToken::parse("t1").unwrap(), now)
        .unwrap()
        .unwrap()
        .order;
    let o = o.submit_drink(drink, now).unwrap().unwrap().order;
    let o = o
        .record_waiting_completion(
            OrderNumber::new(1).unwrap(),
            TaskToken::parse("t2").unwrap(),
            now,
        )
        .unwrap()
        .unwrap()
        .order;
    let o = o.make(&user, now).unwrap().unwrap().order;
    let o = o.complete(&user, now).unwrap().unwrap().order;
    let bucket = QrBucket::new(
        event.clone(),
        WindowId::containing(now),
        QrToken::parse("ABCDEFGHJK").unwrap(),
        10,
        now,
    );
    let mut out = Map::new();
    // Fields that belong to other states (cancelled, timed out, rejected, queued) are
    // filled in too, so the schema names every field the view can carry.
    let mut view = OrderView::of(&o);
    view.display_name = DisplayName::from_claim("Ada");
    view.cancelled_by = Some(CancelledBy::Customer);
    view.timed_out_wait = Some(Wait::Drink);
    view.reject_reason = Some(RejectReason::AtCapacity);
    view.drink_deadline = Some(now);
    view.queue = Some(QueueEstimate {
        queue_position: 1,
        estimated_wait_seconds: 90,
    });
    out.insert("OrderView".into(), sample(&view));
    out.insert(
        "NewOrderView".into(),
        sample(&NewOrderView {
            order_id: o.order_id.clone(),
            event_id: event.clone(),
            state: o.status(),
            drink_deadline: now,
        }),
    );
    out.insert(
        "QrCodeView".into(),
        sample(&QrCodeView {
            bucket,
            store_state: StoreState::Open,
        }),
    );
    out.insert(
        "JourneyEntry".into(),
        sample(&JourneyEntry {
            order_id: o.order_id.clone(),
            at: now,
            detail_type: "OrderManager.OrderCompleted".into(),
            state: "completed".into(),
            message: "done".into(),
            detail: json!({"orderId": "o1"}),
        }),
    );
    out.insert("ConfigView".into(), sample(&config.view()));
    out.insert(
        "ConfigUpdate".into(),
        sample(&ConfigUpdate {
            open: Some(true),
            paused: Some(false),
            drinks_per_barcode: Some(10),
            max_orders_in_queue: Some(20),
            max_orders_per_user: Some(1),
            seconds_per_drink: Some(90),
            menu: Some(Menu::reference_default()),
            availability: None,
        }),
    );
    // Each field may be null: the server reads null as "leave it unchanged".
    let mut update = out["ConfigUpdate"].clone();
    let nullable: Vec<String> = update["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for name in nullable {
        let prop = &mut update["properties"][&name];
        prop["type"] = match prop.get("type") {
            Some(Value::String(t)) => json!([t, "null"]),
            _ => prop["type"].clone(),
        };
    }
    // Availability maps drink and option names to whether they can be ordered.
    let flags = json!({"type": "object", "additionalProperties": {"type": "boolean"}});
    update["properties"]["availability"] = json!({"type": ["object", "null"],
        "properties": {"drinks": flags, "options": flags}, "additionalProperties": false});
    out.insert("ConfigUpdate".into(), update);
    out.insert(
        "GatewayMessage".into(),
        json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}),
    );
    out.insert(
        "DrinkRequest".into(),
        sample(&DrinkRequest {
            drink: "Flat White".into(),
            modifiers: vec!["Oat".into()],
        }),
    );
    out.insert(
        "StoreStateRequest".into(),
        sample(&StoreStateRequest {
            state: StoreState::Paused,
        }),
    );
    out.insert(
        "RuntimeSettings".into(),
        sample(&RuntimeSettings {
            region: "r".into(),
            user_pool_id: "p".into(),
            user_pool_client_id: "c".into(),
            cognito_endpoint: "e".into(),
            api_base: "/api".into(),
            mqtt_url: "m".into(),
            mqtt_auth: "jwt".into(),
            default_event_id: event,
            order_app_url: "/order/".into(),
        }),
    );
    let mut problem = sample(&Problem::of(&UseCaseError::Contention, now));
    problem["required"] = json!(["type", "title", "status", "detail", "code"]);
    out.insert("Problem".into(), problem);
    out
}

fn schema_ref(name: &str) -> Value {
    match name.strip_suffix("[]") {
        Some(item) => {
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}})
        }
        None => json!({"$ref": format!("#/components/schemas/{name}")}),
    }
}

fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let mut parameters = Vec::new();
        for seg in r.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        for (name, required) in r.query {
            parameters.push(json!({"name": name, "in": "query", "required": required, "schema": {"type": "string"}}));
        }
        let mut responses = Map::new();
        for (i, status) in r.statuses.iter().enumerate() {
            let problem = json!({"schema": schema_ref("Problem")});
            let gateway = json!({"schema": schema_ref("GatewayMessage")});
            let response = match *status {
                _ if i == 0 => {
                    json!({"description": "Success", "content": {"application/json": {"schema": schema_ref(r.response)}}})
                }
                // The HTTP API's JWT authorizer refuses a missing, bad or expired token
                // before any function runs, with API Gateway's own body.
                401 => json!({"description": "No valid token: API Gateway's refusal",
                    "content": {"application/json": gateway}}),
                // A route's AuthorizationScopes are checked there too; the function's own
                // access rules answer with a problem document.
                403 => {
                    json!({"description": "A problem document from the function, or API Gateway's refusal of a token without the route's scopes",
                    "content": {"application/problem+json": problem, "application/json": gateway}})
                }
                _ => {
                    json!({"description": "A problem document", "content": {"application/problem+json": problem}})
                }
            };
            responses.insert(status.to_string(), response);
        }
        let access = match r.access {
            Access::Public => "anyone",
            Access::SignedIn => "any signed-in user",
            Access::OwnerOrAdmin => "the order's owner or a member of admin",
            Access::Admin => "members of admin",
        };
        let mut op = json!({
            "operationId": format!("{} {}", r.method, r.path),
            "summary": r.summary,
            "description": format!("Who may call it: {access}. Served by `{}`.", r.function),
            "tags": [r.function],
            "parameters": parameters,
            "responses": responses,
            "security": if r.access == Access::Public { json!([]) } else { json!([{"cognitoJwt": []}]) },
        });
        if let Some(body) = r.request {
            // Creating an event takes an optional configuration; a barista's `?action=` on
            // an order reads no body (only the owner's drink does).
            let optional = (r.function == "presso-fn-config" && r.method == "POST")
                || r.query.iter().any(|(name, _)| *name == "action");
            op["requestBody"] = json!({"required": !optional,
                "content": {"application/json": {"schema": schema_ref(body)}}});
        }
        paths
            .entry(r.path.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .unwrap()
            .insert(r.method.to_lowercase(), op);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Serverlesspresso HTTP API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Generated from presso-core's routes and types by crates/presso-fn-common/tests/openapi.rs."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"cognitoJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "A user-pool ID token (Cognito on AWS, presso's pool locally)."}}
        }
    })
}

#[test]
fn the_committed_openapi_document_matches_the_routes_and_types() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api/openapi.json");
    let generated = serde_json::to_string_pretty(&document()).unwrap() + "\n";
    if std::env::var_os("PRESSO_WRITE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/api/openapi.json is stale: run PRESSO_WRITE_OPENAPI=1 cargo test -p presso-fn-common --test openapi"
    );
}

#[test]
fn every_schema_a_route_names_is_in_the_document() {
    let doc = document();
    for r in ROUTES {
        for name in [Some(r.response), r.request].into_iter().flatten() {
            let name = name.trim_end_matches("[]");
            assert!(doc["components"]["schemas"].get(name).is_some(), "{name}");
        }
    }
}
