//! hitpoints: an event store for a D&D character's hit points, on DynamoDB. The core, free of
//! Lambda and HTTP:
//!
//! - [`domain`]: events, limits, expected versions, the HP fold and the pure decisions of an
//!   append (replays, character ids), free of I/O;
//! - [`error`]: the typed errors, in the kinds a caller acts on;
//! - [`store`]: the event store and the snapshot table over `aws-sdk-dynamodb`;
//! - [`projection`]: how stream records become snapshot writes, free of I/O, and [`projector`],
//!   the same on DynamoDB;
//! - [`audit`]: verifying and rebuilding the snapshots from the events table;
//! - [`config`]: what a deployed function reads from its environment at start-up.

pub mod audit;
pub mod config;
pub mod domain;
pub mod error;
pub mod feed;
pub mod indexer;
pub mod projection;
pub mod projector;
pub mod store;

pub use domain::{
    CharacterState, Direction, ExpectedVersion, InvalidInput, NewEvent, RecordedEvent, Version,
};
pub use error::{Error, InfraError, VersionConflict};
