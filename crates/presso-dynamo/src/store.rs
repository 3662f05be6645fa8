//! The store: DynamoDB tables in one SQLite database.
//!
//! Layout: `tables` holds each table's definition; `items` holds every item of every table,
//! keyed by `(tid, pk, sk)` where `pk`/`sk` are order-preserving encodings of the key values;
//! `index_items` holds one row per item per secondary index, keyed by
//! `(iid, index pk, index sk, table pk, table sk)`, and is written in the same SQLite
//! transaction as the item, so indexes never drift from their table.
//!
//! Concurrency: one connection behind a mutex; a conditional write reads, checks and writes
//! inside one transaction while holding it, so conditions are atomic under any number of
//! clients. Concurrent writes are committed together (group commit): each runs in its own
//! savepoint and learns its result only after the shared commit. The process owns the
//! database file (exclusive locking), which spares every transaction its file-lock calls.
//! Durability: WAL with `synchronous=NORMAL` — a committed write survives the process being
//! killed, though not power loss.

use crate::error::{CancellationReason, Error, Result};
use crate::expr::{
    Cond, ExprContext, Path, SortCond, apply_update, eval_condition, parse_condition,
    parse_key_condition, parse_projection, parse_update, project,
};
use crate::model::*;
use crate::schema::{
    IndexMeta, ProjectionKind, TableMeta, check_key_sizes, index_def, table_def_from_create,
    throughput,
};
use crate::value::{AttributeValue, Item, MAX_ITEM_SIZE, item_size, key_bytes, validate_item};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path as FsPath;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

const PAGE_LIMIT: usize = 1024 * 1024;
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tables (
    tid INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    def TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    tid INTEGER NOT NULL,
    pk BLOB NOT NULL,
    sk BLOB NOT NULL,
    size INTEGER NOT NULL,
    item BLOB NOT NULL,
    PRIMARY KEY (tid, pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_items (
    iid INTEGER NOT NULL,
    pk BLOB NOT NULL,
    sk BLOB NOT NULL,
    tpk BLOB NOT NULL,
    tsk BLOB NOT NULL,
    size INTEGER NOT NULL,
    item BLOB NOT NULL,
    PRIMARY KEY (iid, pk, sk, tpk, tsk)
) WITHOUT ROWID;
";

/// A handle on the database; cheap to clone and safe to share between threads.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    /// Writes waiting for the writer connection; whoever holds it next commits them all in one
    /// transaction (group commit), so concurrent writers share the cost of a commit.
    group: Mutex<Group>,
    /// Signalled when a batch is committed and the leader role is free again.
    batch_done: Condvar,
    tables: RwLock<HashMap<String, Arc<TableMeta>>>,
    /// Capacity units consumed since the store opened, requested or not.
    meter: CapacityMeter,
}

/// Read and write capacity units consumed, in thousandths (what on-demand tables bill as
/// request units: 1 per 1 KB written, 1 per 4 KB read strongly, half of that eventually).
#[derive(Debug, Default)]
struct CapacityMeter {
    read_milli: std::sync::atomic::AtomicU64,
    write_milli: std::sync::atomic::AtomicU64,
}

/// Capacity units a store has consumed since it opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapacityUsed {
    pub read_units: f64,
    pub write_units: f64,
}

/// Writes waiting to be committed, and whether some caller is committing a batch now.
#[derive(Default)]
struct Group {
    queue: Vec<Job>,
    leader: bool,
}

/// Frees the leader role and wakes the waiting writers when dropped.
struct LeaderGuard<'a>(&'a Inner);

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        lock(&self.0.group).leader = false;
        self.0.batch_done.notify_all();
    }
}

/// Publishes a write's result once its transaction has ended: `None` if it committed,
/// the commit error otherwise.
type Finish = Box<dyn FnOnce(Option<String>) + Send>;

/// A queued write: runs inside the batch transaction and says whether it succeeded.
type Job = Box<dyn FnOnce(&Connection, &Inner) -> (bool, Finish) + Send>;

fn exec_cached(c: &Connection, sql: &str) -> Result<()> {
    c.prepare_cached(sql)?.execute([])?;
    Ok(())
}

impl Inner {
    /// Fails when a table was deleted (or recreated) after `meta` was looked up.
    fn still_current(&self, meta: &TableMeta) -> Result<()> {
        let tables = self.tables.read().unwrap_or_else(|p| p.into_inner());
        match tables.get(&meta.def.name) {
            Some(m) if m.tid == meta.tid => Ok(()),
            _ => Err(not_found()),
        }
    }

    /// Runs queued writes in one transaction, each in its own savepoint so a failed
    /// condition undoes only its own write, then publishes every result after the commit:
    /// no caller sees success before its write is durable.
    fn run_batch(&self, c: &Connection, jobs: Vec<Job>) {
        if let Err(e) = exec_cached(c, "BEGIN IMMEDIATE") {
            // The jobs are dropped unrun; their callers find no result and report an
            // internal error.
            tracing::error!(error = %e, "cannot begin a write transaction");
            return;
        }
        let single = jobs.len() == 1;
        let mut any_ok = false;
        let mut done: Vec<(bool, Finish)> = Vec::with_capacity(jobs.len());
        for job in jobs {
            if single {
                let (ok, finish) = job(c, self);
                any_ok = ok;
                done.push((ok, finish));
            } else {
                if let Err(e) = exec_cached(c, "SAVEPOINT w") {
                    tracing::error!(error = %e, "cannot open a savepoint");
                }
                let (ok, finish) = job(c, self);
                if !ok {
                    let _ = exec_cached(c, "ROLLBACK TO w");
                }
                let _ = exec_cached(c, "RELEASE w");
                any_ok |= ok;
                done.push((ok, finish));
            }
        }
        let outcome = if any_ok {
            exec_cached(c, "COMMIT")
        } else {
            exec_cached(c, "ROLLBACK")
        };
        let commit_error = match outcome {
            Ok(()) => None,
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                Some(e.to_string())
            }
        };
        for (_, finish) in done {
            finish(commit_error.clone());
        }
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        // A checkpoint syncs the WAL and the database file; letting the WAL grow to ~40 MB
        // before one amortises those syncs over thousands of commits (no commit syncs under
        // synchronous=NORMAL, which survives a process crash but not power loss).
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;
         PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=10000;
         PRAGMA journal_size_limit=67108864;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_millis() as f64) / 1000.0)
        .unwrap_or(0.0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
    // back on drop), so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn decode(bytes: &[u8]) -> Result<Item> {
    serde_json::from_slice(bytes).map_err(|e| Error::Internal(format!("corrupt item: {e}")))
}

fn encode(item: &Item) -> Result<Vec<u8>> {
    serde_json::to_vec(item).map_err(|e| Error::Internal(e.to_string()))
}

fn not_found() -> Error {
    Error::ResourceNotFound("Requested resource not found".to_string())
}

fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.max(1).div_ceil(4096) as f64;
    if consistent { units } else { units / 2.0 }
}

fn write_units(size: usize) -> f64 {
    size.max(1).div_ceil(1024) as f64
}

/// Capacity consumed by one operation on one table, split by index.
#[derive(Default)]
struct Units {
    table: f64,
    indexes: Vec<(String, bool, f64)>,
}

impl Units {
    fn total(&self) -> f64 {
        self.table + self.indexes.iter().map(|i| i.2).sum::<f64>()
    }

    fn scale(mut self, factor: f64) -> Units {
        self.table *= factor;
        for i in &mut self.indexes {
            i.2 *= factor;
        }
        self
    }

    fn add(&mut self, other: Units) {
        self.table += other.table;
        for (name, global, u) in other.indexes {
            match self.indexes.iter_mut().find(|i| i.0 == name) {
                Some(i) => i.2 += u,
                None => self.indexes.push((name, global, u)),
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum CapacityMode {
    None,
    Total,
    Indexes,
}

fn capacity_mode(mode: Option<&str>) -> Result<CapacityMode> {
    match mode {
        None | Some("NONE") => Ok(CapacityMode::None),
        Some("TOTAL") => Ok(CapacityMode::Total),
        Some("INDEXES") => Ok(CapacityMode::Indexes),
        Some(other) => Err(Error::validation(format!(
            "1 validation error detected: Value '{other}' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        ))),
    }
}

fn consumed(
    meter: &CapacityMeter,
    mode: CapacityMode,
    table: &str,
    units: &Units,
    read: bool,
) -> Option<ConsumedCapacity> {
    let total = units.total();
    let milli = (total * 1000.0).round() as u64;
    let counter = if read {
        &meter.read_milli
    } else {
        &meter.write_milli
    };
    counter.fetch_add(milli, std::sync::atomic::Ordering::Relaxed);
    let (r, w) = if read {
        (Some(total), None)
    } else {
        (None, Some(total))
    };
    match mode {
        CapacityMode::None => None,
        CapacityMode::Total => Some(ConsumedCapacity {
            table_name: table.to_string(),
            capacity_units: total,
            read_capacity_units: r,
            write_capacity_units: w,
            ..Default::default()
        }),
        CapacityMode::Indexes => {
            let cap = |u: f64| Capacity {
                capacity_units: u,
                read_capacity_units: read.then_some(u),
                write_capacity_units: (!read).then_some(u),
            };
            let mut gsis = HashMap::new();
            let mut lsis = HashMap::new();
            for (name, global, u) in &units.indexes {
                if *global {
                    gsis.insert(name.clone(), cap(*u));
                } else {
                    lsis.insert(name.clone(), cap(*u));
                }
            }
            Some(ConsumedCapacity {
                table_name: table.to_string(),
                capacity_units: total,
                read_capacity_units: r,
                write_capacity_units: w,
                table: Some(cap(units.table)),
                global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
                local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
            })
        }
    }
}

fn return_values(rv: Option<&str>, allowed: &[&str]) -> Result<String> {
    let rv = rv.unwrap_or("NONE");
    if allowed.contains(&rv) {
        Ok(rv.to_string())
    } else {
        Err(Error::validation("Return values set to invalid value"))
    }
}

fn on_failure_all_old(mode: Option<&str>) -> Result<bool> {
    match mode {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(Error::validation(format!(
            "1 validation error detected: Value '{other}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

fn check_size(item: &Item, update: bool) -> Result<usize> {
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(Error::validation(if update {
            "Item size to update has exceeded the maximum allowed size"
        } else {
            "Item size has exceeded the maximum allowed size"
        }));
    }
    Ok(size)
}

/// A validated single-item write, ready to run inside a transaction.
struct PreparedWrite {
    meta: Arc<TableMeta>,
    key: Item,
    pk: Vec<u8>,
    sk: Vec<u8>,
    kind: WriteKind,
    cond: Option<Cond>,
    all_old_on_failure: bool,
    /// Whether the write needs the old item itself (condition, ALL_OLD, indexes, updates)
    /// or only its size (for capacity).
    need_old: bool,
    /// Whether the old item's size is needed (consumed capacity was asked for); without it
    /// a plain write skips the lookup.
    need_size: bool,
}

enum WriteKind {
    Put(Item),
    Update(Option<crate::expr::Update>),
    Delete,
    Check,
}

struct WriteResult {
    old: Option<Item>,
    new: Option<Item>,
    units: Units,
}

impl Store {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &FsPath) -> Result<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("dynamodb.sqlite3");
        let conn = Connection::open(&path)?;
        // One process owns the database: exclusive locking keeps the WAL index in memory and
        // spares every transaction its file-lock system calls, and a second presso pointed at
        // the same directory fails instead of sharing it. Reads then share the one connection.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        Store::init(conn)
    }

    /// A store that lives only as long as the process.
    pub fn open_in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Store> {
        configure(&conn)?;
        conn.execute_batch(SCHEMA)?;
        let mut tables = HashMap::new();
        {
            let mut stmt = conn.prepare("SELECT tid, def FROM tables")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (tid, def) = row?;
                let def = serde_json::from_str(&def)
                    .map_err(|e| Error::Internal(format!("corrupt table definition: {e}")))?;
                let meta = TableMeta::from_def(tid, def)?;
                tables.insert(meta.def.name.clone(), Arc::new(meta));
            }
        }
        Ok(Store {
            inner: Arc::new(Inner {
                writer: Mutex::new(conn),
                group: Mutex::new(Group::default()),
                batch_done: Condvar::new(),
                tables: RwLock::new(tables),
                meter: CapacityMeter::default(),
            }),
        })
    }

    /// Capacity units consumed since the store opened, by every operation (whether or not it
    /// asked for `ReturnConsumedCapacity`).
    pub fn capacity_used(&self) -> CapacityUsed {
        let m = &self.inner.meter;
        let units = |a: &std::sync::atomic::AtomicU64| {
            a.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1000.0
        };
        CapacityUsed {
            read_units: units(&m.read_milli),
            write_units: units(&m.write_milli),
        }
    }

    fn table(&self, name: &str) -> Result<Arc<TableMeta>> {
        let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner());
        tables.get(name).cloned().ok_or_else(not_found)
    }

    /// Runs `f` for a read.
    fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        // Reads share the connection; holding its lock, a read sees one committed state.
        let conn = lock(&self.inner.writer);
        f(&conn)
    }

    /// Runs `f` inside a write transaction and returns once it is committed; `f`'s changes
    /// are undone if it fails. Concurrent calls are committed together (group commit): the
    /// first caller to find no batch in progress commits everything queued so far while the
    /// others wait for their results.
    fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &Inner) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let slot: Arc<Mutex<Option<Result<R>>>> = Arc::new(Mutex::new(None));
        let publish = slot.clone();
        let job: Job = Box::new(move |c, inner| {
            let r = f(c, inner);
            let ok = r.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                let r = match commit_error {
                    Some(e) if ok => Err(Error::Internal(e)),
                    _ => r,
                };
                *lock(&publish) = Some(r);
            });
            (ok, finish)
        });
        let mut group = lock(&self.inner.group);
        group.queue.push(job);
        loop {
            if let Some(r) = lock(&slot).take() {
                return r;
            }
            if !group.leader {
                group.leader = true;
                let jobs = std::mem::take(&mut group.queue);
                drop(group);
                {
                    // Hands the leader role back even if a job panics, so no writer waits
                    // forever.
                    let _leader = LeaderGuard(&self.inner);
                    let conn = lock(&self.inner.writer);
                    self.inner.run_batch(&conn, jobs);
                }
                if let Some(r) = lock(&slot).take() {
                    return r;
                }
                // This caller's job was in the batch it ran, so a missing result means the
                // batch could not begin.
                return Err(Error::Internal(
                    "the write transaction could not begin".to_string(),
                ));
            }
            group = self
                .inner
                .batch_done
                .wait(group)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    // ---------------------------------------------------------------- tables

    pub fn create_table(&self, input: CreateTableInput) -> Result<CreateTableOutput> {
        let now = now_seconds();
        let mut conn = lock(&self.inner.writer);
        if self
            .inner
            .tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&input.table_name)
        {
            return Err(Error::ResourceInUse(format!(
                "Table already exists: {}",
                input.table_name
            )));
        }
        let tx = conn.transaction()?;
        let next_tid: i64 = tx
            .query_row(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name='tables'), 0) + 1",
                [],
                |r| r.get(0),
            )
            .unwrap_or(1);
        let def = table_def_from_create(&input, next_tid, now)?;
        let meta = TableMeta::from_def(next_tid, def.clone())?;
        let json = serde_json::to_string(&def).map_err(|e| Error::Internal(e.to_string()))?;
        tx.execute(
            "INSERT INTO tables (tid, name, def) VALUES (?1, ?2, ?3)",
            params![next_tid, def.name, json],
        )?;
        tx.commit()?;
        let meta = Arc::new(meta);
        self.inner
            .tables
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(def.name.clone(), meta.clone());
        let mut desc = describe(&conn, &meta)?;
        desc.table_status = "ACTIVE".to_string();
        Ok(CreateTableOutput {
            table_description: desc,
        })
    }

    pub fn describe_table(&self, input: TableNameInput) -> Result<DescribeTableOutput> {
        let meta = self
            .table(&input.table_name)
            .map_err(|_| table_not_found(&input.table_name))?;
        let table = self.read(|c| describe(c, &meta))?;
        Ok(DescribeTableOutput { table })
    }

    pub fn list_tables(&self, input: ListTablesInput) -> Result<ListTablesOutput> {
        let limit = input.limit.unwrap_or(100);
        if !(1..=100).contains(&limit) {
            return Err(Error::validation(format!(
                "1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
            )));
        }
        let mut names: Vec<String> = self
            .inner
            .tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        names.sort();
        if let Some(start) = &input.exclusive_start_table_name {
            names.retain(|n| n > start);
        }
        let more = names.len() > limit as usize;
        names.truncate(limit as usize);
        let last = if more { names.last().cloned() } else { None };
        Ok(ListTablesOutput {
            table_names: names,
            last_evaluated_table_name: last,
        })
    }

    pub fn delete_table(&self, input: TableNameInput) -> Result<DeleteTableOutput> {
        let conn = lock(&self.inner.writer);
        let meta = self
            .table(&input.table_name)
            .map_err(|_| table_not_found(&input.table_name))?;
        if meta.def.deletion_protection {
            return Err(Error::validation(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
            ));
        }
        let mut desc = describe(&conn, &meta)?;
        desc.table_status = "DELETING".to_string();
        conn.execute_batch("BEGIN")?;
        let result = (|| -> Result<()> {
            conn.execute("DELETE FROM items WHERE tid = ?1", [meta.tid])?;
            conn.execute(
                "DELETE FROM index_items WHERE iid >= ?1 AND iid < ?2",
                [meta.tid << 20, (meta.tid + 1) << 20],
            )?;
            conn.execute("DELETE FROM tables WHERE tid = ?1", [meta.tid])?;
            Ok(())
        })();
        match result {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        self.inner
            .tables
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&input.table_name);
        Ok(CreateTableOutput {
            table_description: desc,
        })
    }

    pub fn update_table(&self, input: UpdateTableInput) -> Result<UpdateTableOutput> {
        let mut conn = lock(&self.inner.writer);
        let meta = self
            .table(&input.table_name)
            .map_err(|_| table_not_found(&input.table_name))?;
        let mut def = meta.def.clone();
        if let Some(defs) = &input.attribute_definitions {
            for d in defs {
                match def
                    .attribute_definitions
                    .iter_mut()
                    .find(|x| x.attribute_name == d.attribute_name)
                {
                    Some(existing) => *existing = d.clone(),
                    None => def.attribute_definitions.push(d.clone()),
                }
            }
        }
        if let Some(mode) = &input.billing_mode {
            def.billing_mode = mode.clone();
        }
        if let Some(p) = &input.provisioned_throughput {
            def.provisioned = Some(p.clone());
        }
        if let Some(s) = &input.stream_specification {
            def.stream_specification = Some(s.clone());
        }
        if let Some(d) = input.deletion_protection_enabled {
            def.deletion_protection = d;
        }
        let mut created = Vec::new();
        let mut dropped = Vec::new();
        for upd in input.global_secondary_index_updates.iter().flatten() {
            if let Some(spec) = &upd.create {
                if def
                    .gsis
                    .iter()
                    .chain(def.lsis.iter())
                    .any(|i| i.name == spec.index_name)
                {
                    return Err(Error::validation(format!(
                        "One or more parameter values were invalid: Index already exists: {}",
                        spec.index_name
                    )));
                }
                let mut next = def.next_index;
                let idx = index_def(spec, meta.tid, &mut next);
                def.next_index = next;
                created.push(idx.iid);
                def.gsis.push(idx);
            }
            if let Some(del) = &upd.delete {
                let Some(pos) = def.gsis.iter().position(|i| i.name == del.index_name) else {
                    return Err(Error::ResourceNotFound(format!(
                        "Requested resource not found: Index: {} not found",
                        del.index_name
                    )));
                };
                dropped.push(def.gsis.remove(pos).iid);
            }
            if upd.update.is_some() && upd.create.is_none() && upd.delete.is_none() {
                // Throughput changes of an index have no effect locally.
            }
        }
        let new_meta = Arc::new(TableMeta::from_def(meta.tid, def.clone())?);
        let json = serde_json::to_string(&def).map_err(|e| Error::Internal(e.to_string()))?;
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE tables SET def = ?1 WHERE tid = ?2",
            params![json, meta.tid],
        )?;
        for iid in dropped {
            tx.execute("DELETE FROM index_items WHERE iid = ?1", [iid])?;
        }
        if !created.is_empty() {
            // Backfill new indexes from the table's items, in the same transaction.
            let mut stmt = tx.prepare("SELECT pk, sk, item FROM items WHERE tid = ?1")?;
            let mut rows = stmt.query([meta.tid])?;
            while let Some(row) = rows.next()? {
                let pk: Vec<u8> = row.get(0)?;
                let sk: Vec<u8> = row.get(1)?;
                let item = decode(
                    row.get_ref(2)?
                        .as_blob()
                        .map_err(|e| Error::Internal(e.to_string()))?,
                )?;
                for idx in new_meta.indexes.iter().filter(|i| created.contains(&i.iid)) {
                    put_index_row(&tx, &new_meta, idx, &pk, &sk, &item)?;
                }
            }
        }
        tx.commit()?;
        self.inner
            .tables
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(def.name.clone(), new_meta.clone());
        let desc = describe(&conn, &new_meta)?;
        Ok(UpdateTableOutput {
            table_description: desc,
        })
    }

    /// Changes a table's stored definition (TTL, tags) under the writer lock.
    fn modify_def<R>(
        &self,
        name: &str,
        f: impl FnOnce(&mut crate::schema::TableDef) -> Result<R>,
    ) -> Result<R> {
        let conn = lock(&self.inner.writer);
        let meta = self.table(name).map_err(|_| table_not_found(name))?;
        let mut def = meta.def.clone();
        let r = f(&mut def)?;
        let json = serde_json::to_string(&def).map_err(|e| Error::Internal(e.to_string()))?;
        conn.execute(
            "UPDATE tables SET def = ?1 WHERE tid = ?2",
            params![json, meta.tid],
        )?;
        let new_meta = Arc::new(TableMeta::from_def(meta.tid, def)?);
        self.inner
            .tables
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), new_meta);
        Ok(r)
    }

    /// Records the TTL setting. Items are not expired locally; reads return them as
    /// DynamoDB does until its background deletion runs.
    pub fn update_time_to_live(
        &self,
        input: UpdateTimeToLiveInput,
    ) -> Result<UpdateTimeToLiveOutput> {
        let spec = input.time_to_live_specification;
        let stored = spec.clone();
        self.modify_def(&input.table_name, move |def| {
            match (&def.ttl_attribute, stored.enabled) {
                (Some(_), true) => Err(Error::validation("TimeToLive is already enabled")),
                (None, false) => Err(Error::validation("TimeToLive is already disabled")),
                (_, true) => {
                    def.ttl_attribute = Some(stored.attribute_name);
                    Ok(())
                }
                (_, false) => {
                    def.ttl_attribute = None;
                    Ok(())
                }
            }
        })?;
        Ok(UpdateTimeToLiveOutput {
            time_to_live_specification: spec,
        })
    }

    pub fn describe_time_to_live(&self, input: TableNameInput) -> Result<DescribeTimeToLiveOutput> {
        let meta = self
            .table(&input.table_name)
            .map_err(|_| table_not_found(&input.table_name))?;
        Ok(DescribeTimeToLiveOutput {
            time_to_live_description: TimeToLiveDescription {
                time_to_live_status: if meta.def.ttl_attribute.is_some() {
                    "ENABLED"
                } else {
                    "DISABLED"
                }
                .to_string(),
                attribute_name: meta.def.ttl_attribute.clone(),
            },
        })
    }

    pub fn tag_resource(&self, input: TagResourceInput) -> Result<Empty> {
        let name = table_from_arn(&input.resource_arn)?;
        self.modify_def(&name, move |def| {
            for tag in input.tags {
                def.tags.retain(|t| t.key != tag.key);
                def.tags.push(tag);
            }
            Ok(())
        })?;
        Ok(Empty {})
    }

    pub fn untag_resource(&self, input: UntagResourceInput) -> Result<Empty> {
        let name = table_from_arn(&input.resource_arn)?;
        self.modify_def(&name, move |def| {
            def.tags.retain(|t| !input.tag_keys.contains(&t.key));
            Ok(())
        })?;
        Ok(Empty {})
    }

    pub fn list_tags_of_resource(
        &self,
        input: ListTagsOfResourceInput,
    ) -> Result<ListTagsOfResourceOutput> {
        let name = table_from_arn(&input.resource_arn)?;
        let meta = self.table(&name).map_err(|_| table_not_found(&name))?;
        Ok(ListTagsOfResourceOutput {
            tags: meta.def.tags.clone(),
        })
    }

    // ---------------------------------------------------------------- items

    pub fn put_item(&self, input: PutItemInput) -> Result<WriteItemOutput> {
        let rv = return_values(input.return_values.as_deref(), &["NONE", "ALL_OLD"])?;
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let mut prepared = self.prepare_put(
            &input.table_name,
            input.item,
            input.condition_expression.as_deref(),
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
            input.return_values_on_condition_check_failure.as_deref(),
        )?;
        prepared.need_old |= rv == "ALL_OLD";
        prepared.need_size = cap != CapacityMode::None;
        let (result, prepared) = self.write(move |c, inner| {
            inner.still_current(&prepared.meta)?;
            let r = run_write(c, &prepared)?;
            Ok((r, prepared))
        })?;
        Ok(WriteItemOutput {
            attributes: if rv == "ALL_OLD" { result.old } else { None },
            consumed_capacity: consumed(
                &self.inner.meter,
                cap,
                &prepared.meta.def.name,
                &result.units,
                false,
            ),
        })
    }

    pub fn update_item(&self, input: UpdateItemInput) -> Result<WriteItemOutput> {
        let rv = return_values(
            input.return_values.as_deref(),
            &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
        )?;
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let prepared = self.prepare_update(
            &input.table_name,
            input.key,
            input.update_expression.as_deref(),
            input.condition_expression.as_deref(),
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
            input.return_values_on_condition_check_failure.as_deref(),
        )?;
        let (result, prepared) = self.write(move |c, inner| {
            inner.still_current(&prepared.meta)?;
            let r = run_write(c, &prepared)?;
            Ok((r, prepared))
        })?;
        let updated_paths = || -> Vec<Path> {
            match &prepared.kind {
                WriteKind::Update(Some(u)) => u.target_paths().cloned().collect(),
                _ => Vec::new(),
            }
        };
        let attributes = match rv.as_str() {
            "ALL_OLD" => result.old,
            "ALL_NEW" => result.new,
            "UPDATED_OLD" => result.old.map(|o| project(&o, &updated_paths())),
            "UPDATED_NEW" => result.new.map(|n| project(&n, &updated_paths())),
            _ => None,
        }
        .filter(|a| !a.is_empty());
        Ok(WriteItemOutput {
            attributes,
            consumed_capacity: consumed(
                &self.inner.meter,
                cap,
                &prepared.meta.def.name,
                &result.units,
                false,
            ),
        })
    }

    pub fn delete_item(&self, input: DeleteItemInput) -> Result<WriteItemOutput> {
        let rv = return_values(input.return_values.as_deref(), &["NONE", "ALL_OLD"])?;
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let mut prepared = self.prepare_keyed(
            &input.table_name,
            input.key,
            WriteKind::Delete,
            input.condition_expression.as_deref(),
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
            input.return_values_on_condition_check_failure.as_deref(),
        )?;
        prepared.need_old |= rv == "ALL_OLD";
        prepared.need_size = cap != CapacityMode::None;
        let (result, prepared) = self.write(move |c, inner| {
            inner.still_current(&prepared.meta)?;
            let r = run_write(c, &prepared)?;
            Ok((r, prepared))
        })?;
        Ok(WriteItemOutput {
            attributes: if rv == "ALL_OLD" { result.old } else { None },
            consumed_capacity: consumed(
                &self.inner.meter,
                cap,
                &prepared.meta.def.name,
                &result.units,
                false,
            ),
        })
    }

    pub fn get_item(&self, mut input: GetItemInput) -> Result<GetItemOutput> {
        let meta = self.table(&input.table_name)?;
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        validate_item(&mut input.key)?;
        meta.check_key(&input.key)?;
        let mut ctx = ExprContext::new(input.expression_attribute_names.as_ref(), None)?;
        let projection = input
            .projection_expression
            .as_deref()
            .map(|p| parse_projection(p, &mut ctx))
            .transpose()?;
        ctx.finish(projection.is_some())?;
        let (pk, sk) = meta.encode_primary(&input.key);
        let found = self.read(|c| load(c, &meta, &pk, &sk))?;
        let consistent = input.consistent_read.unwrap_or(false);
        let units = Units {
            table: read_units(found.as_ref().map_or(0, |f| f.1), consistent),
            indexes: Vec::new(),
        };
        let item = found.map(|(item, _)| match &projection {
            Some(paths) => project(&item, paths),
            None => item,
        });
        Ok(GetItemOutput {
            item,
            consumed_capacity: consumed(&self.inner.meter, cap, &meta.def.name, &units, true),
        })
    }

    pub fn query(&self, input: QueryInput) -> Result<QueryOutput> {
        let meta = self.table(&input.table_name)?;
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let index = input
            .index_name
            .as_deref()
            .map(|n| meta.index(n))
            .transpose()?;
        if index.is_some_and(|i| i.global) && input.consistent_read == Some(true) {
            return Err(Error::validation(
                "Consistent reads are not supported on global secondary indexes",
            ));
        }
        let (hash_attr, range_attr) = match index {
            Some(i) => (&i.hash, i.range.as_ref()),
            None => (&meta.hash, meta.range.as_ref()),
        };
        let mut ctx = ExprContext::new(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let Some(kce) = input.key_condition_expression.as_deref() else {
            return Err(Error::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        };
        let kc = parse_key_condition(kce, &mut ctx, &hash_attr.name)?;
        let filter = input
            .filter_expression
            .as_deref()
            .map(|f| parse_condition("FilterExpression", f, &mut ctx))
            .transpose()?;
        let projection = input
            .projection_expression
            .as_deref()
            .map(|p| parse_projection(p, &mut ctx))
            .transpose()?;
        ctx.finish(true)?;
        if kc.hash_value.scalar_type() != Some(hash_attr.ty) {
            return Err(Error::validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            ));
        }
        let mut lo: Option<(Vec<u8>, bool)> = None;
        let mut hi: Option<(Vec<u8>, bool)> = None;
        if let Some((name, sc)) = &kc.sort {
            let Some(r) = range_attr.filter(|r| &r.name == name) else {
                return Err(Error::validation(format!(
                    "Query condition missed key schema element: {}",
                    range_attr.map_or(name.as_str(), |r| r.name.as_str())
                )));
            };
            let typed = |v: &AttributeValue| -> Result<Vec<u8>> {
                if v.scalar_type() != Some(r.ty) {
                    return Err(Error::validation(
                        "One or more parameter values were invalid: Condition parameter type does not match schema type",
                    ));
                }
                Ok(key_bytes(v))
            };
            use crate::expr::CmpOp;
            match sc {
                SortCond::Cmp(CmpOp::Eq, v) => {
                    let b = typed(v)?;
                    lo = Some((b.clone(), true));
                    hi = Some((b, true));
                }
                SortCond::Cmp(CmpOp::Lt, v) => hi = Some((typed(v)?, false)),
                SortCond::Cmp(CmpOp::Le, v) => hi = Some((typed(v)?, true)),
                SortCond::Cmp(CmpOp::Gt, v) => lo = Some((typed(v)?, false)),
                SortCond::Cmp(CmpOp::Ge, v) => lo = Some((typed(v)?, true)),
                SortCond::Cmp(CmpOp::Ne, _) => {
                    return Err(Error::validation("Query key condition not supported"));
                }
                SortCond::Between(a, b) => {
                    if matches!(
                        crate::expr::compare_values(a, b),
                        Some(std::cmp::Ordering::Greater)
                    ) {
                        return Err(Error::validation(
                            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound",
                        ));
                    }
                    lo = Some((typed(a)?, true));
                    hi = Some((typed(b)?, true));
                }
                SortCond::BeginsWith(p) => {
                    if r.ty == crate::value::ScalarType::N {
                        return Err(Error::validation(
                            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
                        ));
                    }
                    let b = typed(p)?;
                    hi = successor(&b).map(|s| (s, false));
                    lo = Some((b, true));
                }
            }
        }
        let select = Select::resolve(input.select.as_deref(), projection.is_some(), index)?;
        let limit = check_limit(input.limit)?;
        let forward = input.scan_index_forward.unwrap_or(true);
        let start = input
            .exclusive_start_key
            .map(|k| start_key(&meta, index, k))
            .transpose()?;
        let pk = key_bytes(&kc.hash_value);
        let consistent = input.consistent_read.unwrap_or(false);
        let page = self.read(|c| {
            let mut sql = String::with_capacity(160);
            let mut args: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(8);
            let dir = if forward { "ASC" } else { "DESC" };
            let id = index.map_or(meta.tid, |i| i.iid);
            args.push(&id);
            args.push(&pk);
            if index.is_some() {
                sql.push_str(
                    "SELECT tpk, tsk, size, item FROM index_items WHERE iid = ?1 AND pk = ?2",
                );
            } else {
                sql.push_str("SELECT pk, sk, size, item FROM items WHERE tid = ?1 AND pk = ?2");
            }
            if let Some((b, incl)) = &lo {
                args.push(b);
                sql.push_str(&format!(
                    " AND sk {} ?{}",
                    if *incl { ">=" } else { ">" },
                    args.len()
                ));
            }
            if let Some((b, incl)) = &hi {
                args.push(b);
                sql.push_str(&format!(
                    " AND sk {} ?{}",
                    if *incl { "<=" } else { "<" },
                    args.len()
                ));
            }
            let op = if forward { ">" } else { "<" };
            if let Some(s) = &start {
                if index.is_some() {
                    args.push(&s.isk);
                    args.push(&s.pk);
                    args.push(&s.sk);
                    let n = args.len();
                    sql.push_str(&format!(
                        " AND (sk, tpk, tsk) {op} (?{}, ?{}, ?{})",
                        n - 2,
                        n - 1,
                        n
                    ));
                } else {
                    args.push(&s.sk);
                    sql.push_str(&format!(" AND sk {op} ?{}", args.len()));
                }
            }
            if index.is_some() {
                sql.push_str(&format!(" ORDER BY sk {dir}, tpk {dir}, tsk {dir}"));
            } else {
                sql.push_str(&format!(" ORDER BY sk {dir}"));
            }
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query(args.as_slice())?;
            collect_page(
                c,
                rows,
                &meta,
                index,
                filter.as_ref(),
                &select,
                projection.as_deref(),
                limit,
                None,
            )
        })?;
        let units = Units {
            table: read_units(page.bytes, consistent),
            indexes: Vec::new(),
        };
        let units = attribute_read(units, index);
        Ok(QueryOutput {
            consumed_capacity: consumed(&self.inner.meter, cap, &meta.def.name, &units, true),
            ..page.output
        })
    }

    pub fn scan(&self, input: ScanInput) -> Result<QueryOutput> {
        let meta = self.table(&input.table_name)?;
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let index = input
            .index_name
            .as_deref()
            .map(|n| meta.index(n))
            .transpose()?;
        let mut ctx = ExprContext::new(
            input.expression_attribute_names.as_ref(),
            input.expression_attribute_values.as_ref(),
        )?;
        let filter = input
            .filter_expression
            .as_deref()
            .map(|f| parse_condition("FilterExpression", f, &mut ctx))
            .transpose()?;
        let projection = input
            .projection_expression
            .as_deref()
            .map(|p| parse_projection(p, &mut ctx))
            .transpose()?;
        ctx.finish(filter.is_some() || projection.is_some())?;
        let segment = match (input.segment, input.total_segments) {
            (None, None) => None,
            (Some(s), Some(t)) => {
                if !(1..=1_000_000).contains(&t) {
                    return Err(Error::validation(format!(
                        "1 validation error detected: Value '{t}' at 'totalSegments' failed to satisfy constraint: Member must have value between 1 and 1000000"
                    )));
                }
                if s < 0 || s >= t {
                    return Err(Error::validation(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                    )));
                }
                Some((s as u64, t as u64))
            }
            (Some(_), None) => {
                return Err(Error::validation(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::validation(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ));
            }
        };
        let select = Select::resolve(input.select.as_deref(), projection.is_some(), index)?;
        let limit = check_limit(input.limit)?;
        let start = input
            .exclusive_start_key
            .map(|k| start_key(&meta, index, k))
            .transpose()?;
        let consistent = input.consistent_read.unwrap_or(false);
        let page = self.read(|c| {
            let id = index.map_or(meta.tid, |i| i.iid);
            let mut args: Vec<&dyn rusqlite::ToSql> = vec![&id];
            let sql = match (&start, index) {
                (None, None) => "SELECT pk, sk, size, item FROM items WHERE tid = ?1 ORDER BY pk, sk",
                (Some(s), None) => {
                    args.push(&s.pk);
                    args.push(&s.sk);
                    "SELECT pk, sk, size, item FROM items WHERE tid = ?1 AND (pk, sk) > (?2, ?3) ORDER BY pk, sk"
                }
                (None, Some(_)) => {
                    "SELECT tpk, tsk, size, item, pk FROM index_items WHERE iid = ?1 ORDER BY pk, sk, tpk, tsk"
                }
                (Some(s), Some(_)) => {
                    args.push(&s.ipk);
                    args.push(&s.isk);
                    args.push(&s.pk);
                    args.push(&s.sk);
                    "SELECT tpk, tsk, size, item, pk FROM index_items WHERE iid = ?1 AND (pk, sk, tpk, tsk) > (?2, ?3, ?4, ?5) ORDER BY pk, sk, tpk, tsk"
                }
            };
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query(args.as_slice())?;
            collect_page(c, rows, &meta, index, filter.as_ref(), &select, projection.as_deref(), limit, segment)
        })?;
        let units = attribute_read(
            Units {
                table: read_units(page.bytes, consistent),
                indexes: Vec::new(),
            },
            index,
        );
        Ok(QueryOutput {
            consumed_capacity: consumed(&self.inner.meter, cap, &meta.def.name, &units, true),
            ..page.output
        })
    }

    pub fn batch_get_item(&self, input: BatchGetItemInput) -> Result<BatchGetItemOutput> {
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let total: usize = input.request_items.values().map(|k| k.keys.len()).sum();
        if total > 100 {
            return Err(Error::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        if input.request_items.is_empty() {
            return Err(Error::validation(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        struct Plan {
            table: String,
            meta: Arc<TableMeta>,
            keys: Vec<(Vec<u8>, Vec<u8>)>,
            projection: Option<Vec<Path>>,
            consistent: bool,
        }
        let mut plans = Vec::new();
        for (table, mut ka) in input.request_items {
            let meta = self.table(&table)?;
            if ka.keys.is_empty() {
                return Err(Error::validation(
                    "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
                ));
            }
            let mut ctx = ExprContext::new(ka.expression_attribute_names.as_ref(), None)?;
            let projection = ka
                .projection_expression
                .as_deref()
                .map(|p| parse_projection(p, &mut ctx))
                .transpose()?;
            ctx.finish(projection.is_some())?;
            let mut keys = Vec::with_capacity(ka.keys.len());
            for key in ka.keys.iter_mut() {
                validate_item(key)?;
                meta.check_key(key)?;
                let enc = meta.encode_primary(key);
                if keys.contains(&enc) {
                    return Err(Error::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                keys.push(enc);
            }
            plans.push(Plan {
                table,
                meta,
                keys,
                projection,
                consistent: ka.consistent_read.unwrap_or(false),
            });
        }
        self.read(|c| {
            let mut out = BatchGetItemOutput::default();
            let mut caps = Vec::new();
            for plan in &plans {
                let mut items = Vec::new();
                let mut units = Units::default();
                for (pk, sk) in &plan.keys {
                    let found = load(c, &plan.meta, pk, sk)?;
                    units.table += read_units(found.as_ref().map_or(0, |f| f.1), plan.consistent);
                    if let Some((item, _)) = found {
                        items.push(match &plan.projection {
                            Some(p) => project(&item, p),
                            None => item,
                        });
                    }
                }
                if let Some(cc) = consumed(&self.inner.meter, cap, &plan.table, &units, true) {
                    caps.push(cc);
                }
                out.responses.insert(plan.table.clone(), items);
            }
            if cap != CapacityMode::None {
                out.consumed_capacity = Some(caps);
            }
            Ok(out)
        })
    }

    pub fn batch_write_item(&self, input: BatchWriteItemInput) -> Result<BatchWriteItemOutput> {
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let total: usize = input.request_items.values().map(Vec::len).sum();
        if total > 25 {
            return Err(Error::validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length less than or equal to 25",
            ));
        }
        if input.request_items.is_empty() {
            return Err(Error::validation(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        let mut prepared = Vec::with_capacity(total);
        let mut seen: Vec<(i64, Vec<u8>, Vec<u8>)> = Vec::with_capacity(total);
        for (table, requests) in input.request_items {
            for req in requests {
                let p = match (req.put_request, req.delete_request) {
                    (Some(put), None) => {
                        self.prepare_put(&table, put.item, None, None, None, None)?
                    }
                    (None, Some(del)) => self.prepare_keyed(
                        &table,
                        del.key,
                        WriteKind::Delete,
                        None,
                        None,
                        None,
                        None,
                    )?,
                    _ => {
                        return Err(Error::validation(
                            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                        ));
                    }
                };
                let id = (p.meta.tid, p.pk.clone(), p.sk.clone());
                if seen.contains(&id) {
                    return Err(Error::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                seen.push(id);
                prepared.push(p);
            }
        }
        let per_table = self.write(move |c, inner| {
            let mut per_table: Vec<(String, Units)> = Vec::new();
            for p in &prepared {
                inner.still_current(&p.meta)?;
                let r = run_write(c, p)?;
                match per_table.iter_mut().find(|t| t.0 == p.meta.def.name) {
                    Some(t) => t.1.add(r.units),
                    None => per_table.push((p.meta.def.name.clone(), r.units)),
                }
            }
            Ok(per_table)
        })?;
        Ok(BatchWriteItemOutput {
            unprocessed_items: HashMap::new(),
            consumed_capacity: (cap != CapacityMode::None).then(|| {
                per_table
                    .iter()
                    .filter_map(|(t, u)| consumed(&self.inner.meter, cap, t, u, false))
                    .collect()
            }),
        })
    }

    pub fn transact_write_items(
        &self,
        input: TransactWriteItemsInput,
    ) -> Result<TransactWriteItemsOutput> {
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let n = input.transact_items.len();
        if n == 0 || n > 100 {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1 (got {n})"
            )));
        }
        let mut prepared = Vec::with_capacity(n);
        for action in input.transact_items {
            let count = usize::from(action.put.is_some())
                + usize::from(action.update.is_some())
                + usize::from(action.delete.is_some())
                + usize::from(action.condition_check.is_some());
            if count != 1 {
                return Err(Error::validation(
                    "TransactItems can only contain one of Check, Put, Update or Delete",
                ));
            }
            let p = if let Some(put) = action.put {
                self.prepare_put(
                    &put.table_name,
                    put.item,
                    put.condition_expression.as_deref(),
                    put.expression_attribute_names.as_ref(),
                    put.expression_attribute_values.as_ref(),
                    put.return_values_on_condition_check_failure.as_deref(),
                )?
            } else if let Some(u) = action.update {
                self.prepare_update(
                    &u.table_name,
                    u.key,
                    Some(&u.update_expression),
                    u.condition_expression.as_deref(),
                    u.expression_attribute_names.as_ref(),
                    u.expression_attribute_values.as_ref(),
                    u.return_values_on_condition_check_failure.as_deref(),
                )?
            } else if let Some(d) = action.delete {
                self.prepare_keyed(
                    &d.table_name,
                    d.key,
                    WriteKind::Delete,
                    d.condition_expression.as_deref(),
                    d.expression_attribute_names.as_ref(),
                    d.expression_attribute_values.as_ref(),
                    d.return_values_on_condition_check_failure.as_deref(),
                )?
            } else if let Some(cc) = action.condition_check {
                if cc.condition_expression.is_none() {
                    return Err(Error::validation(
                        "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
                    ));
                }
                self.prepare_keyed(
                    &cc.table_name,
                    cc.key,
                    WriteKind::Check,
                    cc.condition_expression.as_deref(),
                    cc.expression_attribute_names.as_ref(),
                    cc.expression_attribute_values.as_ref(),
                    cc.return_values_on_condition_check_failure.as_deref(),
                )?
            } else {
                return Err(Error::validation(
                    "TransactItems can only contain one of Check, Put, Update or Delete",
                ));
            };
            if prepared
                .iter()
                .any(|q: &PreparedWrite| q.meta.tid == p.meta.tid && q.pk == p.pk && q.sk == p.sk)
            {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            prepared.push(p);
        }
        let per_table = self.write(move |c, inner| {
            // Check every condition first so the reasons list covers all actions.
            let mut reasons = Vec::with_capacity(prepared.len());
            let mut failed = false;
            for p in &prepared {
                inner.still_current(&p.meta)?;
                let old = load(c, &p.meta, &p.pk, &p.sk)?.map(|o| o.0);
                let ok = p
                    .cond
                    .as_ref()
                    .is_none_or(|cond| eval_condition(cond, old.as_ref().unwrap_or(&Item::new())));
                if ok {
                    reasons.push(CancellationReason {
                        code: "None".to_string(),
                        message: None,
                        item: None,
                    });
                } else {
                    failed = true;
                    reasons.push(CancellationReason {
                        code: "ConditionalCheckFailed".to_string(),
                        message: Some("The conditional request failed".to_string()),
                        item: if p.all_old_on_failure { old } else { None },
                    });
                }
            }
            if failed {
                let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
                return Err(Error::TransactionCanceled {
                    message: format!(
                        "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                        codes.join(", ")
                    ),
                    reasons,
                });
            }
            let mut per_table: Vec<(String, Units)> = Vec::new();
            for p in &prepared {
                let r = run_write(c, p)?;
                let units = r.units.scale(2.0);
                match per_table.iter_mut().find(|t| t.0 == p.meta.def.name) {
                    Some(t) => t.1.add(units),
                    None => per_table.push((p.meta.def.name.clone(), units)),
                }
            }
            Ok(per_table)
        })?;
        Ok(TransactWriteItemsOutput {
            consumed_capacity: (cap != CapacityMode::None).then(|| {
                per_table
                    .iter()
                    .filter_map(|(t, u)| consumed(&self.inner.meter, cap, t, u, false))
                    .collect()
            }),
        })
    }

    pub fn transact_get_items(
        &self,
        input: TransactGetItemsInput,
    ) -> Result<TransactGetItemsOutput> {
        let cap = capacity_mode(input.return_consumed_capacity.as_deref())?;
        let n = input.transact_items.len();
        if n == 0 || n > 100 {
            return Err(Error::validation(format!(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1 (got {n})"
            )));
        }
        let mut plans = Vec::with_capacity(n);
        for action in input.transact_items {
            let Some(mut get) = action.get else {
                return Err(Error::validation(
                    "1 validation error detected: Value null at 'transactItems.1.member.get' failed to satisfy constraint: Member must not be null",
                ));
            };
            let meta = self.table(&get.table_name)?;
            validate_item(&mut get.key)?;
            meta.check_key(&get.key)?;
            let mut ctx = ExprContext::new(get.expression_attribute_names.as_ref(), None)?;
            let projection = get
                .projection_expression
                .as_deref()
                .map(|p| parse_projection(p, &mut ctx))
                .transpose()?;
            ctx.finish(projection.is_some())?;
            let (pk, sk) = meta.encode_primary(&get.key);
            if plans
                .iter()
                .any(|(m, p, s, _): &(Arc<TableMeta>, Vec<u8>, Vec<u8>, _)| {
                    m.tid == meta.tid && *p == pk && *s == sk
                })
            {
                return Err(Error::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            plans.push((meta, pk, sk, projection));
        }
        self.read(|c| {
            let mut responses = Vec::with_capacity(plans.len());
            let mut per_table: Vec<(String, Units)> = Vec::new();
            for (meta, pk, sk, projection) in &plans {
                let found = load(c, meta, pk, sk)?;
                let units = Units {
                    table: 2.0 * read_units(found.as_ref().map_or(0, |f| f.1), true),
                    indexes: Vec::new(),
                };
                match per_table.iter_mut().find(|t| t.0 == meta.def.name) {
                    Some(t) => t.1.add(units),
                    None => per_table.push((meta.def.name.clone(), units)),
                }
                responses.push(ItemResponse {
                    item: found.map(|(item, _)| match projection {
                        Some(p) => project(&item, p),
                        None => item,
                    }),
                });
            }
            Ok(TransactGetItemsOutput {
                responses,
                consumed_capacity: (cap != CapacityMode::None).then(|| {
                    per_table
                        .iter()
                        .filter_map(|(t, u)| consumed(&self.inner.meter, cap, t, u, true))
                        .collect()
                }),
            })
        })
    }

    // ---------------------------------------------------------------- preparation

    fn prepare_put(
        &self,
        table: &str,
        mut item: Item,
        condition: Option<&str>,
        names: Option<&Names>,
        values: Option<&Values>,
        on_failure: Option<&str>,
    ) -> Result<PreparedWrite> {
        let meta = self.table(table)?;
        validate_item(&mut item)?;
        meta.check_item(&item)?;
        check_key_sizes(&meta, &item)?;
        check_size(&item, false)?;
        let all_old_on_failure = on_failure_all_old(on_failure)?;
        let mut ctx = ExprContext::new(names, values)?;
        let cond = condition
            .map(|c| parse_condition("ConditionExpression", c, &mut ctx))
            .transpose()?;
        ctx.finish(cond.is_some())?;
        let (pk, sk) = meta.encode_primary(&item);
        let need_old = cond.is_some() || all_old_on_failure || !meta.indexes.is_empty();
        Ok(PreparedWrite {
            key: meta.key_of(&item),
            meta,
            pk,
            sk,
            kind: WriteKind::Put(item),
            cond,
            all_old_on_failure,
            need_old,
            need_size: true,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn prepare_update(
        &self,
        table: &str,
        key: Item,
        update: Option<&str>,
        condition: Option<&str>,
        names: Option<&Names>,
        values: Option<&Values>,
        on_failure: Option<&str>,
    ) -> Result<PreparedWrite> {
        let meta = self.table(table)?;
        let mut ctx = ExprContext::new(names, values)?;
        let parsed = update.map(|u| parse_update(u, &mut ctx)).transpose()?;
        let cond = condition
            .map(|c| parse_condition("ConditionExpression", c, &mut ctx))
            .transpose()?;
        ctx.finish(parsed.is_some() || cond.is_some())?;
        if let Some(u) = &parsed {
            for p in u.target_paths() {
                if let Some(crate::expr::Elem::Key(first)) = p.first()
                    && meta.is_key_attr(first)
                {
                    return Err(Error::validation(format!(
                        "One or more parameter values were invalid: Cannot update attribute {first}. This attribute is part of the key"
                    )));
                }
            }
        }
        let mut p = self.prepare_keyed(
            table,
            key,
            WriteKind::Update(parsed),
            None,
            None,
            None,
            on_failure,
        )?;
        p.cond = cond;
        Ok(p)
    }

    #[allow(clippy::too_many_arguments)]
    fn prepare_keyed(
        &self,
        table: &str,
        mut key: Item,
        kind: WriteKind,
        condition: Option<&str>,
        names: Option<&Names>,
        values: Option<&Values>,
        on_failure: Option<&str>,
    ) -> Result<PreparedWrite> {
        let meta = self.table(table)?;
        validate_item(&mut key)?;
        meta.check_key(&key)?;
        check_key_sizes(&meta, &key)?;
        let all_old_on_failure = on_failure_all_old(on_failure)?;
        let mut ctx = ExprContext::new(names, values)?;
        let cond = condition
            .map(|c| parse_condition("ConditionExpression", c, &mut ctx))
            .transpose()?;
        if !matches!(kind, WriteKind::Update(_)) {
            ctx.finish(cond.is_some())?;
        }
        let (pk, sk) = meta.encode_primary(&key);
        let need_old = matches!(kind, WriteKind::Update(_) | WriteKind::Check)
            || cond.is_some()
            || all_old_on_failure
            || !meta.indexes.is_empty();
        Ok(PreparedWrite {
            meta,
            key,
            pk,
            sk,
            kind,
            cond,
            all_old_on_failure,
            need_old,
            need_size: true,
        })
    }
}

/// The table an ARN names (`arn:aws:dynamodb:<region>:<account>:table/<name>`); any region
/// and account are accepted, as credentials are.
fn table_from_arn(arn: &str) -> Result<String> {
    match arn.split_once(":table/") {
        Some((prefix, name)) if prefix.starts_with("arn:") && !name.is_empty() => {
            Ok(name.split('/').next().unwrap_or(name).to_string())
        }
        _ => Err(Error::validation(format!("Invalid TableArn: {arn}"))),
    }
}

fn table_not_found(name: &str) -> Error {
    Error::ResourceNotFound(format!(
        "Requested resource not found: Table: {name} not found"
    ))
}

fn load_size(c: &Connection, meta: &TableMeta, pk: &[u8], sk: &[u8]) -> Result<Option<usize>> {
    let mut stmt =
        c.prepare_cached("SELECT size FROM items WHERE tid = ?1 AND pk = ?2 AND sk = ?3")?;
    let size = stmt
        .query_row(params![meta.tid, pk, sk], |r| r.get::<_, i64>(0))
        .optional()?;
    Ok(size.map(|s| s as usize))
}

fn load(c: &Connection, meta: &TableMeta, pk: &[u8], sk: &[u8]) -> Result<Option<(Item, usize)>> {
    let mut stmt =
        c.prepare_cached("SELECT item, size FROM items WHERE tid = ?1 AND pk = ?2 AND sk = ?3")?;
    let row = stmt
        .query_row(params![meta.tid, pk, sk], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })
        .optional()?;
    match row {
        Some((bytes, size)) => Ok(Some((decode(&bytes)?, size as usize))),
        None => Ok(None),
    }
}

/// Reads, checks the condition, computes and stores one write. Runs inside a transaction.
fn run_write(c: &Connection, p: &PreparedWrite) -> Result<WriteResult> {
    let (old, old_size, old_exists) = if p.need_old {
        let old = load(c, &p.meta, &p.pk, &p.sk)?;
        let size = old.as_ref().map_or(0, |o| o.1);
        let exists = old.is_some();
        (old.map(|o| o.0), size, exists)
    } else if p.need_size {
        let size = load_size(c, &p.meta, &p.pk, &p.sk)?;
        (None, size.unwrap_or(0), size.is_some())
    } else {
        // Unknown: a delete then runs unconditionally (harmless when nothing is there).
        (None, 0, true)
    };
    let empty = Item::new();
    if let Some(cond) = &p.cond
        && !eval_condition(cond, old.as_ref().unwrap_or(&empty))
    {
        return Err(Error::ConditionalCheckFailed {
            item: if p.all_old_on_failure { old } else { None },
        });
    }
    let new = match &p.kind {
        WriteKind::Put(item) => {
            let units = store_item(
                c,
                &p.meta,
                &p.pk,
                &p.sk,
                old.as_ref(),
                old_exists,
                old_size,
                Some(item),
            )?;
            return Ok(WriteResult {
                old,
                new: None,
                units,
            });
        }
        WriteKind::Update(update) => {
            let mut item = old.clone().unwrap_or_else(|| p.key.clone());
            if let Some(u) = update {
                apply_update(u, &mut item)?;
            }
            p.meta.check_item(&item)?;
            check_size(&item, true)?;
            Some(item)
        }
        WriteKind::Delete => None,
        WriteKind::Check => {
            return Ok(WriteResult {
                old,
                new: None,
                units: Units {
                    table: 1.0,
                    indexes: Vec::new(),
                },
            });
        }
    };
    let units = store_item(
        c,
        &p.meta,
        &p.pk,
        &p.sk,
        old.as_ref(),
        old_exists,
        old_size,
        new.as_ref(),
    )?;
    Ok(WriteResult { old, new, units })
}

#[allow(clippy::too_many_arguments)]
fn store_item(
    c: &Connection,
    meta: &TableMeta,
    pk: &[u8],
    sk: &[u8],
    old: Option<&Item>,
    old_exists: bool,
    old_size: usize,
    new: Option<&Item>,
) -> Result<Units> {
    let mut units = Units::default();
    let new_size = new.map_or(0, item_size);
    match new {
        Some(item) => {
            let bytes = encode(item)?;
            let mut stmt = c.prepare_cached(
                "INSERT OR REPLACE INTO items (tid, pk, sk, size, item) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            stmt.execute(params![meta.tid, pk, sk, new_size as i64, bytes])?;
        }
        None => {
            if old_exists {
                let mut stmt =
                    c.prepare_cached("DELETE FROM items WHERE tid = ?1 AND pk = ?2 AND sk = ?3")?;
                stmt.execute(params![meta.tid, pk, sk])?;
            }
        }
    }
    units.table = write_units(old_size.max(new_size));
    for idx in &meta.indexes {
        let old_key = old.and_then(|o| idx.encode(o));
        let new_key = new.and_then(|n| idx.encode(n));
        if old_key.is_none() && new_key.is_none() {
            continue;
        }
        let mut idx_units = 0.0;
        if let Some((ipk, isk)) = &old_key
            && new_key.as_ref() != Some(&(ipk.clone(), isk.clone()))
        {
            let mut stmt = c.prepare_cached(
                "DELETE FROM index_items WHERE iid = ?1 AND pk = ?2 AND sk = ?3 AND tpk = ?4 AND tsk = ?5",
            )?;
            stmt.execute(params![idx.iid, ipk, isk, pk, sk])?;
            idx_units += write_units(old.map_or(0, |o| item_size(&idx.project(meta, o))));
        }
        if let Some(item) = new
            && new_key.is_some()
        {
            idx_units += put_index_row(c, meta, idx, pk, sk, item)?;
        }
        units
            .indexes
            .push((idx.name.clone(), idx.global, idx_units));
    }
    Ok(units)
}

fn put_index_row(
    c: &Connection,
    meta: &TableMeta,
    idx: &IndexMeta,
    pk: &[u8],
    sk: &[u8],
    item: &Item,
) -> Result<f64> {
    let Some((ipk, isk)) = idx.encode(item) else {
        return Ok(0.0);
    };
    let projected = idx.project(meta, item);
    let size = item_size(&projected);
    let bytes = encode(&projected)?;
    let mut stmt = c.prepare_cached(
        "INSERT OR REPLACE INTO index_items (iid, pk, sk, tpk, tsk, size, item) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![idx.iid, ipk, isk, pk, sk, size as i64, bytes])?;
    Ok(write_units(size))
}

fn describe(c: &Connection, meta: &TableMeta) -> Result<TableDescription> {
    let (count, size): (i64, i64) = c.query_row(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM items WHERE tid = ?1",
        [meta.tid],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let mut lsis = Vec::new();
    let mut gsis = Vec::new();
    for idx in &meta.indexes {
        let (n, s): (i64, i64) = c.query_row(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM index_items WHERE iid = ?1",
            [idx.iid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let d = meta.describe_index(idx, n, s);
        if idx.global {
            gsis.push(d);
        } else {
            lsis.push(d);
        }
    }
    let def = &meta.def;
    Ok(TableDescription {
        attribute_definitions: def.attribute_definitions.clone(),
        table_name: def.name.clone(),
        key_schema: def.key_schema.clone(),
        table_status: "ACTIVE".to_string(),
        creation_date_time: def.created,
        provisioned_throughput: throughput(def.provisioned.as_ref()),
        table_size_bytes: size,
        item_count: count,
        table_arn: meta.arn(),
        table_id: def.table_id.clone(),
        billing_mode_summary: (def.billing_mode == "PAY_PER_REQUEST").then(|| BillingModeSummary {
            billing_mode: def.billing_mode.clone(),
        }),
        local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
        global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
        stream_specification: def.stream_specification.clone(),
        deletion_protection_enabled: def.deletion_protection,
    })
}

/// The smallest byte string greater than every string starting with `prefix`.
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut s = prefix.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xFF {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

fn check_limit(limit: Option<i64>) -> Result<Option<usize>> {
    match limit {
        None => Ok(None),
        Some(n) if n >= 1 => Ok(Some(n as usize)),
        Some(n) => Err(Error::validation(format!(
            "1 validation error detected: Value '{n}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ))),
    }
}

/// Reading an index consumes the index's capacity, not the table's.
fn attribute_read(units: Units, index: Option<&IndexMeta>) -> Units {
    match index {
        Some(i) => Units {
            table: 0.0,
            indexes: vec![(i.name.clone(), i.global, units.table)],
        },
        None => units,
    }
}

/// The decoded ExclusiveStartKey: table key bytes and, for an index, index key bytes.
struct StartKey {
    pk: Vec<u8>,
    sk: Vec<u8>,
    ipk: Vec<u8>,
    isk: Vec<u8>,
}

fn start_key(meta: &TableMeta, index: Option<&IndexMeta>, mut key: Item) -> Result<StartKey> {
    let invalid = || {
        Error::validation(
            "The provided starting key is invalid: The provided key element does not match the schema",
        )
    };
    validate_item(&mut key)?;
    let table_key = meta.key_of(&key);
    meta.check_key(&table_key).map_err(|_| invalid())?;
    let (pk, sk) = meta.encode_primary(&key);
    let (ipk, isk) = match index {
        Some(i) => i.encode(&key).ok_or_else(invalid)?,
        None => (Vec::new(), Vec::new()),
    };
    let expected = start_key_len(meta, index);
    if key.len() != expected {
        return Err(invalid());
    }
    Ok(StartKey { pk, sk, ipk, isk })
}

/// How many distinct attributes an ExclusiveStartKey must carry.
fn start_key_len(meta: &TableMeta, index: Option<&IndexMeta>) -> usize {
    let mut names: Vec<&str> = vec![meta.hash.name.as_str()];
    if let Some(r) = &meta.range {
        names.push(&r.name);
    }
    if let Some(i) = index {
        for n in std::iter::once(&i.hash).chain(i.range.iter()) {
            if !names.contains(&n.name.as_str()) {
                names.push(&n.name);
            }
        }
    }
    names.len()
}

enum Select {
    All,
    /// Index rows hold only some attributes; fetch the base item (LSIs only).
    FetchAll,
    Count,
    Default,
}

impl Select {
    fn resolve(
        select: Option<&str>,
        has_projection: bool,
        index: Option<&IndexMeta>,
    ) -> Result<Select> {
        let full_index = index.is_none_or(|i| i.projection == ProjectionKind::All);
        match select {
            None => Ok(Select::Default),
            Some("ALL_ATTRIBUTES") => {
                if has_projection {
                    return Err(Error::validation(
                        "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES",
                    ));
                }
                match index {
                    Some(i) if !full_index && i.global => Err(Error::validation(format!(
                        "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                        i.name
                    ))),
                    Some(_) if !full_index => Ok(Select::FetchAll),
                    _ => Ok(Select::All),
                }
            }
            Some("ALL_PROJECTED_ATTRIBUTES") => {
                if index.is_none() {
                    return Err(Error::validation(
                        "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries",
                    ));
                }
                if has_projection {
                    return Err(Error::validation(
                        "Cannot specify the ProjectionExpression when choosing to get ALL_PROJECTED_ATTRIBUTES",
                    ));
                }
                Ok(Select::All)
            }
            Some("SPECIFIC_ATTRIBUTES") => {
                if !has_projection {
                    return Err(Error::validation(
                        "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
                    ));
                }
                Ok(Select::Default)
            }
            Some("COUNT") => {
                if has_projection {
                    return Err(Error::validation(
                        "Cannot specify the ProjectionExpression when choosing to get only the Count",
                    ));
                }
                Ok(Select::Count)
            }
            Some(other) => Err(Error::validation(format!(
                "1 validation error detected: Value '{other}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            ))),
        }
    }
}

struct Page {
    output: QueryOutput,
    bytes: usize,
}

fn segment_of(pk: &[u8], total: u64) -> u64 {
    // FNV-1a: stable across runs and platforms, so segments are reproducible.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pk {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % total
}

/// Walks result rows (columns: table pk, table sk, size, item[, index pk]) applying
/// Limit, the 1 MB page size, the filter, projection and Select.
#[allow(clippy::too_many_arguments)]
fn collect_page(
    c: &Connection,
    mut rows: rusqlite::Rows<'_>,
    meta: &TableMeta,
    index: Option<&IndexMeta>,
    filter: Option<&Cond>,
    select: &Select,
    projection: Option<&[Path]>,
    limit: Option<usize>,
    segment: Option<(u64, u64)>,
) -> Result<Page> {
    let mut items = Vec::new();
    let mut count = 0i64;
    let mut scanned = 0i64;
    let mut bytes = 0usize;
    let mut last: Option<Item> = None;
    let mut more = false;
    let segment_col = if index.is_some() { 4 } else { 0 };
    while let Some(row) = rows.next()? {
        if let Some((seg, total)) = segment {
            let pk = row
                .get_ref(segment_col)?
                .as_blob()
                .map_err(|e| Error::Internal(e.to_string()))?;
            if segment_of(pk, total) != seg {
                continue;
            }
        }
        let size = row.get::<_, i64>(2)? as usize;
        if bytes > 0 && bytes + size > PAGE_LIMIT {
            more = true;
            break;
        }
        let item = decode(
            row.get_ref(3)?
                .as_blob()
                .map_err(|e| Error::Internal(e.to_string()))?,
        )?;
        scanned += 1;
        bytes += size;
        let mut item = item;
        if let Select::FetchAll = select {
            let tpk: Vec<u8> = row.get(0)?;
            let tsk: Vec<u8> = row.get(1)?;
            if let Some((full, _)) = load(c, meta, &tpk, &tsk)? {
                item = full;
            }
        }
        let passes = filter.is_none_or(|f| eval_condition(f, &item));
        let key = match index {
            Some(i) => i.key_of(meta, &item),
            None => meta.key_of(&item),
        };
        if passes {
            count += 1;
            match (select, projection) {
                (Select::Count, _) => {}
                (_, Some(paths)) => items.push(project(&item, paths)),
                _ => items.push(item),
            }
        }
        last = Some(key);
        // Like DynamoDB, a page that reaches Limit carries LastEvaluatedKey without looking
        // ahead: an empty next page is how a client learns it was the end.
        if limit.is_some_and(|l| scanned as usize >= l) {
            more = true;
            break;
        }
    }
    Ok(Page {
        output: QueryOutput {
            items: if matches!(select, Select::Count) {
                None
            } else {
                Some(items)
            },
            count,
            scanned_count: scanned,
            last_evaluated_key: if more { last } else { None },
            consumed_capacity: None,
        },
        bytes,
    })
}
