//! The global feed: every event of every character at a position (1, 2, 3, …, no gaps), each
//! exactly once and each character's in version order.
//!
//! - [`plan`](mod@plan): how a character's events in hand become feed entries, free of I/O;
//!   [`position`]: a place in the feed;
//! - [`table`]: the feed table (entries, the head, the markers); [`read`]: its pages and the
//!   long poll;
//! - [`indexer`]: the stream records into the feed; [`repair`]: what the stream never delivered.

pub mod indexer;
pub mod plan;
pub mod position;
pub mod read;
pub mod repair;
pub mod table;

pub use indexer::{Indexer, MAX_INDEX_ATTEMPTS};
pub use plan::{plan, IndexPlan, Marker};
pub use position::{BadPosition, Position};
pub use read::{FeedEntry, FeedPage, FeedRead};
pub use repair::{RepairProgress, RepairReport};
pub use table::{FeedStore, BUCKET, MAX_WAIT_SECONDS, POLL_INTERVAL};
