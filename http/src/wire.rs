//! The API's wire types, each defined once: request bodies and query parameters as they are
//! read, response bodies as they are written, and the error codes.

use hitpoints::access::Role;
use hitpoints::campaign::members::Member;
use hitpoints::domain::{
    Direction, ExpectedVersion, NewEvent, RecordedEvent, Version, MAX_EXPECTED_VERSION,
};
use hitpoints::feed::Position;
use hitpoints::rules::{DeathSaves, Defences, Outcome, Ruleset, Sheet, Status};
use hitpoints::store::Instant;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Events per page when the request does not say.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The body of `POST /characters/{id}/events`. (`POST /characters` takes one [`NewEvent`].)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expected_version": 0, "events": [
    {"character_name": "Nuru", "hp_change": -2, "note": "Slashing damage from goblin"},
    {"character_name": "Nuru", "hp_change": -3, "note": "bludgeoning damage from bugbear"}]}))]
pub struct AppendRequest {
    /// Absent or `null`: `"any"`.
    #[serde(default)]
    #[schema(nullable)]
    pub expected_version: Option<ExpectedVersion>,
    /// 1 to 100 events, written all or nothing (413 past 100; 422 for none).
    #[schema(min_items = 1, max_items = 100)]
    pub events: Vec<NewEvent>,
}

/// The query of `GET /characters/{id}/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// The first version to read (forward) or the last (backward). Digits only.
    #[serde(default, deserialize_with = "version_digits")]
    // maximum: MAX_EXPECTED_VERSION, written out (the attribute takes a literal only).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    pub from_version: Option<Version>,
    /// Events per page, 1 to 1000 (default 100). Digits only.
    #[serde(default, deserialize_with = "digits")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    #[param(inline)]
    pub direction: Option<Direction>,
    /// The `next_cursor` of the previous page of the same character; it keeps its direction.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The query of `GET /characters/{id}`: at most one of the three.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CharacterParams {
    /// `true`: the fold of the events, read consistently, instead of the snapshot.
    pub consistent: Option<bool>,
    /// The character as of this version: the fold of versions 0..=n. Digits only.
    #[serde(default, deserialize_with = "version_digits")]
    // maximum: MAX_EXPECTED_VERSION, written out (the attribute takes a literal only).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    pub at_version: Option<Version>,
    /// The character as of this instant: RFC 3339, any offset (a `+` URL-encoded as `%2B`).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-29T20:15:00Z")]
    pub as_of: Option<Instant>,
}

/// The query of `GET /characters`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Characters per page, 1 to 1000 (default 100). Digits only.
    #[serde(default, deserialize_with = "digits")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// The query of `GET /events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Forward: the events after this position; backward: the events before it. A position or
    /// `next` this feed handed out (one past its end is a 400).
    #[param(value_type = Option<String>, pattern = "^[0-9]{1,20}$", example = "00000000000000000042")]
    pub after: Option<Position>,
    /// Events per page, 1 to 1000 (default 100). Digits only.
    #[serde(default, deserialize_with = "digits")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Seconds to wait for an event when nothing is newer than `after`, 0 to 10 (forward
    /// only). Digits only.
    #[serde(default, deserialize_with = "digits")]
    #[param(minimum = 0, maximum = 10)]
    pub wait: Option<u64>,
    #[param(inline)]
    pub direction: Option<Direction>,
}

/// A whole number in a query parameter: digits only (no sign, no point, no spaces), as the
/// document's `integer` query parameters promise.
fn digits<'de, D: Deserializer<'de>, T: std::str::FromStr>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(serde::de::Error::custom(format_args!(
            "{text:?} is not a whole number written in digits"
        )));
    }
    text.parse()
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format_args!("{text:?} is too large")))
}

/// A version in a query parameter: digits only, at most the highest version a stream can have.
fn version_digits<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Version>, D::Error> {
    match digits::<D, Version>(deserializer)? {
        Some(v) if v > MAX_EXPECTED_VERSION => Err(serde::de::Error::custom(format_args!(
            "{v} is beyond the highest version a stream can have ({MAX_EXPECTED_VERSION})"
        ))),
        v => Ok(v),
    }
}

/// The query of a route that takes none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// An append's answer: 201 written now, 200 a replay of events written before.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppendedBody {
    pub id: Uuid,
    pub events: Vec<RecordedEvent>,
    /// On a character under the rules: the character after the last event.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub state: Option<StateBody>,
}

/// One page of a stream.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageBody {
    pub id: Uuid,
    pub events: Vec<RecordedEvent>,
    /// Where the next page starts; `null` when this page reached the end.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// Where a character's state came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The snapshot table: one read, possibly behind the events by the projector's delay.
    Snapshot,
    /// The fold of the events table.
    Events,
}

/// A character under the rules, as answered; every field `null` on a character without rules.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RulesView {
    #[schema(required = true, value_type = Option<u32>)]
    pub max_hp: Option<u32>,
    #[schema(required = true, value_type = Option<u32>)]
    pub temp_hp: Option<u32>,
    /// `up`, `unconscious` (at 0 HP, dying), `stable` or `dead`.
    #[schema(required = true)]
    pub status: Option<Status>,
    #[schema(required = true)]
    pub death_saves: Option<DeathSaves>,
    #[schema(required = true)]
    pub ruleset: Option<Ruleset>,
    #[schema(required = true)]
    pub defences: Option<Defences>,
    /// The character's hit dice, e.g. `3d10+2d8`.
    #[schema(required = true)]
    pub hit_dice: Option<String>,
    /// Those not yet spent.
    #[schema(required = true)]
    pub hit_dice_left: Option<String>,
    #[schema(required = true, value_type = Option<i32>)]
    pub con_modifier: Option<i32>,
}

impl RulesView {
    pub fn of(sheet: Option<&Sheet>) -> RulesView {
        let Some(sheet) = sheet else {
            return RulesView::default();
        };
        RulesView {
            max_hp: Some(sheet.max_hp()),
            temp_hp: Some(sheet.temp_hp),
            status: Some(sheet.status),
            death_saves: Some(sheet.death_saves),
            ruleset: Some(sheet.ruleset),
            defences: Some(sheet.defences.clone()),
            hit_dice: Some(sheet.hit_dice.to_string()),
            hit_dice_left: Some(sheet.hit_dice_left.to_string()),
            con_modifier: Some(sheet.con_modifier),
        }
    }
}

/// A character's state after a command.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateBody {
    pub character_name: String,
    pub hp: i64,
    #[schema(value_type = u64)]
    pub version: Version,
    #[serde(flatten)]
    pub rules: RulesView,
}

impl StateBody {
    pub fn of_sheet(character_name: &str, version: Version, sheet: &Sheet) -> StateBody {
        StateBody {
            character_name: character_name.to_owned(),
            hp: i64::from(sheet.hp),
            version,
            rules: RulesView::of(Some(sheet)),
        }
    }
}

/// A character's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct CharacterBody {
    pub id: Uuid,
    pub character_name: String,
    pub hp: i64,
    #[schema(value_type = u64)]
    pub version: Version,
    /// The character's campaign.
    pub campaign_id: Uuid,
    #[serde(flatten)]
    pub rules: RulesView,
    pub source: Source,
    /// The version asked for with `at_version` (`version` is lower only where the stream,
    /// written by other code, is missing that version).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = u64, required = false)]
    pub at_version: Option<Version>,
}

/// One page of the party: `GET /characters`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyBody {
    pub characters: Vec<PartyMember>,
    /// Where the next page starts; `null` when this page reached the end.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A character in the party, as its snapshot has it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyMember {
    /// The character's id (a uuid for every character hitpoints wrote).
    pub id: String,
    pub character_name: String,
    pub hp: i64,
    #[schema(value_type = u64)]
    pub version: Version,
    /// The latest event's HP change, note and time; `null` on a snapshot written before they
    /// were kept, until a rebuild.
    #[schema(required = true)]
    pub last_hp_change: Option<i64>,
    #[schema(required = true)]
    pub last_note: Option<String>,
    #[schema(required = true)]
    pub last_recorded_at: Option<String>,
    /// The latest event's type and what the rules computed for it, so a screen can say
    /// "14 fire, resisted → 7"; `null` on a snapshot written before they were kept.
    #[schema(required = true)]
    pub last_event_type: Option<String>,
    #[schema(required = true)]
    pub last_outcome: Option<Outcome>,
    /// The character's campaign (the default campaign's nil id for a snapshot written before
    /// campaigns, until a rebuild).
    pub campaign_id: Uuid,
    #[serde(flatten)]
    pub rules: RulesView,
}

/// One page of the global feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedBody {
    pub events: Vec<FeedEvent>,
    /// What to pass as `after` to continue: the last event's position, or `after` itself when
    /// nothing is new.
    pub next: String,
}

/// An event in the feed: its position, its character, and the event as a stream has it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedEvent {
    /// Opaque; today 20 digits, so positions also sort as text.
    #[schema(example = "00000000000000000042")]
    pub position: String,
    /// The character's id.
    pub id: Uuid,
    #[serde(flatten)]
    pub event: RecordedEvent,
}

/// A campaign: `POST /campaigns`' answer and `GET /campaigns/{id}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "3b9f6c1e-2a4d-4e8f-9c7b-5d1a0e2f4b6c", "name": "Curse of Strahd",
    "dm_name": "Ana", "ruleset": "5e-2024"}))]
pub struct CampaignBody {
    /// The default campaign's is the nil uuid.
    pub id: Uuid,
    pub name: String,
    /// The Dungeon Master's display name.
    pub dm_name: String,
    /// The ruleset a new character under the rules takes unless its request names one.
    pub ruleset: Ruleset,
    /// A signed-in person's role in it (`dm` or `player`); absent for an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub role: Option<RoleName>,
    /// To a player: the characters assigned to them, on which they run the player commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub characters: Option<Vec<Uuid>>,
}

impl From<hitpoints::campaign::Campaign> for CampaignBody {
    fn from(c: hitpoints::campaign::Campaign) -> CampaignBody {
        CampaignBody {
            id: c.id,
            name: c.name,
            dm_name: c.dm_name,
            ruleset: c.ruleset,
            role: None,
            characters: None,
        }
    }
}

impl CampaignBody {
    /// The campaign as a member sees it: with their role.
    pub fn with_role(mut self, role: Option<&Role>) -> CampaignBody {
        self.role = role.map(RoleName::of);
        self.characters = match role {
            Some(Role::Player { characters }) => Some(characters.iter().copied().collect()),
            _ => None,
        };
        self
    }
}

/// A person's role in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Dm,
    Player,
}

impl RoleName {
    pub fn of(role: &Role) -> RoleName {
        match role {
            Role::Dm => RoleName::Dm,
            Role::Player { .. } => RoleName::Player,
        }
    }
}

/// `POST /campaigns/{id}/invite`: the campaign's new invite code (the one before stops
/// working). The DM shares it; a signed-in player redeems it with `POST
/// /campaigns/{id}/members`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"campaign_id": "3b9f6c1e-2a4d-4e8f-9c7b-5d1a0e2f4b6c",
    "code": "9f2c41d07a5b4c3e8d1f6a2b0c9e7d54"}))]
pub struct InviteBody {
    pub campaign_id: Uuid,
    /// 32 hexadecimal characters: 122 random bits.
    pub code: String,
}

/// The body of `POST /campaigns/{id}/members`: an invite code, redeemed by a signed-in person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "9f2c41d07a5b4c3e8d1f6a2b0c9e7d54", "name": "Bo"}))]
pub struct JoinBody {
    /// The code the DM shared.
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    /// How the player asks to be shown to the DM: 1 to 100 characters; absent: not shown.
    #[serde(default)]
    #[schema(nullable, min_length = 1, max_length = 100)]
    pub name: Option<String>,
}

/// The body of `PUT /campaigns/{id}/members/{sub}`: the characters the player runs the player
/// commands on, replacing those before.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"characters": ["6f1c2a9e-0b7d-4c3e-9a51-2d8f4e6b7c10"]}))]
pub struct AssignBody {
    /// At most 100 characters of this campaign.
    #[schema(max_items = 100)]
    pub characters: Vec<Uuid>,
}

/// One member of a campaign.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"sub": "0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f", "role": "player",
    "name": "Bo", "characters": ["6f1c2a9e-0b7d-4c3e-9a51-2d8f4e6b7c10"]}))]
pub struct MemberBody {
    /// Their identity's `sub`.
    pub sub: String,
    pub role: RoleName,
    /// How they asked to be shown (empty: not given).
    pub name: String,
    /// A player's characters (the DM's: empty, for the DM may act on every character).
    pub characters: Vec<Uuid>,
}

impl From<Member> for MemberBody {
    fn from(m: Member) -> MemberBody {
        let characters = match &m.role {
            Role::Dm => Vec::new(),
            Role::Player { characters } => characters.iter().copied().collect(),
        };
        MemberBody {
            sub: m.sub,
            role: RoleName::of(&m.role),
            name: m.name,
            characters,
        }
    }
}

/// `GET /campaigns/{id}/members`: the DM first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersBody {
    pub members: Vec<MemberBody>,
}

/// `POST /characters` without `max_hp`: a new character without rules, its first event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"character_name": "Nuru", "hp_change": 8, "note": "Init",
    "campaign_id": "3b9f6c1e-2a4d-4e8f-9c7b-5d1a0e2f4b6c"}))]
pub struct CreatePlainBody {
    /// At most 1,000 characters, not blank (422).
    #[schema(min_length = 1, max_length = 1000, example = "Nuru")]
    pub character_name: String,
    /// The signed change of hit points; must fit in an `i32`.
    #[serde(deserialize_with = "hitpoints::domain::whole_number")]
    #[schema(value_type = i32, minimum = -2_147_483_648, maximum = 2_147_483_647, example = 8)]
    pub hp_change: i64,
    /// Not blank, at most 200,000 characters, not exactly `SNAPSHOT` (422).
    #[schema(min_length = 1, max_length = 200_000, example = "Init")]
    pub note: String,
    /// Makes the create idempotent: the character's id derives from it.
    #[serde(default, deserialize_with = "hitpoints::domain::hyphenated_uuid")]
    #[schema(nullable, format = Uuid, value_type = Option<String>)]
    pub event_id: Option<Uuid>,
    /// The campaign the character starts in; absent or `null`: the default campaign.
    #[serde(default, deserialize_with = "hitpoints::domain::hyphenated_uuid")]
    #[schema(nullable, format = Uuid, value_type = Option<String>)]
    pub campaign_id: Option<Uuid>,
}

impl CreatePlainBody {
    /// The first event, and the campaign.
    pub fn into_event(self) -> (NewEvent, Option<Uuid>) {
        let event = NewEvent {
            character_name: self.character_name,
            hp_change: self.hp_change,
            note: self.note,
            event_id: self.event_id,
        };
        (event, self.campaign_id)
    }
}

/// The body of `POST /campaigns`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Curse of Strahd", "dm_name": "Ana", "ruleset": "5e-2014"}))]
pub struct CreateCampaignBody {
    /// 1 to 100 characters, not blank.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 1 to 100 characters, not blank.
    #[schema(min_length = 1, max_length = 100)]
    pub dm_name: String,
    /// Absent: `5e-2024`.
    #[serde(default)]
    #[schema(nullable)]
    pub ruleset: Option<Ruleset>,
}

/// One page of campaigns: `GET /campaigns`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignsBody {
    /// The default campaign first, on the first page.
    pub campaigns: Vec<CampaignBody>,
    /// Where the next page starts; `null` when this page reached the end.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The body of `POST /characters/{id}/campaign`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"campaign_id": "3b9f6c1e-2a4d-4e8f-9c7b-5d1a0e2f4b6c", "note": "Joins the Strahd group"}))]
pub struct MoveBody {
    /// The campaign to move to (the nil uuid: the default campaign).
    #[serde(default, deserialize_with = "hitpoints::domain::hyphenated_uuid")]
    #[schema(required = true, format = Uuid, value_type = String)]
    pub campaign_id: Option<Uuid>,
    /// Absent: "Moved to <the campaign's name>".
    #[serde(default)]
    #[schema(nullable, min_length = 1, max_length = 200_000)]
    pub note: Option<String>,
    /// Absent or `null`: `"any"`.
    #[serde(default)]
    #[schema(nullable)]
    pub expected_version: Option<ExpectedVersion>,
}

/// Every error: `{"error", "message"}`, plus what the kind adds. (Its schema is written out in
/// `openapi.rs`: the flattened, optional 409 fields are beyond the derive.)
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictBody>,
    /// On a 503: seconds to wait before a retry (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// What a 409 adds.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictBody {
    /// The request's `expected_version` (`"any"` when it gave none).
    pub expected_version: ExpectedVersion,
    /// The stream's last version when the conflict was seen; `null`: the stream has no events.
    #[schema(value_type = Option<u64>, required = true)]
    pub current_version: Option<Version>,
    /// Some of the request's event ids are stored already where it would write, some not.
    pub partial_replay: bool,
    /// Every one of the request's event ids is stored already where it would write, but with
    /// other content: the ids were reused for other events.
    pub event_ids_reused: bool,
}

/// The `error` of an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // 400
    MissingBody,
    MalformedJson,
    InvalidBody,
    InvalidId,
    InvalidExpectedVersion,
    InvalidLimit,
    InvalidDirection,
    InvalidFromVersion,
    InvalidCursor,
    InvalidConsistent,
    InvalidAtVersion,
    InvalidAsOf,
    InvalidPosition,
    InvalidWait,
    ConflictingParameters,
    InvalidParameter,
    UnknownParameter,
    // 404, 405, 408
    RouteNotFound,
    StreamNotFound,
    CampaignNotFound,
    VersionNotFound,
    NoEventAsOf,
    MethodNotAllowed,
    RequestTimeout,
    MemberNotFound,
    // 401, 403
    Unauthenticated,
    Forbidden,
    // 409
    VersionConflict,
    // 413
    BodyTooLarge,
    TooManyEvents,
    EventTooLarge,
    EventsTooLarge,
    // 422
    InvalidEvent,
    InvalidCampaign,
    UnknownCampaign,
    NotInCampaign,
    InvalidAmount,
    InvalidRoll,
    UnknownDamageType,
    InvalidHitDice,
    TooManyTargets,
    RulesNotEnabled,
    RulesEnabledAlready,
    CharacterDead,
    NotDying,
    NotDead,
    RestNeedsHp,
    NoHitDice,
    NoMaximum,
    UndoRules,
    UndoMove,
    // 409 for an undo
    UndoNotLatest,
    UndoDeath,
    // 500: permanent, a retry fails the same way
    StoreError,
    CorruptItem,
    // 503: a retry can succeed
    Throttled,
    StoreUnreachable,
    TransactionConflict,
    ServerBusy,
}

impl ErrorCode {
    /// The code as it is written in an error body, e.g. `version_conflict`.
    pub fn text(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The code of a query parameter or body field that does not parse, by its name.
    pub(crate) fn for_field(field: &str) -> Option<ErrorCode> {
        Some(match field {
            "expected_version" => ErrorCode::InvalidExpectedVersion,
            "limit" => ErrorCode::InvalidLimit,
            "direction" => ErrorCode::InvalidDirection,
            "from_version" => ErrorCode::InvalidFromVersion,
            "cursor" => ErrorCode::InvalidCursor,
            "consistent" => ErrorCode::InvalidConsistent,
            "at_version" => ErrorCode::InvalidAtVersion,
            "as_of" => ErrorCode::InvalidAsOf,
            "after" => ErrorCode::InvalidPosition,
            "wait" => ErrorCode::InvalidWait,
            _ => return None,
        })
    }

    /// What a field must be, for the message of its code.
    pub(crate) fn expectation(self) -> &'static str {
        match self {
            ErrorCode::InvalidExpectedVersion => {
                "expected_version must be \"any\", \"no_stream\" or a version number (0 or more)"
            }
            ErrorCode::InvalidLimit => "limit must be a whole number from 1 to 1000",
            ErrorCode::InvalidDirection => "direction must be forward or backward",
            ErrorCode::InvalidFromVersion => "from_version must be a version number (0 or more)",
            ErrorCode::InvalidConsistent => "consistent must be true or false",
            ErrorCode::InvalidAtVersion => "at_version must be a version number (0 or more)",
            ErrorCode::InvalidAsOf => "as_of must be an RFC 3339 time such as 2026-11-29T20:15:00Z",
            ErrorCode::InvalidWait => "wait must be a whole number of seconds from 0 to 10",
            _ => "the request is not valid",
        }
    }
}
