//! `statemachine/order-processor.asl.json` played on presso-asl against presso-core: the
//! workflow's DynamoDB tasks are answered as DynamoDB would (over the in-memory store), its
//! events go to the same use cases the event functions call, and the customer's and the
//! barista's actions resume it through the recorded `SendTaskSuccess` calls. Every event is
//! delivered twice, as EventBridge may, and one unit of capacity is held by another order
//! throughout, so a double release would show.

use presso_asl::{Action, Command, Definition, Execution, Outcome, StartContext, Status};
use presso_core::config::{StoreConfig, StoreState};
use presso_core::events::Event;
use presso_core::identity::{Caller, Principal};
use presso_core::ids::{EventId, OrderId, UserId};
use presso_core::keys;
use presso_core::menu::DrinkRequest;
use presso_core::order::{Capacity, Order, OrderStatus};
use presso_core::ports::ConfigRepository;
use presso_core::testing::{InMemoryStore, ManualClock, RecordingEvents, RecordingResumer};
use presso_core::time::Timestamp;
use presso_core::usecases::{OrderPorts, orders, workflow};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const T0: i64 = 1_767_225_600_000;

/// The definition with the template's substitutions filled in.
pub fn definition() -> Arc<Definition> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../statemachine/order-processor.asl.json"
    );
    let mut text = std::fs::read_to_string(path).expect("the ASL file");
    for (k, v) in [
        ("ConfigTable", keys::CONFIG_TABLE),
        ("CountingTable", keys::COUNTING_TABLE),
        ("EventBusName", "Serverlesspresso"),
        ("DrinkTimeoutSeconds", "300"),
        ("BaristaTimeoutSeconds", "900"),
    ] {
        text = text.replace(&format!("${{{k}}}"), v);
    }
    assert!(!text.contains("${"), "an unresolved substitution");
    Arc::new(Definition::parse(&text).expect("a valid definition"))
}

/// JSON as DynamoDB's typed JSON (`{"S": ...}`, `{"N": "..."}`, ...).
fn typed(v: &Value) -> Value {
    match v {
        Value::Null => json!({"NULL": true}),
        Value::Bool(b) => json!({"BOOL": b}),
        Value::Number(n) => json!({"N": n.to_string()}),
        Value::String(s) => json!({"S": s}),
        Value::Array(a) => json!({"L": a.iter().map(typed).collect::<Vec<_>>()}),
        Value::Object(m) => {
            json!({"M": m.iter().map(|(k, v)| (k.clone(), typed(v))).collect::<serde_json::Map<_, _>>()})
        }
    }
}

struct Host {
    exe: Execution,
    store: InMemoryStore,
    events: RecordingEvents,
    resumer: RecordingResumer,
    clock: ManualClock,
    timers: BTreeMap<u64, i64>,
    emitted: Vec<(String, Value)>,
    resumed_seen: usize,
    outcome: Option<Outcome>,
    /// Makes the next order-number update fail as DynamoDB's throttling would.
    fail_order_number: bool,
    /// Writes to the capacity item (one on the usual path, two after reading the config).
    capacity_writes: usize,
    config_reads: usize,
}

fn customer() -> Principal {
    Principal::User(Caller {
        user_id: UserId::parse("customer-1").unwrap(),
        display_name: None,
        groups: vec![],
    })
}

fn barista() -> Principal {
    Principal::User(Caller {
        user_id: UserId::parse("barista-1").unwrap(),
        display_name: None,
        groups: vec!["admin".to_owned()],
    })
}

fn event_id() -> EventId {
    EventId::default_event()
}

fn order_id() -> OrderId {
    OrderId::parse("order-1").unwrap()
}

impl Host {
    /// An order as the validator leaves it, the workflow started on its `Validator.NewOrder`.
    fn start(config: StoreConfig, fail_order_number: bool) -> Host {
        Self::start_with(config, fail_order_number, true)
    }

    /// `gate: false`: the capacity item has no gate (a table from before gates existed).
    fn start_with(config: StoreConfig, fail_order_number: bool, gate: bool) -> Host {
        let store = InMemoryStore::with_config(config);
        if !gate {
            store.clear_gate(&event_id());
        }
        // Another order holds one unit throughout.
        assert!(store.take_capacity(&event_id(), "another-order", 100));
        let order = Order::new_pending(
            order_id(),
            event_id(),
            UserId::parse("customer-1").unwrap(),
            None,
            Timestamp::from_millis(T0),
        );
        store.insert_order(order);
        let input = json!({
            "version": "0", "id": "e1", "detail-type": "Validator.NewOrder",
            "source": "awsserverlessda.serverlesspresso", "time": "2026-01-01T00:00:00Z",
            "detail": {"orderId": "order-1", "userId": "customer-1", "eventId": "default", "state": "pending"}
        });
        let (exe, actions) = Execution::start(
            definition(),
            input,
            StartContext::new("OrderProcessor", "order-1", T0, 7),
        );
        let mut host = Host {
            exe,
            store,
            events: RecordingEvents::new(),
            resumer: RecordingResumer::new(),
            clock: ManualClock::at(T0),
            timers: BTreeMap::new(),
            emitted: Vec::new(),
            resumed_seen: 0,
            outcome: None,
            fail_order_number,
            capacity_writes: 0,
            config_reads: 0,
        };
        host.run(actions);
        host
    }

    fn now(&self) -> i64 {
        use presso_core::ports::Clock;
        self.clock.now().as_millis()
    }

    fn command(&mut self, cmd: Command) {
        let actions = self.exe.handle(self.now(), cmd).expect("a usable command");
        self.run(actions);
    }

    fn run(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::RunTask(t) => {
                    let parameters = t.parameters.clone();
                    match t.resource_name.as_str() {
                        "getItem" => {
                            self.config_reads += 1;
                            let pk = parameters["Key"]["PK"]["S"].as_str().unwrap();
                            assert_eq!(pk, keys::config_pk(&event_id()));
                            let config = presso_core::testing::block_on(ConfigRepository::get(
                                &self.store,
                                &event_id(),
                            ))
                            .unwrap();
                            let output = match config {
                                Some(c) => {
                                    let item = keys::config_to_item(&c).unwrap();
                                    let typed: serde_json::Map<String, Value> =
                                        item.iter().map(|(k, v)| (k.clone(), typed(v))).collect();
                                    json!({ "Item": typed })
                                }
                                None => json!({}),
                            };
                            self.command(Command::TaskSucceeded {
                                task_id: t.task_id,
                                output,
                            });
                        }
                        "updateItem" => self.update_item(t.task_id, &parameters),
                        "putEvents" => {
                            self.command(Command::TaskSucceeded {
                                task_id: t.task_id,
                                output: json!({"Entries": [{"EventId": "x"}], "FailedEntryCount": 0}),
                            });
                            self.deliver(&parameters);
                        }
                        "putEvents.waitForTaskToken" => {
                            assert!(
                                t.heartbeat_seconds.is_some(),
                                "{} has a heartbeat",
                                t.state_name
                            );
                            self.deliver(&parameters);
                        }
                        other => panic!("unexpected task {other}"),
                    }
                }
                Action::StartTimer {
                    timer_id,
                    fire_at_ms,
                } => {
                    self.timers.insert(timer_id, fire_at_ms);
                }
                Action::CancelTimer { timer_id } => {
                    self.timers.remove(&timer_id);
                }
                Action::Finished(outcome) => self.outcome = Some(outcome),
                Action::History(_) => {}
            }
        }
        self.resume_waits();
    }

    /// The order a capacity write is for: its `:order` string set of one, equal to `:id`.
    fn holder(p: &Value) -> String {
        let values = &p["ExpressionAttributeValues"];
        let id = values[":id"]["S"].as_str().expect(":id").to_owned();
        assert_eq!(values[":order"], json!({"SS": [id.clone()]}));
        id
    }

    fn update_item(&mut self, task_id: u64, p: &Value) {
        let pk = p["Key"]["PK"]["S"].as_str().unwrap();
        if pk == keys::capacity_counter_pk(&event_id()) {
            assert_eq!(
                p["UpdateExpression"],
                keys::expressions::TAKE_CAPACITY_UPDATE
            );
            self.capacity_writes += 1;
            let taken =
                if p["ConditionExpression"] == keys::expressions::GATED_TAKE_CAPACITY_CONDITION {
                    assert_eq!(
                        p["ExpressionAttributeValues"][":true"],
                        json!({"BOOL": true})
                    );
                    assert_eq!(
                        p["ExpressionAttributeValues"][":false"],
                        json!({"BOOL": false})
                    );
                    self.store
                        .take_capacity_gated(&event_id(), &Self::holder(p))
                } else {
                    assert_eq!(
                        p["ConditionExpression"],
                        keys::expressions::TAKE_CAPACITY_CONDITION
                    );
                    let max: u32 = p["ExpressionAttributeValues"][":max"]["N"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    self.store.take_capacity(&event_id(), &Self::holder(p), max)
                };
            if taken {
                self.command(Command::TaskSucceeded {
                    task_id,
                    output: json!({}),
                });
            } else {
                self.command(Command::TaskFailed {
                    task_id,
                    error: "DynamoDB.ConditionalCheckFailedException".to_owned(),
                    cause: Some("The conditional request failed".to_owned()),
                });
            }
        } else if pk == keys::order_counter_pk(&event_id()) {
            assert_eq!(p["UpdateExpression"], keys::expressions::NEXT_ORDER_NUMBER);
            if std::mem::take(&mut self.fail_order_number) {
                self.command(Command::TaskFailed {
                    task_id,
                    error: "DynamoDB.ProvisionedThroughputExceededException".to_owned(),
                    cause: Some("throttled".to_owned()),
                });
                return;
            }
            let n = self.store.next_order_number(&event_id());
            self.command(Command::TaskSucceeded {
                task_id,
                output: json!({"Attributes": {"IDvalue": {"N": n.to_string()}}}),
            });
        } else {
            panic!("unexpected key {pk}");
        }
    }

    /// Each entry to the use case its rule's function calls, twice.
    fn deliver(&mut self, parameters: &Value) {
        for entry in parameters["Entries"].as_array().unwrap() {
            assert_eq!(entry["Source"], "awsserverlessda.serverlesspresso");
            assert_eq!(entry["EventBusName"], "Serverlesspresso");
            let detail_type = entry["DetailType"].as_str().unwrap().to_owned();
            let detail = entry["Detail"].clone();
            self.emitted.push((detail_type.clone(), detail.clone()));
            let event = Event::from_parts(&detail_type, detail).expect("a catalogue event");
            for _ in 0..2 {
                presso_core::testing::block_on(workflow::handle_event(&self.ports(), &event))
                    .expect("the handler succeeds");
            }
        }
    }

    fn ports(
        &self,
    ) -> OrderPorts<'_, InMemoryStore, RecordingResumer, RecordingEvents, ManualClock> {
        OrderPorts {
            store: &self.store,
            workflow: &self.resumer,
            events: &self.events,
            clock: &self.clock,
        }
    }

    /// Feeds every new `SendTaskSuccess` to the execution.
    fn resume_waits(&mut self) {
        loop {
            let resumed = self.resumer.resumed();
            let Some((token, resumption)) = resumed.get(self.resumed_seen).cloned() else {
                return;
            };
            self.resumed_seen += 1;
            let task_id = self
                .exe
                .task_for_token(token.as_str())
                .expect("the token of a waiting task");
            match resumption.failure() {
                Some((error, cause)) => self.command(Command::TaskFailed {
                    task_id,
                    error: error.to_owned(),
                    cause: Some(cause.to_owned()),
                }),
                None => self.command(Command::TaskSucceeded {
                    task_id,
                    output: serde_json::from_str(&resumption.output_json()).unwrap(),
                }),
            }
        }
    }

    fn advance_seconds(&mut self, s: i64) {
        self.clock.advance_millis(s * 1000);
        let now = self.now();
        let due: Vec<u64> = self
            .timers
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(id, _)| *id)
            .collect();
        for timer_id in due {
            if self.timers.remove(&timer_id).is_some() {
                self.command(Command::TimerFired { timer_id });
            }
        }
    }

    fn submit_drink(&mut self) {
        let request = DrinkRequest {
            drink: "Americano".to_owned(),
            modifiers: vec![],
        };
        presso_core::testing::block_on(orders::submit_drink(
            &self.ports(),
            &customer(),
            &order_id(),
            None,
            &request,
        ))
        .expect("the drink is accepted");
        self.resume_waits();
    }

    fn barista(&mut self, action: orders::OrderAction) {
        presso_core::testing::block_on(orders::order_action(
            &self.ports(),
            &barista(),
            &order_id(),
            None,
            action,
        ))
        .expect("the barista's action");
        self.resume_waits();
    }

    fn order(&self) -> Order {
        self.store.order(&order_id()).unwrap()
    }

    fn detail_types(&self) -> Vec<&str> {
        self.emitted.iter().map(|(t, _)| t.as_str()).collect()
    }

    fn status(&self) -> Status {
        self.outcome
            .as_ref()
            .expect("the execution finished")
            .status
    }

    /// Only the other order's unit is left, and this order released what it held, once.
    fn assert_capacity_released(&self) {
        assert_eq!(self.store.capacity_in_use(&event_id()), 1);
        assert_eq!(self.order().capacity, Capacity::Released);
    }
}

fn config() -> StoreConfig {
    StoreConfig::seed_default(Timestamp::from_millis(T0))
}

#[test]
fn the_happy_path_takes_capacity_numbers_the_order_and_releases_capacity_on_completion() {
    let mut host = Host::start(config(), false);
    assert_eq!(host.detail_types(), ["OrderProcessor.WorkflowStarted"]);
    assert_eq!(host.store.capacity_in_use(&event_id()), 2);
    host.submit_drink();
    assert_eq!(
        host.detail_types(),
        [
            "OrderProcessor.WorkflowStarted",
            "OrderProcessor.WaitingCompletion"
        ]
    );
    assert_eq!(host.emitted[1].1["orderNumber"], 1);
    assert_eq!(host.order().status(), OrderStatus::Queued);
    host.barista(orders::OrderAction::Make);
    host.barista(orders::OrderAction::Complete);
    assert_eq!(host.status(), Status::Succeeded);
    assert_eq!(
        host.detail_types().last(),
        Some(&"OrderProcessor.orderFinished")
    );
    assert_eq!(host.emitted.last().unwrap().1["outcome"], "completed");
    assert_eq!(host.order().status(), OrderStatus::Completed);
    host.assert_capacity_released();
    for (t, d) in &host.emitted {
        let waits =
            t == "OrderProcessor.WorkflowStarted" || t == "OrderProcessor.WaitingCompletion";
        assert_eq!(
            d.get("TaskToken").is_some(),
            waits,
            "only the two waits hand a token over: {t}"
        );
    }
}

#[test]
fn a_made_order_costs_five_state_transitions_one_capacity_write_and_no_config_read() {
    let mut host = Host::start(config(), false);
    host.submit_drink();
    host.barista(orders::OrderAction::Make);
    host.barista(orders::OrderAction::Complete);
    assert_eq!(host.status(), Status::Succeeded);
    assert_eq!(host.exe.transitions(), 5);
    assert_eq!((host.capacity_writes, host.config_reads), (1, 0));
}

#[test]
fn without_a_gate_the_workflow_reads_the_config_and_still_takes_capacity_once() {
    let mut host = Host::start_with(config(), false, false);
    assert_eq!((host.capacity_writes, host.config_reads), (2, 1));
    assert_eq!(host.store.capacity_in_use(&event_id()), 2);
    host.submit_drink();
    host.barista(orders::OrderAction::Make);
    host.barista(orders::OrderAction::Complete);
    assert_eq!(host.status(), Status::Succeeded);
    assert_eq!(host.emitted.last().unwrap().1["outcome"], "completed");
    host.assert_capacity_released();
    // Closed, without a gate: the config says so.
    let closed = config().with_store_state(StoreState::Closed, Timestamp::from_millis(T0));
    let host = Host::start_with(closed, false, false);
    assert_eq!(host.emitted[0].1["reason"], "storeClosed");
    assert_eq!(host.store.capacity_in_use(&event_id()), 1);
}

#[test]
fn a_customer_who_never_orders_times_out_after_300_seconds() {
    let mut host = Host::start(config(), false);
    host.advance_seconds(299);
    assert!(host.outcome.is_none());
    host.advance_seconds(2);
    assert_eq!(host.status(), Status::Succeeded);
    assert_eq!(
        host.detail_types().last(),
        Some(&"OrderProcessor.OrderTimeOut")
    );
    assert_eq!(host.emitted.last().unwrap().1["cause"], "Customer timedout");
    assert_eq!(host.order().status(), OrderStatus::TimedOut);
    host.assert_capacity_released();
}

#[test]
fn a_barista_who_never_finishes_times_out_after_900_seconds() {
    let mut host = Host::start(config(), false);
    host.submit_drink();
    host.advance_seconds(899);
    assert!(host.outcome.is_none());
    host.advance_seconds(2);
    assert_eq!(host.emitted.last().unwrap().1["cause"], "Barista timedout");
    assert_eq!(host.order().status(), OrderStatus::TimedOut);
    host.assert_capacity_released();
}

#[test]
fn a_customer_cancelling_ends_the_workflow_at_once() {
    let mut host = Host::start(config(), false);
    presso_core::testing::block_on(orders::customer_cancel(
        &host.ports(),
        &customer(),
        &order_id(),
        None,
    ))
    .unwrap();
    host.resume_waits();
    assert_eq!(host.status(), Status::Succeeded);
    assert_eq!(
        host.emitted.last().unwrap().0,
        "OrderProcessor.orderFinished"
    );
    assert_eq!(host.emitted.last().unwrap().1["outcome"], "cancelled");
    host.assert_capacity_released();
}

#[test]
fn a_barista_cancelling_a_queued_order_releases_its_capacity() {
    let mut host = Host::start(config(), false);
    host.submit_drink();
    host.barista(orders::OrderAction::Cancel);
    assert_eq!(host.emitted.last().unwrap().1["outcome"], "cancelled");
    host.assert_capacity_released();
}

#[test]
fn a_failing_task_fails_the_order_and_releases_its_capacity() {
    let mut host = Host::start(config(), true);
    host.submit_drink();
    assert_eq!(host.status(), Status::Failed);
    let (detail_type, detail) = host.emitted.last().unwrap();
    assert_eq!(detail_type, "OrderProcessor.OrderFailed");
    assert_eq!(detail["capacityTaken"], true);
    assert_eq!(
        detail["error"],
        "DynamoDB.ProvisionedThroughputExceededException"
    );
    assert_eq!(host.order().status(), OrderStatus::Failed);
    host.assert_capacity_released();
}

#[test]
fn a_closed_or_paused_store_or_a_full_queue_rejects_the_order_without_taking_capacity() {
    for (state, reason) in [
        (StoreState::Closed, "storeClosed"),
        (StoreState::Paused, "storePaused"),
    ] {
        let config = config().with_store_state(state, Timestamp::from_millis(T0));
        let host = Host::start(config, false);
        assert_eq!(host.detail_types(), ["OrderProcessor.ShopUnavailable"]);
        assert_eq!(host.emitted[0].1["reason"], reason);
        assert_eq!(host.order().status(), OrderStatus::Rejected);
        assert_eq!(host.store.capacity_in_use(&event_id()), 1);
    }
    let mut full = config();
    full.max_orders_in_queue = 1;
    let host = Host::start(full, false);
    assert_eq!(host.emitted[0].1["reason"], "atCapacity");
    assert_eq!(host.order().status(), OrderStatus::Rejected);
    assert_eq!(
        host.store.capacity_in_use(&event_id()),
        1,
        "the other order's unit only"
    );
}
