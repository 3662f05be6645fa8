//! Durable state on SQLite: pools, clients, groups, users, codes, auth sessions, refresh tokens,
//! the dev outbox and the signing key.
//!
//! One file (`<data-dir>/cognito.sqlite`, WAL, `synchronous=NORMAL`) or one in-memory database.
//! This module knows rows, not rules: every check of AWS behaviour lives in the operations.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde_json::{Map, Value};

use crate::error::CognitoError;
use crate::outbox::{CodeMessage, CodePurpose};

type Result<T> = std::result::Result<T, CognitoError>;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pools (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL,
  created INTEGER NOT NULL, modified INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clients (
  id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, name TEXT NOT NULL, config TEXT NOT NULL,
  created INTEGER NOT NULL, modified INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS groups (
  pool_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT, precedence INTEGER, role_arn TEXT,
  created INTEGER NOT NULL, modified INTEGER NOT NULL, PRIMARY KEY (pool_id, name));
CREATE TABLE IF NOT EXISTS users (
  pool_id TEXT NOT NULL, username TEXT NOT NULL, sub TEXT NOT NULL, email TEXT,
  status TEXT NOT NULL, enabled INTEGER NOT NULL, password TEXT, attributes TEXT NOT NULL,
  created INTEGER NOT NULL, modified INTEGER NOT NULL,
  failures INTEGER NOT NULL DEFAULT 0, last_failure INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pool_id, username));
CREATE UNIQUE INDEX IF NOT EXISTS users_sub ON users (pool_id, sub);
CREATE INDEX IF NOT EXISTS users_email ON users (pool_id, email);
CREATE TABLE IF NOT EXISTS memberships (
  pool_id TEXT NOT NULL, username TEXT NOT NULL, group_name TEXT NOT NULL,
  PRIMARY KEY (pool_id, username, group_name));
CREATE TABLE IF NOT EXISTS signup_codes (
  pool_id TEXT NOT NULL, username TEXT NOT NULL, code TEXT NOT NULL, expires INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, locked_until INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (pool_id, username));
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, client_id TEXT NOT NULL, username TEXT NOT NULL,
  kind TEXT NOT NULL, code TEXT, expires INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token TEXT PRIMARY KEY, pool_id TEXT NOT NULL, client_id TEXT NOT NULL, username TEXT NOT NULL,
  auth_time INTEGER NOT NULL, origin_jti TEXT NOT NULL, event_id TEXT NOT NULL,
  expires INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS refresh_by_user ON refresh_tokens (pool_id, username);
CREATE INDEX IF NOT EXISTS refresh_by_origin ON refresh_tokens (origin_jti);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, pool_id TEXT NOT NULL, to_addr TEXT NOT NULL,
  code TEXT NOT NULL, purpose TEXT NOT NULL, sent_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_to ON outbox (to_addr, seq);
"#;

/// Opens (creating if needed) the schema on a fresh connection.
pub(crate) fn init(conn: &Connection, durable_file: bool) -> rusqlite::Result<()> {
    if durable_file {
        // WAL + NORMAL: an acknowledged write survives a killed process; see ARCHITECTURE.md.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(SCHEMA)
}

pub(crate) fn meta_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub(crate) fn meta_put(conn: &Connection, key: &str, value: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

// ----- pools and clients -----

#[derive(Debug, Clone)]
pub(crate) struct PoolRow {
    pub id: String,
    pub name: String,
    pub config: Map<String, Value>,
    pub created: i64,
    pub modified: i64,
}

fn parse_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

fn pool_from_row(r: &Row<'_>) -> rusqlite::Result<PoolRow> {
    let config: String = r.get(2)?;
    Ok(PoolRow {
        id: r.get(0)?,
        name: r.get(1)?,
        config: parse_object(&config),
        created: r.get(3)?,
        modified: r.get(4)?,
    })
}

pub(crate) fn pool_get(tx: &Transaction<'_>, id: &str) -> Result<Option<PoolRow>> {
    Ok(tx
        .query_row(
            "SELECT id, name, config, created, modified FROM pools WHERE id = ?1",
            [id],
            pool_from_row,
        )
        .optional()?)
}

pub(crate) fn pool_list(tx: &Transaction<'_>) -> Result<Vec<PoolRow>> {
    let mut stmt =
        tx.prepare("SELECT id, name, config, created, modified FROM pools ORDER BY created, id")?;
    let rows = stmt.query_map([], pool_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn pool_put(tx: &Transaction<'_>, pool: &PoolRow) -> Result<()> {
    tx.execute(
        "INSERT INTO pools (id, name, config, created, modified) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, config = excluded.config,
           modified = excluded.modified",
        params![
            pool.id,
            pool.name,
            Value::Object(pool.config.clone()).to_string(),
            pool.created,
            pool.modified
        ],
    )?;
    Ok(())
}

pub(crate) fn pool_user_count(tx: &Transaction<'_>, id: &str) -> Result<i64> {
    Ok(
        tx.query_row("SELECT COUNT(*) FROM users WHERE pool_id = ?1", [id], |r| {
            r.get(0)
        })?,
    )
}

#[derive(Debug, Clone)]
pub(crate) struct ClientRow {
    pub id: String,
    pub pool_id: String,
    pub name: String,
    pub config: Map<String, Value>,
    pub created: i64,
    pub modified: i64,
}

pub(crate) fn client_get(tx: &Transaction<'_>, id: &str) -> Result<Option<ClientRow>> {
    Ok(tx
        .query_row(
            "SELECT id, pool_id, name, config, created, modified FROM clients WHERE id = ?1",
            [id],
            |r| {
                let config: String = r.get(3)?;
                Ok(ClientRow {
                    id: r.get(0)?,
                    pool_id: r.get(1)?,
                    name: r.get(2)?,
                    config: parse_object(&config),
                    created: r.get(4)?,
                    modified: r.get(5)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn client_list(tx: &Transaction<'_>, pool_id: &str) -> Result<Vec<ClientRow>> {
    let mut stmt = tx.prepare(
        "SELECT id, pool_id, name, config, created, modified FROM clients WHERE pool_id = ?1
         ORDER BY created, id",
    )?;
    let rows = stmt.query_map([pool_id], |r| {
        let config: String = r.get(3)?;
        Ok(ClientRow {
            id: r.get(0)?,
            pool_id: r.get(1)?,
            name: r.get(2)?,
            config: parse_object(&config),
            created: r.get(4)?,
            modified: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn client_put(tx: &Transaction<'_>, c: &ClientRow) -> Result<()> {
    tx.execute(
        "INSERT INTO clients (id, pool_id, name, config, created, modified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, config = excluded.config,
           modified = excluded.modified",
        params![
            c.id,
            c.pool_id,
            c.name,
            Value::Object(c.config.clone()).to_string(),
            c.created,
            c.modified
        ],
    )?;
    Ok(())
}

// ----- groups -----

#[derive(Debug, Clone)]
pub(crate) struct GroupRow {
    pub pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
    pub created: i64,
    pub modified: i64,
}

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<GroupRow> {
    Ok(GroupRow {
        pool_id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        precedence: r.get(3)?,
        role_arn: r.get(4)?,
        created: r.get(5)?,
        modified: r.get(6)?,
    })
}

const GROUP_COLS: &str = "pool_id, name, description, precedence, role_arn, created, modified";

pub(crate) fn group_get(
    tx: &Transaction<'_>,
    pool_id: &str,
    name: &str,
) -> Result<Option<GroupRow>> {
    Ok(tx
        .query_row(
            &format!("SELECT {GROUP_COLS} FROM groups WHERE pool_id = ?1 AND name = ?2"),
            [pool_id, name],
            group_from_row,
        )
        .optional()?)
}

pub(crate) fn group_put(tx: &Transaction<'_>, g: &GroupRow) -> Result<()> {
    tx.execute(
        "INSERT INTO groups (pool_id, name, description, precedence, role_arn, created, modified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (pool_id, name) DO UPDATE SET description = excluded.description,
           precedence = excluded.precedence, role_arn = excluded.role_arn,
           modified = excluded.modified",
        params![
            g.pool_id,
            g.name,
            g.description,
            g.precedence,
            g.role_arn,
            g.created,
            g.modified
        ],
    )?;
    Ok(())
}

pub(crate) fn group_delete(tx: &Transaction<'_>, pool_id: &str, name: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM groups WHERE pool_id = ?1 AND name = ?2",
        [pool_id, name],
    )?;
    tx.execute(
        "DELETE FROM memberships WHERE pool_id = ?1 AND group_name = ?2",
        [pool_id, name],
    )?;
    Ok(())
}

pub(crate) fn group_list(tx: &Transaction<'_>, pool_id: &str) -> Result<Vec<GroupRow>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {GROUP_COLS} FROM groups WHERE pool_id = ?1 ORDER BY name"
    ))?;
    let rows = stmt.query_map([pool_id], group_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The user's groups, ordered as Cognito orders `cognito:groups`: by precedence (lowest first,
/// groups without one last), then by name.
pub(crate) fn groups_of_user(
    tx: &Transaction<'_>,
    pool_id: &str,
    username: &str,
) -> Result<Vec<GroupRow>> {
    let mut stmt = tx.prepare(
        "SELECT g.pool_id, g.name, g.description, g.precedence, g.role_arn, g.created, g.modified
         FROM memberships m JOIN groups g ON g.pool_id = m.pool_id AND g.name = m.group_name
         WHERE m.pool_id = ?1 AND m.username = ?2
         ORDER BY g.precedence IS NULL, g.precedence, g.name",
    )?;
    let rows = stmt.query_map([pool_id, username], group_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn membership_add(
    tx: &Transaction<'_>,
    pool_id: &str,
    username: &str,
    group: &str,
) -> Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO memberships (pool_id, username, group_name) VALUES (?1, ?2, ?3)",
        [pool_id, username, group],
    )?;
    Ok(())
}

pub(crate) fn membership_remove(
    tx: &Transaction<'_>,
    pool_id: &str,
    username: &str,
    group: &str,
) -> Result<()> {
    tx.execute(
        "DELETE FROM memberships WHERE pool_id = ?1 AND username = ?2 AND group_name = ?3",
        [pool_id, username, group],
    )?;
    Ok(())
}

// ----- users -----

#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub pool_id: String,
    pub username: String,
    pub sub: String,
    pub email: Option<String>,
    pub status: String,
    pub enabled: bool,
    pub password: Option<String>,
    pub attributes: Map<String, Value>,
    pub created: i64,
    pub modified: i64,
    pub failures: i64,
    pub last_failure: i64,
    pub locked_until: i64,
}

impl UserRow {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Value::as_str)
    }
}

const USER_COLS: &str = "pool_id, username, sub, email, status, enabled, password, attributes, \
                         created, modified, failures, last_failure, locked_until";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    let attributes: String = r.get(7)?;
    Ok(UserRow {
        pool_id: r.get(0)?,
        username: r.get(1)?,
        sub: r.get(2)?,
        email: r.get(3)?,
        status: r.get(4)?,
        enabled: r.get(5)?,
        password: r.get(6)?,
        attributes: parse_object(&attributes),
        created: r.get(8)?,
        modified: r.get(9)?,
        failures: r.get(10)?,
        last_failure: r.get(11)?,
        locked_until: r.get(12)?,
    })
}

pub(crate) fn user_by_username(
    tx: &Transaction<'_>,
    pool_id: &str,
    username: &str,
) -> Result<Option<UserRow>> {
    Ok(tx
        .query_row(
            &format!("SELECT {USER_COLS} FROM users WHERE pool_id = ?1 AND username = ?2"),
            [pool_id, username],
            user_from_row,
        )
        .optional()?)
}

pub(crate) fn user_by_email(
    tx: &Transaction<'_>,
    pool_id: &str,
    email: &str,
) -> Result<Option<UserRow>> {
    Ok(tx
        .query_row(
            &format!(
                "SELECT {USER_COLS} FROM users WHERE pool_id = ?1 AND email = ?2
                 ORDER BY created LIMIT 1"
            ),
            [pool_id, &email.to_lowercase()],
            user_from_row,
        )
        .optional()?)
}

pub(crate) fn user_by_sub(
    tx: &Transaction<'_>,
    pool_id: &str,
    sub: &str,
) -> Result<Option<UserRow>> {
    Ok(tx
        .query_row(
            &format!("SELECT {USER_COLS} FROM users WHERE pool_id = ?1 AND sub = ?2"),
            [pool_id, sub],
            user_from_row,
        )
        .optional()?)
}

pub(crate) fn user_list(tx: &Transaction<'_>, pool_id: &str) -> Result<Vec<UserRow>> {
    let mut stmt = tx.prepare(&format!(
        "SELECT {USER_COLS} FROM users WHERE pool_id = ?1 ORDER BY created, username"
    ))?;
    let rows = stmt.query_map([pool_id], user_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub(crate) fn user_put(tx: &Transaction<'_>, u: &UserRow) -> Result<()> {
    tx.execute(
        "INSERT INTO users (pool_id, username, sub, email, status, enabled, password, attributes,
           created, modified, failures, last_failure, locked_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (pool_id, username) DO UPDATE SET email = excluded.email,
           status = excluded.status, enabled = excluded.enabled, password = excluded.password,
           attributes = excluded.attributes, modified = excluded.modified,
           failures = excluded.failures, last_failure = excluded.last_failure,
           locked_until = excluded.locked_until",
        params![
            u.pool_id,
            u.username,
            u.sub,
            u.email.as_ref().map(|e| e.to_lowercase()),
            u.status,
            u.enabled,
            u.password,
            Value::Object(u.attributes.clone()).to_string(),
            u.created,
            u.modified,
            u.failures,
            u.last_failure,
            u.locked_until
        ],
    )?;
    Ok(())
}

/// Removes the user with everything that grants access: memberships, codes, sessions and
/// refresh tokens.
pub(crate) fn user_delete(tx: &Transaction<'_>, pool_id: &str, username: &str) -> Result<()> {
    for sql in [
        "DELETE FROM users WHERE pool_id = ?1 AND username = ?2",
        "DELETE FROM memberships WHERE pool_id = ?1 AND username = ?2",
        "DELETE FROM signup_codes WHERE pool_id = ?1 AND username = ?2",
        "DELETE FROM sessions WHERE pool_id = ?1 AND username = ?2",
        "DELETE FROM refresh_tokens WHERE pool_id = ?1 AND username = ?2",
    ] {
        tx.execute(sql, [pool_id, username])?;
    }
    Ok(())
}

// ----- sign-up codes -----

#[derive(Debug, Clone)]
pub(crate) struct SignupCode {
    pub code: String,
    pub expires: i64,
    pub attempts: i64,
    pub locked_until: i64,
}

pub(crate) fn signup_code_get(
    tx: &Transaction<'_>,
    pool_id: &str,
    username: &str,
) -> Result<Option<SignupCode>> {
    Ok(tx
        .query_row(
            "SELECT code, expires, attempts, locked_until FROM signup_codes
             WHERE pool_id = ?1 AND username = ?2",
            [pool_id, username],
            |r| {
                Ok(SignupCode {
                    code: r.get(0)?,
                    expires: r.get(1)?,
                    attempts: r.get(2)?,
                    locked_until: r.get(3)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn signup_code_put(
    tx: &Transaction<'_>,
    pool_id: &str,
    username: &str,
    c: &SignupCode,
) -> Result<()> {
    tx.execute(
        "INSERT INTO signup_codes (pool_id, username, code, expires, attempts, locked_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (pool_id, username) DO UPDATE SET code = excluded.code,
           expires = excluded.expires, attempts = excluded.attempts,
           locked_until = excluded.locked_until",
        params![
            pool_id,
            username,
            c.code,
            c.expires,
            c.attempts,
            c.locked_until
        ],
    )?;
    Ok(())
}

pub(crate) fn signup_code_delete(
    tx: &Transaction<'_>,
    pool_id: &str,
    username: &str,
) -> Result<()> {
    tx.execute(
        "DELETE FROM signup_codes WHERE pool_id = ?1 AND username = ?2",
        [pool_id, username],
    )?;
    Ok(())
}

// ----- auth sessions -----

#[derive(Debug, Clone)]
pub(crate) struct SessionRow {
    pub id: String,
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub kind: String,
    pub code: Option<String>,
    pub expires: i64,
    pub attempts: i64,
}

pub(crate) fn session_get(tx: &Transaction<'_>, id: &str) -> Result<Option<SessionRow>> {
    Ok(tx
        .query_row(
            "SELECT id, pool_id, client_id, username, kind, code, expires, attempts
             FROM sessions WHERE id = ?1",
            [id],
            |r| {
                Ok(SessionRow {
                    id: r.get(0)?,
                    pool_id: r.get(1)?,
                    client_id: r.get(2)?,
                    username: r.get(3)?,
                    kind: r.get(4)?,
                    code: r.get(5)?,
                    expires: r.get(6)?,
                    attempts: r.get(7)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn session_put(tx: &Transaction<'_>, s: &SessionRow) -> Result<()> {
    tx.execute(
        "INSERT INTO sessions (id, pool_id, client_id, username, kind, code, expires, attempts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, code = excluded.code,
           kind = excluded.kind, expires = excluded.expires",
        params![
            s.id,
            s.pool_id,
            s.client_id,
            s.username,
            s.kind,
            s.code,
            s.expires,
            s.attempts
        ],
    )?;
    Ok(())
}

pub(crate) fn session_delete(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute("DELETE FROM sessions WHERE id = ?1", [id])?;
    Ok(())
}

/// Drops sessions that expired long ago, so the table does not grow without bound.
pub(crate) fn session_sweep(tx: &Transaction<'_>, before: i64) -> Result<()> {
    tx.execute("DELETE FROM sessions WHERE expires < ?1", [before])?;
    Ok(())
}

// ----- refresh tokens -----

#[derive(Debug, Clone)]
pub(crate) struct RefreshRow {
    pub token: String,
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub auth_time: i64,
    pub origin_jti: String,
    pub event_id: String,
    pub expires: i64,
}

pub(crate) fn refresh_get(tx: &Transaction<'_>, token: &str) -> Result<Option<RefreshRow>> {
    Ok(tx
        .query_row(
            "SELECT token, pool_id, client_id, username, auth_time, origin_jti, event_id, expires
             FROM refresh_tokens WHERE token = ?1",
            [token],
            |r| {
                Ok(RefreshRow {
                    token: r.get(0)?,
                    pool_id: r.get(1)?,
                    client_id: r.get(2)?,
                    username: r.get(3)?,
                    auth_time: r.get(4)?,
                    origin_jti: r.get(5)?,
                    event_id: r.get(6)?,
                    expires: r.get(7)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn refresh_put(tx: &Transaction<'_>, t: &RefreshRow) -> Result<()> {
    tx.execute(
        "INSERT INTO refresh_tokens (token, pool_id, client_id, username, auth_time, origin_jti,
           event_id, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            t.token,
            t.pool_id,
            t.client_id,
            t.username,
            t.auth_time,
            t.origin_jti,
            t.event_id,
            t.expires
        ],
    )?;
    Ok(())
}

/// Whether the sign-in that issued tokens with this `origin_jti` is still live (not signed out,
/// revoked or deleted). Access tokens die with their sign-in, as at AWS.
pub(crate) fn sign_in_is_live(tx: &Transaction<'_>, origin_jti: &str, now: i64) -> Result<bool> {
    let found: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM refresh_tokens WHERE origin_jti = ?1 AND expires > ?2 LIMIT 1",
            params![origin_jti, now],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

pub(crate) fn refresh_delete_for_user(
    tx: &Transaction<'_>,
    pool_id: &str,
    username: &str,
) -> Result<()> {
    tx.execute(
        "DELETE FROM refresh_tokens WHERE pool_id = ?1 AND username = ?2",
        [pool_id, username],
    )?;
    Ok(())
}

pub(crate) fn refresh_delete(tx: &Transaction<'_>, token: &str) -> Result<usize> {
    Ok(tx.execute("DELETE FROM refresh_tokens WHERE token = ?1", [token])?)
}

// ----- outbox -----

pub(crate) fn outbox_add(tx: &Transaction<'_>, m: &CodeMessage) -> Result<()> {
    tx.execute(
        "INSERT INTO outbox (pool_id, to_addr, code, purpose, sent_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            m.user_pool_id,
            m.to.to_lowercase(),
            m.code,
            m.purpose.as_str(),
            m.sent_at
        ],
    )?;
    Ok(())
}

fn outbox_from_row(r: &Row<'_>) -> rusqlite::Result<CodeMessage> {
    let purpose: String = r.get(3)?;
    Ok(CodeMessage {
        user_pool_id: r.get(0)?,
        to: r.get(1)?,
        code: r.get(2)?,
        purpose: CodePurpose::parse(&purpose),
        sent_at: r.get(4)?,
    })
}

pub(crate) fn outbox_latest(conn: &Connection, to: &str) -> Result<Option<CodeMessage>> {
    Ok(conn
        .query_row(
            "SELECT pool_id, to_addr, code, purpose, sent_at FROM outbox WHERE to_addr = ?1
             ORDER BY seq DESC LIMIT 1",
            [to.to_lowercase()],
            outbox_from_row,
        )
        .optional()?)
}

/// The newest `limit` messages, oldest first.
pub(crate) fn outbox_recent(conn: &Connection, limit: i64) -> Result<Vec<CodeMessage>> {
    let mut stmt = conn.prepare(
        "SELECT pool_id, to_addr, code, purpose, sent_at FROM
           (SELECT * FROM outbox ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
    )?;
    let rows = stmt.query_map([limit], outbox_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
