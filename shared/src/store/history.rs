//! A character as it was: the fold of a prefix of its stream, up to a version or a time.

use std::ops::ControlFlow;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::instant::Instant;
use super::item::{attr, decode_item};
use super::limits::MAX_PAGE_SIZE;
use super::sdk::query_pages;
use super::{logged, EventStore};
use crate::domain::{CharacterState, RecordedEvent, Version};
use crate::error::Error;

/// Events the first page of a fold by time asks for; each further page asks for twice as many,
/// up to [`MAX_PAGE_SIZE`]: a fold that stops early reads little past where it stops.
const FIRST_TIME_PAGE: usize = 100;

impl EventStore {
    /// The character as of version `version`: the fold of versions 0..=`version`, read with
    /// one consistent Query bounded by it (paged by DynamoDB's 1 MB). A version past the
    /// stream's last is [`Error::VersionNotFound`]; a stream without events [`Error::NotFound`].
    pub async fn character_at(
        &self,
        stream: Uuid,
        version: Version,
    ) -> Result<CharacterState, Error> {
        logged(
            "fold to version",
            stream,
            self.fold_at(stream, version).await,
        )
    }

    async fn fold_at(&self, stream: Uuid, version: Version) -> Result<CharacterState, Error> {
        let state = self
            .fold_forward(stream, Some(version), None, |_| true)
            .await?;
        if let Some(state) = state.as_ref().filter(|s| s.version == version) {
            return Ok(state.clone());
        }
        let last = self
            .last_version(stream)
            .await?
            .ok_or(Error::NotFound(stream))?;
        match state {
            // `version` is missing from a stream that goes on past it (written by other code
            // with a version left out): the fold of what there is up to it.
            Some(state) if last > version => Ok(state),
            _ => Err(Error::VersionNotFound {
                stream,
                version,
                last,
            }),
        }
    }

    /// The character as of `instant`: the fold of the longest prefix of the stream, in version
    /// order, whose events were recorded at or before it (an event without `RecordedAt` counts
    /// as older than any time). Reads stop at the first event recorded after it, so a clock
    /// that stepped back between two appends cannot bring a later event into the past.
    pub async fn character_as_of(
        &self,
        stream: Uuid,
        instant: Instant,
    ) -> Result<CharacterState, Error> {
        logged(
            "fold to time",
            stream,
            self.fold_as_of(stream, instant).await,
        )
    }

    async fn fold_as_of(&self, stream: Uuid, instant: Instant) -> Result<CharacterState, Error> {
        let state = self
            .fold_forward(stream, None, Some(FIRST_TIME_PAGE), |e| instant.saw(e))
            .await?;
        match state {
            Some(state) => Ok(state),
            None if self.last_version(stream).await?.is_none() => Err(Error::NotFound(stream)),
            None => Err(Error::NoEventAsOf { stream }),
        }
    }

    /// Folds the stream from its first event, up to version `upto` when given, while `keep`
    /// holds: the fold stops before the first event it does not. `first_page` bounds the first
    /// Query (doubling after); `None` reads DynamoDB's 1 MB pages.
    async fn fold_forward(
        &self,
        stream: Uuid,
        upto: Option<Version>,
        first_page: Option<usize>,
        keep: impl Fn(&RecordedEvent) -> bool,
    ) -> Result<Option<CharacterState>, Error> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .expression_attribute_names("#id", attr::ID)
            .expression_attribute_values(":id", AttributeValue::S(stream.to_string()));
        let query = match upto {
            None => query.key_condition_expression("#id = :id"),
            Some(upto) => query
                .key_condition_expression("#id = :id AND #v <= :v")
                .expression_attribute_names("#v", attr::VERSION)
                .expression_attribute_values(":v", AttributeValue::N(upto.to_string())),
        };
        // The state so far, and the size of the next page.
        let mut fold: (Option<CharacterState>, Option<usize>) = (None, first_page);
        query_pages(
            query,
            &mut fold,
            |(_, page)| {
                let this = *page;
                *page = page.map(|p| p.saturating_mul(2).min(MAX_PAGE_SIZE));
                this
            },
            |(state, _), item| {
                let event = decode_item(item)?.into_event();
                if !keep(&event) {
                    return Ok(ControlFlow::Break(()));
                }
                *state = Some(CharacterState::apply(state.take(), &event));
                Ok(ControlFlow::Continue(()))
            },
        )
        .await?;
        Ok(fold.0)
    }
}
