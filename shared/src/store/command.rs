//! Commands under the rules: one consistent read of where the character stands (the latest item
//! that carries its sheet, and any later items written without one), one conditional put of the
//! next version. Under `any`, a lost race reads and decides again, a bounded number of times,
//! so two tables damaging one character at once are both applied. One hit on many targets is
//! one transaction, all or nothing.

use uuid::Uuid;

use super::append::{conflict, Written};
use super::item::EventItem;
use super::limits::{validate_events_within, MAX_TRANSACTION_BYTES, TYPED_ITEM_OVERHEAD_BYTES};
use super::sdk::{self, transacted, Item, Lost};
use super::{log_failure, EventStore, MOVED, TRANSACTION_CONFLICT_ATTEMPTS};
use crate::domain::{
    next_version, validate_event, validate_expected, CharacterState, ExpectedVersion, InvalidInput,
    NewEvent, RecordedEvent, Version,
};
use crate::error::{ConflictCause, Error, InfraError};
use crate::rules::{
    decide, describe, enable, undo, Command, Decided, Refusal, Sheet, UndoTarget, RECENT_COMMANDS,
};

/// A command for one character, as the edge parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRequest {
    pub command: Command,
    /// The event's note; a description of what happened when absent.
    pub note: Option<String>,
    /// The command's id: a retry with the same id and command is answered from the stored
    /// event, within the character's last [`RECENT_COMMANDS`] commands.
    pub event_id: Option<Uuid>,
    pub expected: ExpectedVersion,
    /// Decide, but write nothing.
    pub dry_run: bool,
    /// A new character's name; a character's events keep its latest name.
    pub character_name: Option<String>,
    /// The campaign a new character starts in; a character that exists stays in its own.
    pub campaign: Uuid,
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commanded {
    pub stream: Uuid,
    /// The event, as stored (or as it would be, for a dry run).
    pub event: RecordedEvent,
    /// The character after it.
    pub sheet: Sheet,
    /// Stored already by an earlier try of the same command: nothing was written this time.
    pub replayed: bool,
}

/// One target of a hit on many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub stream: Uuid,
    pub command: Command,
    pub expected: ExpectedVersion,
}

/// The latest events of a stream, newest first, down to the latest one that carries a sheet
/// or was written by this code: enough to know where the character stands.
#[derive(Debug, Clone, Default)]
pub(crate) struct Head {
    newest_first: Vec<RecordedEvent>,
}

impl Head {
    /// The character as these events leave it (on a character without rules, `hp` is only
    /// the sum of these events).
    pub(crate) fn state(&self) -> Option<CharacterState> {
        CharacterState::fold(self.newest_first.iter().rev())
    }

    fn latest(&self) -> Option<&RecordedEvent> {
        self.newest_first.first()
    }

    pub(crate) fn into_newest_first(self) -> Vec<RecordedEvent> {
        self.newest_first
    }
}

/// A decision ready to be written after `last`.
struct Prepared {
    last: Option<Version>,
    event: RecordedEvent,
    sheet: Sheet,
}

impl EventStore {
    /// Where the character stands, from version `upto` (the last when `None`) down.
    pub(crate) async fn head(&self, stream: Uuid, upto: Option<Version>) -> Result<Head, Error> {
        let newest_first = self
            .back_until(stream, upto, |e| e.state.is_some() || e.command.is_some())
            .await?;
        Ok(Head { newest_first })
    }

    /// Decides `request` on the character and writes its event.
    pub async fn command(&self, stream: Uuid, request: CommandRequest) -> Result<Commanded, Error> {
        let result = self.command_valid(stream, &request).await;
        if let Err(Error::Infrastructure(e)) = &result {
            log_failure("command", stream, e, 1, 0);
        }
        result
    }

    async fn command_valid(
        &self,
        stream: Uuid,
        request: &CommandRequest,
    ) -> Result<Commanded, Error> {
        validate_expected(request.expected)?;
        validate_note(request.note.as_deref(), request.character_name.as_deref())?;
        let mut attempt = 0;
        // A create needs no read: its put requires the stream to have no event.
        let create = request.expected == ExpectedVersion::NoStream
            && request.character_name.is_some()
            && matches!(request.command, Command::Rules(_));
        let mut head = if create {
            Head::default()
        } else {
            self.head(stream, None).await?
        };
        loop {
            if let Some(replayed) = self.replayed(stream, request, &head).await? {
                return Ok(replayed);
            }
            let prepared = self
                .prepare(stream, request, &head, request.event_id)
                .await?;
            if request.dry_run {
                return Ok(Commanded {
                    stream,
                    event: prepared.event,
                    sheet: prepared.sheet,
                    replayed: false,
                });
            }
            let Prepared { last, event, sheet } = prepared;
            match self.write(stream, last, true, vec![event]).await? {
                Written::Stored(mut stored) => {
                    return Ok(Commanded {
                        stream,
                        event: stored.remove(0),
                        sheet,
                        replayed: false,
                    })
                }
                Written::Conflict => {
                    attempt += 1;
                    let retry = request.expected == ExpectedVersion::Any
                        && attempt < self.any_retry.attempts;
                    if retry {
                        tokio::time::sleep(self.any_retry.delay(attempt)).await;
                    }
                    // Read after the wait, so the next decision is on what is there now.
                    head = self.head(stream, None).await?;
                    if !retry {
                        if let Some(replayed) = self.replayed(stream, request, &head).await? {
                            return Ok(replayed);
                        }
                        let current = head.latest().map(|e| e.version);
                        let cause = ConflictCause::Version;
                        return Err(conflict(stream, request.expected, current, cause));
                    }
                }
            }
        }
    }

    /// The stored answer to an earlier try of `request`, if its id is among the character's
    /// latest events or its last commands; a 409 when that id was used for another command.
    async fn replayed(
        &self,
        stream: Uuid,
        request: &CommandRequest,
        head: &Head,
    ) -> Result<Option<Commanded>, Error> {
        let Some(id) = request.event_id else {
            return Ok(None);
        };
        let remembered = head
            .state()
            .and_then(|s| s.rules)
            .is_some_and(|s| s.remembers(id));
        let found = match head.newest_first.iter().find(|e| e.event_id == Some(id)) {
            Some(event) => Some(event.clone()),
            None if remembered => self
                .latest(stream, 4 * RECENT_COMMANDS)
                .await?
                .into_iter()
                .find(|e| e.event_id == Some(id)),
            None => None,
        };
        let Some(event) = found else {
            return Ok(None);
        };
        match (&event.command, &event.state) {
            (Some(command), Some(sheet)) if *command == request.command => {
                let sheet = sheet.clone();
                Ok(Some(Commanded {
                    stream,
                    event,
                    sheet,
                    replayed: true,
                }))
            }
            _ => {
                let current = head.latest().map(|e| e.version);
                let cause = ConflictCause::EventIdsReused;
                Err(conflict(stream, request.expected, current, cause))
            }
        }
    }

    /// Decides `request` on the character `head` shows, and builds its event.
    async fn prepare(
        &self,
        stream: Uuid,
        request: &CommandRequest,
        head: &Head,
        event_id: Option<Uuid>,
    ) -> Result<Prepared, Error> {
        let state = head.state();
        let last = state.as_ref().map(|s| s.version);
        let expected_last = match request.expected {
            ExpectedVersion::Any => last,
            ExpectedVersion::NoStream => None,
            ExpectedVersion::Exact(v) => Some(v),
        };
        if expected_last != last {
            let cause = ConflictCause::Version;
            return Err(conflict(stream, request.expected, last, cause));
        }
        let sheet = state.as_ref().and_then(|s| s.rules.as_ref());
        let (decided, hp_before) = match (&request.command, sheet) {
            (Command::Rules(_), None) if state.is_none() && request.character_name.is_none() => {
                return Err(Error::NotFound(stream));
            }
            (Command::Rules(setup), None) => {
                // The sum of every event so far, which the rules clamp.
                let hp_so_far = match &state {
                    None => None,
                    Some(_) => Some(self.character(stream).await?.hp),
                };
                (enable(setup, hp_so_far)?, hp_so_far.unwrap_or(0))
            }
            (_, None) if state.is_none() => return Err(Error::NotFound(stream)),
            (_, None) => return Err(Refusal::RulesNotEnabled.into()),
            (Command::Undo { event_id: undone }, Some(sheet)) => {
                let latest = head.latest().ok_or(Error::NotFound(stream))?;
                if latest.event_id != Some(*undone) {
                    return Err(Refusal::UndoNotLatest.into());
                }
                // A move's undo would be a move back, in both campaigns' feeds: the move route's.
                if latest.event_type == MOVED {
                    return Err(Refusal::UndoMove.into());
                }
                let before = match latest.version.checked_sub(1) {
                    Some(previous) => self.head(stream, Some(previous)).await?.state(),
                    None => None,
                };
                let target = UndoTarget {
                    event_id: *undone,
                    version: latest.version,
                    outcome: latest.outcome.as_ref(),
                    before: before.as_ref().and_then(|s| s.rules.as_ref()),
                };
                (undo(sheet, target)?, i64::from(sheet.hp))
            }
            (command, Some(sheet)) => (decide(command, sheet)?, i64::from(sheet.hp)),
        };
        let Decided { outcome, mut sheet } = decided;
        let id = event_id.unwrap_or_else(Uuid::new_v4);
        sheet.remember(id);
        let character_name = match (&request.character_name, &state) {
            (Some(name), _) => name.clone(),
            (None, Some(state)) => state.character_name.clone(),
            (None, None) => String::new(),
        };
        let note = request.note.clone().unwrap_or_else(|| describe(&outcome));
        let hp_change = i64::from(sheet.hp) - hp_before;
        // The name, the note and the item's size, as a plain event's are checked.
        validate_events_within(
            &[NewEvent {
                character_name: character_name.clone(),
                hp_change,
                note: note.clone(),
                event_id: Some(id),
            }],
            TYPED_ITEM_OVERHEAD_BYTES,
        )?;
        let event = RecordedEvent {
            event_id: Some(id),
            recorded_at: sdk::now(),
            event_type: outcome.event_type().to_owned(),
            command: Some(request.command.clone()),
            outcome: Some(outcome),
            state: Some(sheet.clone()),
            campaign_id: Some(state.as_ref().map_or(request.campaign, |s| s.campaign_id)),
            ..RecordedEvent::plain(next_version(last), character_name, hp_change, note)
        };
        Ok(Prepared { last, event, sheet })
    }

    /// One hit on many targets: each decided on its own character, all written in one
    /// transaction or none. Each target's event id derives from `correlation_id` and the
    /// target, so a retry of the same request is answered from the stored events.
    pub async fn command_many(
        &self,
        targets: &[Target],
        note: Option<String>,
        correlation_id: Uuid,
        dry_run: bool,
    ) -> Result<Vec<Commanded>, Error> {
        let mut attempt = 0;
        loop {
            let mut prepared = Vec::with_capacity(targets.len());
            let mut replayed = Vec::new();
            for target in targets {
                let request = CommandRequest {
                    command: target.command.clone(),
                    note: note.clone(),
                    event_id: Some(target_event_id(correlation_id, target.stream)),
                    expected: target.expected,
                    dry_run,
                    character_name: None,
                    campaign: crate::domain::DEFAULT_CAMPAIGN,
                };
                validate_expected(request.expected)?;
                validate_note(request.note.as_deref(), None)?;
                let head = self.head(target.stream, None).await?;
                if let Some(done) = self.replayed(target.stream, &request, &head).await? {
                    replayed.push(done);
                    continue;
                }
                let mut ready = self
                    .prepare(target.stream, &request, &head, request.event_id)
                    .await?;
                ready.event.correlation_id = Some(correlation_id);
                prepared.push((target.stream, ready));
            }
            if prepared.is_empty() {
                return Ok(replayed);
            }
            if !replayed.is_empty() {
                // All or nothing was written: some stored means the ids were used otherwise.
                let first = &replayed[0];
                let cause = ConflictCause::PartialReplay;
                return Err(conflict(
                    first.stream,
                    ExpectedVersion::Any,
                    Some(first.event.version),
                    cause,
                ));
            }
            let answer = |prepared: Vec<(Uuid, Prepared)>| {
                prepared
                    .into_iter()
                    .map(|(stream, p)| Commanded {
                        stream,
                        event: p.event,
                        sheet: p.sheet,
                        replayed: false,
                    })
                    .collect()
            };
            if dry_run {
                return Ok(answer(prepared));
            }
            // One transaction: its items within DynamoDB's 4 MB, as an append's are.
            let bytes: usize = prepared
                .iter()
                .map(|(_, p)| {
                    TYPED_ITEM_OVERHEAD_BYTES + p.event.character_name.len() + p.event.note.len()
                })
                .sum();
            if bytes > MAX_TRANSACTION_BYTES {
                return Err(InvalidInput::BatchTooLarge {
                    bytes,
                    max: MAX_TRANSACTION_BYTES,
                }
                .into());
            }
            let mut actions = Vec::with_capacity(prepared.len());
            for (stream, ready) in &prepared {
                let item: Item = EventItem::from_event(*stream, &ready.event)
                    .to_item()
                    .map_err(|e| sdk::corrupt(stream, &e))?;
                actions.push(self.put_new_version(item)?);
            }
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await;
            let lost = match transacted(sent)? {
                Ok(()) => return Ok(answer(prepared)),
                Err(lost) => lost,
            };
            // A lost condition is a race on some target: decide again on what is there now
            // (an exact expectation is checked again then), a bounded number of times.
            attempt += 1;
            match lost {
                Lost::Race(failure) if attempt >= TRANSACTION_CONFLICT_ATTEMPTS => {
                    return Err(InfraError::Contended(failure).into())
                }
                Lost::Condition if attempt >= self.any_retry.attempts => {
                    let (stream, ready) = &prepared[0];
                    let cause = ConflictCause::Version;
                    return Err(conflict(*stream, targets[0].expected, ready.last, cause));
                }
                _ => tokio::time::sleep(self.any_retry.delay(attempt)).await,
            }
        }
    }
}

/// A note and a new character's name as the caller gave them, checked before anything is read:
/// a request that is not valid is refused as such, never answered as a replay.
fn validate_note(note: Option<&str>, character_name: Option<&str>) -> Result<(), Error> {
    let event = NewEvent {
        character_name: character_name.unwrap_or("a character").to_owned(),
        hp_change: 0,
        note: note.unwrap_or("a note").to_owned(),
        event_id: None,
    };
    validate_event(0, &event)?;
    Ok(())
}

/// The namespace of the event ids of a hit's targets.
const TARGET_EVENT_NAMESPACE: Uuid = Uuid::from_u128(0x6869_7470_6f69_6e74_7300_0000_0000_0002);

/// The event id of `stream`'s event in the hit `correlation_id`.
pub fn target_event_id(correlation_id: Uuid, stream: Uuid) -> Uuid {
    let mut name = [0u8; 32];
    name[..16].copy_from_slice(correlation_id.as_bytes());
    name[16..].copy_from_slice(stream.as_bytes());
    Uuid::new_v5(&TARGET_EVENT_NAMESPACE, &name)
}
