//! Who belongs to a campaign: memberships as data, and the invite code a Dungeon Master shares.
//!
//! The memberships table holds one item per person and campaign: `Sub` (S, the person's
//! identity provider `sub`) and `CampaignId` (S) as its key, `Role` (`dm` or `player`),
//! `Characters` (SS, a player's characters; absent: none), `Name` (how the person asked to be
//! shown) and `JoinedAt`. Its index `ByCampaign` (key `CampaignId`, `Sub`) lists a campaign's
//! members.
//!
//! What it costs (on-demand units, items under 1 KB): deciding a person's request in a campaign
//! is one consistent GetItem (1 read unit); creating a campaign as a person is one transaction of
//! two puts (4 write units, 1 more for the index); an invite is one UpdateItem of the campaign (1
//! write unit); redeeming it is one consistent GetItem of the campaign's code and one
//! conditional PutItem (1 read unit, 2 write units with the index's copy); assigning characters or removing
//! a player is one conditional write (2 write units with the index's copy).

use std::collections::{BTreeSet, HashMap};
use std::ops::ControlFlow;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use super::{validate, Campaign, CampaignError, CampaignStore, ID};
use crate::access::Role;
use crate::error::{Error, InfraError};
use crate::rules::Ruleset;
use crate::store::sdk::{self, condition_held, infra, query_pages, transacted, Item, Lost};

/// The memberships table's index by campaign.
pub const BY_CAMPAIGN_INDEX: &str = "ByCampaign";

const SUB: &str = "Sub";
const CAMPAIGN_ID: &str = "CampaignId";
const ROLE: &str = "Role";
const CHARACTERS: &str = "Characters";
const NAME: &str = "Name";

/// Most characters of an identity's `sub` this table stores (Cognito's are 36).
pub const MAX_SUB_CHARS: usize = 128;

/// One person's membership of one campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub sub: String,
    pub campaign: Uuid,
    pub role: Role,
    /// How the person asked to be shown (empty: not given).
    pub name: String,
}

/// The memberships table.
#[derive(Debug, Clone)]
pub struct MemberStore {
    client: Client,
    table: String,
}

impl MemberStore {
    pub fn new(client: Client, table: impl Into<String>) -> MemberStore {
        MemberStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(sub: &str, campaign: Uuid) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (SUB.to_owned(), AttributeValue::S(sub.to_owned())),
            (
                CAMPAIGN_ID.to_owned(),
                AttributeValue::S(campaign.to_string()),
            ),
        ])
    }

    /// The person's role in the campaign (`None`: not a member): one consistent GetItem, so a
    /// player removed a moment ago is refused at once.
    pub async fn role(&self, sub: &str, campaign: Uuid) -> Result<Option<Role>, Error> {
        Ok(self.member(sub, campaign).await?.map(|m| m.role))
    }

    /// The person's membership of the campaign, read consistently.
    pub async fn member(&self, sub: &str, campaign: Uuid) -> Result<Option<Member>, Error> {
        if sub.is_empty() || sub.chars().count() > MAX_SUB_CHARS {
            return Ok(None);
        }
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(sub, campaign)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| infra("GetItem", e))?;
        Ok(output.item.map(|item| decode(item, campaign)).transpose()?)
    }

    /// Creates a campaign led by the person `sub`: the campaign and the DM's membership in one
    /// transaction (4 write units).
    pub async fn create_campaign(
        &self,
        campaigns: &CampaignStore,
        sub: &str,
        name: String,
        dm_name: String,
        ruleset: Ruleset,
    ) -> Result<Campaign, Error> {
        validate(&name, &dm_name)?;
        let campaign = Campaign {
            id: Uuid::new_v4(),
            name,
            dm_name: dm_name.clone(),
            ruleset,
        };
        let campaign_item = CampaignStore::new_item(&campaign)?;
        let mut member = Self::key(sub, campaign.id);
        member.insert(ROLE.to_owned(), AttributeValue::S("dm".to_owned()));
        member.insert(NAME.to_owned(), AttributeValue::S(dm_name));
        if let Some(now) = sdk::now() {
            member.insert("JoinedAt".to_owned(), AttributeValue::S(now));
        }
        let put = |table: &str, item: Item, key: &str| {
            Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#k)")
                .expression_attribute_names("#k", key)
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build())
                .map_err(|e| sdk::build("TransactWriteItems", e))
        };
        let written = self
            .client
            .transact_write_items()
            .transact_items(put(campaigns.table(), campaign_item, ID)?)
            .transact_items(put(&self.table, member, SUB)?)
            .send()
            .await;
        match transacted(written)? {
            Ok(()) => Ok(campaign),
            Err(Lost::Race(failure)) => Err(InfraError::Contended(failure).into()),
            // A random uuid taken already: not something a caller can cause or retry into.
            Err(Lost::Condition) => {
                Err(InfraError::corrupt(campaign.id, None, "campaign id taken").into())
            }
        }
    }

    /// Redeems the campaign's invite code for the person `sub`, who becomes a player (a member
    /// already keeps the role they have), and whether they joined just now. A wrong code, or a
    /// campaign without one, is the same answer as a campaign that does not exist.
    pub async fn redeem(
        &self,
        campaigns: &CampaignStore,
        campaign: Uuid,
        code: &str,
        sub: &str,
        name: String,
    ) -> Result<(Member, bool), Error> {
        let stored = campaigns.invite_code(campaign).await?;
        if stored.is_none_or(|stored| !same_code(&stored, code)) || sub.is_empty() {
            return Err(CampaignError::NotFound(campaign).into());
        }
        let mut item = Self::key(sub, campaign);
        item.insert(ROLE.to_owned(), AttributeValue::S("player".to_owned()));
        if !name.is_empty() {
            item.insert(NAME.to_owned(), AttributeValue::S(name.clone()));
        }
        if let Some(now) = sdk::now() {
            item.insert("JoinedAt".to_owned(), AttributeValue::S(now));
        }
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#sub)")
            .expression_attribute_names("#sub", SUB)
            .send()
            .await;
        if condition_held("PutItem", put)? {
            let member = Member {
                sub: sub.to_owned(),
                campaign,
                role: Role::Player {
                    characters: BTreeSet::new(),
                },
                name,
            };
            return Ok((member, true));
        }
        // A member already: the role they have.
        let member = self
            .member(sub, campaign)
            .await?
            .ok_or(CampaignError::NotFound(campaign))?;
        Ok((member, false))
    }

    /// The campaign's members, from the index (eventually consistent), the DM first.
    pub async fn members(&self, campaign: Uuid) -> Result<Vec<Member>, Error> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_CAMPAIGN_INDEX)
            .key_condition_expression("#c = :c")
            .expression_attribute_names("#c", CAMPAIGN_ID)
            .expression_attribute_values(":c", AttributeValue::S(campaign.to_string()));
        let mut members = Vec::new();
        query_pages(
            query,
            &mut members,
            |_| None,
            |members, item| {
                members.push(decode(item, campaign)?);
                Ok(ControlFlow::Continue(()))
            },
        )
        .await?;
        members.sort_by_key(|m| m.role != Role::Dm);
        Ok(members)
    }

    /// Sets which characters a player runs the player commands on (replacing the set before):
    /// one UpdateItem on the condition that the person is a player of the campaign (`false`:
    /// they are not).
    pub async fn assign(
        &self,
        sub: &str,
        campaign: Uuid,
        characters: &BTreeSet<Uuid>,
    ) -> Result<bool, Error> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(sub, campaign)))
            .condition_expression("#role = :player")
            .expression_attribute_names("#role", ROLE)
            .expression_attribute_names("#chars", CHARACTERS)
            .expression_attribute_values(":player", AttributeValue::S("player".to_owned()));
        update = if characters.is_empty() {
            update.update_expression("REMOVE #chars")
        } else {
            update
                .update_expression("SET #chars = :chars")
                .expression_attribute_values(
                    ":chars",
                    AttributeValue::Ss(characters.iter().map(Uuid::to_string).collect()),
                )
        };
        Ok(condition_held("UpdateItem", update.send().await)?)
    }

    /// Removes a player from the campaign (the DM cannot be removed): one conditional
    /// DeleteItem (`false`: the person is not a player of it). The caller withdraws the invite
    /// first ([`CampaignStore::withdraw_invite`]), or the player could redeem it again.
    pub async fn remove(&self, sub: &str, campaign: Uuid) -> Result<bool, Error> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(sub, campaign)))
            .condition_expression("#role = :player")
            .expression_attribute_names("#role", ROLE)
            .expression_attribute_values(":player", AttributeValue::S("player".to_owned()))
            .send()
            .await;
        Ok(condition_held("DeleteItem", delete)?)
    }

    /// The campaigns the person belongs to, with their role in each: one Query of their items,
    /// then the campaigns by BatchGetItem (100 at a time).
    pub async fn campaigns_of(
        &self,
        campaigns: &CampaignStore,
        sub: &str,
    ) -> Result<Vec<(Campaign, Role)>, Error> {
        if sub.is_empty() || sub.chars().count() > MAX_SUB_CHARS {
            return Ok(Vec::new());
        }
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#s = :s")
            .expression_attribute_names("#s", SUB)
            .expression_attribute_values(":s", AttributeValue::S(sub.to_owned()));
        let mut roles: Vec<(Uuid, Role)> = Vec::new();
        query_pages(
            query,
            &mut roles,
            |_| None,
            |roles, item| {
                let id = match item.get(CAMPAIGN_ID) {
                    Some(AttributeValue::S(id)) => Uuid::try_parse(id).ok(),
                    _ => None,
                };
                match id {
                    Some(id) => roles.push((id, decode(item, id)?.role)),
                    None => tracing::error!("membership item without a uuid CampaignId"),
                }
                Ok(ControlFlow::Continue(()))
            },
        )
        .await?;
        let mut found = Vec::with_capacity(roles.len());
        for chunk in roles.chunks(100) {
            let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
            for campaign in campaigns.get_many(&ids).await? {
                if let Some((_, role)) = chunk.iter().find(|(id, _)| *id == campaign.id) {
                    found.push((campaign, role.clone()));
                }
            }
        }
        found.sort_by(|a, b| a.0.name.cmp(&b.0.name).then(a.0.id.cmp(&b.0.id)));
        Ok(found)
    }
}

/// Compares invite codes without stopping at the first difference, so the time taken does not
/// tell how much of a guess was right.
fn same_code(stored: &str, given: &str) -> bool {
    let (a, b) = (stored.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn decode(item: Item, campaign: Uuid) -> Result<Member, InfraError> {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(text)) => Some(text.clone()),
        _ => None,
    };
    let corrupt = |why: &str| InfraError::corrupt(campaign, None, why);
    let sub = text(SUB).ok_or_else(|| corrupt("membership without a Sub"))?;
    let role = match text(ROLE).as_deref() {
        Some("dm") => Role::Dm,
        Some("player") => Role::Player {
            characters: match item.get(CHARACTERS) {
                Some(AttributeValue::Ss(ids)) => ids
                    .iter()
                    .map(|id| {
                        Uuid::try_parse(id).map_err(|_| corrupt("a character id is not a uuid"))
                    })
                    .collect::<Result<_, _>>()?,
                None => BTreeSet::new(),
                Some(_) => return Err(corrupt("Characters is not a string set")),
            },
        },
        _ => return Err(corrupt("membership without a known Role")),
    };
    Ok(Member {
        sub,
        campaign,
        role,
        name: text(NAME).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::same_code;

    #[test]
    fn codes_compare_whole() {
        assert!(same_code("abc", "abc"));
        assert!(!same_code("abc", "abd"));
        assert!(!same_code("abc", "ab"));
        assert!(!same_code("", "a"));
    }
}
