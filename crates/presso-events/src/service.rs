//! [`EventBridge`]: the facade the host calls. One JSON 1.1 operation per [`EventBridge::call`];
//! `PutEvents` matches each event against the compiled rules of its bus (held in memory, so
//! matching touches no database) and hands the deliveries to tasks that retry them.

use crate::delivery::{Delivery, DeliveryError, RetryPolicy, TargetInvoker, log_group_of};
use crate::error::{ErrorType, EventsError};
use crate::input::{DeliveryContext, JsonPath, Transformer};
use crate::schedule::Schedule;
use crate::store;
use presso_eventpattern::Pattern;
use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// The `X-Amz-Target` prefix of this service (JSON 1.1).
pub const TARGET_PREFIX: &str = "AWSEvents.";

/// The bus every account has; it cannot be deleted.
pub const DEFAULT_BUS: &str = "default";

/// The most entries one `PutEvents` call takes.
pub const MAX_PUT_EVENTS_ENTRIES: usize = 10;

/// The most bytes the entries of one `PutEvents` call may add up to (counted as AWS documents:
/// `Source`, `DetailType`, `Detail`, each resource, and 14 bytes for a `Time`).
pub const MAX_PUT_EVENTS_SIZE: usize = 256 * 1024;

/// The most targets one rule may have.
pub const MAX_TARGETS_PER_RULE: usize = 5;

/// Every operation [`EventBridge::call`] answers.
pub const OPERATIONS: &[&str] = &[
    "CreateEventBus",
    "DeleteEventBus",
    "DeleteRule",
    "DescribeEventBus",
    "DescribeRule",
    "DisableRule",
    "EnableRule",
    "ListEventBuses",
    "ListRules",
    "ListTargetsByRule",
    "PutEvents",
    "PutRule",
    "PutTargets",
    "RemoveTargets",
    "TestEventPattern",
];

/// Where the service keeps its state.
#[derive(Debug, Clone)]
pub enum Storage {
    File(PathBuf),
    InMemory,
}

impl Storage {
    /// `<data_dir>/events.sqlite`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::File(data_dir.join("events.sqlite"))
    }
}

/// The wall clock events are stamped with, injectable for tests.
pub trait Clock: Send + Sync {
    fn now_millis(&self) -> i64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default()
    }
}

/// How the host wires the service in.
#[derive(Clone)]
pub struct Options {
    pub region: String,
    pub account: String,
    pub clock: Arc<dyn Clock>,
    /// Delivers to state machines and functions (the log target is built in).
    pub invoker: Arc<dyn TargetInvoker>,
    pub retry: RetryPolicy,
    /// How often (in real time) schedule rules are checked for being due.
    pub schedule_tick: std::time::Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            clock: Arc::new(SystemClock),
            invoker: Arc::new(crate::delivery::NoTargets),
            retry: RetryPolicy::default(),
            schedule_tick: std::time::Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the data directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the event store: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("the event service delivers on a tokio runtime; open it inside one")]
    NoRuntime,
    #[error("a stored rule no longer compiles: {0}")]
    Rules(EventsError),
}

/// What a target gets, decided when the target is put.
#[derive(Debug, Clone)]
enum InputMode {
    Event,
    Constant(Value),
    Path(JsonPath),
    Transform(Box<Transformer>),
}

#[derive(Debug, Clone)]
struct CompiledTarget {
    id: String,
    arn: String,
    input: InputMode,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    name: String,
    arn: String,
    pattern: Pattern,
    targets: Vec<CompiledTarget>,
}

/// Deliveries made since the last commit: their pending rows to delete and, for the log
/// target, the log events to insert.
#[derive(Default)]
struct Made {
    seqs: Vec<i64>,
    logs: Vec<(String, i64, String)>,
}

impl Made {
    fn len(&self) -> usize {
        self.seqs.len() + self.logs.len()
    }
}

/// A schedule rule with its targets, and when it fires next.
struct ScheduledRule {
    name: String,
    arn: String,
    schedule: Schedule,
    /// When presso first saw the rule: a rate counts its periods from here.
    anchor_ms: i64,
    next_at: Option<i64>,
    targets: Vec<CompiledTarget>,
}

struct Inner {
    conn: Mutex<Connection>,
    /// The default bus's schedule rules, rebuilt with its routes.
    schedules: Mutex<Vec<ScheduledRule>>,
    /// Per bus, the enabled rules that have a pattern and at least one target: all PutEvents
    /// needs, rebuilt whenever a rule or target of the bus changes.
    routes: RwLock<HashMap<String, Arc<[CompiledRule]>>>,
    region: String,
    account: String,
    clock: Arc<dyn Clock>,
    invoker: Arc<dyn TargetInvoker>,
    retry: RetryPolicy,
    runtime: tokio::runtime::Handle,
    /// Events accepted since the service opened, in the 64 KB chunks AWS bills.
    billed_events: std::sync::atomic::AtomicU64,
    /// Made deliveries not yet forgotten in the store, and the log events they wrote: both
    /// committed together in batches (a crash before that loses neither: the deliveries are
    /// made again, at least once).
    made: Mutex<Made>,
    schedule_tick: std::time::Duration,
    schedules_started: std::sync::atomic::AtomicBool,
}

/// The EventBridge service: buses, rules and targets of one data directory, and delivery.
#[derive(Clone)]
pub struct EventBridge {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EventBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventBridge")
            .field("region", &self.inner.region)
            .finish_non_exhaustive()
    }
}

fn valid_name(name: &str, max: usize, allow_slash: bool) -> bool {
    !name.is_empty()
        && name.chars().count() <= max
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || (allow_slash && c == '/')
        })
}

fn str_field<'a>(body: &'a Value, name: &str) -> Result<Option<&'a str>, EventsError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(EventsError::new(
            ErrorType::SerializationException,
            format!("{name} must be a string"),
        )),
    }
}

fn required<'a>(body: &'a Value, name: &str) -> Result<&'a str, EventsError> {
    str_field(body, name)?.ok_or_else(|| {
        EventsError::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(name)
        ))
    })
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

fn seconds(millis: i64) -> Value {
    json!(millis as f64 / 1000.0)
}

/// RFC 3339 to the second, as EventBridge writes `time`.
fn rfc3339_seconds(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// `Limit` and `NextToken` for list calls: names sort, so the token is the last name returned.
fn page(body: &Value) -> Result<(usize, Option<String>), EventsError> {
    let limit = match body.get("Limit") {
        None | Some(Value::Null) => 100,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=100) => n as usize,
            _ => {
                return Err(EventsError::validation(
                    "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value between 1 and 100",
                ));
            }
        },
    };
    Ok((limit, str_field(body, "NextToken")?.map(str::to_string)))
}

fn paginate<T>(
    items: Vec<(String, T)>,
    limit: usize,
    after: Option<&str>,
) -> (Vec<T>, Option<String>) {
    let mut out = Vec::new();
    let mut next = None;
    for (name, item) in items {
        if after.is_some_and(|a| name.as_str() <= a) {
            continue;
        }
        if out.len() == limit {
            next = out.last().map(|(n, _): &(String, T)| n.clone());
            break;
        }
        out.push((name, item));
    }
    (out.into_iter().map(|(_, v)| v).collect(), next)
}

impl EventBridge {
    /// Opens (or creates) the store and makes sure the `default` bus exists. Must be called on a
    /// tokio runtime, which runs the deliveries.
    pub fn open(storage: Storage, options: Options) -> Result<Self, OpenError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| OpenError::NoRuntime)?;
        let conn = match &storage {
            Storage::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| OpenError::Dir {
                        path: dir.to_path_buf(),
                        source,
                    })?;
                }
                let conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn
            }
            Storage::InMemory => Connection::open_in_memory()?,
        };
        conn.execute_batch(store::SCHEMA)?;
        let now = options.clock.now_millis();
        conn.execute(
            "INSERT OR IGNORE INTO buses (name, description, created, modified) VALUES (?1, NULL, ?2, ?2)",
            params![DEFAULT_BUS, now],
        )?;
        let service = EventBridge {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                schedules: Mutex::new(Vec::new()),
                routes: RwLock::new(HashMap::new()),
                region: options.region,
                account: options.account,
                clock: options.clock,
                invoker: options.invoker,
                retry: options.retry,
                runtime,
                billed_events: std::sync::atomic::AtomicU64::new(0),
                made: Mutex::new(Made::default()),
                schedule_tick: options.schedule_tick,
                schedules_started: std::sync::atomic::AtomicBool::new(false),
            }),
        };
        let buses = store::buses(&service.lock())?;
        for bus in buses {
            service
                .refresh_routes(&bus.name)
                .map_err(OpenError::Rules)?;
        }
        Ok(service)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // SQLite rolls back a transaction a panic interrupted, so the data stays consistent.
        self.inner
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    pub fn account(&self) -> &str {
        &self.inner.account
    }

    pub fn bus_arn(&self, bus: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:event-bus/{bus}",
            self.inner.region, self.inner.account
        )
    }

    pub fn rule_arn(&self, bus: &str, rule: &str) -> String {
        if bus == DEFAULT_BUS {
            format!(
                "arn:aws:events:{}:{}:rule/{rule}",
                self.inner.region, self.inner.account
            )
        } else {
            format!(
                "arn:aws:events:{}:{}:rule/{bus}/{rule}",
                self.inner.region, self.inner.account
            )
        }
    }

    /// The whole JSON 1.1 exchange: `target` is the `X-Amz-Target` header, `body` the raw body.
    /// Returns the status and the JSON to answer with.
    pub fn handle(&self, target: &str, body: &[u8]) -> (u16, Value) {
        let outcome = match target.strip_prefix(TARGET_PREFIX) {
            None => Err(EventsError::new(
                ErrorType::UnknownOperationException,
                format!("{target} is not an operation of AWSEvents"),
            )),
            Some(op) => {
                let parsed = if body.iter().all(u8::is_ascii_whitespace) {
                    Ok(json!({}))
                } else {
                    serde_json::from_slice::<Value>(body).map_err(|e| {
                        EventsError::new(
                            ErrorType::SerializationException,
                            format!("The request body is not JSON: {e}"),
                        )
                    })
                };
                parsed.and_then(|v| self.call(op, &v))
            }
        };
        match outcome {
            Ok(v) => (200, v),
            Err(e) => {
                if e.http_status() >= 500 {
                    tracing::error!(target, error = %e, "eventbridge call failed");
                }
                (e.http_status(), e.to_json())
            }
        }
    }

    /// Runs one operation on a parsed request body.
    pub fn call(&self, op: &str, body: &Value) -> Result<Value, EventsError> {
        if !body.is_object() {
            return Err(EventsError::new(
                ErrorType::SerializationException,
                "The request body must be a JSON object",
            ));
        }
        match op {
            "CreateEventBus" => self.create_event_bus(body),
            "DescribeEventBus" => self.describe_event_bus(body),
            "ListEventBuses" => self.list_event_buses(body),
            "DeleteEventBus" => self.delete_event_bus(body),
            "PutRule" => self.put_rule(body),
            "DescribeRule" => self.describe_rule(body),
            "ListRules" => self.list_rules(body),
            "DeleteRule" => self.delete_rule(body),
            "EnableRule" => self.set_rule_state(body, "ENABLED"),
            "DisableRule" => self.set_rule_state(body, "DISABLED"),
            "PutTargets" => self.put_targets(body),
            "RemoveTargets" => self.remove_targets(body),
            "ListTargetsByRule" => self.list_targets_by_rule(body),
            "PutEvents" => self.put_events(body),
            "TestEventPattern" => test_event_pattern(body),
            other => Err(EventsError::new(
                ErrorType::UnknownOperationException,
                format!("{other} is not an operation presso's EventBridge answers"),
            )),
        }
    }

    // ----- buses -----

    /// A bus name from `EventBusName` (a name or an ARN), `default` when absent.
    fn bus_name(body: &Value, field: &str) -> Result<String, EventsError> {
        let name = str_field(body, field)?.unwrap_or(DEFAULT_BUS);
        let name = match name.split_once(":event-bus/") {
            Some((prefix, name)) if prefix.starts_with("arn:") => name,
            _ => name,
        };
        Ok(name.to_string())
    }

    fn existing_bus(&self, conn: &Connection, name: &str) -> Result<store::BusRow, EventsError> {
        store::bus(conn, name)?
            .ok_or_else(|| EventsError::not_found(format!("Event bus {name} does not exist.")))
    }

    fn create_event_bus(&self, body: &Value) -> Result<Value, EventsError> {
        let name = required(body, "Name")?;
        if !valid_name(name, 256, true) {
            return Err(EventsError::validation(format!(
                "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+"
            )));
        }
        if name.starts_with("aws.") {
            return Err(EventsError::validation(
                "Event source aws.* is reserved for partner event buses.",
            ));
        }
        let description = str_field(body, "Description")?;
        let conn = self.lock();
        if store::bus(&conn, name)?.is_some() {
            return Err(EventsError::new(
                ErrorType::ResourceAlreadyExistsException,
                format!("Event bus {name} already exists."),
            ));
        }
        let now = self.inner.clock.now_millis();
        conn.execute(
            "INSERT INTO buses (name, description, created, modified) VALUES (?1, ?2, ?3, ?3)",
            params![name, description, now],
        )?;
        Ok(json!({"EventBusArn": self.bus_arn(name)}))
    }

    fn bus_json(&self, bus: &store::BusRow) -> Value {
        let mut v = json!({
            "Name": bus.name,
            "Arn": self.bus_arn(&bus.name),
            "CreationTime": seconds(bus.created),
            "LastModifiedTime": seconds(bus.modified),
        });
        if let Some(d) = &bus.description {
            v["Description"] = json!(d);
        }
        v
    }

    fn describe_event_bus(&self, body: &Value) -> Result<Value, EventsError> {
        let name = Self::bus_name(body, "Name")?;
        let conn = self.lock();
        let bus = self.existing_bus(&conn, &name)?;
        Ok(self.bus_json(&bus))
    }

    fn list_event_buses(&self, body: &Value) -> Result<Value, EventsError> {
        let prefix = str_field(body, "NamePrefix")?.unwrap_or("");
        let (limit, after) = page(body)?;
        let buses = store::buses(&self.lock())?;
        let items = buses
            .into_iter()
            .filter(|b| b.name.starts_with(prefix))
            .map(|b| (b.name.clone(), self.bus_json(&b)))
            .collect();
        let (page, next) = paginate(items, limit, after.as_deref());
        let mut out = json!({"EventBuses": page});
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    fn delete_event_bus(&self, body: &Value) -> Result<Value, EventsError> {
        let name = required(body, "Name")?.to_string();
        if name == DEFAULT_BUS {
            return Err(EventsError::validation("Cannot delete event bus default."));
        }
        {
            let mut conn = self.lock();
            let tx = conn.transaction()?;
            // Deleting a bus that does not exist succeeds, as on AWS.
            tx.execute("DELETE FROM targets WHERE bus = ?1", [&name])?;
            tx.execute("DELETE FROM rules WHERE bus = ?1", [&name])?;
            tx.execute("DELETE FROM buses WHERE name = ?1", [&name])?;
            tx.commit()?;
        }
        self.write_routes().remove(&name);
        Ok(json!({}))
    }

    fn write_routes(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<[CompiledRule]>>> {
        self.inner
            .routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    // ----- rules -----

    fn rule_name(body: &Value, field: &str) -> Result<String, EventsError> {
        let name = required(body, field)?;
        if !valid_name(name, 64, false) {
            return Err(EventsError::validation(format!(
                "1 validation error detected: Value '{name}' at '{}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
                lower_first(field)
            )));
        }
        Ok(name.to_string())
    }

    fn existing_rule(
        &self,
        conn: &Connection,
        bus: &str,
        name: &str,
    ) -> Result<Value, EventsError> {
        self.existing_bus(conn, bus)?;
        store::rule(conn, bus, name)?.ok_or_else(|| {
            EventsError::not_found(format!("Rule {name} does not exist on EventBus {bus}."))
        })
    }

    fn put_rule(&self, body: &Value) -> Result<Value, EventsError> {
        let name = Self::rule_name(body, "Name")?;
        let bus = Self::bus_name(body, "EventBusName")?;
        let pattern = str_field(body, "EventPattern")?;
        let schedule = str_field(body, "ScheduleExpression")?;
        if pattern.is_none() && schedule.is_none() {
            return Err(EventsError::validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.",
            ));
        }
        if let Some(p) = pattern {
            Pattern::parse(p)?;
        }
        if let Some(s) = schedule {
            if bus != DEFAULT_BUS {
                return Err(EventsError::validation(
                    "ScheduleExpression is supported only on the default event bus.",
                ));
            }
            if Schedule::parse(s).is_none() {
                return Err(EventsError::validation(
                    "Parameter ScheduleExpression is not valid.",
                ));
            }
        }
        let state = str_field(body, "State")?.unwrap_or("ENABLED");
        if !matches!(
            state,
            "ENABLED" | "DISABLED" | "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
        ) {
            return Err(EventsError::validation(format!(
                "1 validation error detected: Value '{state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]"
            )));
        }
        let arn = self.rule_arn(&bus, &name);
        let mut spec = Map::new();
        spec.insert("Name".into(), json!(name));
        spec.insert("Arn".into(), json!(arn));
        for field in [
            "EventPattern",
            "ScheduleExpression",
            "Description",
            "RoleArn",
        ] {
            if let Some(v) = str_field(body, field)? {
                spec.insert(field.into(), json!(v));
            }
        }
        spec.insert("State".into(), json!(state));
        spec.insert("EventBusName".into(), json!(bus));
        {
            let conn = self.lock();
            self.existing_bus(&conn, &bus)?;
            store::put_rule(&conn, &bus, &name, &Value::Object(spec))?;
        }
        self.refresh_routes(&bus)?;
        Ok(json!({"RuleArn": arn}))
    }

    fn describe_rule(&self, body: &Value) -> Result<Value, EventsError> {
        let name = Self::rule_name(body, "Name")?;
        let bus = Self::bus_name(body, "EventBusName")?;
        let mut rule = self.existing_rule(&self.lock(), &bus, &name)?;
        rule["CreatedBy"] = json!(self.inner.account);
        Ok(rule)
    }

    fn list_rules(&self, body: &Value) -> Result<Value, EventsError> {
        let bus = Self::bus_name(body, "EventBusName")?;
        let prefix = str_field(body, "NamePrefix")?.unwrap_or("");
        let (limit, after) = page(body)?;
        let rules = {
            let conn = self.lock();
            self.existing_bus(&conn, &bus)?;
            store::rules(&conn, &bus)?
        };
        let items = rules
            .into_iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .collect();
        let (page, next) = paginate(items, limit, after.as_deref());
        let mut out = json!({"Rules": page});
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    fn delete_rule(&self, body: &Value) -> Result<Value, EventsError> {
        let name = Self::rule_name(body, "Name")?;
        let bus = Self::bus_name(body, "EventBusName")?;
        {
            let conn = self.lock();
            self.existing_bus(&conn, &bus)?;
            if !store::targets(&conn, &bus, &name)?.is_empty() {
                return Err(EventsError::validation(
                    "Rule can't be deleted since it has targets.",
                ));
            }
            conn.execute(
                "DELETE FROM rules WHERE bus = ?1 AND name = ?2",
                params![bus, name],
            )?;
        }
        self.refresh_routes(&bus)?;
        Ok(json!({}))
    }

    fn set_rule_state(&self, body: &Value, state: &str) -> Result<Value, EventsError> {
        let name = Self::rule_name(body, "Name")?;
        let bus = Self::bus_name(body, "EventBusName")?;
        {
            let conn = self.lock();
            let mut rule = self.existing_rule(&conn, &bus, &name)?;
            rule["State"] = json!(state);
            store::put_rule(&conn, &bus, &name, &rule)?;
        }
        self.refresh_routes(&bus)?;
        Ok(json!({}))
    }

    // ----- targets -----

    fn compile_target(spec: &Value) -> Result<CompiledTarget, EventsError> {
        let id = required(spec, "Id")?;
        if !valid_name(id, 64, false) {
            return Err(EventsError::validation(format!(
                "1 validation error detected: Value '{id}' at 'targets.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
            )));
        }
        let arn = required(spec, "Arn")?;
        if !arn.starts_with("arn:") {
            return Err(EventsError::validation(format!(
                "Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
            )));
        }
        let given: Vec<&str> = ["Input", "InputPath", "InputTransformer"]
            .into_iter()
            .filter(|f| spec.get(*f).is_some_and(|v| !v.is_null()))
            .collect();
        if given.len() > 1 {
            return Err(EventsError::validation(
                "Only one of Input, InputPath, or InputTransformer must be provided.",
            ));
        }
        let input = match given.first().copied() {
            None => InputMode::Event,
            Some("Input") => {
                let text = required(spec, "Input")?;
                InputMode::Constant(serde_json::from_str(text).map_err(|e| {
                    EventsError::validation(format!("Input for target {id} is not valid JSON: {e}"))
                })?)
            }
            Some("InputPath") => InputMode::Path(
                JsonPath::parse(required(spec, "InputPath")?)
                    .map_err(|e| EventsError::validation(format!("InputPath: {e}")))?,
            ),
            Some(_) => {
                InputMode::Transform(Box::new(Transformer::from_json(&spec["InputTransformer"])?))
            }
        };
        Ok(CompiledTarget {
            id: id.to_string(),
            arn: arn.to_string(),
            input,
        })
    }

    fn put_targets(&self, body: &Value) -> Result<Value, EventsError> {
        let rule = Self::rule_name(body, "Rule")?;
        let bus = Self::bus_name(body, "EventBusName")?;
        let targets = body
            .get("Targets")
            .and_then(Value::as_array)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                EventsError::validation(
                    "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length greater than or equal to 1",
                )
            })?;
        if targets.len() > 10 {
            return Err(EventsError::validation(
                "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length less than or equal to 10",
            ));
        }
        for t in targets {
            Self::compile_target(t)?;
        }
        {
            let mut conn = self.lock();
            self.existing_rule(&conn, &bus, &rule)?;
            let tx = conn.transaction()?;
            for t in targets {
                tx.execute(
                    "INSERT INTO targets (bus, rule, id, spec) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (bus, rule, id) DO UPDATE SET spec = excluded.spec",
                    params![bus, rule, t["Id"].as_str(), t.to_string()],
                )?;
            }
            let count: i64 = tx.query_row(
                "SELECT COUNT(*) FROM targets WHERE bus = ?1 AND rule = ?2",
                params![bus, rule],
                |r| r.get(0),
            )?;
            if usize::try_from(count).unwrap_or(usize::MAX) > MAX_TARGETS_PER_RULE {
                // Dropping the transaction rolls the new targets back.
                return Err(EventsError::new(
                    ErrorType::LimitExceededException,
                    format!(
                        "The requested resource exceeds the maximum number allowed: a rule has at most {MAX_TARGETS_PER_RULE} targets."
                    ),
                ));
            }
            tx.commit()?;
        }
        self.refresh_routes(&bus)?;
        Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
    }

    fn remove_targets(&self, body: &Value) -> Result<Value, EventsError> {
        let rule = Self::rule_name(body, "Rule")?;
        let bus = Self::bus_name(body, "EventBusName")?;
        let ids: Vec<&str> = body
            .get("Ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if ids.is_empty() {
            return Err(EventsError::validation(
                "1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        let mut failed = Vec::new();
        {
            let conn = self.lock();
            self.existing_rule(&conn, &bus, &rule)?;
            for id in ids {
                let n = conn.execute(
                    "DELETE FROM targets WHERE bus = ?1 AND rule = ?2 AND id = ?3",
                    params![bus, rule, id],
                )?;
                if n == 0 {
                    failed.push(json!({
                        "TargetId": id,
                        "ErrorCode": "ResourceNotFoundException",
                        "ErrorMessage": format!("Target {id} does not exist on rule {rule}."),
                    }));
                }
            }
        }
        self.refresh_routes(&bus)?;
        Ok(json!({"FailedEntryCount": failed.len(), "FailedEntries": failed}))
    }

    fn list_targets_by_rule(&self, body: &Value) -> Result<Value, EventsError> {
        let rule = Self::rule_name(body, "Rule")?;
        let bus = Self::bus_name(body, "EventBusName")?;
        let (limit, after) = page(body)?;
        let targets = {
            let conn = self.lock();
            self.existing_rule(&conn, &bus, &rule)?;
            store::targets(&conn, &bus, &rule)?
        };
        let items = targets
            .into_iter()
            .map(|t| (t["Id"].as_str().unwrap_or_default().to_string(), t))
            .collect();
        let (page, next) = paginate(items, limit, after.as_deref());
        let mut out = json!({"Targets": page});
        if let Some(n) = next {
            out["NextToken"] = json!(n);
        }
        Ok(out)
    }

    /// Rebuilds the in-memory routing table of one bus from the store.
    fn refresh_routes(&self, bus: &str) -> Result<(), EventsError> {
        let compiled = {
            let conn = self.lock();
            let mut compiled = Vec::new();
            for (name, spec) in store::rules(&conn, bus)? {
                let enabled = spec["State"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("ENABLED"));
                let Some(pattern) = spec["EventPattern"].as_str() else {
                    continue;
                };
                if !enabled {
                    continue;
                }
                let pattern = Pattern::parse(pattern)?;
                let targets = store::targets(&conn, bus, &name)?
                    .iter()
                    .filter_map(|t| Self::compile_target(t).ok())
                    .collect::<Vec<_>>();
                if targets.is_empty() {
                    continue;
                }
                compiled.push(CompiledRule {
                    arn: self.rule_arn(bus, &name),
                    name,
                    pattern,
                    targets,
                });
            }
            if bus == DEFAULT_BUS {
                self.refresh_schedules(&conn)?;
            }
            compiled
        };
        self.write_routes().insert(bus.to_string(), compiled.into());
        Ok(())
    }

    // ----- events -----

    /// Events accepted by `PutEvents` since the service opened, counted in the 64 KB chunks
    /// AWS bills (an entry of 65 KB counts twice).
    pub fn billed_events(&self) -> u64 {
        self.inner
            .billed_events
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn put_events(&self, body: &Value) -> Result<Value, EventsError> {
        let entries = body
            .get("Entries")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                EventsError::validation(
                    "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
                )
            })?;
        if entries.is_empty() || entries.len() > MAX_PUT_EVENTS_ENTRIES {
            return Err(EventsError::validation(format!(
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and {MAX_PUT_EVENTS_ENTRIES}"
            )));
        }
        let size: usize = entries.iter().map(entry_size).sum();
        if size > MAX_PUT_EVENTS_SIZE {
            return Err(EventsError::validation(format!(
                "Total size of the entries in the request is over the limit: {size} bytes, at most {MAX_PUT_EVENTS_SIZE} allowed."
            )));
        }
        let now = self.inner.clock.now_millis();
        let mut results = Vec::with_capacity(entries.len());
        let mut failed = 0;
        let mut deliveries = Vec::new();
        for entry in entries {
            match self.accept_event(entry, now, &mut deliveries) {
                Ok(id) => {
                    let chunks = entry_size(entry).div_ceil(64 * 1024).max(1) as u64;
                    self.inner
                        .billed_events
                        .fetch_add(chunks, std::sync::atomic::Ordering::Relaxed);
                    results.push(json!({"EventId": id}));
                }
                Err((code, message)) => {
                    failed += 1;
                    results.push(json!({"ErrorCode": code, "ErrorMessage": message}));
                }
            }
        }
        self.dispatch_durably(deliveries)?;
        Ok(json!({"FailedEntryCount": failed, "Entries": results}))
    }

    /// Builds the event of one entry and the deliveries it causes; returns its id.
    fn accept_event(
        &self,
        entry: &Value,
        now: i64,
        deliveries: &mut Vec<Delivery>,
    ) -> Result<String, (&'static str, String)> {
        let text = |name: &str| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let missing = |name: &str| {
            (
                "InvalidArgument",
                format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
            )
        };
        let source = text("Source").ok_or_else(|| missing("Source"))?;
        let detail_type = text("DetailType").ok_or_else(|| missing("DetailType"))?;
        let detail_text = text("Detail").ok_or_else(|| missing("Detail"))?;
        let detail: Value = serde_json::from_str(detail_text)
            .ok()
            .filter(Value::is_object)
            .ok_or(("MalformedDetail", "Detail is malformed.".to_string()))?;
        let resources: Vec<Value> = match entry.get("Resources") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items.clone(),
            Some(_) => {
                return Err((
                    "InvalidArgument",
                    "Parameter Resources is not valid. Reason: Resources must be a list of strings."
                        .into(),
                ));
            }
        };
        let time = match entry.get("Time") {
            Some(Value::Number(n)) => n.as_f64().map(|s| (s * 1000.0) as i64).unwrap_or(now),
            _ => now,
        };
        let bus = Self::bus_name(entry, "EventBusName")
            .map_err(|e| ("InvalidArgument", e.message().to_string()))?;
        let routes = self
            .inner
            .routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&bus)
            .cloned()
            .ok_or_else(|| {
                (
                    "ResourceNotFoundException",
                    format!("Event bus {bus} does not exist."),
                )
            })?;
        let id = uuid::Uuid::new_v4().to_string();
        let time = rfc3339_seconds(time);
        let event = json!({
            "version": "0",
            "id": id,
            "detail-type": detail_type,
            "source": source,
            "account": self.inner.account,
            "time": time,
            "region": self.inner.region,
            "resources": resources,
            "detail": detail,
        });
        for rule in routes.iter().filter(|r| r.pattern.matches(&event)) {
            target_deliveries(
                &rule.name,
                &rule.arn,
                &rule.targets,
                &event,
                &id,
                &time,
                deliveries,
            );
        }
        Ok(id)
    }

    // ----- schedules -----

    /// Rebuilds the schedule rules (enabled, with targets, on the default bus), keeping when
    /// each one that did not change fires next.
    fn refresh_schedules(&self, conn: &Connection) -> Result<(), EventsError> {
        let now = self.inner.clock.now_millis();
        let mut fresh = Vec::new();
        let mut schedules = lock_ignoring_poison(&self.inner.schedules);
        for (name, spec) in store::rules(conn, DEFAULT_BUS)? {
            let enabled = spec["State"]
                .as_str()
                .is_some_and(|s| s.starts_with("ENABLED"));
            let Some(expression) = spec["ScheduleExpression"].as_str() else {
                continue;
            };
            let Some(schedule) = Schedule::parse(expression).filter(|_| enabled) else {
                continue;
            };
            let targets: Vec<CompiledTarget> = store::targets(conn, DEFAULT_BUS, &name)?
                .iter()
                .filter_map(|t| Self::compile_target(t).ok())
                .collect();
            if targets.is_empty() {
                continue;
            }
            let arn = self.rule_arn(DEFAULT_BUS, &name);
            let (anchor_ms, next_at) = match schedules
                .iter()
                .find(|s| s.arn == arn && s.schedule == schedule)
            {
                Some(kept) => (kept.anchor_ms, kept.next_at),
                None => (now, schedule.next_after(now, now)),
            };
            fresh.push(ScheduledRule {
                name,
                arn,
                schedule,
                anchor_ms,
                next_at,
                targets,
            });
        }
        *schedules = fresh;
        Ok(())
    }

    /// Starts firing schedule rules, every [`Options::schedule_tick`]; the host calls it once
    /// its targets can take deliveries (with [`EventBridge::resume_pending`]). Calling it again
    /// changes nothing. The task ends when the service is dropped.
    pub fn start_schedules(&self) {
        if self
            .inner
            .schedules_started
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let tick = self.inner.schedule_tick;
        self.inner.runtime.spawn(async move {
            loop {
                tokio::time::sleep(tick).await;
                let Some(inner) = weak.upgrade() else { break };
                EventBridge { inner }.fire_due_schedules();
            }
        });
    }

    /// Fires every schedule rule that is due on the service's clock: one `Scheduled Event`
    /// from `aws.events` to each of its targets, made as durably as `PutEvents`' deliveries.
    /// Fires that fell due while nothing ran (a stopped presso, a clock moved forward) are
    /// made once, not once each. Answers how many rules fired.
    pub fn fire_due_schedules(&self) -> usize {
        let now = self.inner.clock.now_millis();
        let mut deliveries = Vec::new();
        let mut fired = 0;
        {
            let mut schedules = lock_ignoring_poison(&self.inner.schedules);
            for rule in schedules.iter_mut() {
                let Some(due) = rule.next_at.filter(|&at| at <= now) else {
                    continue;
                };
                rule.next_at = rule.schedule.next_after(now, rule.anchor_ms);
                fired += 1;
                let id = uuid::Uuid::new_v4().to_string();
                let time = rfc3339_seconds(due);
                let event = json!({
                    "version": "0",
                    "id": id,
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": self.inner.account,
                    "time": time,
                    "region": self.inner.region,
                    "resources": [rule.arn],
                    "detail": {},
                });
                target_deliveries(
                    &rule.name,
                    &rule.arn,
                    &rule.targets,
                    &event,
                    &id,
                    &time,
                    &mut deliveries,
                );
            }
        }
        if let Err(e) = self.dispatch_durably(deliveries) {
            tracing::error!(error = %e, "eventbridge: cannot keep the scheduled deliveries");
        }
        fired
    }

    // ----- delivery -----

    /// Keeps the deliveries (those with an input) before `PutEvents` answers, then makes them;
    /// each is forgotten once made or dead-lettered. A crash in between is made good by
    /// [`EventBridge::resume_pending`] on the next start: at least once, as on AWS.
    fn dispatch_durably(&self, deliveries: Vec<Delivery>) -> Result<(), EventsError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let rows: Vec<(&str, &str, &str, &str, String)> = deliveries
            .iter()
            .filter_map(|d| {
                d.input.as_ref().ok().map(|input| {
                    (
                        d.event_id.as_str(),
                        d.rule_arn.as_str(),
                        d.target_id.as_str(),
                        d.target_arn.as_str(),
                        input.to_string(),
                    )
                })
            })
            .collect();
        let mut ids = store::add_pending(&mut self.lock(), &rows)?.into_iter();
        for d in deliveries {
            let seq = if d.input.is_ok() { ids.next() } else { None };
            self.dispatch(d, seq);
        }
        Ok(())
    }

    /// Makes the deliveries a previous run accepted and did not finish. The host calls it once
    /// its targets (functions, state machines) can take them; answers how many there were.
    pub fn resume_pending(&self) -> Result<usize, EventsError> {
        let rows = store::pending(&self.lock())?;
        let n = rows.len();
        for r in rows {
            let input = serde_json::from_str(&r.input).map_err(|e| e.to_string());
            self.dispatch(
                Delivery {
                    event_id: r.event_id,
                    rule_arn: r.rule_arn,
                    target_id: r.target_id,
                    target_arn: r.target_arn,
                    input,
                },
                Some(r.seq),
            );
        }
        if n > 0 {
            tracing::info!(
                resumed = n,
                "eventbridge: making the deliveries a previous run left unmade"
            );
        }
        Ok(n)
    }

    fn dispatch(&self, delivery: Delivery, pending: Option<i64>) {
        let this = self.clone();
        self.inner.runtime.spawn(async move {
            this.deliver(delivery).await;
            if let Some(seq) = pending {
                this.forget(seq);
            }
        });
    }

    /// Marks a delivery made; the store forgets made deliveries 256 at a time, and the rest
    /// within 100 ms (a flusher task started with the first one).
    fn forget(&self, seq: i64) {
        self.note_made(|m| m.seqs.push(seq));
    }

    /// Adds to what the next batch commits: at 256 entries at once, else within 100 ms.
    fn note_made(&self, add: impl FnOnce(&mut Made)) {
        let first = {
            let mut made = lock_ignoring_poison(&self.inner.made);
            add(&mut made);
            if made.len() >= 256 {
                let batch = std::mem::take(&mut *made);
                drop(made);
                self.commit_made(batch);
                return;
            }
            made.len() == 1
        };
        if first {
            let this = self.clone();
            self.inner.runtime.spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                this.flush_made();
            });
        }
    }

    /// Commits whatever made deliveries and log events are waiting.
    fn flush_made(&self) {
        let batch = std::mem::take(&mut *lock_ignoring_poison(&self.inner.made));
        self.commit_made(batch);
    }

    fn commit_made(&self, batch: Made) {
        if batch.len() == 0 {
            return;
        }
        if let Err(e) = store::commit_made(&mut self.lock(), &batch.logs, &batch.seqs) {
            tracing::warn!(error = %e, n = batch.seqs.len(), "could not forget made deliveries; they will be made again after a restart");
        }
    }

    async fn deliver(&self, delivery: Delivery) {
        let input = match &delivery.input {
            Ok(input) => input,
            Err(reason) => {
                self.dead_letter(&delivery, reason, 0);
                return;
            }
        };
        let retry = self.inner.retry;
        let attempts = retry.attempts.max(1);
        let mut last_error = String::new();
        for attempt in 1..=attempts {
            if attempt > 1 {
                tokio::time::sleep(retry.delay_before(attempt)).await;
            }
            let outcome = match log_group_of(&delivery.target_arn) {
                Some(group) => {
                    // Written with the batch that forgets the delivery.
                    let message = log_message(input);
                    let group = group.trim_start_matches('/').to_owned();
                    let at = self.inner.clock.now_millis();
                    self.note_made(|m| m.logs.push((group, at, message)));
                    Ok(())
                }
                None => {
                    self.inner
                        .invoker
                        .deliver(&delivery.target_arn, input.clone())
                        .await
                }
            };
            match outcome {
                Ok(()) => return,
                Err(e @ DeliveryError::NotFound(_)) => {
                    self.dead_letter(&delivery, &e.to_string(), attempt);
                    return;
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        self.dead_letter(&delivery, &last_error, attempts);
    }

    fn dead_letter(&self, delivery: &Delivery, error: &str, attempts: u32) {
        tracing::warn!(
            event_id = %delivery.event_id,
            rule = %delivery.rule_arn,
            target = %delivery.target_arn,
            attempts,
            error,
            "eventbridge delivery failed; kept in the dead-letter list (GET /_presso/dead-letters)"
        );
        let now = self.inner.clock.now_millis();
        let body = json!({
            "time": rfc3339_seconds(now),
            "eventId": delivery.event_id,
            "ruleArn": delivery.rule_arn,
            "targetId": delivery.target_id,
            "targetArn": delivery.target_arn,
            "input": delivery.input.as_ref().ok(),
            "error": error,
            "attempts": attempts,
        });
        if let Err(e) = store::append_dead_letter(&self.lock(), now, &body) {
            tracing::error!(error = %e, "cannot store a dead letter; it is only in this log line");
        }
    }

    /// Appends an input to a log group (the built-in log target): strings as they are, other
    /// values as JSON text.
    pub fn append_log(&self, group: &str, input: &Value) -> Result<(), EventsError> {
        let group = group.trim_start_matches('/');
        let at = self.inner.clock.now_millis();
        store::append_log(&self.lock(), group, at, &log_message(input))?;
        Ok(())
    }

    /// The newest `limit` events of a log group, oldest first, as `{timestamp, message}`.
    pub fn log_events(&self, group: &str, limit: usize) -> Result<Vec<Value>, EventsError> {
        self.flush_made();
        let group = group.trim_start_matches('/');
        let rows = store::log_events(
            &self.lock(),
            group,
            i64::try_from(limit).unwrap_or(i64::MAX),
        )?;
        Ok(rows
            .into_iter()
            .map(|(at, message)| json!({"timestamp": at, "message": message}))
            .collect())
    }

    /// How many events a log group holds.
    pub fn log_count(&self, group: &str) -> Result<u64, EventsError> {
        self.flush_made();
        let n = store::log_count(&self.lock(), group.trim_start_matches('/'))?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// The newest `limit` dead letters, oldest first.
    pub fn dead_letters(&self, limit: usize) -> Result<Vec<Value>, EventsError> {
        Ok(store::dead_letters(
            &self.lock(),
            i64::try_from(limit).unwrap_or(i64::MAX),
        )?)
    }
}

/// What AWS counts toward the `PutEvents` size limit for one entry.
/// The deliveries of `event` to each of a rule's targets, with each target's input.
fn target_deliveries(
    rule_name: &str,
    rule_arn: &str,
    targets: &[CompiledTarget],
    event: &Value,
    id: &str,
    time: &str,
    out: &mut Vec<Delivery>,
) {
    let cx = DeliveryContext {
        rule_arn,
        rule_name,
        ingestion_time: time,
    };
    for target in targets {
        let input = match &target.input {
            InputMode::Event => Ok(event.clone()),
            InputMode::Constant(v) => Ok(v.clone()),
            InputMode::Path(p) => Ok(p.select(event).cloned().unwrap_or(Value::Null)),
            InputMode::Transform(t) => t.fill(event, &cx),
        };
        out.push(Delivery {
            event_id: id.to_owned(),
            rule_arn: rule_arn.to_owned(),
            target_id: target.id.clone(),
            target_arn: target.arn.clone(),
            input,
        });
    }
}

/// A log target's message: strings as they are, other values as JSON text.
fn log_message(input: &Value) -> String {
    match input {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn entry_size(entry: &Value) -> usize {
    let len = |name: &str| entry.get(name).and_then(Value::as_str).map_or(0, str::len);
    let time = if entry.get("Time").is_some_and(|t| !t.is_null()) {
        14
    } else {
        0
    };
    let resources: usize = entry
        .get("Resources")
        .and_then(Value::as_array)
        .map_or(0, |r| {
            r.iter().filter_map(Value::as_str).map(str::len).sum()
        });
    time + len("Source") + len("DetailType") + len("Detail") + resources
}

fn test_event_pattern(body: &Value) -> Result<Value, EventsError> {
    let pattern = required(body, "EventPattern")?;
    let event = required(body, "Event")?;
    match presso_eventpattern::test_event_pattern(pattern, event) {
        Ok(result) => Ok(json!({"Result": result})),
        Err(e) => {
            let kind = match e.error_type() {
                "InvalidEventPatternException" => ErrorType::InvalidEventPatternException,
                _ => ErrorType::ValidationException,
            };
            Err(EventsError::new(kind, e.to_string()))
        }
    }
}
