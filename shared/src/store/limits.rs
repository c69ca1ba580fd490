//! DynamoDB's limits as the event store meets them: the size of an event's item and of one
//! append's transaction, and the size of a page a read hands back (1 to [`MAX_PAGE_SIZE`]
//! items, [`MAX_PAGE_BYTES`] of JSON).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{
    validate_count, validate_event, validate_unique_id, InvalidInput, NewEvent,
    MAX_EVENTS_PER_APPEND,
};

/// Most actions DynamoDB takes in one `TransactWriteItems`.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;
/// DynamoDB's item size limit (400 KB).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's limit on the total size of one transaction (4 MB).
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// Bytes an event item takes besides its name and note: attribute names, the two uuids,
/// the version, the HP change and the timestamp, rounded up.
const ITEM_OVERHEAD_BYTES: usize = 256;
/// Bytes an event item of a character with rules may take besides its name and note: the
/// plain overhead, and room for the command, the outcome, the sheet after it and the last
/// commands' ids (an ordinary one takes under 1 KB; 13 damage parts, defences overridden on
/// every type, take about 2.5 KB).
pub const TYPED_ITEM_OVERHEAD_BYTES: usize = 4096;
/// Most bytes the text of a read model's holes (versions it went past that the events table did
/// not have) may take in its item: three quarters of an item, the rest for its other attributes.
pub const MAX_HOLES_BYTES: usize = MAX_ITEM_BYTES / 4 * 3;
/// Most items one page of a read may hold.
pub const MAX_PAGE_SIZE: usize = 1000;
/// Most bytes of items one page of a read holds, as JSON. A Lambda response may not exceed
/// 6 MB, and API Gateway's envelope escapes the body a second time: half of that, with room.
pub const MAX_PAGE_BYTES: usize = 2_500_000;

// An append's events are written in one transaction.
const _: () = assert!(MAX_EVENTS_PER_APPEND <= MAX_TRANSACTION_ACTIONS);

/// Checks an append's events against every limit, the domain's and DynamoDB's, before anything
/// is written, event by event; returns the size their items will take, in bytes.
pub fn validate_events(events: &[NewEvent]) -> Result<usize, InvalidInput> {
    validate_events_within(events, ITEM_OVERHEAD_BYTES)
}

/// [`validate_events`] for items that take up to `overhead` bytes besides name and note.
pub fn validate_events_within(events: &[NewEvent], overhead: usize) -> Result<usize, InvalidInput> {
    validate_count(events)?;
    let mut total = 0;
    for (index, event) in events.iter().enumerate() {
        validate_event(index, event)?;
        let bytes = overhead + event.character_name.len() + event.note.len();
        if bytes > MAX_ITEM_BYTES {
            return Err(InvalidInput::EventTooLarge {
                index,
                bytes,
                max: MAX_ITEM_BYTES,
            });
        }
        validate_unique_id(events, index)?;
        total += bytes;
    }
    if total > MAX_TRANSACTION_BYTES {
        return Err(InvalidInput::BatchTooLarge {
            bytes: total,
            max: MAX_TRANSACTION_BYTES,
        });
    }
    Ok(total)
}

/// A page size outside 1 to [`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("limit must be between 1 and {max}, got {value}")]
pub struct BadLimit {
    pub value: usize,
    pub max: usize,
}

/// Checks a read's page size.
pub fn page_limit(limit: usize) -> Result<usize, BadLimit> {
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(BadLimit {
            value: limit,
            max: MAX_PAGE_SIZE,
        });
    }
    Ok(limit)
}

/// The bytes a page has taken so far, against [`MAX_PAGE_BYTES`].
#[derive(Debug, Default, Clone, Copy)]
pub struct PageBytes {
    taken: usize,
    refused: bool,
}

impl PageBytes {
    /// Takes an item of `size` bytes if the page has room for it, or if it is the page's first:
    /// a page stops before the item that would take it over, never before its first.
    pub fn take(&mut self, size: usize) -> bool {
        let fits = self.taken == 0 || self.taken.saturating_add(size) <= MAX_PAGE_BYTES;
        if fits {
            self.taken = self.taken.saturating_add(size);
        } else {
            self.refused = true;
        }
        fits
    }

    /// Whether the page has no room for more: an item was refused, or its first alone is over.
    pub fn full(&self) -> bool {
        self.refused || self.taken > MAX_PAGE_BYTES
    }

    /// How many of the items of `sizes`, in order, one page holds.
    pub fn fitting(sizes: impl IntoIterator<Item = usize>) -> usize {
        let mut page = PageBytes::default();
        sizes
            .into_iter()
            .take_while(|&size| page.take(size))
            .count()
    }
}

/// An item's size as DynamoDB counts it: each attribute's name and value; a string's UTF-8
/// bytes, a number's significant digits halved plus one, a map or a list 3 bytes and 1 per
/// element besides what they hold.
pub fn item_bytes(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum()
}

fn value_bytes(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => {
            let digits = n.trim_start_matches(['-', '0']).replace('.', "");
            digits.trim_end_matches('0').len().div_ceil(2) + 1
        }
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_bytes(v)).sum::<usize>(),
        AttributeValue::M(map) => {
            3 + map
                .iter()
                .map(|(k, v)| 1 + k.len() + value_bytes(v))
                .sum::<usize>()
        }
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::domain::fixtures::event;
    use crate::domain::MAX_NOTE_CHARS;

    #[test]
    fn limits_are_typed() {
        assert_eq!(validate_events(&[]), Err(InvalidInput::NoEvents));
        let many = vec![event("a", 1, "n"); 101];
        assert!(matches!(
            validate_events(&many),
            Err(InvalidInput::TooManyEvents { count: 101, .. })
        ));
        assert!(validate_events(&vec![event("a", 1, "n"); 100]).is_ok());
        assert_eq!(
            validate_events(&[event("  ", 1, "n")]),
            Err(InvalidInput::EmptyName { index: 0 })
        );
        assert_eq!(
            validate_events(&[event("a", 1, "n"), event("a", 1, "")]),
            Err(InvalidInput::EmptyNote { index: 1 })
        );
        assert!(matches!(
            validate_events(&[event(&"x".repeat(1001), 1, "n")]),
            Err(InvalidInput::NameTooLong { chars: 1001, .. })
        ));
        assert!(matches!(
            validate_events(&[event("a", 1, &"x".repeat(MAX_NOTE_CHARS + 1))]),
            Err(InvalidInput::NoteTooLong { .. })
        ));
        assert!(validate_events(&[event("a", i32::MIN as i64, "n")]).is_ok());
        assert!(matches!(
            validate_events(&[event("a", i32::MAX as i64 + 1, "n")]),
            Err(InvalidInput::HpChangeOutOfRange { .. })
        ));
        // 120,000 four-byte characters: within the note's character limit, over 400 KB.
        assert!(matches!(
            validate_events(&[event("a", 1, &"🐉".repeat(120_000))]),
            Err(InvalidInput::EventTooLarge { .. })
        ));
        // Twenty-two 199 KB events: each fits, the transaction does not.
        assert!(matches!(
            validate_events(&vec![event("a", 1, &"x".repeat(199_000)); 22]),
            Err(InvalidInput::BatchTooLarge { .. })
        ));
    }

    #[test]
    fn an_append_refuses_its_first_bad_event_and_a_reused_id() {
        let id = Uuid::new_v4();
        let mut a = event("a", 1, "n");
        a.event_id = Some(id);
        assert_eq!(
            validate_events(&[a.clone(), a]),
            Err(InvalidInput::DuplicateEventId {
                index: 1,
                event_id: id
            })
        );
    }

    #[test]
    fn a_page_stops_before_the_item_that_takes_it_over_its_bytes_never_before_its_first() {
        assert_eq!(PageBytes::fitting([MAX_PAGE_BYTES + 1, 1]), 1);
        assert_eq!(PageBytes::fitting([MAX_PAGE_BYTES / 2; 3]), 2);
        assert_eq!(PageBytes::fitting([10, 20, 30]), 3);
        assert_eq!(PageBytes::fitting([]), 0);
        assert_eq!(
            page_limit(0),
            Err(BadLimit {
                value: 0,
                max: MAX_PAGE_SIZE
            })
        );
        assert_eq!(page_limit(MAX_PAGE_SIZE), Ok(MAX_PAGE_SIZE));
        assert!(page_limit(MAX_PAGE_SIZE + 1).is_err());
    }
}
