//! The SQLite schema: everything the service must remember across a `kill -9`.
//!
//! - `state_machines`: the current definition of each machine; `revisions` keeps every
//!   definition it ever had (executions point at the one they started with) and
//!   `versions` the published ones.
//! - `executions`: one row each, with the engine's serialized state while it runs.
//! - `history`: one row per batch of events (a batch is what one engine step recorded),
//!   already in AWS's wire shape.
//! - `tasks`: tasks handed to the host, recorded before they run (a task found here after a
//!   restart was started and is never started again); `tokens`: every task token issued,
//!   open or spent, so a spent token is told apart from a made-up one; `timers`: the engine's
//!   pending timers by absolute deadline.
//!
//! WAL with `synchronous=NORMAL`: a committed transaction survives a crash of the process.

use crate::error::SfnError;
use rusqlite::Connection;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS revisions (
    sm_arn TEXT NOT NULL,
    revision INTEGER NOT NULL,
    revision_id TEXT NOT NULL,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (sm_arn, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions (
    sm_arn TEXT NOT NULL,
    version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (sm_arn, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    sm_arn TEXT NOT NULL,
    version_arn TEXT,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_ms INTEGER NOT NULL,
    stop_ms INTEGER,
    state TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (sm_arn, seq);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (sm_arn, status, seq);
CREATE TABLE IF NOT EXISTS history (
    exec_seq INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (exec_seq, first_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tasks (
    exec_arn TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    resource TEXT NOT NULL,
    token TEXT,
    child_arn TEXT,
    PRIMARY KEY (exec_arn, task_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tasks_by_child ON tasks (child_arn) WHERE child_arn IS NOT NULL;
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    exec_arn TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    open INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS open_tokens_by_execution ON tokens (exec_arn) WHERE open = 1;
CREATE TABLE IF NOT EXISTS timers (
    exec_arn TEXT NOT NULL,
    timer_id INTEGER NOT NULL,
    fire_at INTEGER NOT NULL,
    PRIMARY KEY (exec_arn, timer_id)
) WITHOUT ROWID;
";

/// Opens (creating when missing) the database in `dir`, or in memory for `None`.
pub fn open(dir: Option<&Path>) -> Result<Connection, SfnError> {
    let conn = match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| SfnError::Internal(format!("cannot create {}: {e}", dir.display())))?;
            let conn = Connection::open(dir.join("stepfunctions.sqlite3"))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            // One process owns the file: no per-transaction file locking.
            conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
            // History grows by tens of KB per execution: with SQLite's default 2 MB page
            // cache the hot pages (running executions, open tokens) fall out of it once the
            // file is a few hundred MB, and every step becomes reads. 64 MB keeps them.
            conn.pragma_update(None, "cache_size", -65536)?;
            conn.pragma_update(None, "temp_store", "MEMORY")?;
            conn
        }
        None => Connection::open_in_memory()?,
    };
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}
