//! Campaigns: a gaming group's party and feed. Each character belongs to one campaign (the
//! `CampaignId` on its latest event; none: the default campaign), the snapshot table is
//! queried by campaign for the party, and each campaign has a feed of its own.
//!
//! The campaigns table holds one item per campaign (`Id` S key; `Name`, `DmName`, `Ruleset`,
//! `CreatedAt`, `InviteCode` once the DM asked for one). The default campaign has no item: it
//! is built in. Who belongs to which campaign is in [`members`].

pub mod members;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::DEFAULT_CAMPAIGN;
use crate::error::{Error, InfraError};
use crate::rules::Ruleset;
use crate::store::cursor::{decode_listing, encode_listing};
use crate::store::sdk::{self, condition_held, infra, Item};
use crate::store::{page_limit, scan, BadCursor};

/// Most characters in a campaign's or its DM's name.
pub const MAX_CAMPAIGN_NAME_CHARS: usize = 100;

/// A campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    #[serde(rename = "Id")]
    pub id: Uuid,
    #[serde(rename = "Name")]
    pub name: String,
    /// The Dungeon Master's display name.
    #[serde(rename = "DmName")]
    pub dm_name: String,
    /// The ruleset a new character under the rules takes unless its request names one.
    #[serde(rename = "Ruleset")]
    pub ruleset: Ruleset,
}

impl Campaign {
    /// The built-in default campaign (the nil id): every character without a campaign.
    pub fn default_campaign() -> Campaign {
        Campaign {
            id: DEFAULT_CAMPAIGN,
            name: "Default campaign".to_owned(),
            dm_name: String::new(),
            ruleset: Ruleset::Srd2024,
        }
    }
}

/// A campaign the request cannot have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    #[error("campaign {0} does not exist")]
    NotFound(Uuid),
    /// A campaign named in a request body (a new character's, a move's) that does not exist.
    #[error("campaign_id {0} names no campaign: create it first with POST /campaigns")]
    Unknown(Uuid),
    /// The default campaign has no members: nobody is invited to it.
    #[error("the default campaign has no members: create a campaign and invite players to it")]
    NoMembers,
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} has {chars} characters; at most {max} are allowed")]
    TooLong {
        field: &'static str,
        chars: usize,
        max: usize,
    },
}

/// A new campaign's fields, checked.
pub fn validate(name: &str, dm_name: &str) -> Result<(), CampaignError> {
    for (field, text) in [("name", name), ("dm_name", dm_name)] {
        let chars = text.chars().count();
        if text.trim().is_empty() {
            return Err(CampaignError::Empty { field });
        }
        if chars > MAX_CAMPAIGN_NAME_CHARS {
            return Err(CampaignError::TooLong {
                field,
                chars,
                max: MAX_CAMPAIGN_NAME_CHARS,
            });
        }
    }
    Ok(())
}

/// Where the next page of campaigns starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignCursor {
    pub after: Uuid,
}

const LISTING: &str = "campaigns";

impl CampaignCursor {
    pub fn encode(&self) -> String {
        encode_listing(LISTING, self.after)
    }

    pub fn decode(text: &str) -> Result<CampaignCursor, BadCursor> {
        decode_listing(LISTING, text).map(|after| CampaignCursor { after })
    }
}

/// One page of campaigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignList {
    pub campaigns: Vec<Campaign>,
    pub next: Option<CampaignCursor>,
}

/// The campaigns table.
#[derive(Debug, Clone)]
pub struct CampaignStore {
    client: Client,
    table: String,
}

pub(crate) const ID: &str = "Id";
const INVITE_CODE: &str = "InviteCode";

impl CampaignStore {
    pub fn new(client: Client, table: impl Into<String>) -> CampaignStore {
        CampaignStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates a campaign with a new id: one conditional PutItem (1 write unit).
    pub async fn create(
        &self,
        name: String,
        dm_name: String,
        ruleset: Ruleset,
    ) -> Result<Campaign, Error> {
        validate(&name, &dm_name)?;
        let campaign = Campaign {
            id: Uuid::new_v4(),
            name,
            dm_name,
            ruleset,
        };
        let item = Self::new_item(&campaign)?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#id)")
            .expression_attribute_names("#id", ID)
            .send()
            .await;
        if !condition_held("PutItem", put)? {
            // A random uuid taken already: not something a caller can cause or retry into.
            return Err(InfraError::corrupt(campaign.id, None, "campaign id taken").into());
        }
        Ok(campaign)
    }

    /// A new campaign's item, stamped with the time it was created.
    pub(crate) fn new_item(campaign: &Campaign) -> Result<Item, Error> {
        let mut item: Item =
            serde_dynamo::to_item(campaign).map_err(|e| sdk::corrupt(campaign.id, &e))?;
        if let Some(now) = sdk::now() {
            item.insert("CreatedAt".to_owned(), AttributeValue::S(now));
        }
        Ok(item)
    }

    /// Up to 100 campaigns by id, in no particular order, leaving out those that do not exist:
    /// one consistent BatchGetItem, again for any keys it leaves unprocessed.
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<Vec<Campaign>, Error> {
        let mut keys: Vec<Item> = ids
            .iter()
            .map(|id| Item::from([(ID.to_owned(), AttributeValue::S(id.to_string()))]))
            .collect();
        let mut found = Vec::with_capacity(keys.len());
        for _ in 0..5 {
            if keys.is_empty() {
                break;
            }
            // Consistent: a campaign created a moment ago is in its DM's list.
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| sdk::build("BatchGetItem", e))?;
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| infra("BatchGetItem", e))?;
            for item in output
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                let id = match item.get(ID) {
                    Some(AttributeValue::S(id)) => Uuid::try_parse(id).ok(),
                    _ => None,
                };
                if let Some(id) = id {
                    found.push(decode(item, id)?);
                }
            }
            keys = output
                .unprocessed_keys
                .and_then(|mut r| r.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if !keys.is_empty() {
            return Err(InfraError::Throttled(crate::error::SdkFailure {
                operation: "BatchGetItem",
                code: "unprocessed keys".to_owned(),
                status: None,
                request_id: None,
            })
            .into());
        }
        Ok(found)
    }

    /// A new invite code for the campaign, replacing the one before (which stops working):
    /// one conditional UpdateItem of the campaign (1 write unit).
    pub async fn new_invite(&self, campaign: Uuid) -> Result<String, Error> {
        let code = Uuid::new_v4().simple().to_string();
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(campaign.to_string()))
            .update_expression("SET #code = :code")
            .condition_expression("attribute_exists(#id)")
            .expression_attribute_names("#code", INVITE_CODE)
            .expression_attribute_names("#id", ID)
            .expression_attribute_values(":code", AttributeValue::S(code.clone()))
            .send()
            .await;
        if condition_held("UpdateItem", update)? {
            Ok(code)
        } else {
            Err(CampaignError::NotFound(campaign).into())
        }
    }

    /// The campaign's invite code, if it has one: one consistent GetItem of that attribute.
    pub async fn invite_code(&self, campaign: Uuid) -> Result<Option<String>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(campaign.to_string()))
            .consistent_read(true)
            .projection_expression("#code")
            .expression_attribute_names("#code", INVITE_CODE)
            .send()
            .await
            .map_err(|e| infra("GetItem", e))?;
        Ok(output
            .item
            .and_then(|mut item| match item.remove(INVITE_CODE) {
                Some(AttributeValue::S(code)) => Some(code),
                _ => None,
            }))
    }

    /// Withdraws the campaign's invite code (the DM makes a new one for the next player): one
    /// UpdateItem of the campaign.
    pub async fn withdraw_invite(&self, campaign: Uuid) -> Result<(), Error> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(campaign.to_string()))
            .update_expression("REMOVE #code")
            .condition_expression("attribute_exists(#id)")
            .expression_attribute_names("#code", INVITE_CODE)
            .expression_attribute_names("#id", ID)
            .send()
            .await;
        condition_held("UpdateItem", update)?;
        Ok(())
    }

    /// A campaign by id (the default campaign without a read): one consistent GetItem.
    pub async fn get(&self, id: Uuid) -> Result<Option<Campaign>, Error> {
        if id == DEFAULT_CAMPAIGN {
            return Ok(Some(Campaign::default_campaign()));
        }
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(ID, AttributeValue::S(id.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| infra("GetItem", e))?;
        output
            .item
            .map(|item| decode(item, id))
            .transpose()
            .map_err(Error::from)
    }

    /// A campaign that must exist, as named in a request's body.
    pub async fn existing(&self, id: Uuid) -> Result<Campaign, Error> {
        self.get(id)
            .await?
            .ok_or_else(|| CampaignError::Unknown(id).into())
    }

    /// Every campaign, `limit` at a time, the default campaign first, then the table's in its
    /// order (by a hash of the id), from an eventually consistent Scan of the campaigns table.
    pub async fn list(
        &self,
        limit: usize,
        cursor: Option<&CampaignCursor>,
    ) -> Result<CampaignList, Error> {
        let limit = page_limit(limit)?;
        let mut campaigns = Vec::new();
        if cursor.is_none() {
            campaigns.push(Campaign::default_campaign());
        }
        // After the default campaign (the first page held only it): the table from its start.
        let mut start = cursor.filter(|c| c.after != DEFAULT_CAMPAIGN).map(|c| {
            std::collections::HashMap::from([(
                ID.to_owned(),
                AttributeValue::S(c.after.to_string()),
            )])
        });
        // One more than asked tells whether another page follows.
        loop {
            let want = limit + 1 - campaigns.len();
            let page = scan(&self.client, &self.table, None, start, Some(want)).await?;
            for item in page.items {
                let id = match item.get(ID) {
                    Some(AttributeValue::S(id)) => Uuid::try_parse(id).ok(),
                    _ => None,
                };
                match id.map(|id| decode(item, id)) {
                    Some(Ok(campaign)) => campaigns.push(campaign),
                    Some(Err(error)) => tracing::error!(%error, "campaign item cannot be read"),
                    None => tracing::error!("campaign item without a uuid Id"),
                }
            }
            start = page.next;
            if campaigns.len() > limit || start.is_none() {
                break;
            }
        }
        let next = (campaigns.len() > limit).then(|| {
            campaigns.truncate(limit);
            CampaignCursor {
                after: campaigns.last().map_or(DEFAULT_CAMPAIGN, |c| c.id),
            }
        });
        Ok(CampaignList { campaigns, next })
    }
}

fn decode(item: Item, id: Uuid) -> Result<Campaign, InfraError> {
    serde_dynamo::from_item(item).map_err(|e: serde_dynamo::Error| {
        InfraError::corrupt(id, None, sdk::without_quotes(&e.to_string()))
    })
}
