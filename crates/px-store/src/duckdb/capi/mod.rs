//! DuckDB through its C API, for analytics reads, where duckdb-rs is slow.
//!
//! Two things make these reads faster, both measured on 100M events:
//! - **Statements run unprepared** (`duckdb_query`): DuckDB executed the
//!   20-step funnel statement 30% slower as a prepared statement than as a
//!   plain query (5.5-7.6 s against 3.7-5.0 s, alternating runs), and
//!   duckdb-rs prepares everything. Parameters become typed literals
//!   instead ([`literals::inline_params`]).
//! - **Answers are read in place**: the chunks of the materialized answer
//!   are fetched by index (`duckdb_result_get_chunk`) and their vectors
//!   copied into large Arrow buffers by both cores at once (DuckDB is idle
//!   by then). duckdb-rs converts one 2,048-row chunk at a time through the
//!   Arrow C interface: a 37.7M-row scan took 5.5 s to run and hand over
//!   with its `query_arrow`, 2.4 s here.
//!
//! The database itself is opened here too, because duckdb-rs does not give
//! out its handle: [`Database`] owns it, and every connection, duckdb-rs's
//! ([`Conn`]) or raw ([`RawConnection`]), keeps it open through an `Arc`.
//!
//! Here: the database and its connections, and running a statement;
//! `answer` reads an answer into Arrow, `literals` writes parameters into
//! the text.

mod answer;
mod literals;
#[cfg(test)]
mod tests;

use crate::event_store::SqlParam;
use crate::{Result, StoreError};
use ::arrow::record_batch::RecordBatch;
use answer::Answer;
use duckdb::ffi;
use std::ffi::{CStr, CString, c_char};
use std::path::Path;
use std::ptr;
use std::sync::Arc;

/// DuckDB's error text behind `message` (owned by DuckDB), or `fallback`.
///
/// # Safety
/// `message` is null or a NUL-terminated string that outlives the call.
unsafe fn error_text(message: *const c_char, fallback: &str) -> String {
    if message.is_null() {
        return fallback.to_owned();
    }
    // SAFETY: per the function's contract.
    unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
}

fn c_string(what: &str, s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| StoreError::Invalid(format!("{what} contains a NUL byte")))
}

/// An open database file.
pub struct Database {
    raw: ffi::duckdb_database,
}

// SAFETY: a DuckDB database handle may be used from any thread; DuckDB
// synchronizes connecting and closing itself.
unsafe impl Send for Database {}
unsafe impl Sync for Database {}

impl Database {
    /// Opens (creating if needed) the file at `path` with DuckDB `settings`.
    /// Errors carry DuckDB's text (which names a lock held by another process).
    pub fn open(path: &Path, settings: &[(&str, &str)]) -> std::result::Result<Arc<Database>, String> {
        let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
        let mut config: ffi::duckdb_config = ptr::null_mut();
        // SAFETY: every pointer handed to DuckDB below lives across the call;
        // the config is destroyed on every path once the database has read it.
        unsafe {
            if ffi::duckdb_create_config(&mut config) != ffi::DuckDBSuccess {
                return Err("cannot create a DuckDB configuration".into());
            }
            for (key, value) in settings {
                let (k, v) =
                    (CString::new(*key).map_err(|e| e.to_string())?, CString::new(*value).map_err(|e| e.to_string())?);
                if ffi::duckdb_set_config(config, k.as_ptr(), v.as_ptr()) != ffi::DuckDBSuccess {
                    ffi::duckdb_destroy_config(&mut config);
                    return Err(format!("DuckDB setting {key} = {value} was refused"));
                }
            }
            let mut db: ffi::duckdb_database = ptr::null_mut();
            let mut err: *mut c_char = ptr::null_mut();
            let state = ffi::duckdb_open_ext(c_path.as_ptr(), &mut db, config, &mut err);
            ffi::duckdb_destroy_config(&mut config);
            if state != ffi::DuckDBSuccess {
                let text = error_text(err, "cannot open the database");
                if !err.is_null() {
                    ffi::duckdb_free(err.cast());
                }
                return Err(text);
            }
            Ok(Arc::new(Database { raw: db }))
        }
    }

    /// A duckdb-rs connection, for everything but large answers.
    pub fn connect(self: &Arc<Self>) -> Result<Conn> {
        // SAFETY: `raw` is open, and the returned `Conn` keeps it so: it
        // holds this `Arc` and drops its connection first.
        let conn = unsafe { duckdb::Connection::open_from_raw(self.raw) }?;
        Ok(Conn { conn, db: Arc::clone(self) })
    }

    /// A connection for reading large answers ([`RawConnection::query_arrow`]).
    pub fn connect_raw(self: &Arc<Self>) -> Result<RawConnection> {
        let mut con: ffi::duckdb_connection = ptr::null_mut();
        // SAFETY: `raw` is open; `con` is written by DuckDB.
        if unsafe { ffi::duckdb_connect(self.raw, &mut con) } != ffi::DuckDBSuccess {
            return Err(StoreError::Internal("duckdb: cannot connect".into()));
        }
        Ok(RawConnection { handle: Arc::new(ConnectionHandle { raw: con, _db: Arc::clone(self) }) })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // SAFETY: no connection is left (each holds an `Arc` to `self`).
        unsafe { ffi::duckdb_close(&mut self.raw) };
    }
}

/// A duckdb-rs connection that keeps its [`Database`] open.
pub struct Conn {
    // Field order matters: the connection is dropped before the database.
    conn: duckdb::Connection,
    db: Arc<Database>,
}

impl Conn {
    /// Another connection to the same database.
    pub fn try_clone(&self) -> Result<Conn> {
        Ok(Conn { conn: self.conn.try_clone()?, db: Arc::clone(&self.db) })
    }
}

impl std::ops::Deref for Conn {
    type Target = duckdb::Connection;
    fn deref(&self) -> &duckdb::Connection {
        &self.conn
    }
}

struct ConnectionHandle {
    raw: ffi::duckdb_connection,
    _db: Arc<Database>,
}

// SAFETY: the handle is used by one thread at a time ([`RawConnection`] is
// not `Clone` and queries take `&mut self`), except `duckdb_interrupt`,
// which DuckDB documents as callable from another thread while a query runs.
unsafe impl Send for ConnectionHandle {}
unsafe impl Sync for ConnectionHandle {}

impl Drop for ConnectionHandle {
    fn drop(&mut self) {
        // SAFETY: the last owner; nothing runs on the connection any more.
        unsafe { ffi::duckdb_disconnect(&mut self.raw) };
    }
}

/// A connection through the C API, for [`RawConnection::query_arrow`].
pub struct RawConnection {
    handle: Arc<ConnectionHandle>,
}

/// Stops the statement running on a [`RawConnection`], from another thread.
#[derive(Clone)]
pub struct InterruptHandle(Arc<ConnectionHandle>);

impl InterruptHandle {
    pub fn interrupt(&self) {
        // SAFETY: the connection is open while this handle holds it.
        unsafe { ffi::duckdb_interrupt(self.0.raw) };
    }
}

impl RawConnection {
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(Arc::clone(&self.handle))
    }

    /// `duckdb_query` runs every statement of its text: make sure there is one.
    fn check_single_statement(&self, text: &CStr) -> Result<()> {
        let mut extracted: ffi::duckdb_extracted_statements = ptr::null_mut();
        // SAFETY: the connection is open; `extracted` is destroyed below.
        unsafe {
            let count = ffi::duckdb_extract_statements(self.handle.raw, text.as_ptr(), &mut extracted);
            let error =
                (count == 0).then(|| error_text(ffi::duckdb_extract_statements_error(extracted), "no statement"));
            ffi::duckdb_destroy_extracted(&mut extracted);
            match (count, error) {
                (_, Some(msg)) => Err(StoreError::Internal(format!("duckdb: {msg}"))),
                (1, None) => Ok(()),
                (n, None) => Err(StoreError::Internal(format!("duckdb: one statement expected, not {n}"))),
            }
        }
    }

    /// Runs one statement with `params` in place of its `?`s and returns
    /// its answer as Arrow batches (none when it has no rows).
    ///
    /// The parameters are written into the text as typed literals (see
    /// [`literals::inline_params`]) and the statement runs unprepared: DuckDB ran
    /// the same funnel statement 30% slower prepared than as one query
    /// (5.5-7.6 s against 3.7-5.0 s on 100M events, alternating runs).
    pub fn query_arrow(&mut self, sql: &str, params: &[SqlParam]) -> Result<Vec<RecordBatch>> {
        let text = c_string("the statement", &literals::inline_params(sql, params)?)?;
        self.check_single_statement(&text)?;
        let started = std::time::Instant::now();
        // SAFETY: a zeroed `duckdb_result` is what DuckDB expects to fill.
        let mut answer = Answer(unsafe { std::mem::zeroed() });
        // SAFETY: the connection is open; `text` outlives the call.
        if unsafe { ffi::duckdb_query(self.handle.raw, text.as_ptr(), &mut answer.0) } != ffi::DuckDBSuccess {
            // SAFETY: the message belongs to the answer, alive here.
            let msg = unsafe { error_text(ffi::duckdb_result_error(&mut answer.0), "the statement failed") };
            return Err(StoreError::Internal(format!("duckdb: {msg}")));
        }
        let executed = started.elapsed();
        let batches = answer::read(&mut answer)?;
        tracing::debug!(
            execute_ms = executed.as_secs_f64() * 1e3,
            read_ms = (started.elapsed() - executed).as_secs_f64() * 1e3,
            rows = batches.iter().map(|b| b.num_rows()).sum::<usize>(),
            "answer read"
        );
        Ok(batches)
    }
}
