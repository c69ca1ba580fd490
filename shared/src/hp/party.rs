//! The party: every character's snapshot, a page at a time, from a Scan of the snapshot table.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use std::ops::ControlFlow;

use super::table::{Snapshot, SnapshotStore, BY_CAMPAIGN, CAMPAIGN_ID};
use crate::error::Error;
use crate::store::cursor::{decode_listing, encode_listing};
use crate::store::item::attr;
use crate::store::sdk::query_pages;
use crate::store::{page_limit, scan, BadCursor, PageBytes, Unreadable, CURSOR_PREFIX};

/// Where the next page of a party starts: after the snapshot of character `after`. Bound
/// to its listing (every character, or one campaign's): a stream's cursor, or another
/// listing's, is refused here, and this one elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    pub after: String,
    /// The campaign whose party it pages; `None`: every character (`GET /characters`).
    pub campaign: Option<Uuid>,
}

/// The listing's tag in its cursor.
fn listing(campaign: Option<Uuid>) -> String {
    match campaign {
        None => "party".to_owned(),
        Some(campaign) => format!("party.{campaign}"),
    }
}

impl ListCursor {
    /// The cursor as an opaque, URL-safe string.
    pub fn encode(&self) -> String {
        let listing = listing(self.campaign);
        // The id is a uuid: decode made it from one, and a snapshot's is one.
        match Uuid::try_parse(&self.after) {
            Ok(after) => encode_listing(&listing, after),
            Err(_) => URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}:{listing}:{}", self.after)),
        }
    }

    /// Reads a cursor of the listing of `campaign` (`None`: every character) back.
    pub fn decode(text: &str, campaign: Option<Uuid>) -> Result<ListCursor, BadCursor> {
        decode_listing(&listing(campaign), text).map(|id| ListCursor {
            after: id.to_string(),
            campaign,
        })
    }
}

/// One page of the party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotList {
    pub snapshots: Vec<Snapshot>,
    /// Where the next page starts; `None` when this page reached the end.
    pub next: Option<ListCursor>,
}

impl SnapshotStore {
    /// Every character's snapshot, `limit` (1 to [`crate::store::MAX_PAGE_SIZE`]) at a time, in
    /// the table's order (by a hash of the id: stable, not meaningful), from an eventually
    /// consistent Scan. A page also stops before the snapshot that would take it over
    /// [`crate::store::MAX_PAGE_BYTES`] as JSON.
    pub async fn list(
        &self,
        limit: usize,
        cursor: Option<&ListCursor>,
    ) -> Result<SnapshotList, Error> {
        let limit = page_limit(limit)?;
        let mut start = cursor
            .map(|c| HashMap::from([(attr::ID.to_owned(), AttributeValue::S(c.after.clone()))]));
        let mut snapshots = Vec::new();
        let mut bytes = PageBytes::default();
        // One more than asked tells whether another page follows.
        let more = loop {
            let want = limit + 1 - snapshots.len();
            let page = scan(&self.client, &self.table, None, start, Some(want)).await?;
            for item in page.items {
                // One item another writer damaged must not take the party off the screen:
                // it is left out, and logged by its id for `verify` to find.
                match Snapshot::decode(item) {
                    Ok(snapshot) => {
                        bytes.take(snapshot.json_size());
                        snapshots.push(snapshot);
                    }
                    Err(e) => {
                        Unreadable::logged(&e, "snapshot left out of the party");
                    }
                }
            }
            match page.next {
                Some(key) if snapshots.len() <= limit && !bytes.full() => start = Some(key),
                next => break next.is_some(),
            }
        };
        Ok(page_of(snapshots, limit, more, None))
    }
}

impl SnapshotStore {
    /// A campaign's characters, `limit` at a time, in the order of their ids (a character
    /// keeps its place whatever it changes: a page after a change neither repeats nor skips
    /// it), from one Query of the [`BY_CAMPAIGN`] index (eventually consistent; 0.5 read
    /// units per 4 KB read). A page also stops before the snapshot that would take it over
    /// [`crate::store::MAX_PAGE_BYTES`] as JSON.
    pub async fn list_campaign(
        &self,
        campaign: Uuid,
        limit: usize,
        cursor: Option<&ListCursor>,
    ) -> Result<SnapshotList, Error> {
        let limit = page_limit(limit)?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_CAMPAIGN)
            .expression_attribute_names("#c", CAMPAIGN_ID)
            .expression_attribute_values(":c", AttributeValue::S(campaign.to_string()));
        query = match cursor {
            None => query.key_condition_expression("#c = :c"),
            Some(cursor) => query
                .key_condition_expression("#c = :c AND #id > :after")
                .expression_attribute_names("#id", attr::ID)
                .expression_attribute_values(":after", AttributeValue::S(cursor.after.clone())),
        };
        // One more than asked tells whether another page follows.
        let mut page = (Vec::new(), PageBytes::default());
        query_pages(
            query,
            &mut page,
            |(snapshots, _)| Some(limit + 1 - snapshots.len()),
            |(snapshots, bytes), item| {
                match Snapshot::decode(item) {
                    Ok(snapshot) => {
                        bytes.take(snapshot.json_size());
                        snapshots.push(snapshot);
                    }
                    Err(e) => {
                        Unreadable::logged(&e, "snapshot left out of the party");
                    }
                }
                Ok(if snapshots.len() > limit || bytes.full() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            },
        )
        .await?;
        let (snapshots, bytes) = page;
        Ok(page_of(snapshots, limit, bytes.full(), Some(campaign)))
    }
}

/// The page of `snapshots` (up to `limit` + 1 read, in order) that `limit` and the page's bytes
/// allow, with a cursor when more follow (`more`: the read stopped before the end).
fn page_of(
    mut snapshots: Vec<Snapshot>,
    limit: usize,
    more: bool,
    campaign: Option<Uuid>,
) -> SnapshotList {
    let keep = limit.min(PageBytes::fitting(
        snapshots.iter().map(Snapshot::json_size),
    ));
    let next = if snapshots.len() > keep || more {
        snapshots.truncate(keep);
        snapshots.last().map(|s| ListCursor {
            after: s.id.clone(),
            campaign,
        })
    } else {
        None
    };
    SnapshotList { snapshots, next }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Direction;
    use crate::store::Cursor;

    #[test]
    fn listing_cursors_round_trip_and_are_not_stream_cursors() {
        let listing = ListCursor {
            after: Uuid::new_v4().to_string(),
            campaign: None,
        };
        let text = listing.encode();
        assert_eq!(ListCursor::decode(&text, None), Ok(listing));
        let stream = Uuid::new_v4();
        assert!(Cursor::decode(&text, stream).is_err());
        let of_stream = Cursor {
            stream,
            direction: Direction::Forward,
            version: 3,
        };
        assert!(ListCursor::decode(&of_stream.encode(), None).is_err());
        let long = URL_SAFE_NO_PAD.encode(format!("hp1:party:{}", "x".repeat(3000)));
        let not_a_uuid = URL_SAFE_NO_PAD.encode("hp1:party:nuru");
        for garbage in [
            "",
            "!!",
            "aGVsbG8",
            &URL_SAFE_NO_PAD.encode("hp1:party:"),
            &long,
            &not_a_uuid,
        ] {
            assert!(ListCursor::decode(garbage, None).is_err(), "{garbage}");
        }
    }

    #[test]
    fn a_campaigns_cursor_pages_that_campaign_only() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let of_a = ListCursor {
            after: Uuid::new_v4().to_string(),
            campaign: Some(a),
        };
        let text = of_a.encode();
        assert_eq!(ListCursor::decode(&text, Some(a)), Ok(of_a));
        assert!(ListCursor::decode(&text, Some(b)).is_err());
        assert!(ListCursor::decode(&text, None).is_err());
        let of_all = ListCursor {
            after: Uuid::new_v4().to_string(),
            campaign: None,
        };
        assert!(ListCursor::decode(&of_all.encode(), Some(a)).is_err());
    }
}
