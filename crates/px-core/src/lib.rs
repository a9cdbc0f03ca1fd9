//! Domain types shared by every stage of the event flow: tenancy ids and the
//! scope that every store call requires, the wire and stored event models,
//! ingestion limits, rejection reasons and the error kinds each layer maps its
//! errors onto, and memory policy (advice for large buffers, when to give
//! freed memory back). No I/O lives here, so every crate can depend on it.

pub mod error;
pub mod event;
pub mod ids;
pub mod limits;
pub mod memory;
pub mod project;
pub mod props;
pub mod reject;
pub mod time;

pub use error::ErrorKind;
pub use event::{Enrichment, Event, EventContext, WireEvent};
pub use ids::{ProjectId, ProjectScope, TenantId};
pub use limits::IngestLimits;
pub use project::ProjectSettings;
pub use reject::{Reject, RejectCode};
