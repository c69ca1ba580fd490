//! The rules' routes: each body as the API reads it, turned once into the core's command (a
//! damage type, an amount or a roll out of range is a 422 with its own code), and the answer:
//! the event and the character's state after it.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hitpoints::campaign::Campaign;
use hitpoints::domain::{hyphenated_uuid, whole_number, ExpectedVersion, RecordedEvent};
use hitpoints::rules::{
    Command, DamagePart, DamageType, Defences, HitDice, Outcome, Refusal, RestKind, RulesSetup,
    Ruleset, SpentDie, Until, DICE, MAX_AMOUNT,
};
use hitpoints::store::{CommandRequest, Commanded, Target, MAX_TRANSACTION_ACTIONS};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::access::Who;
use crate::error::ApiError;
use crate::extract::{CharacterId, JsonBody, OptionalJsonBody, Params};
use crate::metrics::Written;
use crate::wire::{NoParams, StateBody};
use crate::Api;
use hitpoints::access::Caller;

/// The most targets one hit has: one transaction's actions.
pub const MAX_TARGETS: usize = MAX_TRANSACTION_ACTIONS;

/// The fields every command's body takes, beside its own.
macro_rules! command_body {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Debug, Deserialize, ToSchema)]
        $(#[$meta])*
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// What happened, in the table's words; a description of the outcome when absent.
            /// Not blank, not exactly `SNAPSHOT`, at most 200,000 characters.
            #[serde(default)]
            #[schema(nullable, min_length = 1, max_length = 200_000)]
            pub note: Option<String>,
            /// The command's id: a retry with the same id and body is answered from the
            /// stored event (200) while the command is among the character's last 20.
            #[serde(default, deserialize_with = "hyphenated_uuid")]
            #[schema(nullable, format = Uuid, value_type = Option<String>)]
            pub event_id: Option<Uuid>,
            /// Absent or `null`: `"any"` (a lost race reads and decides again).
            #[serde(default)]
            #[schema(nullable)]
            pub expected_version: Option<ExpectedVersion>,
            /// `true`: 200 with the event and state that would be written; nothing written.
            #[serde(default)]
            #[schema(nullable)]
            pub dry_run: Option<bool>,
        }

        impl $name {
            fn request(&self, command: Command) -> CommandRequest {
                CommandRequest {
                    command,
                    note: self.note.clone(),
                    event_id: self.event_id,
                    expected: self.expected_version.unwrap_or_default(),
                    dry_run: self.dry_run.unwrap_or(false),
                    character_name: None,
                    campaign: hitpoints::domain::DEFAULT_CAMPAIGN,
                }
            }
        }
    };
}

/// One part of a hit.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartBody {
    #[serde(deserialize_with = "whole_number")]
    #[schema(value_type = u32, minimum = 0, maximum = 1_000_000, example = 14)]
    pub amount: i64,
    /// One of the 13 damage types (422 `unknown_damage_type` otherwise).
    #[serde(rename = "type")]
    #[schema(example = "fire")]
    pub damage_type: String,
}

/// Resistances, vulnerabilities and immunities: lists of damage types.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"resistances": ["fire"], "vulnerabilities": [], "immunities": ["poison"]}))]
pub struct DefencesBody {
    #[serde(default)]
    pub resistances: Vec<String>,
    #[serde(default)]
    pub vulnerabilities: Vec<String>,
    #[serde(default)]
    pub immunities: Vec<String>,
}

impl DefencesBody {
    fn parse(&self) -> Result<Defences, Refusal> {
        let set = |names: &[String]| {
            names
                .iter()
                .map(|n| damage_type(n))
                .collect::<Result<BTreeSet<_>, _>>()
        };
        Ok(Defences {
            resistances: set(&self.resistances)?,
            vulnerabilities: set(&self.vulnerabilities)?,
            immunities: set(&self.immunities)?,
        })
    }
}

fn damage_type(name: &str) -> Result<DamageType, Refusal> {
    DamageType::parse(name).ok_or_else(|| Refusal::UnknownDamageType(name.to_owned()))
}

/// `field` as an amount: 0 (or `least`) to 1,000,000.
fn amount(field: &str, value: i64, least: i64) -> Result<u32, Refusal> {
    u32::try_from(value)
        .ok()
        .filter(|v| i64::from(*v) >= least && *v <= MAX_AMOUNT)
        .ok_or_else(|| {
            Refusal::InvalidAmount(format!(
                "{field} must be a whole number from {least} to {MAX_AMOUNT}"
            ))
        })
}

/// The parts of a hit: `amount` and `type`, or `parts`, not both.
fn parts(
    amount_given: Option<i64>,
    type_given: Option<&str>,
    parts: Option<&[PartBody]>,
) -> Result<Vec<DamagePart>, Refusal> {
    let listed: Vec<(i64, &str)> = match (amount_given, type_given, parts) {
        (Some(a), Some(t), None) => vec![(a, t)],
        (None, None, Some(parts)) => parts
            .iter()
            .map(|p| (p.amount, p.damage_type.as_str()))
            .collect(),
        _ => {
            return Err(Refusal::InvalidAmount(
                "give amount and type, or parts: [{amount, type}], not both".into(),
            ))
        }
    };
    listed
        .into_iter()
        .map(|(a, t)| {
            Ok(DamagePart {
                amount: amount("amount", a, 0)?,
                damage_type: damage_type(t)?,
            })
        })
        .collect()
}

command_body! {
    /// `POST /characters/{id}/damage`: one hit, `amount` and `type` or several `parts`.
    #[schema(example = json!({"amount": 14, "type": "fire", "halved": false, "note": "Fire bolt from the cult fanatic"}))]
    DamageBody {
        #[serde(default, deserialize_with = "optional_whole_number")]
        #[schema(value_type = Option<u32>, minimum = 0, maximum = 1_000_000)]
        amount: Option<i64>,
        #[serde(rename = "type", default)]
        #[schema(nullable)]
        damage_type: Option<String>,
        #[serde(default)]
        #[schema(nullable, max_items = 13)]
        parts: Option<Vec<PartBody>>,
        /// A critical hit: two death-save failures at 0 HP. Never changes the amount.
        #[serde(default)]
        #[schema(nullable)]
        critical: Option<bool>,
        /// A successful save for half: halved (rounded down) before the defences.
        #[serde(default)]
        #[schema(nullable)]
        halved: Option<bool>,
        /// The defences for this hit only, instead of the character's.
        #[serde(default)]
        #[schema(nullable)]
        defences_override: Option<DefencesBody>,
    }
}

/// An optional whole number: absent or `null` is `None`.
fn optional_whole_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] i64);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|Whole(n)| n))
}

impl DamageBody {
    fn command(&self) -> Result<Command, Refusal> {
        Ok(Command::Damage {
            parts: parts(
                self.amount,
                self.damage_type.as_deref(),
                self.parts.as_deref(),
            )?,
            critical: self.critical.unwrap_or(false),
            halved: self.halved.unwrap_or(false),
            defences_override: self
                .defences_override
                .as_ref()
                .map(DefencesBody::parse)
                .transpose()?,
        })
    }
}

command_body! {
    /// `POST /characters/{id}/healing`.
    #[schema(example = json!({"amount": 7, "note": "Cure wounds"}))]
    HealingBody {
        #[serde(deserialize_with = "whole_number")]
        #[schema(value_type = u32, minimum = 0, maximum = 1_000_000)]
        amount: i64,
    }
}

command_body! {
    /// `POST /characters/{id}/temp-hp`.
    #[schema(example = json!({"amount": 8, "note": "False life"}))]
    TempHpBody {
        #[serde(deserialize_with = "whole_number")]
        #[schema(value_type = u32, minimum = 0, maximum = 1_000_000)]
        amount: i64,
        /// Replace the temporary HP instead of keeping the higher.
        #[serde(default)]
        #[schema(nullable)]
        replace: Option<bool>,
    }
}

command_body! {
    /// `POST /characters/{id}/max-hp`.
    #[schema(example = json!({"change": -6, "until": "long_rest", "note": "Wraith's life drain"}))]
    MaxHpBody {
        /// The change of the maximum, signed.
        #[serde(deserialize_with = "whole_number")]
        #[schema(value_type = i32, minimum = -1_000_000, maximum = 1_000_000)]
        change: i64,
        until: Until,
        /// Raise current HP by the same amount (the Aid spell).
        #[serde(default)]
        #[schema(nullable)]
        raise_current: Option<bool>,
    }
}

command_body! {
    /// `POST /characters/{id}/death-saves`: a d20, only while dying.
    #[schema(example = json!({"roll": 12, "bonus": 0}))]
    DeathSaveBody {
        #[serde(deserialize_with = "whole_number")]
        #[schema(value_type = u32, minimum = 1, maximum = 20)]
        roll: i64,
        #[serde(default, deserialize_with = "optional_whole_number")]
        #[schema(value_type = Option<i32>, minimum = -100, maximum = 100)]
        bonus: Option<i64>,
    }
}

command_body! {
    /// `POST /characters/{id}/stabilize` (the body may be empty).
    #[derive(Default)]
    #[schema(example = json!({"note": "Spare the dying"}))]
    StabilizeBody {}
}

command_body! {
    /// `POST /characters/{id}/revive`: a dead character back at `hp` (at most its maximum).
    #[schema(example = json!({"hp": 1, "note": "Revivify"}))]
    ReviveBody {
        #[serde(deserialize_with = "whole_number")]
        #[schema(value_type = u32, minimum = 1, maximum = 1_000_000)]
        hp: i64,
    }
}

/// A hit die spent on a short rest.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpentDieBody {
    /// The die's size: 4, 6, 8, 10, 12 or 20 (10 for a d10).
    #[serde(deserialize_with = "whole_number")]
    #[schema(value_type = u32, minimum = 4, maximum = 20, example = 10)]
    pub die: i64,
    /// What it rolled: 1 to `die`.
    #[serde(deserialize_with = "whole_number")]
    #[schema(value_type = u32, minimum = 1, maximum = 20, example = 7)]
    pub roll: i64,
}

command_body! {
    /// `POST /characters/{id}/rests`.
    #[schema(example = json!({"kind": "short", "hit_dice": [{"die": 10, "roll": 7}]}))]
    RestBody {
        kind: RestKind,
        /// Short rest only: the hit dice spent and their rolls.
        #[serde(default)]
        #[schema(nullable)]
        hit_dice: Option<Vec<SpentDieBody>>,
    }
}

impl RestBody {
    fn command(&self) -> Result<Command, Refusal> {
        let dice = self.hit_dice.as_deref().unwrap_or_default();
        let hit_dice = dice
            .iter()
            .map(|d| {
                let bad = || {
                    Refusal::InvalidRoll(format!(
                        "a d{} rolls 1 to {}, not {}",
                        d.die, d.die, d.roll
                    ))
                };
                // Checked here, before anything is read: a roll off its die is refused as such,
                // never answered as the replay of a stored command.
                let die = u32::try_from(d.die).ok().filter(|die| DICE.contains(die));
                let roll = u32::try_from(d.roll).ok();
                match (die, roll) {
                    (Some(die), Some(roll)) if (1..=die).contains(&roll) => {
                        Ok(SpentDie { die, roll })
                    }
                    _ => Err(bad()),
                }
            })
            .collect::<Result<_, Refusal>>()?;
        Ok(Command::Rest {
            rest: self.kind,
            hit_dice,
        })
    }
}

command_body! {
    /// `POST /characters/{id}/rules`: turns the rules on for a character created without them;
    /// its HP so far is clamped into 0..=max_hp.
    #[schema(example = json!({"max_hp": 27, "hit_dice": "3d10", "con_modifier": 2, "defences": {"resistances": ["fire"]}, "ruleset": "5e-2024"}))]
    RulesBody {
        #[serde(deserialize_with = "whole_number")]
        #[schema(value_type = u32, minimum = 1, maximum = 1_000_000)]
        max_hp: i64,
        /// Current HP (at most max_hp); absent: the maximum, or the HP so far, clamped.
        #[serde(default, deserialize_with = "optional_whole_number")]
        #[schema(value_type = Option<u32>, minimum = 0, maximum = 1_000_000)]
        hp: Option<i64>,
        /// e.g. `3d10+2d8` (422 `invalid_hit_dice` otherwise).
        #[serde(default)]
        #[schema(nullable, example = "3d10+2d8")]
        hit_dice: Option<String>,
        #[serde(default, deserialize_with = "optional_whole_number")]
        #[schema(value_type = Option<i32>, minimum = -30, maximum = 30)]
        con_modifier: Option<i64>,
        #[serde(default)]
        #[schema(nullable)]
        defences: Option<DefencesBody>,
        /// Absent: `5e-2024`.
        #[serde(default)]
        #[schema(nullable)]
        ruleset: Option<Ruleset>,
    }
}

fn setup(
    max_hp: i64,
    hp: Option<i64>,
    hit_dice: Option<&str>,
    con_modifier: Option<i64>,
    defences: Option<&DefencesBody>,
    ruleset: Option<Ruleset>,
) -> Result<RulesSetup, Refusal> {
    let con = con_modifier.unwrap_or(0);
    Ok(RulesSetup {
        max_hp: amount("max_hp", max_hp, 1)?,
        hp: hp.map(|hp| amount("hp", hp, 0)).transpose()?,
        hit_dice: HitDice::parse(hit_dice.unwrap_or_default())?,
        con_modifier: i32::try_from(con)
            .ok()
            .filter(|c| (-30..=30).contains(c))
            .ok_or_else(|| Refusal::InvalidAmount("con_modifier must be from -30 to 30".into()))?,
        defences: defences
            .map(DefencesBody::parse)
            .transpose()?
            .unwrap_or_default(),
        ruleset: ruleset.unwrap_or_default(),
    })
}

impl RulesBody {
    fn command(&self) -> Result<Command, Refusal> {
        let setup = setup(
            self.max_hp,
            self.hp,
            self.hit_dice.as_deref(),
            self.con_modifier,
            self.defences.as_ref(),
            self.ruleset,
        )?;
        Ok(Command::Rules(setup))
    }
}

/// `POST /characters` with `max_hp`: a new character under the rules.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"character_name": "Nuru", "max_hp": 27, "hit_dice": "3d10", "con_modifier": 2, "ruleset": "5e-2024", "event_id": "6d0e3b1a-7c2f-4e59-a8b4-1f2e3d4c5b6a"}))]
pub struct CreateRulesBody {
    /// At most 1,000 characters, not blank.
    #[schema(min_length = 1, max_length = 1000)]
    pub character_name: String,
    #[serde(deserialize_with = "whole_number")]
    #[schema(value_type = u32, minimum = 1, maximum = 1_000_000)]
    pub max_hp: i64,
    /// Absent: the maximum.
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 1_000_000)]
    pub hp: Option<i64>,
    #[serde(default)]
    #[schema(nullable, example = "3d10+2d8")]
    pub hit_dice: Option<String>,
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<i32>, minimum = -30, maximum = 30)]
    pub con_modifier: Option<i64>,
    #[serde(default)]
    #[schema(nullable)]
    pub defences: Option<DefencesBody>,
    /// Absent: `5e-2024`.
    #[serde(default)]
    #[schema(nullable)]
    pub ruleset: Option<Ruleset>,
    #[serde(default)]
    #[schema(nullable, min_length = 1, max_length = 200_000)]
    pub note: Option<String>,
    /// Makes the create idempotent: the character's id derives from it.
    #[serde(default, deserialize_with = "hyphenated_uuid")]
    #[schema(nullable, format = Uuid, value_type = Option<String>)]
    pub event_id: Option<Uuid>,
    #[serde(default)]
    #[schema(nullable)]
    pub dry_run: Option<bool>,
    /// The campaign the character starts in (its ruleset is the default `ruleset`); absent
    /// or `null`: the default campaign.
    #[serde(default, deserialize_with = "hyphenated_uuid")]
    #[schema(nullable, format = Uuid, value_type = Option<String>)]
    pub campaign_id: Option<Uuid>,
}

impl CreateRulesBody {
    /// The request, in `campaign` (whose ruleset applies unless the body names one).
    pub(crate) fn request(&self, campaign: &Campaign) -> Result<CommandRequest, Refusal> {
        let setup = setup(
            self.max_hp,
            self.hp,
            self.hit_dice.as_deref(),
            self.con_modifier,
            self.defences.as_ref(),
            Some(self.ruleset.unwrap_or(campaign.ruleset)),
        )?;
        Ok(CommandRequest {
            command: Command::Rules(setup),
            note: self.note.clone(),
            event_id: self.event_id,
            expected: ExpectedVersion::NoStream,
            dry_run: self.dry_run.unwrap_or(false),
            character_name: Some(self.character_name.clone()),
            campaign: campaign.id,
        })
    }
}

command_body! {
    /// `POST /characters/{id}/defences`: the character's defences from now on.
    #[schema(example = json!({"resistances": ["fire", "cold"], "immunities": ["poison"]}))]
    DefencesChangeBody {
        #[serde(default)]
        resistances: Vec<String>,
        #[serde(default)]
        vulnerabilities: Vec<String>,
        #[serde(default)]
        immunities: Vec<String>,
    }
}

command_body! {
    /// `POST /characters/{id}/hit-dice`: the character's hit dice from now on (a new die
    /// arrives unspent).
    #[schema(example = json!({"hit_dice": "4d10"}))]
    HitDiceBody {
        #[schema(example = "4d10")]
        hit_dice: String,
    }
}

/// `POST /characters/{id}/undo`: undoes the command `event_id`, which must be the character's
/// latest event and must not have killed it. The undo's own id derives from `event_id`, so a
/// retried undo is recognised.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event_id": "0f8b2c4e-5d6a-4b7c-8e9f-a0b1c2d3e4f5"}))]
pub struct UndoBody {
    /// The event to undo: its `event_id`.
    #[serde(deserialize_with = "required_uuid")]
    #[schema(format = Uuid, value_type = String)]
    pub event_id: Uuid,
    #[serde(default)]
    #[schema(nullable, min_length = 1, max_length = 200_000)]
    pub note: Option<String>,
    /// Absent or `null`: `"any"`.
    #[serde(default)]
    #[schema(nullable)]
    pub expected_version: Option<ExpectedVersion>,
    #[serde(default)]
    #[schema(nullable)]
    pub dry_run: Option<bool>,
}

fn required_uuid<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Uuid, D::Error> {
    hyphenated_uuid(deserializer)?
        .ok_or_else(|| serde::de::Error::custom("event_id must be a uuid"))
}

/// The namespace of an undo's own command id: derived from the event it undoes, so a retried
/// undo is recognised.
const UNDO_NAMESPACE: Uuid = Uuid::from_u128(0x6869_7470_6f69_6e74_7300_0000_0000_0003);

/// One target of a hit on many.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    #[serde(deserialize_with = "required_uuid")]
    #[schema(format = Uuid, value_type = String)]
    pub id: Uuid,
    /// This target saved for half.
    #[serde(default)]
    #[schema(nullable)]
    pub halved: Option<bool>,
    #[serde(default)]
    #[schema(nullable)]
    pub defences_override: Option<DefencesBody>,
    #[serde(default)]
    #[schema(nullable)]
    pub expected_version: Option<ExpectedVersion>,
}

/// `POST /damage`: one roll on many targets (a fireball), one event each, all in one
/// transaction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 28, "type": "fire", "targets": [
    {"id": "eb3cefea-4c14-53d1-92ec-d92459133c76", "halved": true},
    {"id": "0c9a8b7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"}], "note": "Fireball"}))]
pub struct ManyDamageBody {
    #[serde(default, deserialize_with = "optional_whole_number")]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 1_000_000)]
    pub amount: Option<i64>,
    #[serde(rename = "type", default)]
    #[schema(nullable)]
    pub damage_type: Option<String>,
    #[serde(default)]
    #[schema(nullable, max_items = 13)]
    pub parts: Option<Vec<PartBody>>,
    #[serde(default)]
    #[schema(nullable)]
    pub critical: Option<bool>,
    /// 1 to 100 targets (422 `too_many_targets` past 100).
    #[schema(min_items = 1, max_items = 100)]
    pub targets: Vec<TargetBody>,
    #[serde(default)]
    #[schema(nullable, min_length = 1, max_length = 200_000)]
    pub note: Option<String>,
    /// The hit's id: every target's event carries it as correlation_id, and a retry with the
    /// same id and body is answered from the stored events.
    #[serde(default, deserialize_with = "hyphenated_uuid")]
    #[schema(nullable, format = Uuid, value_type = Option<String>)]
    pub event_id: Option<Uuid>,
    #[serde(default)]
    #[schema(nullable)]
    pub dry_run: Option<bool>,
}

/// A command's answer: 201 written, 200 a replay or a dry run.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandAnswer {
    /// The character's id.
    pub id: Uuid,
    pub event: RecordedEvent,
    /// The character after the event.
    pub state: StateBody,
    /// On damage: the Constitution save to keep concentration.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub concentration_dc: Option<u32>,
}

/// A hit on many targets' answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManyAnswer {
    pub correlation_id: Uuid,
    pub targets: Vec<CommandAnswer>,
}

impl CommandAnswer {
    fn of(done: Commanded) -> CommandAnswer {
        let concentration_dc = match &done.event.outcome {
            Some(Outcome::Damaged {
                concentration_dc, ..
            }) => Some(*concentration_dc),
            _ => None,
        };
        CommandAnswer {
            id: done.stream,
            state: StateBody::of_sheet(&done.event.character_name, done.event.version, &done.sheet),
            event: done.event,
            concentration_dc,
        }
    }
}

/// 201 when written now; 200 for a replay or a dry run.
fn answered(done: Commanded, dry_run: bool) -> Response {
    let status = if done.replayed || dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let written = Written {
        events: usize::from(!dry_run),
        replayed: done.replayed,
    };
    let mut response = (status, Json(CommandAnswer::of(done))).into_response();
    if !dry_run {
        response.extensions_mut().insert(written);
    }
    response
}

async fn run(api: &Api, stream: Uuid, request: CommandRequest) -> Result<Response, ApiError> {
    let dry_run = request.dry_run;
    let done = api.store.command(stream, request).await?;
    Ok(answered(done, dry_run))
}

/// `POST /characters` with `max_hp`.
pub(crate) async fn create(
    api: &Api,
    caller: &Caller,
    body: CreateRulesBody,
) -> Result<Response, ApiError> {
    let stream = hitpoints::domain::character_id(body.event_id);
    let campaign = api.campaign_of_new(caller, body.campaign_id).await?;
    let request = body.request(&campaign)?;
    let dry_run = request.dry_run;
    let mut response = run(api, stream, request).await?;
    if dry_run {
        return Ok(response);
    }
    if let Ok(location) = axum::http::HeaderValue::from_str(&format!("/characters/{stream}")) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    Ok(response)
}

macro_rules! command_handler {
    ($handler:ident, $body:ty, |$b:ident| $command:expr) => {
        pub(crate) async fn $handler(
            State(api): State<Arc<Api>>,
            CharacterId(stream): CharacterId,
            Params(NoParams {}): Params<NoParams>,
            JsonBody(body): JsonBody<$body>,
        ) -> Result<Response, ApiError> {
            fn command($b: &$body) -> Result<Command, Refusal> {
                $command
            }
            let request = body.request(command(&body)?);
            run(&api, stream, request).await
        }
    };
}

command_handler!(damage, DamageBody, |b| b.command());
command_handler!(healing, HealingBody, |b| Ok(Command::Healing {
    amount: amount("amount", b.amount, 0)?
}));
command_handler!(temp_hp, TempHpBody, |b| Ok(Command::TempHp {
    amount: amount("amount", b.amount, 0)?,
    replace: b.replace.unwrap_or(false),
}));
command_handler!(max_hp, MaxHpBody, |b| {
    amount("change", b.change.saturating_abs(), 0)?;
    Ok(Command::MaxHp {
        change: b.change,
        until: b.until,
        raise_current: b.raise_current.unwrap_or(false),
    })
});
command_handler!(death_save, DeathSaveBody, |b| {
    let roll = u32::try_from(b.roll).ok().filter(|r| (1..=20).contains(r));
    let bonus = i32::try_from(b.bonus.unwrap_or(0))
        .ok()
        .filter(|b| (-100..=100).contains(b));
    match (roll, bonus) {
        (Some(roll), Some(bonus)) => Ok(Command::DeathSave { roll, bonus }),
        (None, _) => Err(Refusal::InvalidRoll(format!(
            "a death save's roll is a d20: 1 to 20, not {}",
            b.roll
        ))),
        (_, None) => Err(Refusal::InvalidRoll(
            "a death save's bonus is from -100 to 100".into(),
        )),
    }
});
command_handler!(revive, ReviveBody, |b| Ok(Command::Revive {
    hp: amount("hp", b.hp, 1)?
}));
command_handler!(rest, RestBody, |b| b.command());
command_handler!(rules, RulesBody, |b| b.command());
command_handler!(defences, DefencesChangeBody, |b| {
    let body = DefencesBody {
        resistances: b.resistances.clone(),
        vulnerabilities: b.vulnerabilities.clone(),
        immunities: b.immunities.clone(),
    };
    Ok(Command::Defences(body.parse()?))
});
command_handler!(hit_dice, HitDiceBody, |b| Ok(Command::HitDice {
    hit_dice: HitDice::parse(&b.hit_dice)?
}));

/// `POST /characters/{id}/stabilize`: the body may be empty.
pub(crate) async fn stabilize(
    State(api): State<Arc<Api>>,
    CharacterId(stream): CharacterId,
    Params(NoParams {}): Params<NoParams>,
    OptionalJsonBody(body): OptionalJsonBody<StabilizeBody>,
) -> Result<Response, ApiError> {
    let request = body.request(Command::Stabilize);
    run(&api, stream, request).await
}

/// `POST /characters/{id}/undo`.
pub(crate) async fn undo(
    State(api): State<Arc<Api>>,
    CharacterId(stream): CharacterId,
    Params(NoParams {}): Params<NoParams>,
    JsonBody(body): JsonBody<UndoBody>,
) -> Result<Response, ApiError> {
    let request = CommandRequest {
        command: Command::Undo {
            event_id: body.event_id,
        },
        note: body.note,
        event_id: Some(Uuid::new_v5(&UNDO_NAMESPACE, body.event_id.as_bytes())),
        expected: body.expected_version.unwrap_or_default(),
        dry_run: body.dry_run.unwrap_or(false),
        character_name: None,
        campaign: hitpoints::domain::DEFAULT_CAMPAIGN,
    };
    run(&api, stream, request).await
}

/// `POST /damage`: one roll, many targets.
pub(crate) async fn damage_many(
    State(api): State<Arc<Api>>,
    Who(caller): Who,
    Params(NoParams {}): Params<NoParams>,
    JsonBody(body): JsonBody<ManyDamageBody>,
) -> Result<Response, ApiError> {
    if body.targets.len() > MAX_TARGETS {
        return Err(Refusal::TooManyTargets(MAX_TARGETS).into());
    }
    if body.targets.is_empty() {
        return Err(Refusal::InvalidAmount("a hit needs at least one target".into()).into());
    }
    let parts = parts(
        body.amount,
        body.damage_type.as_deref(),
        body.parts.as_deref(),
    )?;
    let critical = body.critical.unwrap_or(false);
    let mut targets = Vec::with_capacity(body.targets.len());
    for target in &body.targets {
        if targets.iter().any(|t: &Target| t.stream == target.id) {
            return Err(Refusal::InvalidAmount(format!(
                "target {} is listed twice: a hit damages each target once",
                target.id
            ))
            .into());
        }
        targets.push(Target {
            stream: target.id,
            command: Command::Damage {
                parts: parts.clone(),
                critical,
                halved: target.halved.unwrap_or(false),
                defences_override: target
                    .defences_override
                    .as_ref()
                    .map(DefencesBody::parse)
                    .transpose()?,
            },
            expected: target.expected_version.unwrap_or_default(),
        });
    }
    let streams: Vec<Uuid> = targets.iter().map(|t| t.stream).collect();
    api.allow_on_targets(&caller, &streams).await?;
    let correlation_id = body.event_id.unwrap_or_else(Uuid::new_v4);
    let dry_run = body.dry_run.unwrap_or(false);
    let done = api
        .store
        .command_many(&targets, body.note.clone(), correlation_id, dry_run)
        .await?;
    let replayed = done.iter().all(|d| d.replayed);
    let status = if replayed || dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let written = Written {
        events: done.iter().filter(|d| !d.replayed).count(),
        replayed,
    };
    let answer = ManyAnswer {
        correlation_id,
        targets: done.into_iter().map(CommandAnswer::of).collect(),
    };
    let mut response = (status, Json(answer)).into_response();
    if !dry_run {
        response.extensions_mut().insert(written);
    }
    Ok(response)
}
