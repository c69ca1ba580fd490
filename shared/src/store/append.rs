//! Appending to a stream with optimistic concurrency: one conditional put or one transaction,
//! replays recognised by event id, `any` retried with backoff after a lost race.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use uuid::Uuid;

use super::command::Head;
use super::item::{attr, EventItem};
use super::limits::{
    validate_events, validate_events_within, MAX_TRANSACTION_ACTIONS, TYPED_ITEM_OVERHEAD_BYTES,
};
use super::sdk::{self, condition_held, transacted, Item, Lost};
use super::{log_failure, EventStore};
use crate::domain::{
    match_stored, next_version, validate_expected, ExpectedVersion, NewEvent, RecordedEvent,
    StoredMatch, Version, DEFAULT_CAMPAIGN,
};
use crate::error::{ConflictCause, Error, InfraError, VersionConflict};
use crate::rules::{decide, Command, RECENT_COMMANDS};

/// Tries of one transaction cancelled because other transactions were writing the same items
/// (`TransactionConflict`), before the append gives up as contended (a 503: try again).
pub const TRANSACTION_CONFLICT_ATTEMPTS: u32 = 5;

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The events as stored, in version order.
    pub events: Vec<RecordedEvent>,
    /// True when every event was stored already by an earlier try of the same request:
    /// nothing was written this time.
    pub replayed: bool,
}

impl EventStore {
    /// Appends 1 to 100 events to `stream`, all or nothing.
    ///
    /// A request whose events all carry ids stored already, in the same order and content,
    /// where this append would have put them (under `any`: as the stream's latest events),
    /// is a replay: nothing is written and the stored events come back with `replayed`.
    pub async fn append(
        &self,
        stream: Uuid,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Appended, Error> {
        self.append_in(DEFAULT_CAMPAIGN, stream, expected, events)
            .await
    }

    /// [`EventStore::append`], with the campaign a new stream starts in (a stream that
    /// exists stays in its own).
    pub async fn append_in(
        &self,
        campaign: Uuid,
        stream: Uuid,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Appended, Error> {
        validate_expected(expected)?;
        let bytes = validate_events(&events)?;
        let count = events.len();
        let result = self.append_valid(campaign, stream, expected, events).await;
        if let Err(Error::Infrastructure(e)) = &result {
            log_failure("append", stream, e, count, bytes);
        }
        result
    }

    async fn append_valid(
        &self,
        new_in: Uuid,
        stream: Uuid,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Appended, Error> {
        let mut seen = Vec::new();
        let mut campaign = new_in;
        if expected != ExpectedVersion::NoStream {
            // One consistent read says whether the character has rules (then each event is a
            // plain change the rules clamp) and which campaign it is in.
            let head = self.head(stream, None).await?;
            if head.state().is_some_and(|s| s.rules.is_some()) {
                return self.append_ruled(stream, expected, &events, head).await;
            }
            campaign = head.state().map_or(new_in, |s| s.campaign_id);
            seen = head.into_newest_first();
        }
        match expected {
            ExpectedVersion::Any => self.append_any(new_in, stream, &events, seen).await,
            ExpectedVersion::NoStream | ExpectedVersion::Exact(_) => {
                let last = expected.last_version();
                match self
                    .write(stream, last, false, plain_events(&events, last, campaign))
                    .await?
                {
                    Written::Stored(stored) => Ok(Appended {
                        events: stored,
                        replayed: false,
                    }),
                    Written::Conflict => {
                        // Only events with ids can be a replay: look where they would have gone.
                        let found = if events.iter().any(|e| e.event_id.is_some()) {
                            self.read_range(stream, next_version(last), events.len())
                                .await?
                        } else {
                            Vec::new()
                        };
                        let cause = match match_stored(&events, &found) {
                            StoredMatch::Replay => {
                                return Ok(Appended {
                                    events: found,
                                    replayed: true,
                                })
                            }
                            StoredMatch::PartialReplay => ConflictCause::PartialReplay,
                            StoredMatch::IdsReused => ConflictCause::EventIdsReused,
                            StoredMatch::Unrelated => ConflictCause::Version,
                        };
                        let current = self.last_version(stream).await?;
                        Err(conflict(stream, expected, current, cause))
                    }
                }
            }
        }
    }

    /// `seen`: the stream's latest events, newest first, as just read (the first try uses
    /// them when they are enough).
    async fn append_any(
        &self,
        new_in: Uuid,
        stream: Uuid,
        events: &[NewEvent],
        mut seen: Vec<RecordedEvent>,
    ) -> Result<Appended, Error> {
        let any_has_ids = events.iter().any(|e| e.event_id.is_some());
        let mut attempt = 0;
        loop {
            // The latest events: enough to recognise a replay, or just the last version.
            let look = if any_has_ids { events.len() } else { 1 };
            let mut latest = if seen.len() >= look {
                seen.truncate(look);
                std::mem::take(&mut seen)
            } else {
                seen.clear();
                self.latest(stream, look).await?
            };
            let last = latest.first().map(|e| e.version);
            let campaign = latest
                .first()
                .map_or(new_in, |e| e.campaign_id.unwrap_or(DEFAULT_CAMPAIGN));
            if any_has_ids {
                latest.reverse();
                match match_stored(events, &latest) {
                    StoredMatch::Replay => {
                        return Ok(Appended {
                            events: latest,
                            replayed: true,
                        })
                    }
                    StoredMatch::PartialReplay => {
                        let cause = ConflictCause::PartialReplay;
                        return Err(conflict(stream, ExpectedVersion::Any, last, cause));
                    }
                    StoredMatch::IdsReused => {
                        let cause = ConflictCause::EventIdsReused;
                        return Err(conflict(stream, ExpectedVersion::Any, last, cause));
                    }
                    StoredMatch::Unrelated => {}
                }
            }
            match self
                .write(stream, last, true, plain_events(events, last, campaign))
                .await?
            {
                Written::Stored(stored) => {
                    return Ok(Appended {
                        events: stored,
                        replayed: false,
                    })
                }
                Written::Conflict => {
                    self.after_lost_race(stream, ExpectedVersion::Any, &mut attempt)
                        .await?;
                    // What won the race may have turned the rules on.
                    let head = self.head(stream, None).await?;
                    if head.state().is_some_and(|s| s.rules.is_some()) {
                        return self
                            .append_ruled(stream, ExpectedVersion::Any, events, head)
                            .await;
                    }
                    seen = head.into_newest_first();
                }
            }
        }
    }

    /// Writes `stored` (versions from `last + 1` on) after `last`: one conditional put for a
    /// single event starting a stream or following a version just read (`last_seen`),
    /// otherwise one transaction whose puts each require their version to be free, plus a
    /// check that version `last` exists. A batch that needs all of a transaction's actions for
    /// its puts confirms version `last` with a consistent read first instead: a version, once
    /// written, exists for ever, so the check can move out of the transaction without letting
    /// an append leave a gap. A lost condition is `Written::Conflict`. A transaction cancelled
    /// because another was writing the same items is tried again, a bounded number of times.
    pub(super) async fn write(
        &self,
        stream: Uuid,
        last: Option<Version>,
        last_seen: bool,
        stored: Vec<RecordedEvent>,
    ) -> Result<Written, Error> {
        // No room after a version at the very top (only other code writes one there).
        if last.is_some_and(|l| l.checked_add(stored.len() as u64).is_none()) {
            return Ok(Written::Conflict);
        }
        let items = stored
            .iter()
            .map(|e| EventItem::from_event(stream, e).to_item())
            .collect::<Result<Vec<Item>, _>>()
            .map_err(|e| sdk::corrupt(stream, &e))?;

        if let (true, [item]) = (last.is_none() || last_seen, items.as_slice()) {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(#v)")
                .expression_attribute_names("#v", attr::VERSION)
                .send()
                .await;
            return Ok(if condition_held("PutItem", put)? {
                Written::Stored(stored)
            } else {
                Written::Conflict
            });
        }

        let mut actions = Vec::with_capacity(items.len() + 1);
        if let Some(last) = last {
            if items.len() < MAX_TRANSACTION_ACTIONS {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .key(attr::ID, AttributeValue::S(stream.to_string()))
                    .key(attr::VERSION, AttributeValue::N(last.to_string()))
                    .condition_expression("attribute_exists(#v)")
                    .expression_attribute_names("#v", attr::VERSION)
                    .build()
                    .map_err(|e| sdk::build("TransactWriteItems", e))?;
                actions.push(TransactWriteItem::builder().condition_check(check).build());
            } else if !last_seen && !self.exists(stream, last).await? {
                return Ok(Written::Conflict);
            }
        }
        for item in items {
            actions.push(self.put_new_version(item)?);
        }
        let mut attempt = 0;
        loop {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await;
            match transacted(sent)? {
                Ok(()) => return Ok(Written::Stored(stored)),
                Err(Lost::Condition) => return Ok(Written::Conflict),
                Err(Lost::Race(failure)) => {
                    attempt += 1;
                    if attempt >= TRANSACTION_CONFLICT_ATTEMPTS {
                        return Err(InfraError::Contended(failure).into());
                    }
                    tokio::time::sleep(self.any_retry.delay(attempt)).await;
                }
            }
        }
    }

    /// Plain events on a character with rules: each decided as an `Adjust` (clamped to
    /// 0..=max, refused when dead) from the state `head` gives, and written with the sheet
    /// after it; under `any`, a lost race reads and decides again.
    async fn append_ruled(
        &self,
        stream: Uuid,
        expected: ExpectedVersion,
        events: &[NewEvent],
        mut head: Head,
    ) -> Result<Appended, Error> {
        validate_events_within(events, TYPED_ITEM_OVERHEAD_BYTES)?;
        let mut attempt = 0;
        loop {
            let Some(state) = head.state() else {
                return Err(Error::NotFound(stream));
            };
            let Some(mut sheet) = state.rules else {
                return Err(Error::NotFound(stream));
            };
            let last = state.version;
            let campaign = state.campaign_id;
            let remembered = events
                .iter()
                .any(|e| e.event_id.is_some_and(|id| sheet.remembers(id)));
            if remembered {
                let found = match expected {
                    ExpectedVersion::Exact(v) => {
                        self.read_range(stream, next_version(Some(v)), events.len())
                            .await?
                    }
                    // Other commands may have landed since: the request's events, found by
                    // their ids among the last commands' items, in version order.
                    _ => {
                        let ids: Vec<Uuid> = events.iter().filter_map(|e| e.event_id).collect();
                        let mut found: Vec<RecordedEvent> = self
                            .latest(stream, 4 * RECENT_COMMANDS)
                            .await?
                            .into_iter()
                            .filter(|e| e.event_id.is_some_and(|id| ids.contains(&id)))
                            .collect();
                        found.reverse();
                        found
                    }
                };
                let cause = match match_stored(events, &found) {
                    StoredMatch::Replay => {
                        return Ok(Appended {
                            events: found,
                            replayed: true,
                        })
                    }
                    StoredMatch::PartialReplay => Some(ConflictCause::PartialReplay),
                    StoredMatch::IdsReused => Some(ConflictCause::EventIdsReused),
                    StoredMatch::Unrelated => None,
                };
                if let Some(cause) = cause {
                    return Err(conflict(stream, expected, Some(last), cause));
                }
            }
            if matches!(expected, ExpectedVersion::Exact(v) if v != last) {
                return Err(conflict(
                    stream,
                    expected,
                    Some(last),
                    ConflictCause::Version,
                ));
            }
            let recorded_at = sdk::now();
            let mut stored = Vec::with_capacity(events.len());
            for (e, version) in events.iter().zip(next_version(Some(last))..) {
                let command = Command::Adjust {
                    hp_change: e.hp_change,
                };
                let decided = decide(&command, &sheet)?;
                let id = e.event_id.unwrap_or_else(Uuid::new_v4);
                let mut after = decided.sheet;
                after.remember(id);
                stored.push(RecordedEvent {
                    event_id: Some(id),
                    recorded_at: recorded_at.clone(),
                    command: Some(command),
                    outcome: Some(decided.outcome),
                    state: Some(after.clone()),
                    campaign_id: Some(campaign),
                    ..RecordedEvent::plain(
                        version,
                        e.character_name.clone(),
                        i64::from(after.hp) - i64::from(sheet.hp),
                        e.note.clone(),
                    )
                });
                sheet = after;
            }
            match self.write(stream, Some(last), true, stored).await? {
                Written::Stored(stored) => {
                    return Ok(Appended {
                        events: stored,
                        replayed: false,
                    })
                }
                Written::Conflict if expected == ExpectedVersion::Any => {
                    self.after_lost_race(stream, expected, &mut attempt).await?;
                    head = self.head(stream, None).await?;
                }
                Written::Conflict => {
                    let current = self.last_version(stream).await?;
                    return Err(conflict(stream, expected, current, ConflictCause::Version));
                }
            }
        }
    }

    /// After an `any` write lost its race: waits its backoff before the next try, or, once the
    /// tries are spent, is the version conflict (with the stream's version now).
    pub(super) async fn after_lost_race(
        &self,
        stream: Uuid,
        expected: ExpectedVersion,
        attempt: &mut u32,
    ) -> Result<(), Error> {
        *attempt += 1;
        if *attempt >= self.any_retry.attempts {
            let current = self.last_version(stream).await?;
            return Err(conflict(stream, expected, current, ConflictCause::Version));
        }
        tokio::time::sleep(self.any_retry.delay(*attempt)).await;
        Ok(())
    }

    /// A transaction's put of an event item, on condition that its version is free.
    pub(super) fn put_new_version(&self, item: Item) -> Result<TransactWriteItem, InfraError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#v)")
            .expression_attribute_names("#v", attr::VERSION)
            .build()
            .map_err(|e| sdk::build("TransactWriteItems", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Whether version `version` of the stream exists: one consistent read.
    async fn exists(&self, stream: Uuid, version: Version) -> Result<bool, Error> {
        let found = self.read_range(stream, version, 1).await?;
        Ok(found.first().is_some_and(|e| e.version == version))
    }
}

/// Plain events as this code stores them after `last`: each with an id (made when absent),
/// the time, and its type; the change as asked is the change applied (no rules).
fn plain_events(events: &[NewEvent], last: Option<Version>, campaign: Uuid) -> Vec<RecordedEvent> {
    let recorded_at = sdk::now();
    events
        .iter()
        .zip(next_version(last)..)
        .map(|(e, version)| RecordedEvent {
            event_id: Some(e.event_id.unwrap_or_else(Uuid::new_v4)),
            recorded_at: recorded_at.clone(),
            command: Some(Command::Adjust {
                hp_change: e.hp_change,
            }),
            campaign_id: Some(campaign),
            ..RecordedEvent::plain(
                version,
                e.character_name.clone(),
                e.hp_change,
                e.note.clone(),
            )
        })
        .collect()
}

/// What a conditional write came to, when the infrastructure did its part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Written {
    /// The events, as stored.
    Stored(Vec<RecordedEvent>),
    /// A condition failed: a version was taken, or the expected last version is missing.
    Conflict,
}

pub(super) fn conflict(
    stream: Uuid,
    expected: ExpectedVersion,
    current: Option<Version>,
    cause: ConflictCause,
) -> Error {
    VersionConflict {
        stream,
        expected,
        current,
        cause,
    }
    .into()
}
