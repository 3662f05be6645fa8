//! DynamoDB semantics on SQLite, in process: tables with key schemas, local and global
//! secondary indexes, every attribute type, the whole expression language, conditional and
//! transactional writes, pagination and capacity accounting.
//!
//! This crate never does network IO: callers hand it typed requests (which deserialize from
//! DynamoDB's JSON 1.0 bodies) and get typed responses or an [`Error`] naming DynamoDB's error
//! type. The HTTP endpoint lives in `presso-local`; workflow integrations can call the
//! [`Store`] directly.
//!
//! Modules: [`value`] (attribute values, item size, key encoding), [`number`] (38-digit
//! decimals), [`expr`] (parse and evaluate expressions), [`schema`] (table definitions and
//! key rules), [`model`] (request/response shapes), [`store`] (SQLite storage, group commit
//! and the operations), [`json`] (operations by name on JSON bodies).
//!
//! Where moto's server answers differently from AWS's documentation, this crate follows the
//! documentation; `MOTO_DEVIATIONS.md` lists each case.

pub mod error;
pub mod expr;
pub mod json;
pub mod model;
pub mod number;
pub mod schema;
pub mod store;
pub mod value;

pub use error::{CancellationReason, Error, Result};
pub use store::Store;
pub use value::{AttributeValue, Item};
