//! hitpoints: an event store for a D&D character's hit points, on DynamoDB. The core, free of
//! Lambda and HTTP, organised by what each part keeps:
//!
//! - [`domain`]: events, versions, the HP fold, what makes an event valid and the pure
//!   decisions of an append, free of I/O;
//! - [`store`]: the event store over `aws-sdk-dynamodb` (the events table's item, append,
//!   reads, history, cursors, Scans, DynamoDB's limits and idioms); it knows no read model;
//! - [`stream`]: the stream batch every read model receives (records grouped by character,
//!   batch outcomes, the one gap fill and its holes);
//! - [`hp`]: the HP read model (the plan, the snapshot table, the projector, verify/rebuild);
//! - [`feed`]: the global feed (the plan, the feed table, the indexer, the repair);
//! - [`campaign`]: campaigns, the unit of the party and the feed, and their table;
//! - [`access`]: who may do what (the caller, their role in a campaign, the one decision);
//! - [`metrics`]: what the functions count, as CloudWatch's Embedded Metric Format and as
//!   Prometheus text;
//! - [`upkeep`]: the scheduled repair of the feed and the snapshots, resumable page by page;
//! - [`error`]: the typed errors, in the kinds a caller acts on;
//! - [`config`]: what a deployed function reads from its environment at start-up.
//!
//! The read models meet only in [`stream`] and [`store`]: neither imports the other.

pub mod access;
pub mod campaign;
pub mod config;
pub mod domain;
pub mod error;
pub mod feed;
pub mod hp;
pub mod metrics;
pub mod rules;
pub mod store;
pub mod stream;
pub mod upkeep;

pub use domain::{
    CharacterState, Direction, ExpectedVersion, InvalidInput, NewEvent, RecordedEvent, Version,
};
pub use error::{Error, InfraError, VersionConflict};
