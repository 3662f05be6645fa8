//! The API operations, run on the engine thread inside the batch's transaction.
//!
//! Requests and responses are AWS's JSON shapes (camelCase members, timestamps as epoch
//! seconds); validation happens before anything is written, so a refused call leaves no
//! trace. Messages follow AWS's wording (`State Machine Does Not Exist: '<arn>'`) so what a
//! user searches for matches.

use crate::engine::{Batch, Core, ExecRow};
use crate::error::SfnError;
use presso_asl::{Command, Definition, Execution, StartContext};
use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value, json};

const MAX_PAGE: i64 = 1000;
const DEFAULT_PAGE: i64 = 100;
const MAX_INPUT_BYTES: usize = 256 * 1024;

fn secs(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn missing(k: &str) -> SfnError {
    SfnError::ValidationException(format!(
        "1 validation error detected: Value null at '{k}' failed to satisfy constraint: Member must not be null"
    ))
}

fn opt_str<'a>(body: &'a Value, k: &str) -> Result<Option<&'a str>, SfnError> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(SfnError::Serialization(format!("'{k}' must be a string"))),
    }
}

fn req_str<'a>(body: &'a Value, k: &str) -> Result<&'a str, SfnError> {
    opt_str(body, k)?.ok_or_else(|| missing(k))
}

fn opt_bool(body: &Value, k: &str) -> Result<Option<bool>, SfnError> {
    match body.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(SfnError::Serialization(format!("'{k}' must be a boolean"))),
    }
}

fn page_size(body: &Value) -> Result<i64, SfnError> {
    match body.get("maxResults") {
        None | Some(Value::Null) => Ok(DEFAULT_PAGE),
        Some(v) => match v.as_i64() {
            Some(0) => Ok(DEFAULT_PAGE),
            Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(SfnError::ValidationException(format!(
                "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
            ))),
        },
    }
}

fn page_token(body: &Value) -> Result<Option<i64>, SfnError> {
    match opt_str(body, "nextToken")? {
        None => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| SfnError::InvalidToken(format!("Invalid Token: '{t}'"))),
    }
}

/// AWS's rule for state machine and execution names.
pub(crate) fn validate_name(name: &str) -> Result<(), SfnError> {
    let bad = name.is_empty()
        || name.chars().count() > 80
        || name.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>'
                        | '{'
                        | '}'
                        | '['
                        | ']'
                        | '?'
                        | '*'
                        | '"'
                        | '#'
                        | '%'
                        | '\\'
                        | '^'
                        | '|'
                        | '~'
                        | '`'
                        | '$'
                        | '&'
                        | ','
                        | ';'
                        | ':'
                        | '/'
                )
        });
    if bad {
        return Err(SfnError::InvalidName(format!("Invalid Name: '{name}'")));
    }
    Ok(())
}

/// A state machine ARN, possibly of a published version (`...:stateMachine:name:3`).
pub(crate) struct MachineArn {
    pub(crate) base: String,
    pub(crate) name: String,
    pub(crate) version: Option<i64>,
}

fn arn_parts<'a>(arn: &'a str, kind: &str) -> Result<Vec<&'a str>, SfnError> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 7 || parts[0] != "arn" || parts[2] != "states" {
        return Err(SfnError::InvalidArn(format!(
            "Invalid Arn: 'Invalid ARN prefix: {arn}'"
        )));
    }
    if parts[5] != kind {
        return Err(SfnError::InvalidArn(format!(
            "Invalid Arn: 'Resource type not valid in this context: {}'",
            parts[5]
        )));
    }
    Ok(parts)
}

pub(crate) fn parse_machine_arn(arn: &str) -> Result<MachineArn, SfnError> {
    let parts = arn_parts(arn, "stateMachine")?;
    let version = match parts.len() {
        7 => None,
        8 => Some(parts[7].parse::<i64>().map_err(|_| {
            SfnError::InvalidArn(format!("Invalid Arn: 'Invalid version in ARN: {arn}'"))
        })?),
        _ => {
            return Err(SfnError::InvalidArn(format!(
                "Invalid Arn: 'Invalid ARN: {arn}'"
            )));
        }
    };
    Ok(MachineArn {
        base: parts[..7].join(":"),
        name: parts[6].to_string(),
        version,
    })
}

fn check_execution_arn(arn: &str) -> Result<(), SfnError> {
    let parts = arn_parts(arn, "execution")?;
    if parts.len() != 8 {
        return Err(SfnError::InvalidArn(format!(
            "Invalid Arn: 'Invalid ARN: {arn}'"
        )));
    }
    Ok(())
}

fn no_machine(arn: &str) -> SfnError {
    SfnError::StateMachineDoesNotExist(format!("State Machine Does Not Exist: '{arn}'"))
}

fn no_execution(arn: &str) -> SfnError {
    SfnError::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'"))
}

fn parse_definition(text: &str) -> Result<Definition, SfnError> {
    Definition::parse(text).map_err(|e| {
        let details = e
            .diagnostics
            .iter()
            .filter(|d| d.severity == presso_asl::Severity::Error)
            .map(|d| format!("{}: {} at {}", d.code, d.message, d.location))
            .collect::<Vec<_>>()
            .join(", ");
        SfnError::InvalidDefinition(format!("Invalid State Machine Definition: '{details}'"))
    })
}

struct Machine {
    name: String,
    kind: String,
    revision: i64,
    created_ms: i64,
    description: String,
}

impl Core {
    pub(crate) fn machine_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            self.config.region, self.config.account
        )
    }

    pub(crate) fn execution_arn(&self, machine: &str, name: &str) -> String {
        format!(
            "arn:aws:states:{}:{}:execution:{machine}:{name}",
            self.config.region, self.config.account
        )
    }

    /// Runs one operation by name.
    pub(crate) fn api(&mut self, b: &mut Batch, op: &str, body: &Value) -> Result<Value, SfnError> {
        match op {
            "CreateStateMachine" => self.create_state_machine(b, body),
            "UpdateStateMachine" => self.update_state_machine(b, body),
            "DescribeStateMachine" => self.describe_state_machine(body),
            "ListStateMachines" => self.list_state_machines(body),
            "DeleteStateMachine" => self.delete_state_machine(body),
            "ValidateStateMachineDefinition" => validate_definition(body),
            "StartExecution" => self.start_execution(b, body),
            "DescribeExecution" => self.describe_execution(req_str(body, "executionArn")?),
            "ListExecutions" => self.list_executions(body),
            "GetExecutionHistory" => self.get_execution_history(body),
            "StopExecution" => self.stop_execution(b, body),
            "DescribeStateMachineForExecution" => self.describe_machine_for_execution(body),
            "SendTaskSuccess" => {
                let output = req_str(body, "output")?;
                let output: Value = serde_json::from_str(output)
                    .map_err(|e| SfnError::InvalidOutput(format!("Invalid Output: '{e}'")))?;
                self.send_task(b, body, move |task_id| Command::TaskSucceeded {
                    task_id,
                    output,
                })
            }
            "SendTaskFailure" => {
                let error = opt_str(body, "error")?.unwrap_or_default().to_string();
                let cause = opt_str(body, "cause")?.map(str::to_string);
                self.send_task(b, body, move |task_id| Command::TaskFailed {
                    task_id,
                    error,
                    cause,
                })
            }
            "SendTaskHeartbeat" => {
                self.send_task(b, body, |task_id| Command::TaskHeartbeat { task_id })
            }
            other => Err(SfnError::UnknownOperation(format!(
                "presso's Step Functions does not implement the operation `{other}`"
            ))),
        }
    }

    fn machine(&self, arn: &str) -> Result<Option<Machine>, SfnError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT name, type, revision, created_ms, description FROM state_machines WHERE arn = ?1",
            )?
            .query_row([arn], |r| {
                Ok(Machine {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    revision: r.get(2)?,
                    created_ms: r.get(3)?,
                    description: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn revision(&self, sm_arn: &str, revision: i64) -> Result<(String, String, String), SfnError> {
        Ok(self.conn.query_row(
            "SELECT definition, role_arn, revision_id FROM revisions WHERE sm_arn = ?1 AND revision = ?2",
            params![sm_arn, revision],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    fn new_revision(
        &self,
        b: &Batch,
        arn: &str,
        definition: &str,
        role: &str,
    ) -> Result<(i64, String), SfnError> {
        let next: i64 = self.conn.query_row(
            "SELECT COALESCE(MAX(revision), 0) + 1 FROM revisions WHERE sm_arn = ?1",
            [arn],
            |r| r.get(0),
        )?;
        let id = uuid::Uuid::new_v4().to_string();
        self.conn.execute(
            "INSERT INTO revisions (sm_arn, revision, revision_id, definition, role_arn, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![arn, next, id, definition, role, b.now],
        )?;
        Ok((next, id))
    }

    fn publish(
        &self,
        b: &Batch,
        arn: &str,
        revision: i64,
        description: &str,
    ) -> Result<String, SfnError> {
        let latest: Option<(i64, i64)> = self
            .conn
            .query_row(
                "SELECT version, revision FROM versions WHERE sm_arn = ?1 ORDER BY version DESC LIMIT 1",
                [arn],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        // Publishing an unchanged revision answers the version that already holds it.
        if let Some((v, rev)) = latest
            && rev == revision
        {
            return Ok(format!("{arn}:{v}"));
        }
        let v = latest.map_or(1, |(v, _)| v + 1);
        self.conn.execute(
            "INSERT INTO versions (sm_arn, version, revision, description, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![arn, v, revision, description, b.now],
        )?;
        Ok(format!("{arn}:{v}"))
    }

    fn create_state_machine(&mut self, b: &mut Batch, body: &Value) -> Result<Value, SfnError> {
        let name = req_str(body, "name")?;
        validate_name(name)?;
        let definition = req_str(body, "definition")?;
        let role = req_str(body, "roleArn")?;
        let kind = opt_str(body, "type")?.unwrap_or("STANDARD");
        if kind != "STANDARD" && kind != "EXPRESS" {
            return Err(SfnError::ValidationException(format!(
                "1 validation error detected: Value '{kind}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
            )));
        }
        parse_definition(definition)?;
        let arn = self.machine_arn(name);
        if let Some(m) = self.machine(&arn)? {
            let (def, role_now, _) = self.revision(&arn, m.revision)?;
            if def == definition && role_now == role && m.kind == kind {
                return Ok(json!({"stateMachineArn": arn, "creationDate": secs(m.created_ms)}));
            }
            return Err(SfnError::StateMachineAlreadyExists(format!(
                "State Machine Already Exists: '{arn}'"
            )));
        }
        let (revision, _) = self.new_revision(b, &arn, definition, role)?;
        let description = opt_str(body, "description")?.unwrap_or_default();
        self.conn.execute(
            "INSERT INTO state_machines (arn, name, type, role_arn, revision, created_ms, updated_ms, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
            params![arn, name, kind, role, revision, b.now, description],
        )?;
        let mut out = json!({"stateMachineArn": arn, "creationDate": secs(b.now)});
        if opt_bool(body, "publish")?.unwrap_or(false) {
            let d = opt_str(body, "versionDescription")?.unwrap_or_default();
            out["stateMachineVersionArn"] = json!(self.publish(b, &arn, revision, d)?);
        }
        Ok(out)
    }

    fn update_state_machine(&mut self, b: &mut Batch, body: &Value) -> Result<Value, SfnError> {
        let arn = req_str(body, "stateMachineArn")?;
        let parsed = parse_machine_arn(arn)?;
        if parsed.version.is_some() {
            return Err(SfnError::ValidationException(
                "a version ARN cannot be updated; update the state machine's ARN".into(),
            ));
        }
        let m = self.machine(arn)?.ok_or_else(|| no_machine(arn))?;
        let definition = opt_str(body, "definition")?;
        let role = opt_str(body, "roleArn")?;
        if definition.is_none()
            && role.is_none()
            && body.get("loggingConfiguration").is_none()
            && body.get("tracingConfiguration").is_none()
        {
            return Err(SfnError::ValidationException(
                "Update requires at least one of definition, roleArn, loggingConfiguration or tracingConfiguration".into(),
            ));
        }
        if let Some(d) = definition {
            parse_definition(d)?;
        }
        let (cur_def, cur_role, cur_id) = self.revision(arn, m.revision)?;
        let new_def = definition.unwrap_or(&cur_def);
        let new_role = role.unwrap_or(&cur_role);
        let (revision, revision_id) = if new_def != cur_def || new_role != cur_role {
            let (rev, id) = self.new_revision(b, arn, new_def, new_role)?;
            self.conn.execute(
                "UPDATE state_machines SET revision = ?1, role_arn = ?2, updated_ms = ?3 WHERE arn = ?4",
                params![rev, new_role, b.now, arn],
            )?;
            (rev, id)
        } else {
            (m.revision, cur_id)
        };
        let mut out = json!({"updateDate": secs(b.now), "revisionId": revision_id});
        if opt_bool(body, "publish")?.unwrap_or(false) {
            let d = opt_str(body, "versionDescription")?.unwrap_or_default();
            out["stateMachineVersionArn"] = json!(self.publish(b, arn, revision, d)?);
        }
        Ok(out)
    }

    /// The machine and the revision an ARN names (a version ARN names its own revision).
    fn resolve_machine(&self, arn: &str) -> Result<(MachineArn, Machine, i64, i64), SfnError> {
        let parsed = parse_machine_arn(arn)?;
        let m = self.machine(&parsed.base)?.ok_or_else(|| no_machine(arn))?;
        match parsed.version {
            None => {
                let (rev, created) = (m.revision, m.created_ms);
                Ok((parsed, m, rev, created))
            }
            Some(v) => {
                let (rev, created): (i64, i64) = self
                    .conn
                    .query_row(
                        "SELECT revision, created_ms FROM versions WHERE sm_arn = ?1 AND version = ?2",
                        params![parsed.base, v],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?
                    .ok_or_else(|| no_machine(arn))?;
                Ok((parsed, m, rev, created))
            }
        }
    }

    fn describe_state_machine(&self, body: &Value) -> Result<Value, SfnError> {
        let arn = req_str(body, "stateMachineArn")?;
        let (_, m, revision, created) = self.resolve_machine(arn)?;
        let base = parse_machine_arn(arn)?.base;
        let (definition, role, revision_id) = self.revision(&base, revision)?;
        let mut out = json!({
            "stateMachineArn": arn,
            "name": m.name,
            "status": "ACTIVE",
            "definition": definition,
            "roleArn": role,
            "type": m.kind,
            "creationDate": secs(created),
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            "tracingConfiguration": {"enabled": false},
            "revisionId": revision_id,
        });
        if !m.description.is_empty() {
            out["description"] = json!(m.description);
        }
        Ok(out)
    }

    fn list_state_machines(&self, body: &Value) -> Result<Value, SfnError> {
        let limit = page_size(body)?;
        let offset = page_token(body)?.unwrap_or(0);
        let mut stmt = self.conn.prepare(
            "SELECT arn, name, type, created_ms FROM state_machines ORDER BY created_ms, arn LIMIT ?1 OFFSET ?2",
        )?;
        let rows: Vec<Value> = stmt
            .query_map(params![limit + 1, offset], |r| {
                Ok(json!({
                    "stateMachineArn": r.get::<_, String>(0)?,
                    "name": r.get::<_, String>(1)?,
                    "type": r.get::<_, String>(2)?,
                    "creationDate": secs(r.get(3)?),
                }))
            })?
            .collect::<Result<_, _>>()?;
        Ok(page(rows, limit, "stateMachines", |_| {
            (offset + limit).to_string()
        }))
    }

    fn delete_state_machine(&self, body: &Value) -> Result<Value, SfnError> {
        let arn = req_str(body, "stateMachineArn")?;
        let parsed = parse_machine_arn(arn)?;
        match parsed.version {
            Some(v) => {
                self.conn.execute(
                    "DELETE FROM versions WHERE sm_arn = ?1 AND version = ?2",
                    params![parsed.base, v],
                )?;
            }
            None => {
                // Executions keep their revision, so they still describe and finish.
                self.conn
                    .execute("DELETE FROM state_machines WHERE arn = ?1", [arn])?;
                self.conn
                    .execute("DELETE FROM versions WHERE sm_arn = ?1", [arn])?;
            }
        }
        Ok(json!({}))
    }

    pub(crate) fn start_execution(
        &mut self,
        b: &mut Batch,
        body: &Value,
    ) -> Result<Value, SfnError> {
        let arn = req_str(body, "stateMachineArn")?;
        let (parsed, m, revision, _) = self.resolve_machine(arn)?;
        let name = match opt_str(body, "name")? {
            Some(n) => {
                validate_name(n)?;
                n.to_string()
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let input_text = opt_str(body, "input")?.unwrap_or("{}");
        if input_text.len() > MAX_INPUT_BYTES {
            return Err(SfnError::InvalidExecutionInput(format!(
                "Invalid Execution Input: 'the input is {} bytes; the limit is 262144'",
                input_text.len()
            )));
        }
        let input: Value = serde_json::from_str(input_text).map_err(|e| {
            SfnError::InvalidExecutionInput(format!("Invalid Execution Input: '{e}'"))
        })?;
        let exec_arn = self.execution_arn(&m.name, &name);
        let existing: Option<(String, String, i64)> = self
            .conn
            .prepare_cached("SELECT status, input, start_ms FROM executions WHERE arn = ?1")?
            .query_row([&exec_arn], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        if let Some((status, prev_input, start_ms)) = existing {
            // AWS: same name and input while it runs is the same call; anything else is a clash.
            if status == "RUNNING" && prev_input == input_text {
                return Ok(json!({"executionArn": exec_arn, "startDate": secs(start_ms)}));
            }
            return Err(SfnError::ExecutionAlreadyExists(format!(
                "Execution Already Exists: '{exec_arn}'"
            )));
        }
        let def = self.definition(&parsed.base, revision)?;
        let (_, role, _) = self.revision(&parsed.base, revision)?;
        let version_arn = parsed.version.map(|_| arn.to_string());
        self.conn
            .prepare_cached(
                "INSERT INTO executions (arn, sm_arn, version_arn, name, revision, status, input, start_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'RUNNING', ?6, ?7)",
            )?
            .execute(params![exec_arn, parsed.base, version_arn, name, revision, input_text, b.now])?;
        let seq = self.conn.last_insert_rowid();
        let ctx = StartContext {
            now_ms: b.now,
            execution_arn: exec_arn.clone(),
            execution_name: name.clone(),
            state_machine_arn: version_arn.clone().unwrap_or_else(|| parsed.base.clone()),
            state_machine_name: m.name.clone(),
            role_arn: role,
            region: self.config.region.clone(),
            // Task tokens must be unguessable: seed each execution from the OS generator.
            seed: rand::random(),
            max_history_events: presso_asl::MAX_HISTORY_EVENTS,
        };
        let (exe, actions) = Execution::start(def, input, ctx);
        let row = ExecRow {
            seq,
            arn: exec_arn.clone(),
            sm_arn: parsed.base,
            revision,
        };
        self.apply(b, &row, &exe, actions)?;
        Ok(json!({"executionArn": exec_arn, "startDate": secs(b.now)}))
    }

    pub(crate) fn describe_execution(&self, arn: &str) -> Result<Value, SfnError> {
        check_execution_arn(arn)?;
        let row = self
            .conn
            .prepare_cached(
                "SELECT sm_arn, version_arn, name, status, input, output, error, cause, start_ms, stop_ms FROM executions WHERE arn = ?1",
            )?
            .query_row([arn], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, Option<i64>>(9)?,
                ))
            })
            .optional()?
            .ok_or_else(|| no_execution(arn))?;
        let (sm_arn, version_arn, name, status, input, output, error, cause, start, stop) = row;
        let mut out = Map::new();
        out.insert("executionArn".into(), json!(arn));
        out.insert("stateMachineArn".into(), json!(sm_arn));
        out.insert("name".into(), json!(name));
        out.insert("status".into(), json!(status));
        out.insert("startDate".into(), secs(start));
        if let Some(s) = stop {
            out.insert("stopDate".into(), secs(s));
        }
        out.insert("input".into(), json!(input));
        out.insert("inputDetails".into(), json!({"included": true}));
        if let Some(o) = output {
            out.insert("output".into(), json!(o));
            out.insert("outputDetails".into(), json!({"included": true}));
        }
        if let Some(e) = error {
            out.insert("error".into(), json!(e));
        }
        if let Some(c) = cause {
            out.insert("cause".into(), json!(c));
        }
        if let Some(v) = version_arn {
            out.insert("stateMachineVersionArn".into(), json!(v));
        }
        out.insert("redriveCount".into(), json!(0));
        out.insert("redriveStatus".into(), json!("NOT_REDRIVABLE"));
        Ok(Value::Object(out))
    }

    fn list_executions(&self, body: &Value) -> Result<Value, SfnError> {
        let arn = req_str(body, "stateMachineArn")?;
        let parsed = parse_machine_arn(arn)?;
        let status = opt_str(body, "statusFilter")?;
        if let Some(s) = status
            && !matches!(
                s,
                "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "PENDING_REDRIVE"
            )
        {
            return Err(SfnError::ValidationException(format!(
                "1 validation error detected: Value '{s}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"
            )));
        }
        let limit = page_size(body)?;
        let below = page_token(body)?.unwrap_or(i64::MAX);
        if self.machine(&parsed.base)?.is_none() {
            let any: bool = self.conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM executions WHERE sm_arn = ?1)",
                [&parsed.base],
                |r| r.get(0),
            )?;
            if !any {
                return Err(no_machine(arn));
            }
        }
        let version = parsed.version.map(|_| arn.to_string());
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, arn, name, status, start_ms, stop_ms, version_arn FROM executions
             WHERE sm_arn = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR version_arn = ?3) AND seq < ?4
             ORDER BY seq DESC LIMIT ?5",
        )?;
        let mut seqs = Vec::new();
        let rows: Vec<Value> = stmt
            .query_map(
                params![parsed.base, status, version, below, limit + 1],
                |r| {
                    let seq: i64 = r.get(0)?;
                    let mut e = json!({
                        "executionArn": r.get::<_, String>(1)?,
                        "stateMachineArn": parsed.base,
                        "name": r.get::<_, String>(2)?,
                        "status": r.get::<_, String>(3)?,
                        "startDate": secs(r.get(4)?),
                        "redriveCount": 0,
                    });
                    if let Some(s) = r.get::<_, Option<i64>>(5)? {
                        e["stopDate"] = secs(s);
                    }
                    if let Some(v) = r.get::<_, Option<String>>(6)? {
                        e["stateMachineVersionArn"] = json!(v);
                    }
                    Ok((seq, e))
                },
            )?
            .map(|r| {
                r.map(|(s, e)| {
                    seqs.push(s);
                    e
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(page(rows, limit, "executions", |last| {
            seqs[last].to_string()
        }))
    }

    fn get_execution_history(&self, body: &Value) -> Result<Value, SfnError> {
        let arn = req_str(body, "executionArn")?;
        check_execution_arn(arn)?;
        let limit = page_size(body)?;
        let offset = page_token(body)?.unwrap_or(0) as usize;
        let reverse = opt_bool(body, "reverseOrder")?.unwrap_or(false);
        let include_data = opt_bool(body, "includeExecutionData")?.unwrap_or(true);
        let seq: i64 = self
            .conn
            .query_row("SELECT seq FROM executions WHERE arn = ?1", [arn], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| no_execution(arn))?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT events FROM history WHERE exec_seq = ?1 ORDER BY first_id")?;
        let mut events: Vec<Value> = Vec::new();
        for text in stmt.query_map([seq], |r| r.get::<_, String>(0))? {
            let batch: Vec<Value> = serde_json::from_str(&text?)?;
            events.extend(batch);
        }
        if reverse {
            events.reverse();
        }
        let total = events.len();
        let mut events: Vec<Value> = events
            .into_iter()
            .skip(offset)
            .take(limit as usize)
            .collect();
        if !include_data {
            for e in &mut events {
                strip_data(e);
            }
        }
        let mut out = json!({"events": events});
        if offset + (limit as usize) < total {
            out["nextToken"] = json!((offset + limit as usize).to_string());
        }
        Ok(out)
    }

    fn stop_execution(&mut self, b: &mut Batch, body: &Value) -> Result<Value, SfnError> {
        let arn = req_str(body, "executionArn")?;
        check_execution_arn(arn)?;
        let error = opt_str(body, "error")?.map(str::to_string);
        let cause = opt_str(body, "cause")?.map(str::to_string);
        if self.exec_row(arn)?.is_none() {
            return Err(no_execution(arn));
        }
        // Stopping a closed execution changes nothing; the answer is when it stopped.
        let _ = self.drive(b, arn, Command::Stop { error, cause })?;
        let stop: Option<i64> = self.conn.query_row(
            "SELECT stop_ms FROM executions WHERE arn = ?1",
            [arn],
            |r| r.get(0),
        )?;
        Ok(json!({"stopDate": secs(stop.unwrap_or(b.now))}))
    }

    fn describe_machine_for_execution(&self, body: &Value) -> Result<Value, SfnError> {
        let arn = req_str(body, "executionArn")?;
        check_execution_arn(arn)?;
        let (sm_arn, revision): (String, i64) = self
            .conn
            .query_row(
                "SELECT sm_arn, revision FROM executions WHERE arn = ?1",
                [arn],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| no_execution(arn))?;
        let (definition, role, revision_id) = self.revision(&sm_arn, revision)?;
        let created: i64 = self.conn.query_row(
            "SELECT created_ms FROM revisions WHERE sm_arn = ?1 AND revision = ?2",
            params![sm_arn, revision],
            |r| r.get(0),
        )?;
        let name = parse_machine_arn(&sm_arn)?.name;
        Ok(json!({
            "stateMachineArn": sm_arn,
            "name": name,
            "definition": definition,
            "roleArn": role,
            "updateDate": secs(created),
            "revisionId": revision_id,
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            "tracingConfiguration": {"enabled": false},
        }))
    }

    fn send_task(
        &mut self,
        b: &mut Batch,
        body: &Value,
        cmd: impl FnOnce(u64) -> Command,
    ) -> Result<Value, SfnError> {
        let token = req_str(body, "taskToken")?;
        if token.len() > 2048 {
            return Err(SfnError::ValidationException(
                "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length less than or equal to 2048".into(),
            ));
        }
        let found: Option<(String, i64, bool)> = self
            .conn
            .prepare_cached("SELECT exec_arn, task_id, open FROM tokens WHERE token = ?1")?
            .query_row([token], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((exec, task_id, open)) = found else {
            return Err(SfnError::InvalidToken(
                "Invalid Token: 'Invalid token'".into(),
            ));
        };
        let spent = || {
            SfnError::TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'".into())
        };
        if !open {
            return Err(spent());
        }
        if self.exec_row(&exec)?.is_none() {
            return Err(SfnError::TaskDoesNotExist(format!(
                "Task Does Not Exist: 'the execution {exec} is gone'"
            )));
        }
        match self.drive(b, &exec, cmd(task_id as u64))? {
            Ok(()) => Ok(json!({})),
            Err(_) => {
                self.conn
                    .execute("UPDATE tokens SET open = 0 WHERE token = ?1", [token])?;
                Err(spent())
            }
        }
    }
}

fn validate_definition(body: &Value) -> Result<Value, SfnError> {
    let definition = req_str(body, "definition")?;
    Ok(match Definition::parse(definition) {
        Ok(d) => json!({"result": "OK", "diagnostics": d.warnings(), "truncated": false}),
        Err(e) => e.to_validate_response(),
    })
}

/// Cuts one extra row off a page query into `nextToken`.
fn page(mut rows: Vec<Value>, limit: i64, key: &str, next: impl FnOnce(usize) -> String) -> Value {
    let mut out = Map::new();
    let more = rows.len() as i64 > limit;
    if more {
        rows.truncate(limit as usize);
        let token = next(rows.len() - 1);
        out.insert(key.into(), Value::Array(rows));
        out.insert("nextToken".into(), json!(token));
    } else {
        out.insert(key.into(), Value::Array(rows));
    }
    Value::Object(out)
}

/// `includeExecutionData: false`: events keep their shape but carry no payloads.
fn strip_data(event: &mut Value) {
    let Value::Object(m) = event else { return };
    for (k, v) in m.iter_mut() {
        if k.ends_with("EventDetails")
            && let Value::Object(d) = v
        {
            for field in ["input", "output", "parameters"] {
                d.remove(field);
            }
        }
    }
}
