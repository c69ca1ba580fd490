//! The HP read model: one snapshot per character, the fold of its stream, kept current from the
//! events table's stream.
//!
//! - [`plan`]: how a batch of stream records becomes at most one conditional snapshot write per
//!   character, free of I/O;
//! - [`table`]: the snapshot table; [`party`]: every character's snapshot, paged;
//! - [`projector`]: the plan on DynamoDB;
//! - [`audit`] and [`verdict`]: verifying and rebuilding the snapshots from the events table.

pub mod audit;
pub mod party;
pub mod plan;
pub mod projector;
pub mod table;
pub mod verdict;

pub use audit::Audit;
pub use party::{ListCursor, SnapshotList};
pub use plan::{
    project_batch, HoleFill, HolesChange, SnapshotBackend, SnapshotPosition, SnapshotUpdate,
};
pub use projector::Projector;
pub use table::{Snapshot, SnapshotStore};
pub use verdict::{Mode, Progress, Report, Verdict};
