//! One robot run: displays, customers and baristas playing whole journeys at a given rate.
//!
//! - A **display** per event keeps the event's current QR code (asking `GET /qr-code` again
//!   when a scan reports the code spent) and listens on the event's admin topic.
//! - **Customers** (a pool of users made with the admin calls, each with their own realtime
//!   connection) start journeys at `--rate` per second for `--duration` seconds: scan the
//!   display's code, give a drink, then wait for `OrderProcessor.orderFinished` on their topic.
//! - **Baristas** listen on the admin topics; when an order is queued
//!   (`OrderManager.WaitingCompletion`) the barista it falls to makes it and completes it.
//!
//! Every HTTP call and every message's arrival is timed where the app would see it. A live
//! line shows progress; the end prints a table and writes a JSON [`Report`].

use crate::client::{Endpoint, ROBOT_CLIENT_NAME, User};
use crate::realtime::{Delivery, Subscriber};
use crate::stats::{Report, Samples};
use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, oneshot};

const ORDER_COMPLETED: &str = "OrderManager.OrderCompleted";
const ORDER_QUEUED: &str = "OrderManager.WaitingCompletion";
const ORDER_FINISHED: &str = "OrderProcessor.orderFinished";
/// What ends a journey early (the order will never be finished).
const ORDER_ENDED_OTHERWISE: [&str; 4] = [
    "OrderProcessor.OrderTimeOut",
    "OrderProcessor.ShopUnavailable",
    "OrderProcessor.OrderFailed",
    "OrderManager.OrderCancelled",
];

/// `presso robot`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The system's site: `presso serve`'s URL, or a deployed stack's (where `/config.json` is).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Journeys begun per second.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Seconds during which journeys begin (the run then waits for those in flight).
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Simulated customers, each with a realtime connection.
    #[arg(long, default_value_t = 20)]
    pub customers: usize,
    /// Journeys one customer has in flight at most (the event's `maxOrdersPerUser` must allow
    /// it: 1 by default, up to 100 with `--raise-limits`).
    #[arg(long, default_value_t = 1)]
    pub orders_per_customer: usize,
    /// Simulated baristas; each order falls to one of them.
    #[arg(long, default_value_t = 2)]
    pub baristas: usize,
    /// Events to spread orders over: 1 uses `default`; more creates `<prefix>-1..N`.
    #[arg(long, default_value_t = 1)]
    pub events: usize,
    /// Raise the events' limits for the run (1,000 drinks per code, 10,000 orders in the
    /// queue, 100 open orders per customer); with `--events 0`, as many events as the rate and
    /// duration need.
    #[arg(long)]
    pub raise_limits: bool,
    /// Journeys in flight at most (a journey beyond it waits for one to end).
    #[arg(long, default_value_t = 4096)]
    pub max_in_flight: usize,
    /// Seconds a journey may take before it counts as unfinished.
    #[arg(long, default_value_t = 60.0)]
    pub journey_timeout: f64,
    /// Seconds a barista takes between make and complete.
    #[arg(long, default_value_t = 0.0)]
    pub make_seconds: f64,
    /// Baristas make nothing: a journey ends once its order is queued, and the orders stay in
    /// flight (their workflows waiting) after the run, to fill a queue or measure memory.
    #[arg(long)]
    pub hold: bool,
    /// Names the users and events this robot makes (`<prefix>-customer-1@example.com`, ...).
    #[arg(long, default_value = "robot")]
    pub prefix: String,
    /// The robot app client's id (default: the pool's `serverlesspresso-robot` client).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Where the JSON report goes.
    #[arg(long, default_value = "robot-report.json")]
    pub report: PathBuf,
    /// No live line (the summary is still printed).
    #[arg(long)]
    pub quiet: bool,
}

impl Options {
    /// Defaults, for callers that are not the command line.
    pub fn new(url: &str) -> Options {
        Options {
            url: url.to_string(),
            rate: 10.0,
            duration: 30.0,
            customers: 20,
            orders_per_customer: 1,
            baristas: 2,
            events: 1,
            raise_limits: false,
            max_in_flight: 4096,
            journey_timeout: 60.0,
            make_seconds: 0.0,
            hold: false,
            prefix: "robot".into(),
            client_id: None,
            report: PathBuf::from("robot-report.json"),
            quiet: true,
        }
    }

    fn validate(&self) -> Result<()> {
        if !(self.rate > 0.0 && self.rate.is_finite()) {
            bail!("--rate must be a positive number of journeys per second");
        }
        if !(self.duration > 0.0 && self.duration.is_finite()) {
            bail!("--duration must be a positive number of seconds");
        }
        if self.customers == 0 || self.baristas == 0 {
            bail!("--customers and --baristas must be at least 1");
        }
        if self.orders_per_customer == 0 || self.orders_per_customer > 100 {
            bail!("--orders-per-customer must be between 1 and 100");
        }
        if self.orders_per_customer > 1 && !self.raise_limits {
            bail!(
                "--orders-per-customer above 1 needs --raise-limits (maxOrdersPerUser is 1 by default)"
            );
        }
        if self.events == 0 && !self.raise_limits {
            bail!("--events 0 (as many as needed) needs --raise-limits");
        }
        if self.max_in_flight == 0 {
            bail!("--max-in-flight must be at least 1");
        }
        Ok(())
    }

    /// The event ids the run uses.
    fn event_ids(&self) -> Vec<String> {
        let n = if self.events == 0 {
            // 1,000 codes per event and window, with a margin for a window boundary.
            ((self.rate * self.duration * 1.25) / 1000.0)
                .ceil()
                .max(1.0) as usize
        } else {
            self.events
        };
        if n == 1 && self.events == 1 {
            vec!["default".into()]
        } else {
            (1..=n).map(|i| format!("{}-{i}", self.prefix)).collect()
        }
    }
}

/// One journey's timestamps, keyed by order id while it is in flight.
struct Track {
    complete_sent: Option<Instant>,
    /// `OrderCompleted` and `orderFinished` at the phone; they are separate events and may
    /// arrive in either order.
    completed_at: Option<Instant>,
    finished_at: Option<Instant>,
    done: Option<oneshot::Sender<Outcome>>,
}

#[derive(Debug)]
enum Outcome {
    Finished(Instant),
    Ended(String),
}

#[derive(Default)]
struct Figures {
    scan: Samples,
    submit: Samples,
    make: Samples,
    complete: Samples,
    journey: Samples,
    complete_to_customer: Samples,
    complete_to_display: Samples,
    errors: BTreeMap<String, u64>,
}

struct Shared {
    endpoint: Endpoint,
    options: Options,
    events: Vec<String>,
    /// The current code per event (`None` until the display has one, or while spent).
    codes: Vec<Mutex<Option<String>>>,
    /// Events whose code ran out, until the display finds a fresh one.
    exhausted: Vec<std::sync::atomic::AtomicBool>,
    orders: Mutex<HashMap<String, Track>>,
    /// When each order's complete was sent, until its display sees `OrderCompleted` (which
    /// may come after the customer's journey ended).
    completes: Mutex<HashMap<String, Instant>>,
    figures: Mutex<Figures>,
    baristas: Vec<User>,
    /// Per event, the drink requests its menu allows (available drinks, required choices made).
    drinks: Vec<Vec<Value>>,
    started: AtomicU64,
    finished: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicUsize,
    messages: AtomicU64,
    api_calls: AtomicU64,
    next_event: AtomicUsize,
}

impl Shared {
    fn error(&self, kind: impl Into<String>) {
        *self
            .figures
            .lock()
            .expect("figures")
            .errors
            .entry(kind.into())
            .or_default() += 1;
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        who: &User,
        body: Option<&Value>,
    ) -> Result<crate::client::Answer> {
        self.api_calls.fetch_add(1, Ordering::Relaxed);
        self.endpoint
            .call(method, path, Some(&who.id_token), body)
            .await
    }
}

/// Who a subscriber plays, so the dispatcher knows what a message means to it.
#[derive(Debug, Clone, Copy)]
enum Role {
    Display,
    Barista(usize),
    Customer,
}

/// Runs the robot; answers the report (also written to `options.report`).
pub async fn run(options: Options) -> Result<Report> {
    options.validate()?;
    let endpoint = Endpoint::connect(&options.url).await?;
    let client_id = match &options.client_id {
        Some(id) => id.clone(),
        None => endpoint
            .client_id(ROBOT_CLIENT_NAME)
            .await
            .context("finding the robot's app client (or pass --client-id)")?,
    };
    let events = options.event_ids();
    say(
        &options,
        &format!(
            "making {} customers and {} baristas",
            options.customers, options.baristas
        ),
    );
    let baristas = make_users(
        &endpoint,
        &client_id,
        &options,
        "barista",
        options.baristas,
        true,
    )
    .await?;
    let customers = make_users(
        &endpoint,
        &client_id,
        &options,
        "customer",
        options.customers,
        false,
    )
    .await?;
    let lead = baristas[0].clone();
    let drinks = prepare_events(&endpoint, &lead, &events, &options).await?;

    let shared = Arc::new(Shared {
        endpoint: endpoint.clone(),
        options: options.clone(),
        codes: events.iter().map(|_| Mutex::new(None)).collect(),
        exhausted: events
            .iter()
            .map(|_| std::sync::atomic::AtomicBool::new(false))
            .collect(),
        events: events.clone(),
        orders: Mutex::new(HashMap::new()),
        completes: Mutex::new(HashMap::new()),
        figures: Mutex::new(Figures::default()),
        baristas: baristas.clone(),
        drinks,
        started: AtomicU64::new(0),
        finished: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
        messages: AtomicU64::new(0),
        api_calls: AtomicU64::new(0),
        next_event: AtomicUsize::new(0),
    });
    for i in 0..events.len() {
        refresh_code(&shared, i).await?;
    }
    let usage_before = endpoint.usage().await;

    // Realtime: one display per event, each barista on every admin topic, each customer on
    // their own topic. Every delivery goes through one dispatcher.
    let (tx, rx) = mpsc::unbounded_channel::<(Role, Delivery)>();
    let admin_topics: Vec<String> = events
        .iter()
        .map(|e| format!("serverlesspresso-admin-{e}"))
        .collect();
    let mut subscribers = Vec::new();
    for (i, topic) in admin_topics.iter().enumerate() {
        let topics = [
            topic.clone(),
            format!("serverlesspresso-config-{}", events[i]),
        ];
        subscribers.push(tagged(&endpoint, &lead, &topics, Role::Display, &tx).await?);
    }
    for (i, b) in baristas.iter().enumerate() {
        subscribers.push(tagged(&endpoint, b, &admin_topics, Role::Barista(i), &tx).await?);
    }
    for c in &customers {
        subscribers.push(tagged(&endpoint, c, &[c.topic()], Role::Customer, &tx).await?);
    }
    drop(tx);
    let dispatcher = tokio::spawn(dispatch(shared.clone(), rx));

    say(
        &options,
        &format!(
            "{} journeys/s for {} s over {} event(s) at {}",
            options.rate,
            options.duration,
            events.len(),
            endpoint.base
        ),
    );
    let t0 = Instant::now();
    let live = tokio::spawn(live_line(shared.clone(), t0));
    let limit = Arc::new(Semaphore::new(options.max_in_flight));
    // A free customer slot per journey a customer may still have open.
    let (free_tx, free_rx) = mpsc::unbounded_channel::<usize>();
    for _ in 0..options.orders_per_customer {
        for i in 0..customers.len() {
            let _ = free_tx.send(i);
        }
    }
    let free = Arc::new(tokio::sync::Mutex::new(free_rx));
    let total = (options.rate * options.duration).round() as u64;
    let mut journeys = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for n in 0..total {
        let due = t0 + Duration::from_secs_f64(n as f64 / options.rate);
        tokio::time::sleep_until(due.into()).await;
        let permit = limit.clone().acquire_owned().await.expect("semaphore open");
        let slot = free.lock().await.recv().await.expect("slots open");
        let customer = customers[slot].clone();
        let shared = shared.clone();
        let free_tx = free_tx.clone();
        journeys.push(tokio::spawn(async move {
            journey(&shared, &customer).await;
            let _ = free_tx.send(slot);
            drop(permit);
        }));
    }
    for j in journeys {
        let _ = j.await;
    }
    let elapsed = t0.elapsed();
    // A journey ends with the customer's messages; the display's `OrderCompleted` is a
    // publish of its own and can trail them: give the last ones a moment before closing.
    let grace = Instant::now() + Duration::from_secs(2);
    while !shared.completes.lock().expect("completes").is_empty() && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    live.abort();
    if !options.quiet && std::io::stderr().is_terminal() {
        eprintln!();
    }
    for s in subscribers {
        s.close().await;
    }
    dispatcher.abort();

    // The last executions end just after their orderFinished was published.
    let cost = match (&usage_before, options.hold) {
        (Some(before), false) => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let prices: Value = serde_json::from_str(crate::cost::PRICES)?;
            let drinks = shared.finished.load(Ordering::Relaxed);
            endpoint.usage().await.map(|after| {
                let p = crate::cost::per_drink(before, &after, drinks, &prices);
                crate::cost::cost(p, drinks, &prices)
            })
        }
        _ => None,
    };
    let figures = std::mem::take(&mut *shared.figures.lock().expect("figures"));
    let mut latency = BTreeMap::new();
    for (name, s) in [
        ("scan", &figures.scan),
        ("submit", &figures.submit),
        ("make", &figures.make),
        ("complete", &figures.complete),
        ("journey", &figures.journey),
        ("completeToCustomer", &figures.complete_to_customer),
        ("completeToDisplay", &figures.complete_to_display),
    ] {
        latency.insert(name.to_string(), s.summary());
    }
    let finished = shared.finished.load(Ordering::Relaxed);
    let report = Report {
        url: endpoint.base.clone(),
        target_rate: options.rate,
        duration_seconds: options.duration,
        events,
        customers: options.customers,
        baristas: options.baristas,
        started: shared.started.load(Ordering::Relaxed),
        finished,
        failed: shared.failed.load(Ordering::Relaxed),
        elapsed_seconds: elapsed.as_secs_f64(),
        journeys_per_second: finished as f64 / elapsed.as_secs_f64().max(1e-9),
        latency,
        errors: figures.errors,
        mqtt_messages: shared.messages.load(Ordering::Relaxed),
        api_calls: shared.api_calls.load(Ordering::Relaxed),
        cost,
    };
    std::fs::write(&options.report, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", options.report.display()))?;
    Ok(report)
}

fn say(options: &Options, line: &str) {
    if !options.quiet {
        eprintln!("robot: {line}");
    }
}

async fn tagged(
    endpoint: &Endpoint,
    user: &User,
    topics: &[String],
    role: Role,
    tx: &mpsc::UnboundedSender<(Role, Delivery)>,
) -> Result<Subscriber> {
    let (inner_tx, mut inner_rx) = mpsc::unbounded_channel();
    let sub = Subscriber::connect(endpoint, Some(user), topics, inner_tx).await?;
    let tx = tx.clone();
    tokio::spawn(async move {
        while let Some(d) = inner_rx.recv().await {
            if tx.send((role, d)).is_err() {
                return;
            }
        }
    });
    Ok(sub)
}

/// Users `<prefix>-<kind>-<i>@example.com`, a few at a time.
async fn make_users(
    endpoint: &Endpoint,
    client_id: &str,
    options: &Options,
    kind: &str,
    n: usize,
    barista: bool,
) -> Result<Vec<User>> {
    let mut users = Vec::with_capacity(n);
    for chunk in (1..=n).collect::<Vec<_>>().chunks(16) {
        let made = futures_join(chunk.iter().map(|i| {
            let email = format!("{}-{kind}-{i}@example.com", options.prefix);
            let name = format!("{}{i}", if barista { "Barista" } else { "Guest" });
            let endpoint = endpoint.clone();
            let client_id = client_id.to_string();
            async move {
                endpoint
                    .admin_user(&client_id, &email, &name, barista)
                    .await
            }
        }))
        .await;
        for u in made {
            users.push(u?);
        }
    }
    Ok(users)
}

async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("a robot task panicked"));
    }
    out
}

/// Creates (or reuses) the events, raises their limits when asked, and opens them; answers
/// each event's orderable drinks.
async fn prepare_events(
    endpoint: &Endpoint,
    barista: &User,
    events: &[String],
    options: &Options,
) -> Result<Vec<Vec<Value>>> {
    let mut drinks = Vec::with_capacity(events.len());
    let limits = if options.raise_limits {
        json!({"drinksPerBarcode": 1000, "maxOrdersInQueue": 10000, "maxOrdersPerUser": 100})
    } else {
        json!({})
    };
    for e in events {
        let token = Some(barista.id_token.as_str());
        if e != "default" {
            let a = endpoint
                .call(Method::POST, &format!("/events/{e}"), token, Some(&limits))
                .await?;
            if !a.ok() && a.code() != "event_exists" {
                bail!("creating event {e}: {} {}", a.status, a.body);
            }
        }
        if options.raise_limits {
            let a = endpoint
                .call(
                    Method::PUT,
                    &format!("/events/{e}/config"),
                    token,
                    Some(&limits),
                )
                .await?;
            if !a.ok() {
                bail!("raising event {e}'s limits: {} {}", a.status, a.body);
            }
        }
        let a = endpoint
            .call(
                Method::PUT,
                &format!("/events/{e}/store"),
                token,
                Some(&json!({"state": "open"})),
            )
            .await?;
        if !a.ok() {
            bail!("opening event {e}: {} {}", a.status, a.body);
        }
        let config = endpoint
            .call(Method::GET, &format!("/events/{e}/config"), None, None)
            .await?;
        let orderable = orderable_drinks(&config.body);
        if orderable.is_empty() {
            bail!("event {e} has no drink available to order");
        }
        drinks.push(orderable);
    }
    Ok(drinks)
}

/// The drink requests a menu allows: each available drink, with the first available option of
/// every required modifier.
fn orderable_drinks(config: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for d in config["menu"]["drinks"].as_array().into_iter().flatten() {
        if d["available"] == false {
            continue;
        }
        let mut modifiers = Vec::new();
        let mut possible = true;
        for m in d["modifiers"].as_array().into_iter().flatten() {
            if m["required"] != true {
                continue;
            }
            match m["options"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|o| o["available"] != false)
            {
                Some(o) => modifiers.push(o["name"].clone()),
                None => possible = false,
            }
        }
        if possible {
            out.push(json!({"drink": d["name"], "modifiers": modifiers}));
        }
    }
    out
}

/// The display asks for the event's current code.
async fn refresh_code(shared: &Shared, event: usize) -> Result<()> {
    let lead = &shared.baristas[0];
    let a = shared
        .endpoint
        .call(
            Method::GET,
            &format!("/qr-code?eventId={}", shared.events[event]),
            Some(&lead.id_token),
            None,
        )
        .await?;
    if !a.ok() {
        bail!(
            "display of {}: {} {}",
            shared.events[event],
            a.status,
            a.body
        );
    }
    let bucket = &a.body["bucket"];
    let code = bucket["code"].as_str().map(str::to_string);
    let spent = bucket["availableTokens"].as_i64() == Some(0);
    shared.exhausted[event].store(spent, Ordering::Relaxed);
    *shared.codes[event].lock().expect("codes") = code;
    Ok(())
}

/// Picks the next event with codes left, round robin.
fn pick_event(shared: &Shared) -> usize {
    let n = shared.events.len();
    let start = shared.next_event.fetch_add(1, Ordering::Relaxed);
    (0..n)
        .map(|k| (start + k) % n)
        .find(|&i| !shared.exhausted[i].load(Ordering::Relaxed))
        .unwrap_or(start % n)
}

/// One customer's journey, from the scan to `orderFinished` on their phone.
async fn journey(shared: &Arc<Shared>, customer: &User) {
    shared.started.fetch_add(1, Ordering::Relaxed);
    shared.in_flight.fetch_add(1, Ordering::Relaxed);
    let ok = match play(shared, customer).await {
        Ok(()) => true,
        Err(e) => {
            shared.error(e.to_string());
            false
        }
    };
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    if ok {
        shared.finished.fetch_add(1, Ordering::Relaxed);
    } else {
        shared.failed.fetch_add(1, Ordering::Relaxed);
    }
}

async fn play(shared: &Arc<Shared>, customer: &User) -> Result<()> {
    let started = Instant::now();
    let mut tries = 0;
    let (order_id, event) = loop {
        tries += 1;
        let event = pick_event(shared);
        let code = shared.codes[event].lock().expect("codes").clone();
        let Some(code) = code else {
            bail!("no QR code for {}", shared.events[event]);
        };
        let t = Instant::now();
        let a = shared
            .call(
                Method::POST,
                &format!("/qr-code?eventId={}&token={code}", shared.events[event]),
                customer,
                None,
            )
            .await?;
        shared
            .figures
            .lock()
            .expect("figures")
            .scan
            .push(t.elapsed());
        if a.ok() {
            let id = a.body["orderId"].as_str().unwrap_or_default().to_string();
            if id.is_empty() {
                bail!("scan answered no orderId");
            }
            break (id, event);
        }
        // A spent or outdated code: the display shows the next one, the customer scans again.
        if tries < 5 && matches!(a.code(), "no_tokens_remaining" | "invalid_code") {
            if a.code() == "no_tokens_remaining" {
                shared.exhausted[event].store(true, Ordering::Relaxed);
            }
            refresh_code(shared, event).await?;
            continue;
        }
        bail!("scan {} {}", a.status, a.code());
    };
    let menu = &shared.drinks[event];
    let drink = menu
        [usize::try_from(shared.started.load(Ordering::Relaxed)).unwrap_or(0) % menu.len()]
    .clone();
    let (done_tx, done_rx) = oneshot::channel();
    shared.orders.lock().expect("orders").insert(
        order_id.clone(),
        Track {
            complete_sent: None,
            completed_at: None,
            finished_at: None,
            done: Some(done_tx),
        },
    );
    let t = Instant::now();
    let a = shared
        .call(
            Method::PUT,
            &format!("/orders/{order_id}"),
            customer,
            Some(&drink),
        )
        .await;
    shared
        .figures
        .lock()
        .expect("figures")
        .submit
        .push(t.elapsed());
    let a = match a {
        Ok(a) => a,
        Err(e) => {
            shared.orders.lock().expect("orders").remove(&order_id);
            return Err(e);
        }
    };
    if !a.ok() {
        shared.orders.lock().expect("orders").remove(&order_id);
        bail!("drink {} {}", a.status, a.code());
    }
    let timeout = Duration::from_secs_f64(shared.options.journey_timeout);
    let outcome = tokio::time::timeout(timeout, done_rx).await;
    shared.orders.lock().expect("orders").remove(&order_id);
    match outcome {
        Ok(Ok(Outcome::Finished(at))) => {
            shared
                .figures
                .lock()
                .expect("figures")
                .journey
                .push(at.saturating_duration_since(started));
            Ok(())
        }
        Ok(Ok(Outcome::Ended(why))) => bail!("journey ended with {why}"),
        Ok(Err(_)) => bail!("journey abandoned"),
        Err(_) => bail!(
            "journey unfinished after {} s",
            shared.options.journey_timeout
        ),
    }
}

/// Reads every delivery: baristas act on queued orders, latencies are taken, journeys end.
async fn dispatch(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<(Role, Delivery)>) {
    while let Some((role, d)) = rx.recv().await {
        shared.messages.fetch_add(1, Ordering::Relaxed);
        let kind = d.kind();
        let id = d.order_id();
        if id.is_empty() {
            continue;
        }
        match role {
            Role::Barista(b) => {
                if shared.options.hold
                    || kind != ORDER_QUEUED
                    || barista_for(id, shared.baristas.len()) != b
                {
                    continue;
                }
                if !shared.orders.lock().expect("orders").contains_key(id) {
                    continue;
                }
                let shared = shared.clone();
                let id = id.to_string();
                tokio::spawn(async move {
                    if let Err(e) = barista(&shared, b, &id).await {
                        shared.error(e.to_string());
                    }
                });
            }
            Role::Display => {
                if kind == ORDER_COMPLETED {
                    let sent = shared.completes.lock().expect("completes").remove(id);
                    if let Some(sent) = sent {
                        shared
                            .figures
                            .lock()
                            .expect("figures")
                            .complete_to_display
                            .push(d.at.saturating_duration_since(sent));
                    }
                }
            }
            Role::Customer => {
                let mut orders = shared.orders.lock().expect("orders");
                let Some(track) = orders.get_mut(id) else {
                    continue;
                };
                if shared.options.hold && kind == ORDER_QUEUED {
                    if let Some(done) = track.done.take() {
                        let _ = done.send(Outcome::Finished(d.at));
                    }
                    continue;
                }
                if kind == ORDER_COMPLETED && track.completed_at.is_none() {
                    track.completed_at = Some(d.at);
                    if let Some(sent) = track.complete_sent {
                        shared
                            .figures
                            .lock()
                            .expect("figures")
                            .complete_to_customer
                            .push(d.at.saturating_duration_since(sent));
                    }
                } else if kind == ORDER_FINISHED && track.finished_at.is_none() {
                    track.finished_at = Some(d.at);
                }
                if let (Some(a), Some(b)) = (track.completed_at, track.finished_at) {
                    if let Some(done) = track.done.take() {
                        let _ = done.send(Outcome::Finished(a.max(b)));
                    }
                } else if ORDER_ENDED_OTHERWISE.contains(&kind)
                    && let Some(done) = track.done.take()
                {
                    let _ = done.send(Outcome::Ended(kind.to_string()));
                }
            }
        }
    }
}

/// Which barista an order falls to.
fn barista_for(order_id: &str, baristas: usize) -> usize {
    let h = order_id.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    usize::try_from(h % baristas as u64).unwrap_or(0)
}

/// A barista makes the order, then completes it.
async fn barista(shared: &Shared, b: usize, order_id: &str) -> Result<()> {
    let who = &shared.baristas[b];
    let t = Instant::now();
    let a = shared
        .call(
            Method::PUT,
            &format!("/orders/{order_id}?action=make"),
            who,
            None,
        )
        .await?;
    shared
        .figures
        .lock()
        .expect("figures")
        .make
        .push(t.elapsed());
    if !a.ok() {
        bail!("make {} {}", a.status, a.code());
    }
    if shared.options.make_seconds > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(shared.options.make_seconds)).await;
    }
    let t = Instant::now();
    if let Some(track) = shared.orders.lock().expect("orders").get_mut(order_id) {
        track.complete_sent = Some(t);
    }
    shared
        .completes
        .lock()
        .expect("completes")
        .insert(order_id.to_string(), t);
    let a = shared
        .call(
            Method::PUT,
            &format!("/orders/{order_id}?action=complete"),
            who,
            None,
        )
        .await?;
    shared
        .figures
        .lock()
        .expect("figures")
        .complete
        .push(t.elapsed());
    if !a.ok() {
        bail!("complete {} {}", a.status, a.code());
    }
    Ok(())
}

/// The progress bar and live figures, once a second.
async fn live_line(shared: Arc<Shared>, t0: Instant) {
    if shared.options.quiet {
        return;
    }
    let tty = std::io::stderr().is_terminal();
    let mut last_finished = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        let finished = shared.finished.load(Ordering::Relaxed);
        let rate = finished - last_finished;
        last_finished = finished;
        let (p50, p99, errors) = {
            let f = shared.figures.lock().expect("figures");
            let s = f.journey.summary();
            (s.p50_ms, s.p99_ms, f.errors.values().sum::<u64>())
        };
        let elapsed = t0.elapsed().as_secs_f64();
        let share = (elapsed / shared.options.duration).min(1.0);
        let filled = (share * 20.0).round() as usize;
        let bar = format!("[{}{}]", "#".repeat(filled), "-".repeat(20 - filled));
        let line = format!(
            "{bar} {elapsed:>5.0}s  {rate:>5} orders/s  {:>5} in flight  p50 {p50:.0} ms  p99 {p99:.0} ms  {errors} errors",
            shared.in_flight.load(Ordering::Relaxed)
        );
        let mut err = std::io::stderr().lock();
        if tty {
            let _ = write!(err, "\r{line}\x1b[K");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_follow_the_rate_when_asked() {
        let mut o = Options::new("http://127.0.0.1:1");
        assert_eq!(o.event_ids(), ["default"]);
        o.events = 3;
        assert_eq!(o.event_ids(), ["robot-1", "robot-2", "robot-3"]);
        o.events = 0;
        o.raise_limits = true;
        o.rate = 1000.0;
        o.duration = 10.0;
        assert_eq!(o.event_ids().len(), 13);
    }

    #[test]
    fn bad_options_are_refused_with_a_reason() {
        let mut o = Options::new("http://127.0.0.1:1");
        o.rate = 0.0;
        assert!(o.validate().unwrap_err().to_string().contains("--rate"));
        let mut o = Options::new("http://127.0.0.1:1");
        o.events = 0;
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .contains("--raise-limits")
        );
    }

    #[test]
    fn only_available_drinks_are_ordered_with_their_required_choices() {
        let config = json!({"menu": {"drinks": [
            {"name": "Espresso", "available": true, "modifiers": []},
            {"name": "Mocha", "available": false, "modifiers": []},
            {"name": "Latte", "available": true, "modifiers": [
                {"name": "Milk", "required": true, "options": [
                    {"name": "Whole", "available": false}, {"name": "Oat", "available": true}]},
                {"name": "Syrup", "required": false, "options": [{"name": "Vanilla"}]}]},
            {"name": "Cortado", "modifiers": [
                {"name": "Milk", "required": true, "options": [{"name": "Soy", "available": false}]}]},
        ]}});
        assert_eq!(
            orderable_drinks(&config),
            [
                json!({"drink": "Espresso", "modifiers": []}),
                json!({"drink": "Latte", "modifiers": ["Oat"]}),
            ]
        );
    }

    #[test]
    fn orders_spread_over_every_barista() {
        let mut seen = [0; 3];
        for i in 0..300 {
            seen[barista_for(&format!("order-{i}"), 3)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    }
}
