//! Whole journeys through `presso serve --template template.yaml`: a display showing the QR
//! code, customers scanning and ordering from their phones, baristas working the queue, and
//! the workflow, bus, functions and broker in between. Each journey checks the HTTP answers,
//! the order table, the order's journey of events, and exactly which MQTT messages each app
//! received — never a task token.

use presso_e2e::*;
use reqwest::Method;
use serde_json::{Value, json};

/// One bar: presso on a fresh data directory, the template's barista signed in, and the
/// display's realtime connection (the admin topic of event `default`).
struct Bar {
    presso: Presso,
    barista: User,
    display: Subscriber,
    _dir: tempfile::TempDir,
}

const ADMIN_TOPIC: &str = "serverlesspresso-admin-default";

impl Bar {
    async fn open() -> Bar {
        let dir = tempfile::tempdir().expect("temp dir");
        let presso = Presso::start(dir.path()).await;
        let barista = presso.user(BARISTA_EMAIL, "Bea", true).await;
        let display = Subscriber::connect(
            &presso,
            Some(&barista),
            &[
                ADMIN_TOPIC.to_string(),
                "serverlesspresso-config-default".to_string(),
            ],
        )
        .await;
        Bar {
            presso,
            barista,
            display,
            _dir: dir,
        }
    }

    async fn customer(&self, name: &str) -> (User, Subscriber) {
        let email = format!("{}@example.com", name.to_lowercase());
        let user = self.presso.user(&email, name, false).await;
        let phone = Subscriber::connect(&self.presso, Some(&user), &[user.topic()]).await;
        (user, phone)
    }

    async fn call(&self, method: Method, path: &str, who: &User, body: Option<Value>) -> Answer {
        self.presso
            .call(method, path, Some(&who.id_token), body)
            .await
    }

    /// The display's QR code for the current window.
    async fn qr(&self) -> Value {
        let a = self
            .call(
                Method::GET,
                "/api/qr-code?eventId=default",
                &self.barista,
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        a.body["bucket"].clone()
    }

    async fn scan(&self, who: &User, code: &str) -> Answer {
        self.call(
            Method::POST,
            &format!("/api/qr-code?eventId=default&token={code}"),
            who,
            None,
        )
        .await
    }

    /// Scans the current code; answers the new order's id.
    async fn new_order(&self, who: &User) -> String {
        let code = self.qr().await["code"].as_str().unwrap().to_string();
        let a = self.scan(who, &code).await;
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["state"], "pending");
        a.body["orderId"].as_str().unwrap().to_string()
    }

    async fn submit(&self, who: &User, order: &str, drink: &str, modifiers: &[&str]) -> Answer {
        self.call(
            Method::PUT,
            &format!("/api/orders/{order}"),
            who,
            Some(json!({"drink": drink, "modifiers": modifiers})),
        )
        .await
    }

    async fn act(&self, who: &User, order: &str, action: &str) -> Answer {
        self.call(
            Method::PUT,
            &format!("/api/orders/{order}?action={action}"),
            who,
            None,
        )
        .await
    }

    async fn order(&self, who: &User, order: &str) -> Answer {
        self.call(Method::GET, &format!("/api/orders/{order}"), who, None)
            .await
    }

    /// Waits until the order is in `state`; answers it.
    async fn until_state(&self, order: &str, state: &str) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let a = self.order(&self.barista, order).await;
            if a.body["state"] == state {
                return a.body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "order {order} is not {state}: {:?}; journey {:?}",
                a.body,
                self.journey(&self.barista, order).await
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    async fn journey(&self, who: &User, order: &str) -> Vec<String> {
        let a = self
            .call(
                Method::GET,
                &format!("/api/orders/{order}/journey"),
                who,
                None,
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        a.body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["detailType"].as_str().unwrap().to_string())
            .collect()
    }

    async fn configure(&self, update: Value) {
        let a = self
            .call(
                Method::PUT,
                "/api/events/default/config",
                &self.barista,
                Some(update),
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
    }

    async fn set_store(&self, state: &str) -> Answer {
        self.call(
            Method::PUT,
            "/api/events/default/store",
            &self.barista,
            Some(json!({"state": state})),
        )
        .await
    }

    /// A queued order (scanned, drink given, number allocated): its id and number.
    async fn queued_order(&self, who: &User) -> (String, i64) {
        let order = self.new_order(who).await;
        let a = self.submit(who, &order, "Americano", &["Oat"]).await;
        assert_eq!(a.status, 200, "{a:?}");
        let queued = self.until_state(&order, "queued").await;
        (order, queued["orderNumber"].as_i64().expect("a number"))
    }

    /// The workflow's journey has ended for `order` (its `orderFinished`, time-out or
    /// unavailable event is in the journey).
    async fn until_finished(&self, order: &str) -> Vec<String> {
        self.presso
            .eventually(&format!("order {order}'s workflow to end"), || async {
                let j = self.journey(&self.barista, order).await;
                j.iter()
                    .any(|t| {
                        t == "OrderProcessor.orderFinished"
                            || t == "OrderProcessor.OrderTimeOut"
                            || t == "OrderProcessor.ShopUnavailable"
                    })
                    .then_some(j)
            })
            .await
    }

    async fn order_items(&self, order: &str) -> Vec<Value> {
        self.presso
            .order_items()
            .await
            .into_iter()
            .filter(|i| i.to_string().contains(order))
            .collect()
    }
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

#[tokio::test]
async fn happy_path_a_customer_signs_up_by_email_code_orders_and_collects_the_drink() {
    let bar = Bar::open().await;
    // The customer signs up as the order app does: email, first name, codes from the outbox.
    let ana = bar
        .presso
        .sign_up_with_email_code("ana@example.com", "Ana")
        .await;
    let phone = Subscriber::connect(&bar.presso, Some(&ana), &[ana.topic()]).await;

    let bucket = bar.qr().await;
    assert_eq!(bucket["availableTokens"], bucket["tokensPerWindow"]);
    let order = bar.new_order(&ana).await;
    let a = bar.submit(&ana, &order, "Flat White", &["Oat"]).await;
    assert_eq!(a.status, 200, "{a:?}");
    let queued = bar.until_state(&order, "queued").await;
    assert_eq!(queued["orderNumber"], 1);
    assert_eq!(queued["drinkOrder"]["drink"], "Flat White");
    // The customer sees their place in the queue and a wait estimate.
    let mine = bar.order(&ana, &order).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["queuePosition"], 1, "{:?}", mine.body);
    assert!(mine.body["estimatedWaitSeconds"].as_i64().unwrap() > 0);
    // The barista's queue lists it.
    let list = bar
        .call(
            Method::GET,
            "/api/orders?eventId=default&state=queued",
            &bar.barista,
            None,
        )
        .await;
    assert_eq!(list.status, 200);
    assert!(
        list.body
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["orderId"] == order)
    );

    let made = bar.act(&bar.barista, &order, "make").await;
    assert_eq!(made.status, 200, "{made:?}");
    assert_eq!(made.body["state"], "inProgress");
    assert_eq!(made.body["baristaUserId"], bar.barista.sub);
    phone.wait_for(&order, "OrderManager.MakeOrder").await;
    bar.display.wait_for(&order, "OrderManager.MakeOrder").await;
    let done = bar.act(&bar.barista, &order, "complete").await;
    assert_eq!(done.status, 200, "{done:?}");
    assert_eq!(done.body["state"], "completed");
    phone.wait_for(&order, "OrderManager.OrderCompleted").await;
    bar.display
        .wait_for(&order, "OrderManager.OrderCompleted")
        .await;

    let journey = bar.until_finished(&order).await;
    assert_eq!(
        journey,
        [
            "Validator.NewOrder",
            "OrderProcessor.WorkflowStarted",
            "OrderManager.OrderSubmitted",
            "OrderProcessor.WaitingCompletion",
            "OrderManager.WaitingCompletion",
            "OrderManager.MakeOrder",
            "OrderManager.OrderCompleted",
            "OrderProcessor.orderFinished",
        ]
        .map(String::from)
        .to_vec(),
        "{journey:?}"
    );
    // Each app got each step once, and the customer only their own order's messages.
    phone.wait_for(&order, "OrderProcessor.orderFinished").await;
    let kinds = phone.kinds_for(&order);
    for kind in [
        "OrderManager.MakeOrder",
        "OrderManager.OrderCompleted",
        "OrderProcessor.orderFinished",
    ] {
        assert_eq!(count(&kinds, kind), 1, "{kind} in {kinds:?}");
    }
    assert!(
        phone
            .messages()
            .iter()
            .all(|m| m.topic == ana.topic() && m.payload["detail"]["orderId"] == order),
        "{:?}",
        phone.messages()
    );
    phone.assert_no_task_token();
    bar.display.assert_no_task_token();
    // The display's admin topic shows the display name, never the customer's email.
    let ready = bar
        .display
        .wait_for(&order, "OrderManager.OrderCompleted")
        .await;
    assert!(!ready.payload.to_string().contains("ana@example.com"));

    let final_order = bar.order(&ana, &order).await.body;
    assert_eq!(final_order["state"], "completed");
    assert!(final_order["finishedAt"].as_i64().is_some() || final_order["updatedAt"].is_i64());
    // One order item in the table for this order (plus its journey and token items, if any).
    let items = bar.order_items(&order).await;
    assert!(!items.is_empty());
    assert!(
        !items.iter().any(|i| i.to_string().contains("askToken")),
        "a spent task token stayed in the table: {items:?}"
    );
}

#[tokio::test]
async fn a_drink_submitted_before_the_workflow_waits_resumes_it_exactly_once() {
    let bar = Bar::open().await;
    let (ben, _phone) = bar.customer("Ben").await;
    let code = bar.qr().await["code"].as_str().unwrap().to_string();
    let a = bar.scan(&ben, &code).await;
    assert_eq!(a.status, 200, "{a:?}");
    let order = a.body["orderId"].as_str().unwrap().to_string();
    // At once, before the workflow has reached its first wait (or while it does).
    let s = bar.submit(&ben, &order, "Americano", &[]).await;
    assert_eq!(s.status, 200, "{s:?}");
    let queued = bar.until_state(&order, "queued").await;
    assert_eq!(queued["orderNumber"], 1);
    // The same submit again (a double tap) answers the order as it is; another drink is refused.
    let again = bar.submit(&ben, &order, "Americano", &[]).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body["orderNumber"], 1);
    let other = bar.submit(&ben, &order, "Double Espresso", &[]).await;
    assert_eq!(other.status, 409, "{other:?}");
    assert_eq!(other.code(), "drink_already_submitted");
    let journey = bar.journey(&ben, &order).await;
    assert_eq!(count(&journey, "OrderProcessor.WaitingCompletion"), 1);
    assert_eq!(count(&journey, "OrderManager.OrderSubmitted"), 1);
}

#[tokio::test]
async fn a_customer_cancels_before_the_drink_is_made_and_not_after() {
    let bar = Bar::open().await;
    let (cy, phone) = bar.customer("Cy").await;
    let (order, _) = bar.queued_order(&cy).await;
    let cancelled = bar.act(&cy, &order, "cancel").await;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    assert_eq!(cancelled.body["state"], "cancelled");
    phone.wait_for(&order, "OrderManager.OrderCancelled").await;
    bar.until_finished(&order).await;
    // The barista can no longer make it.
    let make = bar.act(&bar.barista, &order, "make").await;
    assert_eq!(make.status, 409, "{make:?}");

    // Once the barista is making a drink, its customer cannot cancel it.
    let (second, _) = bar.queued_order(&cy).await;
    assert_eq!(bar.act(&bar.barista, &second, "make").await.status, 200);
    let late = bar.act(&cy, &second, "cancel").await;
    assert_eq!(late.status, 409, "{late:?}");
    assert_eq!(late.code(), "customer_cannot_cancel_once_being_made");
}

#[tokio::test]
async fn a_barista_cancels_an_order_being_made() {
    let bar = Bar::open().await;
    let (di, phone) = bar.customer("Di").await;
    let (order, _) = bar.queued_order(&di).await;
    assert_eq!(bar.act(&bar.barista, &order, "make").await.status, 200);
    let cancelled = bar.act(&bar.barista, &order, "cancel").await;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    assert_eq!(cancelled.body["state"], "cancelled");
    phone.wait_for(&order, "OrderManager.OrderCancelled").await;
    bar.display
        .wait_for(&order, "OrderManager.OrderCancelled")
        .await;
    let journey = bar.until_finished(&order).await;
    assert_eq!(
        journey.last().map(String::as_str),
        Some("OrderProcessor.orderFinished")
    );
    phone.assert_no_task_token();
}

#[tokio::test]
async fn unmake_puts_the_order_back_in_the_queue_for_any_barista() {
    let bar = Bar::open().await;
    let (ed, phone) = bar.customer("Ed").await;
    let other = bar.presso.user("fay@example.com", "Fay", true).await;
    let (order, number) = bar.queued_order(&ed).await;
    assert_eq!(bar.act(&bar.barista, &order, "make").await.status, 200);
    // Another barista cannot take a drink that is being made.
    let taken = bar.act(&other, &order, "make").await;
    assert_eq!(taken.status, 409, "{taken:?}");
    let unmade = bar.act(&bar.barista, &order, "unmake").await;
    assert_eq!(unmade.status, 200, "{unmade:?}");
    assert_eq!(unmade.body["state"], "queued");
    assert_eq!(unmade.body["orderNumber"], number);
    phone.wait_for(&order, "OrderManager.UnmakeOrder").await;
    let made = bar.act(&other, &order, "make").await;
    assert_eq!(made.status, 200, "{made:?}");
    assert_eq!(made.body["baristaUserId"], other.sub);
    assert_eq!(bar.act(&other, &order, "complete").await.status, 200);
    bar.until_finished(&order).await;
}

#[tokio::test]
async fn a_customer_who_never_orders_times_out_and_gives_back_the_capacity() {
    let bar = Bar::open().await;
    bar.configure(json!({"maxOrdersInQueue": 1})).await;
    let (gus, phone) = bar.customer("Gus").await;
    let order = bar.new_order(&gus).await;
    // The workflow waits for the drink.
    bar.presso
        .eventually("the workflow to wait for the drink", || async {
            bar.journey(&bar.barista, &order)
                .await
                .contains(&"OrderProcessor.WorkflowStarted".to_string())
                .then_some(())
        })
        .await;
    bar.presso.advance(301.0).await;
    let timed_out = bar.until_state(&order, "timedOut").await;
    assert_eq!(timed_out["state"], "timedOut");
    phone.wait_for(&order, "OrderProcessor.OrderTimeOut").await;
    // A drink for a timed-out order is refused.
    let late = bar.submit(&gus, &order, "Americano", &[]).await;
    assert_eq!(late.status, 409, "{late:?}");
    // The one place in the queue is free again: the next order is queued.
    let (next, _) = bar.queued_order(&gus).await;
    assert_eq!(bar.order(&gus, &next).await.body["state"], "queued");
}

/// The rule that starts the Order Processor on `Validator.NewOrder`.
async fn workflow_rule(bar: &Bar) -> String {
    let (s, rules) = bar
        .presso
        .aws(
            "AWSEvents.ListRules",
            json!({"EventBusName": "Serverlesspresso"}),
        )
        .await;
    assert_eq!(s, 200, "{rules}");
    for rule in rules["Rules"].as_array().unwrap() {
        let name = rule["Name"].as_str().unwrap();
        let (_, targets) = bar
            .presso
            .aws(
                "AWSEvents.ListTargetsByRule",
                json!({"Rule": name, "EventBusName": "Serverlesspresso"}),
            )
            .await;
        if targets["Targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["Arn"].as_str().unwrap().contains(":stateMachine:"))
        {
            return name.to_string();
        }
    }
    panic!("no rule starts the workflow: {rules}");
}

#[tokio::test]
async fn an_order_no_workflow_ever_started_for_is_failed_by_the_scheduled_sweep() {
    let bar = Bar::open().await;
    let (jo, _phone) = bar.customer("Jo").await;
    // The workflow never hears of this order, as when the validator dies between storing it
    // and announcing it.
    let rule = workflow_rule(&bar).await;
    let off = json!({"Name": rule, "EventBusName": "Serverlesspresso"});
    assert_eq!(
        bar.presso.aws("AWSEvents.DisableRule", off.clone()).await.0,
        200
    );
    let orphan = bar.new_order(&jo).await;
    assert_eq!(bar.presso.aws("AWSEvents.EnableRule", off).await.0, 200);
    let (kim, _phone) = bar.customer("Kim").await;
    let live = bar.new_order(&kim).await;
    // Within the drink deadline and its grace, the sweep leaves it alone.
    bar.presso.advance(600.0).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(bar.order(&jo, &orphan).await.body["state"], "pending");
    // Past them, the five-minute schedule fails it; the live order timed out on its own.
    bar.presso.advance(700.0).await;
    let failed = bar.until_state(&orphan, "failed").await;
    assert_eq!(failed["state"], "failed");
    bar.until_state(&live, "timedOut").await;
    // The sweep runs again every five minutes and changes nothing twice.
    bar.presso.advance(600.0).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let again = bar.order(&jo, &orphan).await.body;
    assert_eq!(again["state"], "failed");
    assert_eq!(again["updatedAt"], failed["updatedAt"], "{again}");
}

#[tokio::test]
async fn an_order_no_barista_completes_times_out() {
    let bar = Bar::open().await;
    let (hal, phone) = bar.customer("Hal").await;
    let (order, _) = bar.queued_order(&hal).await;
    bar.presso
        .eventually("the workflow to wait for the barista", || async {
            bar.journey(&bar.barista, &order)
                .await
                .contains(&"OrderManager.WaitingCompletion".to_string())
                .then_some(())
        })
        .await;
    bar.presso.advance(901.0).await;
    bar.until_state(&order, "timedOut").await;
    phone.wait_for(&order, "OrderProcessor.OrderTimeOut").await;
    bar.display
        .wait_for(&order, "OrderProcessor.OrderTimeOut")
        .await;
    let complete = bar.act(&bar.barista, &order, "complete").await;
    assert_eq!(complete.status, 409, "{complete:?}");
}

#[tokio::test]
async fn a_closed_store_and_a_paused_store_take_no_orders() {
    let bar = Bar::open().await;
    let (ida, _phone) = bar.customer("Ida").await;
    let code = bar.qr().await["code"].as_str().unwrap().to_string();

    let closed = bar.set_store("closed").await;
    assert_eq!(closed.status, 200, "{closed:?}");
    let qr = bar
        .call(
            Method::GET,
            "/api/qr-code?eventId=default",
            &bar.barista,
            None,
        )
        .await;
    assert_eq!(qr.body["storeState"], "closed", "{qr:?}");
    let refused = bar.scan(&ida, &code).await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert_eq!(refused.code(), "store_closed");
    assert_eq!(refused.content_type, "application/problem+json");

    assert_eq!(bar.set_store("paused").await.status, 200);
    let paused = bar.scan(&ida, &code).await;
    assert_eq!(paused.status, 409, "{paused:?}");
    assert_eq!(paused.code(), "store_paused");
    // The config changes reached the display's config topic.
    bar.presso
        .eventually("two ConfigChanged messages", || async {
            (bar.display
                .messages()
                .iter()
                .filter(|m| m.kind() == "ConfigService.ConfigChanged")
                .count()
                >= 2)
                .then_some(())
        })
        .await;

    // Reopened: the same code works again, and no order was created meanwhile.
    assert_eq!(bar.set_store("open").await.status, 200);
    let ok = bar.scan(&ida, &code).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let mine = bar.call(Method::GET, "/api/myOrders", &ida, None).await;
    assert_eq!(mine.body.as_array().unwrap().len(), 1, "{mine:?}");
}

#[tokio::test]
async fn at_full_capacity_a_new_order_is_turned_away_and_the_customer_told() {
    let bar = Bar::open().await;
    bar.configure(json!({"maxOrdersInQueue": 1, "maxOrdersPerUser": 5}))
        .await;
    let (jo, phone) = bar.customer("Jo").await;
    let (first, _) = bar.queued_order(&jo).await;
    let second = bar.new_order(&jo).await;
    bar.until_state(&second, "rejected").await;
    phone
        .wait_for(&second, "OrderProcessor.ShopUnavailable")
        .await;
    // The first order is unaffected and still completes.
    assert_eq!(bar.act(&bar.barista, &first, "make").await.status, 200);
    assert_eq!(bar.act(&bar.barista, &first, "complete").await.status, 200);
    bar.until_finished(&first).await;
    // With the capacity released, the next order is queued.
    let (third, _) = bar.queued_order(&jo).await;
    assert_eq!(bar.order(&jo, &third).await.body["state"], "queued");
}

#[tokio::test]
async fn a_qr_code_gives_out_its_drinks_and_then_refuses() {
    let bar = Bar::open().await;
    bar.configure(json!({"drinksPerBarcode": 2})).await;
    let code = bar.qr().await["code"].as_str().unwrap().to_string();
    for name in ["Kim", "Lou"] {
        let (who, _) = bar.customer(name).await;
        assert_eq!(bar.scan(&who, &code).await.status, 200);
    }
    let (max, _) = bar.customer("Max").await;
    let refused = bar.scan(&max, &code).await;
    assert_eq!(refused.status, 429, "{refused:?}");
    assert_eq!(refused.code(), "no_tokens_remaining");
    assert_eq!(bar.qr().await["availableTokens"], 0);
    let mine = bar.call(Method::GET, "/api/myOrders", &max, None).await;
    assert_eq!(mine.body, json!([]));
}

#[tokio::test]
async fn a_code_is_good_for_fifteen_seconds_past_its_window_and_not_after() {
    let bar = Bar::open().await;
    let (ned, _) = bar.customer("Ned").await;
    let bucket = bar.qr().await;
    let code = bucket["code"].as_str().unwrap().to_string();
    let now = reqwest::get(format!("{}/_presso/clock", bar.presso.url))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["nowMs"]
        .as_i64()
        .unwrap();
    let end = bucket["endTs"].as_i64().unwrap();
    // 10 s after the window ended: still accepted.
    bar.presso
        .advance(((end - now) as f64 / 1000.0) + 10.0)
        .await;
    let graced = bar.scan(&ned, &code).await;
    assert_eq!(graced.status, 200, "{graced:?}");
    // 20 s after: refused, and the display already shows the next window's code.
    bar.presso.advance(10.0).await;
    let (olga, _) = bar.customer("Olga").await;
    let late = bar.scan(&olga, &code).await;
    assert_eq!(late.status, 400, "{late:?}");
    assert_eq!(late.code(), "invalid_code");
    let next = bar.qr().await;
    assert_ne!(next["code"], bucket["code"]);
    assert!(next["windowId"].as_i64() > bucket["windowId"].as_i64());
}

#[tokio::test]
async fn unknown_and_unavailable_drinks_are_refused_with_a_reason() {
    let bar = Bar::open().await;
    let (oz, _) = bar.customer("Oz").await;
    let order = bar.new_order(&oz).await;
    let unknown = bar.submit(&oz, &order, "Mud", &[]).await;
    assert_eq!(unknown.status, 422, "{unknown:?}");
    assert_eq!(unknown.code(), "unknown_drink");
    assert_eq!(unknown.content_type, "application/problem+json");
    // Cappuccino is seeded sold out.
    let sold_out = bar.submit(&oz, &order, "Cappuccino", &["Oat"]).await;
    assert_eq!(sold_out.status, 422, "{sold_out:?}");
    assert_eq!(sold_out.code(), "drink_unavailable");
    // A sold-out milk option, marked by the barista.
    bar.configure(json!({"availability": {"options": {"oat": false}}}))
        .await;
    let no_oat = bar.submit(&oz, &order, "Flat White", &["Oat"]).await;
    assert_eq!(no_oat.status, 422, "{no_oat:?}");
    assert_eq!(no_oat.code(), "option_unavailable");
    let wrong_type = bar
        .call(
            Method::PUT,
            &format!("/api/orders/{order}"),
            &oz,
            Some(json!({"drink": 42})),
        )
        .await;
    assert_eq!(wrong_type.status, 400, "{wrong_type:?}");
    // Nothing of it changed the order.
    assert_eq!(bar.order(&oz, &order).await.body["state"], "pending");
    let fine = bar.submit(&oz, &order, "Flat White", &["Regular"]).await;
    assert_eq!(fine.status, 200, "{fine:?}");
}

#[tokio::test]
async fn another_customer_s_order_is_not_found_and_barista_routes_are_refused() {
    let bar = Bar::open().await;
    let (pia, _) = bar.customer("Pia").await;
    let (quinn, quinn_phone) = bar.customer("Quinn").await;
    let (order, _) = bar.queued_order(&pia).await;
    for answer in [
        bar.order(&quinn, &order).await,
        bar.act(&quinn, &order, "cancel").await,
        bar.submit(&quinn, &order, "Americano", &[]).await,
        bar.call(
            Method::GET,
            &format!("/api/orders/{order}/journey"),
            &quinn,
            None,
        )
        .await,
    ] {
        assert_eq!(answer.status, 404, "{answer:?}");
        assert_eq!(answer.code(), "order_not_found");
    }
    // A customer on the barista's routes.
    for answer in [
        bar.act(&quinn, &order, "make").await,
        bar.act(&pia, &order, "complete").await,
        bar.call(
            Method::GET,
            "/api/orders?eventId=default&state=queued",
            &pia,
            None,
        )
        .await,
        bar.call(Method::GET, "/api/qr-code?eventId=default", &pia, None)
            .await,
        bar.call(
            Method::PUT,
            "/api/events/default/store",
            &pia,
            Some(json!({"state": "closed"})),
        )
        .await,
    ] {
        assert_eq!(answer.status, 403, "{answer:?}");
        assert_eq!(answer.code(), "admin_only");
    }
    // Without a token: API Gateway's own 401.
    let anonymous = bar
        .presso
        .call(Method::GET, &format!("/api/orders/{order}"), None, None)
        .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.body, json!({"message": "Unauthorized"}));
    assert_eq!(bar.order(&pia, &order).await.body["state"], "queued");
    assert!(quinn_phone.messages().is_empty());
}

#[tokio::test]
async fn an_event_delivered_twice_changes_nothing_twice() {
    let bar = Bar::open().await;
    let (rae, phone) = bar.customer("Rae").await;
    let (order, number) = bar.queued_order(&rae).await;
    // The bus delivers the customer's submission and the workflow's wait again, as
    // EventBridge may (at-least-once).
    let journey = bar.journey(&bar.barista, &order).await;
    let detail = |state: &str| {
        json!({
            "orderId": order, "userId": rae.sub, "eventId": "default", "state": state,
            "orderNumber": number, "Message": "again",
        })
    };
    for (detail_type, state) in [
        ("OrderManager.WaitingCompletion", "queued"),
        ("OrderManager.OrderSubmitted", "submitted"),
    ] {
        let (status, out) = bar
            .presso
            .aws(
                "AWSEvents.PutEvents",
                json!({"Entries": [{
                    "EventBusName": "Serverlesspresso",
                    "Source": "awsserverlessda.serverlesspresso",
                    "DetailType": detail_type,
                    "Detail": detail(state).to_string(),
                }]}),
            )
            .await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["FailedEntryCount"], 0, "{out}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The journey did not grow, the order is where it was, and the customer was not told twice.
    assert_eq!(bar.journey(&bar.barista, &order).await, journey);
    let now = bar.order(&rae, &order).await.body;
    assert_eq!(now["state"], "queued");
    assert_eq!(now["orderNumber"], number);
    let kinds = phone.kinds_for(&order);
    assert!(
        count(&kinds, "OrderManager.WaitingCompletion") <= 2,
        "{kinds:?}"
    );
    // And it still completes once.
    assert_eq!(bar.act(&bar.barista, &order, "make").await.status, 200);
    assert_eq!(bar.act(&bar.barista, &order, "complete").await.status, 200);
    let journey = bar.until_finished(&order).await;
    assert_eq!(count(&journey, "OrderProcessor.orderFinished"), 1);
    // A double-tap on complete changes nothing.
    let again = bar.act(&bar.barista, &order, "complete").await;
    assert_eq!(again.status, 409, "{again:?}");
}

#[tokio::test]
async fn a_restart_keeps_every_order_and_the_workflow_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let presso = Presso::start(dir.path()).await;
    let port = presso.port;
    let barista = presso.user(BARISTA_EMAIL, "Bea", true).await;
    let sam = presso.user("sam@example.com", "Sam", false).await;
    let bucket = presso
        .call(
            Method::GET,
            "/api/qr-code?eventId=default",
            Some(&barista.id_token),
            None,
        )
        .await;
    let code = bucket.body["bucket"]["code"].as_str().unwrap().to_string();
    let scanned = presso
        .call(
            Method::POST,
            &format!("/api/qr-code?eventId=default&token={code}"),
            Some(&sam.id_token),
            None,
        )
        .await;
    assert_eq!(scanned.status, 200, "{scanned:?}");
    let order = scanned.body["orderId"].as_str().unwrap().to_string();
    presso
        .eventually("the workflow to wait for the drink", || async {
            let j = presso
                .call(
                    Method::GET,
                    &format!("/api/orders/{order}/journey"),
                    Some(&sam.id_token),
                    None,
                )
                .await;
            j.body
                .as_array()
                .is_some_and(|j| {
                    j.iter()
                        .any(|e| e["detailType"] == "OrderProcessor.WorkflowStarted")
                })
                .then_some(())
        })
        .await;
    presso.stop().await;

    // Same data directory, same port: the tokens still verify, the waiting workflow resumes.
    let presso = Presso::start_on(dir.path(), port).await;
    let submitted = presso
        .call(
            Method::PUT,
            &format!("/api/orders/{order}"),
            Some(&sam.id_token),
            Some(json!({"drink": "Americano", "modifiers": []})),
        )
        .await;
    assert_eq!(submitted.status, 200, "{submitted:?}");
    presso
        .eventually("the order to be queued after the restart", || async {
            let o = presso
                .call(
                    Method::GET,
                    &format!("/api/orders/{order}"),
                    Some(&sam.id_token),
                    None,
                )
                .await;
            (o.body["state"] == "queued").then_some(())
        })
        .await;
    presso.stop().await;
}
