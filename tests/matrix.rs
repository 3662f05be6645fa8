//! Every route of the HTTP API × {anonymous, customer A, customer B, barista}: the answer each
//! gets is the intended one, and a refused request changes nothing (the order table and the
//! config table are byte-for-byte the same before and after it).

use presso_e2e::*;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    A,
    B,
    Barista,
}

struct Bar {
    presso: Presso,
    a: User,
    b: User,
    barista: User,
    _dir: tempfile::TempDir,
}

impl Bar {
    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::Anonymous => None,
            Who::A => Some(&self.a.id_token),
            Who::B => Some(&self.b.id_token),
            Who::Barista => Some(&self.barista.id_token),
        }
    }

    async fn code(&self) -> String {
        let a = self
            .presso
            .call(
                Method::GET,
                "/api/qr-code?eventId=default",
                Some(&self.barista.id_token),
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        a.body["bucket"]["code"].as_str().unwrap().to_string()
    }

    /// A new order of A's: pending, or queued when `drink` is given (then waited for).
    async fn order_of_a(&self, drink: bool) -> String {
        let code = self.code().await;
        let scan = self
            .presso
            .call(
                Method::POST,
                &format!("/api/qr-code?eventId=default&token={code}"),
                Some(&self.a.id_token),
                None,
            )
            .await;
        assert_eq!(scan.status, 200, "{scan:?}");
        let id = scan.body["orderId"].as_str().unwrap().to_string();
        if drink {
            let a = self
                .presso
                .call(
                    Method::PUT,
                    &format!("/api/orders/{id}"),
                    Some(&self.a.id_token),
                    Some(json!({"drink": "Americano", "modifiers": []})),
                )
                .await;
            assert_eq!(a.status, 200, "{a:?}");
            self.presso
                .eventually("the order to be queued", || async {
                    let o = self
                        .presso
                        .call(
                            Method::GET,
                            &format!("/api/orders/{id}"),
                            Some(&self.a.id_token),
                            None,
                        )
                        .await;
                    (o.body["state"] == "queued").then_some(())
                })
                .await;
        }
        id
    }

    /// The tables once nothing moves any more (events of earlier requests are still being
    /// delivered for a moment after they answered).
    async fn settled(&self) -> Value {
        let mut last = self.snapshot().await;
        for _ in 0..40 {
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            let now = self.snapshot().await;
            if now == last {
                return now;
            }
            last = now;
        }
        panic!("the tables never settle: {last}");
    }

    /// The tables a request could change, as stored.
    async fn snapshot(&self) -> Value {
        let mut out = serde_json::Map::new();
        for table in [
            "serverlesspresso-order-table",
            "serverlesspresso-config-table",
            "serverlesspresso-counting-table",
        ] {
            let (status, v) = self
                .presso
                .aws("DynamoDB_20120810.Scan", json!({"TableName": table}))
                .await;
            assert_eq!(status, 200, "{v}");
            // Attribute order varies between scans; items compare as maps, sorted by key.
            let mut items: Vec<Value> = v["Items"].as_array().unwrap().clone();
            items.sort_by_key(|i| format!("{}|{}", i["PK"], i["SK"]));
            out.insert(table.into(), Value::Array(items));
        }
        Value::Object(out)
    }
}

/// One route: the request, and the status each role must get, in the order the roles call
/// (refusals first, so the allowed call finds the state the refused ones must not change).
struct Case {
    name: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    expect: [(Who, u16); 4],
}

async fn check(bar: &Bar, case: Case) -> Vec<String> {
    let mut wrong = Vec::new();
    for (who, want) in case.expect {
        let before = bar.settled().await;
        let a = bar
            .presso
            .call(
                case.method.clone(),
                &case.path,
                bar.token(who),
                case.body.clone(),
            )
            .await;
        if a.status != want {
            wrong.push(format!(
                "{} as {who:?}: {} (want {want}) {}",
                case.name, a.status, a.body
            ));
        }
        if a.status >= 400 {
            // A refusal changes nothing (the QR bucket is made on first ask, so it is not in
            // these tables).
            let after = bar.settled().await;
            if after != before {
                wrong.push(format!(
                    "{} as {who:?}: refused with {} but changed the tables",
                    case.name, a.status
                ));
            }
        }
    }
    wrong
}

#[tokio::test]
async fn every_route_answers_each_role_as_intended_and_refusals_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let presso = Presso::start(dir.path()).await;
    let a = presso.user("ann@example.com", "Ann", false).await;
    let b = presso.user("ben@example.com", "Ben", false).await;
    let barista = presso.user(BARISTA_EMAIL, "Bea", true).await;
    let bar = Bar {
        presso,
        a,
        b,
        barista,
        _dir: dir,
    };
    use Who::*;
    let raise = bar
        .presso
        .call(
            Method::PUT,
            "/api/events/default/config",
            Some(&bar.barista.id_token),
            Some(json!({"maxOrdersPerUser": 10})),
        )
        .await;
    assert_eq!(raise.status, 200, "{raise:?}");
    let pending = bar.order_of_a(false).await;
    let queued = bar.order_of_a(true).await;
    let to_cancel = bar.order_of_a(false).await;
    let code = bar.code().await;
    let cases = vec![
        Case {
            name: "GET /config.json",
            method: Method::GET,
            path: "/config.json".into(),
            body: None,
            expect: [(Anonymous, 200), (A, 200), (B, 200), (Barista, 200)],
        },
        Case {
            name: "GET /api/qr-code",
            method: Method::GET,
            path: "/api/qr-code?eventId=default".into(),
            body: None,
            expect: [(Anonymous, 401), (A, 403), (B, 403), (Barista, 200)],
        },
        Case {
            name: "POST /api/qr-code",
            method: Method::POST,
            path: format!("/api/qr-code?eventId=default&token={code}"),
            body: None,
            expect: [(Anonymous, 401), (A, 200), (B, 200), (Barista, 200)],
        },
        Case {
            name: "GET /api/orders",
            method: Method::GET,
            path: "/api/orders?eventId=default&state=queued".into(),
            body: None,
            expect: [(Anonymous, 401), (A, 403), (B, 403), (Barista, 200)],
        },
        Case {
            name: "GET /api/myOrders",
            method: Method::GET,
            path: "/api/myOrders".into(),
            body: None,
            expect: [(Anonymous, 401), (A, 200), (B, 200), (Barista, 200)],
        },
        Case {
            name: "GET /api/orders/{id}",
            method: Method::GET,
            path: format!("/api/orders/{pending}"),
            body: None,
            expect: [(Anonymous, 401), (B, 404), (A, 200), (Barista, 200)],
        },
        Case {
            name: "GET /api/orders/{id}/journey",
            method: Method::GET,
            path: format!("/api/orders/{queued}/journey"),
            body: None,
            expect: [(Anonymous, 401), (B, 404), (A, 200), (Barista, 200)],
        },
        Case {
            name: "PUT /api/orders/{id} (drink)",
            method: Method::PUT,
            path: format!("/api/orders/{pending}"),
            body: Some(json!({"drink": "Americano", "modifiers": []})),
            expect: [(Anonymous, 401), (B, 404), (Barista, 404), (A, 200)],
        },
        Case {
            name: "PUT /api/orders/{id}?action=make",
            method: Method::PUT,
            path: format!("/api/orders/{queued}?action=make"),
            body: None,
            expect: [(Anonymous, 401), (A, 403), (B, 403), (Barista, 200)],
        },
        Case {
            name: "PUT /api/orders/{id}?action=complete",
            method: Method::PUT,
            path: format!("/api/orders/{queued}?action=complete"),
            body: None,
            expect: [(Anonymous, 401), (A, 403), (B, 403), (Barista, 200)],
        },
        Case {
            name: "PUT /api/orders/{id}?action=cancel",
            method: Method::PUT,
            path: format!("/api/orders/{to_cancel}?action=cancel"),
            body: None,
            expect: [(Anonymous, 401), (B, 404), (A, 200), (Barista, 409)],
        },
        Case {
            name: "POST /api/events/{id}",
            method: Method::POST,
            path: "/api/events/matrix-1".into(),
            body: Some(json!({})),
            expect: [(Anonymous, 401), (A, 403), (B, 403), (Barista, 201)],
        },
        Case {
            name: "GET /api/events/{id}/config",
            method: Method::GET,
            path: "/api/events/default/config".into(),
            body: None,
            expect: [(Anonymous, 200), (A, 200), (B, 200), (Barista, 200)],
        },
        Case {
            name: "PUT /api/events/{id}/config",
            method: Method::PUT,
            path: "/api/events/default/config".into(),
            body: Some(json!({"secondsPerDrink": 60})),
            expect: [(Anonymous, 401), (A, 403), (B, 403), (Barista, 200)],
        },
        Case {
            name: "PUT /api/events/{id}/store",
            method: Method::PUT,
            path: "/api/events/default/store".into(),
            body: Some(json!({"state": "paused"})),
            expect: [(Anonymous, 401), (A, 403), (B, 403), (Barista, 200)],
        },
    ];
    let mut wrong = Vec::new();
    for case in cases {
        wrong.extend(check(&bar, case).await);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn malformed_requests_get_problem_documents_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let presso = Presso::start(dir.path()).await;
    let a = presso.user("ann@example.com", "Ann", false).await;
    let barista = presso.user(BARISTA_EMAIL, "Bea", true).await;
    let bar = Bar {
        presso,
        a: a.clone(),
        b: a.clone(),
        barista: barista.clone(),
        _dir: dir,
    };
    let order = bar.order_of_a(false).await;
    let before = bar.settled().await;
    let problem = |answer: &Answer, status: u16| {
        assert_eq!(answer.status, status, "{answer:?}");
        assert_eq!(
            answer.content_type, "application/problem+json",
            "{answer:?}"
        );
    };
    // A path parameter that is not UTF-8: the gateway's own JSON 400.
    let r = bar
        .presso
        .call(
            Method::GET,
            "/api/orders/%ff%fe%fd",
            Some(&a.id_token),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.body.clone()),
        (400, json!({"message": "Bad Request"})),
        "{r:?}"
    );
    let r = bar
        .presso
        .call(
            Method::PUT,
            "/api/events/%ff%fe/store",
            Some(&barista.id_token),
            Some(json!({"state": "open"})),
        )
        .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.content_type.starts_with("application/json"), "{r:?}");
    // Arrays are not objects, even with the fields in order.
    let r = bar
        .presso
        .call(
            Method::PUT,
            &format!("/api/orders/{order}"),
            Some(&a.id_token),
            Some(json!(["Americano", []])),
        )
        .await;
    problem(&r, 400);
    let r = bar
        .presso
        .call(
            Method::PUT,
            "/api/events/default/config",
            Some(&barista.id_token),
            Some(json!([true])),
        )
        .await;
    problem(&r, 400);
    // A 3 MB body reaches the function (the gateway takes up to 10 MB) and is refused by it,
    // without quoting it back.
    let huge = json!({"drink": "x".repeat(3 * 1024 * 1024), "modifiers": []});
    let r = bar
        .presso
        .call(
            Method::PUT,
            &format!("/api/orders/{order}"),
            Some(&a.id_token),
            Some(huge),
        )
        .await;
    assert!(r.status == 400 || r.status == 422, "{}", r.status);
    assert_eq!(r.content_type, "application/problem+json");
    assert!(r.body.to_string().len() < 2000);
    assert_eq!(
        bar.settled().await,
        before,
        "a refused request changed the tables"
    );
}
