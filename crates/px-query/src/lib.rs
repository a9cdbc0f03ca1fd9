//! The analytics query engine: typed queries (trend, funnel, retention,
//! paths, stickiness, lifecycle, people, sessions) compiled to SQL per
//! dialect, and a reference implementation over in-memory events (the
//! oracle) that every dialect must agree with.

pub mod columns;
pub mod engine;
pub mod error;
pub mod filter;
pub mod formula;
pub mod funnel;
pub mod funnel_query;
pub mod group;
pub mod lifecycle;
pub mod model;
pub mod oracle;
pub mod paths;
pub mod people;
pub mod retention;
pub mod rows;
pub mod sql;
pub mod stickiness;
pub mod time;
pub mod trend;

pub use engine::{Context, run};
pub use error::QueryError;
pub use model::Query;
