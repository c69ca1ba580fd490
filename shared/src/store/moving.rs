//! Moving a character to another campaign: an event of its own (`moved`), which changes
//! nothing else about the character.

use uuid::Uuid;

use super::append::{conflict, Appended, Written};
use super::limits::{validate_events_within, TYPED_ITEM_OVERHEAD_BYTES};
use super::sdk;
use super::EventStore;
use crate::domain::{next_version, ExpectedVersion, NewEvent, RecordedEvent};
use crate::error::{ConflictCause, Error};

/// The event type of a move between campaigns.
pub const MOVED: &str = "moved";

impl EventStore {
    /// Moves the character to `campaign` with one event: `CampaignId` the new campaign,
    /// `MovedFrom` the old, the sheet unchanged (on a character with rules), no change of HP.
    /// A character in `campaign` already gets no event (`events` empty, `replayed`). Under
    /// `any`, a lost race reads and tries again.
    pub async fn move_to(
        &self,
        stream: Uuid,
        campaign: Uuid,
        note: String,
        expected: ExpectedVersion,
    ) -> Result<Appended, Error> {
        let mut attempt = 0;
        loop {
            let head = self.head(stream, None).await?;
            let state = head.state().ok_or(Error::NotFound(stream))?;
            if matches!(expected, ExpectedVersion::Exact(v) if v != state.version)
                || expected == ExpectedVersion::NoStream
            {
                let cause = ConflictCause::Version;
                return Err(conflict(stream, expected, Some(state.version), cause));
            }
            if state.campaign_id == campaign {
                return Ok(Appended {
                    events: Vec::new(),
                    replayed: true,
                });
            }
            let id = Uuid::new_v4();
            // The note and the item's size, as a plain event's are checked.
            validate_events_within(
                &[NewEvent {
                    character_name: state.character_name.clone(),
                    hp_change: 0,
                    note: note.clone(),
                    event_id: Some(id),
                }],
                TYPED_ITEM_OVERHEAD_BYTES,
            )?;
            let event = RecordedEvent {
                event_id: Some(id),
                recorded_at: sdk::now(),
                event_type: MOVED.to_owned(),
                campaign_id: Some(campaign),
                moved_from: Some(state.campaign_id),
                state: state.rules.clone(),
                ..RecordedEvent::plain(
                    next_version(Some(state.version)),
                    state.character_name.clone(),
                    0,
                    note.clone(),
                )
            };
            match self
                .write(stream, Some(state.version), true, vec![event])
                .await?
            {
                Written::Stored(events) => {
                    return Ok(Appended {
                        events,
                        replayed: false,
                    })
                }
                Written::Conflict if expected == ExpectedVersion::Any => {
                    self.after_lost_race(stream, expected, &mut attempt).await?;
                }
                Written::Conflict => {
                    let current = self.last_version(stream).await?;
                    return Err(conflict(stream, expected, current, ConflictCause::Version));
                }
            }
        }
    }
}
