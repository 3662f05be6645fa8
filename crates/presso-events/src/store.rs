//! The durable part: buses, rules, targets, dead letters and log events in one SQLite
//! database (`events.sqlite` in the data directory, WAL, `synchronous=NORMAL`), or in memory.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS buses (
    name TEXT PRIMARY KEY,
    description TEXT,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rules (
    bus TEXT NOT NULL,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (bus, name)
);
CREATE TABLE IF NOT EXISTS targets (
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    id TEXT NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (bus, rule, id)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    grp TEXT NOT NULL,
    at INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_by_group ON log_events (grp, seq);
CREATE TABLE IF NOT EXISTS pending_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    rule_arn TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    input TEXT NOT NULL
);
";

/// A delivery accepted by `PutEvents` and not yet made (or dead-lettered): kept so a
/// restarted presso makes it, as EventBridge keeps trying for up to a day.
#[derive(Debug, Clone)]
pub(crate) struct PendingRow {
    pub seq: i64,
    pub event_id: String,
    pub rule_arn: String,
    pub target_id: String,
    pub target_arn: String,
    pub input: String,
}

/// Stores the deliveries of one `PutEvents` in one transaction; answers their row ids.
pub(crate) fn add_pending(
    conn: &mut Connection,
    rows: &[(&str, &str, &str, &str, String)],
) -> rusqlite::Result<Vec<i64>> {
    let tx = conn.transaction()?;
    let mut ids = Vec::with_capacity(rows.len());
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO pending_deliveries (event_id, rule_arn, target_id, target_arn, input) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (event_id, rule_arn, target_id, target_arn, input) in rows {
            stmt.execute(params![event_id, rule_arn, target_id, target_arn, input])?;
            ids.push(tx.last_insert_rowid());
        }
    }
    tx.commit()?;
    Ok(ids)
}

/// Writes the log events made deliveries produced and forgets those deliveries, in one
/// transaction: a crash keeps both undone, and the deliveries are made again.
pub(crate) fn commit_made(
    conn: &mut Connection,
    logs: &[(String, i64, String)],
    seqs: &[i64],
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert =
            tx.prepare_cached("INSERT INTO log_events (grp, at, message) VALUES (?1, ?2, ?3)")?;
        for (group, at, message) in logs {
            insert.execute(params![group, at, message])?;
        }
        let mut delete = tx.prepare_cached("DELETE FROM pending_deliveries WHERE seq = ?1")?;
        for seq in seqs {
            delete.execute([seq])?;
        }
    }
    tx.commit()
}

pub(crate) fn pending(conn: &Connection) -> rusqlite::Result<Vec<PendingRow>> {
    let mut stmt = conn.prepare(
        "SELECT seq, event_id, rule_arn, target_id, target_arn, input FROM pending_deliveries ORDER BY seq",
    )?;
    stmt.query_map([], |r| {
        Ok(PendingRow {
            seq: r.get(0)?,
            event_id: r.get(1)?,
            rule_arn: r.get(2)?,
            target_id: r.get(3)?,
            target_arn: r.get(4)?,
            input: r.get(5)?,
        })
    })?
    .collect()
}

/// A bus row.
#[derive(Debug, Clone)]
pub(crate) struct BusRow {
    pub name: String,
    pub description: Option<String>,
    pub created: i64,
    pub modified: i64,
}

pub(crate) fn bus(conn: &Connection, name: &str) -> rusqlite::Result<Option<BusRow>> {
    conn.query_row(
        "SELECT name, description, created, modified FROM buses WHERE name = ?1",
        [name],
        bus_row,
    )
    .optional()
}

fn bus_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BusRow> {
    Ok(BusRow {
        name: r.get(0)?,
        description: r.get(1)?,
        created: r.get(2)?,
        modified: r.get(3)?,
    })
}

pub(crate) fn buses(conn: &Connection) -> rusqlite::Result<Vec<BusRow>> {
    let mut stmt = conn
        .prepare_cached("SELECT name, description, created, modified FROM buses ORDER BY name")?;
    stmt.query_map([], bus_row)?.collect()
}

/// Rules of a bus as stored (`spec` is the rule's describe shape), by name.
pub(crate) fn rules(conn: &Connection, bus: &str) -> rusqlite::Result<Vec<(String, Value)>> {
    let mut stmt =
        conn.prepare_cached("SELECT name, spec FROM rules WHERE bus = ?1 ORDER BY name")?;
    stmt.query_map([bus], |r| {
        let spec: String = r.get(1)?;
        Ok((
            r.get(0)?,
            serde_json::from_str(&spec).unwrap_or(Value::Null),
        ))
    })?
    .collect()
}

pub(crate) fn rule(conn: &Connection, bus: &str, name: &str) -> rusqlite::Result<Option<Value>> {
    conn.query_row(
        "SELECT spec FROM rules WHERE bus = ?1 AND name = ?2",
        params![bus, name],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map(|s| s.map(|s| serde_json::from_str(&s).unwrap_or(Value::Null)))
}

pub(crate) fn put_rule(
    conn: &Connection,
    bus: &str,
    name: &str,
    spec: &Value,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO rules (bus, name, spec) VALUES (?1, ?2, ?3)
         ON CONFLICT (bus, name) DO UPDATE SET spec = excluded.spec",
        params![bus, name, spec.to_string()],
    )?;
    Ok(())
}

/// Targets of a rule as put (`spec` is the `Target` object), by id.
pub(crate) fn targets(conn: &Connection, bus: &str, rule: &str) -> rusqlite::Result<Vec<Value>> {
    let mut stmt =
        conn.prepare_cached("SELECT spec FROM targets WHERE bus = ?1 AND rule = ?2 ORDER BY id")?;
    stmt.query_map(params![bus, rule], |r| {
        let spec: String = r.get(0)?;
        Ok(serde_json::from_str(&spec).unwrap_or(Value::Null))
    })?
    .collect()
}

pub(crate) fn append_dead_letter(conn: &Connection, at: i64, body: &Value) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO dead_letters (at, body) VALUES (?1, ?2)",
        params![at, body.to_string()],
    )?;
    Ok(())
}

pub(crate) fn dead_letters(conn: &Connection, limit: i64) -> rusqlite::Result<Vec<Value>> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM (SELECT seq, body FROM dead_letters ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
    )?;
    stmt.query_map([limit], |r| {
        let body: String = r.get(0)?;
        Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
    })?
    .collect()
}

pub(crate) fn append_log(
    conn: &Connection,
    group: &str,
    at: i64,
    message: &str,
) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare_cached("INSERT INTO log_events (grp, at, message) VALUES (?1, ?2, ?3)")?;
    stmt.execute(params![group, at, message])?;
    Ok(())
}

pub(crate) fn log_events(
    conn: &Connection,
    group: &str,
    limit: i64,
) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, message FROM (SELECT seq, at, message FROM log_events WHERE grp = ?1
         ORDER BY seq DESC LIMIT ?2) ORDER BY seq",
    )?;
    stmt.query_map(params![group, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

pub(crate) fn log_count(conn: &Connection, group: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM log_events WHERE grp = ?1")?
        .query_row([group], |r| r.get(0))
}
