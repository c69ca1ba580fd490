//! hitpoints: an event store for a D&D character's hit points, on DynamoDB.
//!
//! - [`domain`]: events, limits, expected versions and the HP fold, free of I/O;
//! - [`error`]: the typed errors, in the kinds a caller acts on;
//! - `store` (feature `store`): the event store over `aws-sdk-dynamodb`.

pub mod domain;
pub mod error;
#[cfg(feature = "store")]
pub mod store;

pub use domain::{CharacterState, Direction, ExpectedVersion, NewEvent, RecordedEvent, Version};
pub use error::{Error, InfraError, InvalidInput, VersionConflict};
#[cfg(feature = "http")]
pub mod api;
#[cfg(feature = "store")]
pub mod config;
pub mod projection;
#[cfg(feature = "projector")]
pub mod projector;
