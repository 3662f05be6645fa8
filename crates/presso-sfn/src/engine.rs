//! The service's one writer: a thread that owns the database and every execution.
//!
//! Requests, task results and due timers arrive as messages. The thread takes whatever is
//! queued (up to a batch), handles each in one SQLite transaction, commits, and only then
//! answers the callers and starts the side effects the batch produced (tasks for the host,
//! timers). So an acknowledged call is durable, a task is recorded before it runs, and the
//! database and the engine never disagree: nothing else writes. Batching is the group
//! commit that makes thousands of executions a second cheap.
//!
//! Work a batch creates for itself (a task this service runs, such as `startExecution` or
//! `aws-sdk:sfn:*`, or a child execution finishing for a `.sync` parent) goes on a queue
//! inside the same transaction, so it is atomic with what caused it.

use crate::db;
use crate::error::SfnError;
use crate::hooks::{Hooks, TaskError};
use crate::tasks::{self, External, Kind};
use presso_asl::{Action, Command, Definition, Execution, ExecutionError, ExecutionState, Status};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// Where the service keeps its state and how it names things.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The folder holding `stepfunctions.sqlite3`; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    pub region: String,
    pub account: String,
    /// Hold the executions a previous run left (and every timer) until [`Service::start`]:
    /// for a host whose hooks (the bus, the functions) are wired after the service opens, so
    /// nothing a reopened execution does goes to a target that is not there yet. API calls
    /// are answered meanwhile.
    pub hold_until_started: bool,
}

impl ServiceConfig {
    /// In memory, in `us-east-1` of account `000000000000` (what local emulators use).
    pub fn in_memory() -> ServiceConfig {
        ServiceConfig {
            data_dir: None,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            hold_until_started: false,
        }
    }
}

pub(crate) enum Msg {
    Call {
        operation: String,
        body: Value,
        reply: oneshot::Sender<Result<Value, SfnError>>,
    },
    TaskDone {
        exec: String,
        task_id: u64,
        result: Result<Value, TaskError>,
    },
    Wake,
    /// Ends the hold of [`ServiceConfig::hold_until_started`].
    Start,
    Shutdown,
}

/// The Step Functions service: cheap to clone, safe to share.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Handle>,
}

struct Handle {
    tx: mpsc::Sender<Msg>,
    usage: Arc<Metered>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

impl Service {
    /// Opens the service, reloading every pending execution, token and timer. Must be called
    /// inside a tokio runtime: tasks for the host run on it.
    pub fn open(config: ServiceConfig, hooks: Hooks) -> Result<Service, SfnError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| SfnError::Internal("Service::open needs a tokio runtime".into()))?;
        let conn = db::open(config.data_dir.as_deref())?;
        let (tx, rx) = mpsc::channel();
        let usage = Arc::new(Metered::default());
        let mut core = Core {
            conn,
            config,
            hooks,
            runtime,
            tx: tx.clone(),
            defs: HashMap::new(),
            timers: BTreeSet::new(),
            timer_at: HashMap::new(),
            usage: usage.clone(),
            holding: false,
        };
        core.holding = core.config.hold_until_started;
        let recovered = core.recover()?;
        let thread = std::thread::Builder::new()
            .name("presso-sfn".into())
            .spawn(move || core.run(rx, recovered))
            .map_err(|e| SfnError::Internal(format!("cannot start the engine thread: {e}")))?;
        Ok(Service {
            inner: Arc::new(Handle {
                tx,
                usage,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Ends the hold of [`ServiceConfig::hold_until_started`]: reopened executions and timers
    /// run from now on.
    pub fn start(&self) {
        let _ = self.inner.tx.send(Msg::Start);
    }

    /// State transitions and finished executions since the service opened.
    pub fn usage(&self) -> Usage {
        use std::sync::atomic::Ordering::Relaxed;
        Usage {
            state_transitions: self.inner.usage.transitions.load(Relaxed),
            executions_finished: self.inner.usage.finished.load(Relaxed),
        }
    }

    /// Answers one API call by its operation name (`StartExecution`) and JSON body.
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, SfnError> {
        let (reply, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Msg::Call {
                operation: operation.to_string(),
                body,
                reply,
            })
            .map_err(|_| SfnError::Internal("the service has stopped".into()))?;
        rx.await
            .map_err(|_| SfnError::Internal("the service stopped during the call".into()))?
    }

    /// Like [`Service::call`], from the raw request body (malformed JSON is the caller's fault).
    pub async fn call_json(&self, operation: &str, body: &[u8]) -> Result<Value, SfnError> {
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(body).map_err(|e| {
                SfnError::Serialization(format!("the request body is not valid JSON: {e}"))
            })?
        };
        if !body.is_object() {
            return Err(SfnError::Serialization(
                "the request body must be a JSON object".into(),
            ));
        }
        self.call(operation, body).await
    }

    /// Tells the timer driver the clock moved (after `POST /_presso/clock`), so due timers
    /// fire now rather than at their wall-clock time.
    pub fn clock_changed(&self) {
        let _ = self.inner.tx.send(Msg::Wake);
    }
}

/// A caller waiting for its answer, and the answer (sent once the batch is committed).
type Reply = (
    oneshot::Sender<Result<Value, SfnError>>,
    Result<Value, SfnError>,
);

pub(crate) enum Work {
    Command {
        exec: String,
        cmd: Command,
    },
    Internal {
        exec: String,
        task: presso_asl::TaskRequest,
    },
}

pub(crate) enum TimerOp {
    Add(String, u64, i64),
    Remove(String, u64),
}

/// What one batch has to do once it is committed.
#[derive(Default)]
pub(crate) struct Batch {
    pub(crate) now: i64,
    pub(crate) work: VecDeque<Work>,
    pub(crate) external: Vec<External>,
    pub(crate) timer_ops: Vec<TimerOp>,
}

/// One execution row, as the engine needs it.
pub(crate) struct ExecRow {
    pub(crate) seq: i64,
    pub(crate) arn: String,
    pub(crate) sm_arn: String,
    pub(crate) revision: i64,
}

pub(crate) struct Core {
    pub(crate) conn: Connection,
    pub(crate) config: ServiceConfig,
    pub(crate) hooks: Hooks,
    runtime: tokio::runtime::Handle,
    tx: mpsc::Sender<Msg>,
    /// Compiled definitions by (state machine, revision).
    defs: HashMap<(String, i64), Arc<Definition>>,
    /// Pending timers by deadline (the copy of the `timers` table the driver sleeps on).
    timers: BTreeSet<(i64, String, u64)>,
    timer_at: HashMap<(String, u64), i64>,
    usage: Arc<Metered>,
    /// See [`ServiceConfig::hold_until_started`].
    holding: bool,
}

/// What the service has done since it opened, as AWS bills it.
#[derive(Debug, Default)]
struct Metered {
    transitions: std::sync::atomic::AtomicU64,
    finished: std::sync::atomic::AtomicU64,
}

/// State transitions and executions finished since the service opened (an execution's
/// transitions count when it ends).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub state_transitions: u64,
    pub executions_finished: u64,
}

const MAX_BATCH: usize = 512;
const MAX_TIMERS_PER_BATCH: usize = 2048;

impl Core {
    /// Loads the timers and finds the tasks a crash interrupted: a task without a token that
    /// was started but never answered may have run, so it is failed (once), not run again.
    fn recover(&mut self) -> Result<Vec<Work>, SfnError> {
        let mut stmt = self
            .conn
            .prepare("SELECT exec_arn, timer_id, fire_at FROM timers")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut timers = Vec::new();
        for row in rows {
            timers.push(row?);
        }
        drop(stmt);
        for (exec, id, at) in timers {
            self.timers.insert((at, exec.clone(), id as u64));
            self.timer_at.insert((exec, id as u64), at);
        }
        let mut stmt = self.conn.prepare(
            "SELECT exec_arn, task_id, resource FROM tasks WHERE token IS NULL AND child_arn IS NULL",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut work = Vec::new();
        for row in rows {
            let (exec, task_id, resource) = row?;
            work.push(Work::Command {
                exec,
                cmd: Command::TaskFailed {
                    task_id: task_id as u64,
                    error: "States.TaskFailed".into(),
                    cause: Some(format!(
                        "presso stopped while the task {resource} was running; it may have run, so it is not run again"
                    )),
                },
            });
        }
        Ok(work)
    }

    fn run(mut self, rx: mpsc::Receiver<Msg>, recovered: Vec<Work>) {
        let mut held = Some(recovered);
        loop {
            if self.holding && held.is_some() {
                // Held: answer calls, fire nothing, until the host says start.
                let Ok(m) = rx.recv() else { return };
                match m {
                    Msg::Start => self.holding = false,
                    Msg::Shutdown => return,
                    m => {
                        self.handle_batch(vec![m]);
                        continue;
                    }
                }
            }
            if let Some(recovered) = held.take()
                && !recovered.is_empty()
            {
                let mut b = Batch {
                    work: recovered.into(),
                    ..Batch::default()
                };
                self.commit_batch(&mut b, Vec::new());
            }
            let first = match self.timers.first().map(|t| t.0) {
                Some(at) => {
                    let delay = self.hooks.clock.real_delay_until(at);
                    if delay.is_zero() {
                        match rx.try_recv() {
                            Ok(m) => Some(m),
                            Err(mpsc::TryRecvError::Empty) => None,
                            Err(mpsc::TryRecvError::Disconnected) => return,
                        }
                    } else {
                        // Bounded, so a clock advanced by another means is noticed too.
                        match rx.recv_timeout(delay.min(Duration::from_secs(1))) {
                            Ok(m) => Some(m),
                            Err(mpsc::RecvTimeoutError::Timeout) => None,
                            Err(mpsc::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                }
                None => match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return,
                },
            };
            let mut msgs: Vec<Msg> = first.into_iter().collect();
            while msgs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(m) => msgs.push(m),
                    Err(_) => break,
                }
            }
            let stop = msgs.iter().any(|m| matches!(m, Msg::Shutdown));
            self.handle_batch(msgs);
            if stop {
                return;
            }
        }
    }

    fn handle_batch(&mut self, msgs: Vec<Msg>) {
        let mut b = Batch::default();
        let mut replies = Vec::new();
        if let Err(e) = self.conn.execute_batch("BEGIN") {
            tracing::error!(error = %e, "cannot begin a transaction");
            let err = SfnError::from(e);
            for m in msgs {
                if let Msg::Call { reply, .. } = m {
                    let _ = reply.send(Err(err.clone()));
                }
            }
            return;
        }
        for msg in msgs {
            match msg {
                Msg::Call {
                    operation,
                    body,
                    reply,
                } => {
                    b.now = self.hooks.clock.now_ms();
                    let result = self.api(&mut b, &operation, &body);
                    let result = result.and_then(|v| self.run_work(&mut b).map(|()| v));
                    replies.push((reply, result));
                }
                Msg::TaskDone {
                    exec,
                    task_id,
                    result,
                } => {
                    b.now = self.hooks.clock.now_ms();
                    if let Err(e) = self.task_done(&mut b, &exec, task_id, result) {
                        tracing::error!(exec, task_id, error = %e, "cannot record a task result");
                    }
                }
                Msg::Wake | Msg::Start | Msg::Shutdown => {}
            }
        }
        b.now = self.hooks.clock.now_ms();
        if self.holding {
            // Held: what the calls did is committed; timers wait for the start.
        } else if let Err(e) = self.fire_due_timers(&mut b) {
            tracing::error!(error = %e, "cannot fire timers");
        }
        self.commit_batch(&mut b, replies);
    }

    /// Runs the batch's remaining work, commits, then answers and acts.
    fn commit_batch(&mut self, b: &mut Batch, replies: Vec<Reply>) {
        if self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("BEGIN")
        {
            tracing::error!(error = %e, "cannot begin a transaction");
            return;
        }
        if let Err(e) = self.run_work(b) {
            tracing::error!(error = %e, "internal work failed");
        }
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => {
                for (reply, result) in replies {
                    let _ = reply.send(result);
                }
                for op in std::mem::take(&mut b.timer_ops) {
                    match op {
                        TimerOp::Add(exec, id, at) => {
                            self.timers.insert((at, exec.clone(), id));
                            self.timer_at.insert((exec, id), at);
                        }
                        TimerOp::Remove(exec, id) => {
                            if let Some(at) = self.timer_at.remove(&(exec.clone(), id)) {
                                self.timers.remove(&(at, exec, id));
                            }
                        }
                    }
                }
                for task in std::mem::take(&mut b.external) {
                    self.spawn_external(task);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed");
                let _ = self.conn.execute_batch("ROLLBACK");
                let err = SfnError::from(e);
                for (reply, _) in replies {
                    let _ = reply.send(Err(err.clone()));
                }
            }
        }
    }

    fn spawn_external(&self, task: External) {
        let hooks = self.hooks.clone();
        let tx = self.tx.clone();
        self.runtime.spawn(async move {
            let result = tasks::run_external(&hooks, &task).await;
            let _ = tx.send(Msg::TaskDone {
                exec: task.exec,
                task_id: task.task_id,
                result,
            });
        });
    }

    fn fire_due_timers(&mut self, b: &mut Batch) -> Result<(), SfnError> {
        let mut fired = 0;
        while let Some((at, exec, id)) = self.timers.first().cloned() {
            if at > b.now || fired >= MAX_TIMERS_PER_BATCH {
                break;
            }
            self.timers.pop_first();
            self.timer_at.remove(&(exec.clone(), id));
            fired += 1;
            let n = self.conn.execute(
                "DELETE FROM timers WHERE exec_arn = ?1 AND timer_id = ?2",
                params![exec, id as i64],
            )?;
            if n == 1 {
                b.work.push_back(Work::Command {
                    exec,
                    cmd: Command::TimerFired { timer_id: id },
                });
            }
        }
        self.run_work(b)
    }

    fn task_done(
        &mut self,
        b: &mut Batch,
        exec: &str,
        task_id: u64,
        result: Result<Value, TaskError>,
    ) -> Result<(), SfnError> {
        let token: Option<Option<String>> = self
            .conn
            .query_row(
                "DELETE FROM tasks WHERE exec_arn = ?1 AND task_id = ?2 RETURNING token",
                params![exec, task_id as i64],
                |r| r.get(0),
            )
            .optional()?;
        let Some(token) = token else {
            // The execution ended meanwhile; its task rows went with it.
            return Ok(());
        };
        let cmd = match result {
            // A callback task waits for SendTask*: delivering the event was only its start.
            Ok(_) if token.is_some() => return Ok(()),
            Ok(output) => Command::TaskSucceeded { task_id, output },
            Err(e) => Command::TaskFailed {
                task_id,
                error: e.error,
                cause: Some(e.cause),
            },
        };
        b.work.push_back(Work::Command {
            exec: exec.to_string(),
            cmd,
        });
        self.run_work(b)
    }

    /// Drains the batch's work queue.
    pub(crate) fn run_work(&mut self, b: &mut Batch) -> Result<(), SfnError> {
        while let Some(w) = b.work.pop_front() {
            match w {
                Work::Command { exec, cmd } => {
                    // A command for a task or timer that is gone is simply dropped here;
                    // SendTask* callers are answered in `deliver`.
                    let _ = self.drive(b, &exec, cmd)?;
                }
                Work::Internal { exec, task } => {
                    let task_id = task.task_id;
                    match tasks::run_internal(self, b, &exec, task) {
                        Ok(Some(output)) => b.work.push_back(Work::Command {
                            exec,
                            cmd: Command::TaskSucceeded { task_id, output },
                        }),
                        Ok(None) => {}
                        Err(e) => b.work.push_back(Work::Command {
                            exec,
                            cmd: Command::TaskFailed {
                                task_id,
                                error: e.error,
                                cause: Some(e.cause),
                            },
                        }),
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn definition(
        &mut self,
        sm_arn: &str,
        revision: i64,
    ) -> Result<Arc<Definition>, SfnError> {
        if let Some(d) = self.defs.get(&(sm_arn.to_string(), revision)) {
            return Ok(d.clone());
        }
        let text: String = self.conn.query_row(
            "SELECT definition FROM revisions WHERE sm_arn = ?1 AND revision = ?2",
            params![sm_arn, revision],
            |r| r.get(0),
        )?;
        let def = Arc::new(Definition::parse(&text).map_err(|e| {
            SfnError::Internal(format!("a stored definition no longer parses: {e}"))
        })?);
        self.defs
            .insert((sm_arn.to_string(), revision), def.clone());
        Ok(def)
    }

    pub(crate) fn exec_row(
        &self,
        arn: &str,
    ) -> Result<Option<(ExecRow, Option<String>)>, SfnError> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, sm_arn, revision, state FROM executions WHERE arn = ?1",
                [arn],
                |r| {
                    Ok((
                        ExecRow {
                            seq: r.get(0)?,
                            arn: arn.to_string(),
                            sm_arn: r.get(1)?,
                            revision: r.get(2)?,
                        },
                        r.get::<_, Option<String>>(3)?,
                    ))
                },
            )
            .optional()?)
    }

    /// Feeds one command to a stored execution and records what it did. The inner result is
    /// the engine's refusal (finished execution, stale task), which callers map themselves.
    pub(crate) fn drive(
        &mut self,
        b: &mut Batch,
        exec: &str,
        cmd: Command,
    ) -> Result<Result<(), ExecutionError>, SfnError> {
        let Some((row, state)) = self.exec_row(exec)? else {
            return Ok(Err(ExecutionError::Finished));
        };
        let Some(state) = state else {
            return Ok(Err(ExecutionError::Finished));
        };
        let state: ExecutionState = serde_json::from_str(&state)?;
        let def = self.definition(&row.sm_arn, row.revision)?;
        let mut exe = Execution::restore(def, state)
            .map_err(|e| SfnError::Internal(format!("cannot restore {exec}: {e}")))?;
        let task_cmd = !matches!(cmd, Command::Stop { .. });
        let actions = match exe.handle(b.now, cmd) {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        self.apply(b, &row, &exe, actions)?;
        if task_cmd && exe.status() == Status::Running {
            self.close_spent_tokens(&exe, exec)?;
        }
        Ok(Ok(()))
    }

    /// Tokens the engine no longer waits on (timed out, answered) are spent.
    fn close_spent_tokens(&self, exe: &Execution, exec: &str) -> Result<(), SfnError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT token FROM tokens WHERE exec_arn = ?1 AND open = 1")?;
        let open: Vec<String> = stmt
            .query_map([exec], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for t in open {
            if exe.task_for_token(&t).is_none() {
                self.conn
                    .execute("UPDATE tokens SET open = 0 WHERE token = ?1", [&t])?;
            }
        }
        Ok(())
    }

    /// Carries out the engine's actions, in order, inside the batch's transaction.
    pub(crate) fn apply(
        &mut self,
        b: &mut Batch,
        row: &ExecRow,
        exe: &Execution,
        actions: Vec<Action>,
    ) -> Result<(), SfnError> {
        let mut finished = false;
        for action in actions {
            match action {
                Action::History(h) => {
                    let Some(first) = h.events.first() else {
                        continue;
                    };
                    let text = serde_json::to_string(&h)?;
                    self.conn
                        .prepare_cached(
                            "INSERT INTO history (exec_seq, first_id, events) VALUES (?1, ?2, ?3)",
                        )?
                        .execute(params![row.seq, first.id as i64, text])?;
                }
                Action::RunTask(task) => {
                    if let Some(token) = &task.token {
                        self.conn
                            .prepare_cached(
                                "INSERT OR REPLACE INTO tokens (token, exec_arn, task_id, open) VALUES (?1, ?2, ?3, 1)",
                            )?
                            .execute(params![token, row.arn, task.task_id as i64])?;
                    }
                    match tasks::classify(&task.resource) {
                        Kind::Internal => b.work.push_back(Work::Internal {
                            exec: row.arn.clone(),
                            task,
                        }),
                        Kind::External(kind) => {
                            self.conn
                                .prepare_cached(
                                    "INSERT OR REPLACE INTO tasks (exec_arn, task_id, resource, token) VALUES (?1, ?2, ?3, ?4)",
                                )?
                                .execute(params![row.arn, task.task_id as i64, task.resource, task.token])?;
                            b.external.push(External {
                                exec: row.arn.clone(),
                                task_id: task.task_id,
                                kind,
                                parameters: task.parameters,
                            });
                        }
                        Kind::Unsupported(why) => b.work.push_back(Work::Command {
                            exec: row.arn.clone(),
                            cmd: Command::TaskFailed {
                                task_id: task.task_id,
                                error: "States.Runtime".into(),
                                cause: Some(why),
                            },
                        }),
                    }
                }
                Action::StartTimer {
                    timer_id,
                    fire_at_ms,
                } => {
                    self.conn
                        .prepare_cached(
                            "INSERT OR REPLACE INTO timers (exec_arn, timer_id, fire_at) VALUES (?1, ?2, ?3)",
                        )?
                        .execute(params![row.arn, timer_id as i64, fire_at_ms])?;
                    b.timer_ops
                        .push(TimerOp::Add(row.arn.clone(), timer_id, fire_at_ms));
                }
                Action::CancelTimer { timer_id } => {
                    self.conn
                        .prepare_cached("DELETE FROM timers WHERE exec_arn = ?1 AND timer_id = ?2")?
                        .execute(params![row.arn, timer_id as i64])?;
                    b.timer_ops.push(TimerOp::Remove(row.arn.clone(), timer_id));
                }
                Action::Finished(o) => {
                    finished = true;
                    use std::sync::atomic::Ordering::Relaxed;
                    self.usage.transitions.fetch_add(exe.transitions(), Relaxed);
                    self.usage.finished.fetch_add(1, Relaxed);
                    let status = status_name(o.status);
                    let output = o.output.as_ref().map(|v| v.to_string());
                    self.conn
                        .prepare_cached(
                            "UPDATE executions SET status = ?1, output = ?2, error = ?3, cause = ?4, stop_ms = ?5, state = NULL WHERE seq = ?6",
                        )?
                        .execute(params![status, output, o.error, o.cause, b.now, row.seq])?;
                    self.release(b, &row.arn)?;
                    tasks::child_finished(self, b, &row.arn)?;
                }
            }
        }
        if !finished {
            let state = serde_json::to_string(exe.state())?;
            self.conn
                .prepare_cached("UPDATE executions SET state = ?1 WHERE seq = ?2")?
                .execute(params![state, row.seq])?;
        }
        Ok(())
    }

    /// An ended execution holds nothing: its timers, tasks and tokens go.
    fn release(&mut self, b: &mut Batch, exec: &str) -> Result<(), SfnError> {
        let ids: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare_cached("DELETE FROM timers WHERE exec_arn = ?1 RETURNING timer_id")?;
            stmt.query_map([exec], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        for id in ids {
            b.timer_ops
                .push(TimerOp::Remove(exec.to_string(), id as u64));
        }
        self.conn
            .prepare_cached("DELETE FROM tasks WHERE exec_arn = ?1")?
            .execute([exec])?;
        self.conn
            .prepare_cached("UPDATE tokens SET open = 0 WHERE exec_arn = ?1 AND open = 1")?
            .execute([exec])?;
        Ok(())
    }
}

pub(crate) fn status_name(s: Status) -> &'static str {
    match s {
        Status::Running => "RUNNING",
        Status::Succeeded => "SUCCEEDED",
        Status::Failed => "FAILED",
        Status::TimedOut => "TIMED_OUT",
        Status::Aborted => "ABORTED",
    }
}
