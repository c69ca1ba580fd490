//! A character under the rules (its sheet), the commands a table gives, the events they
//! become, and why a command is refused.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::damage::{is_false, DamagePart, Defences, PartTaken};
use super::dice::{HitDice, SpentDie};

/// Commands remembered per character, so that a retry whose answer was lost is recognised.
pub const RECENT_COMMANDS: usize = 20;
/// The largest amount, change or maximum a command takes (more is 422 `invalid_amount`).
pub const MAX_AMOUNT: u32 = 1_000_000;
/// The most parts one hit has.
pub const MAX_DAMAGE_PARTS: usize = 13;

/// Which SRD a character's rules follow.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum Ruleset {
    /// SRD 5.1 (the 2014 rules).
    #[serde(rename = "5e-2014")]
    Srd2014,
    /// SRD 5.2.1 (the 2024 rules).
    #[default]
    #[serde(rename = "5e-2024")]
    Srd2024,
}

/// Where a character stands.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Above 0 HP.
    #[default]
    Up,
    /// At 0 HP and dying: rolling death saves.
    Unconscious,
    /// At 0 HP, stable: no death saves.
    Stable,
    Dead,
}

/// Death saves so far; both counts reset when the character regains HP or becomes stable.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct DeathSaves {
    pub successes: u8,
    pub failures: u8,
}

impl DeathSaves {
    fn is_zero(&self) -> bool {
        *self == DeathSaves::default()
    }
}

/// A character under the rules: everything a decision needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    pub ruleset: Ruleset,
    /// The maximum set by the rules and changed `permanent`ly.
    pub base_max_hp: u32,
    /// The sum of the changes of the maximum that last until a long rest.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub max_hp_until_long_rest: i64,
    /// 5e-2024: `permanent` reductions of the maximum, which a long rest restores.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub max_hp_reduced: u32,
    pub hp: u32,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub temp_hp: u32,
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "DeathSaves::is_zero")]
    pub death_saves: DeathSaves,
    #[serde(default)]
    pub defences: Defences,
    #[serde(default)]
    pub hit_dice: HitDice,
    /// The hit dice not yet spent.
    #[serde(default)]
    pub hit_dice_left: HitDice,
    #[serde(default)]
    pub con_modifier: i32,
    /// The last commands' ids (their first 8 bytes), newest last: kept beside the sheet in
    /// storage, not in its JSON.
    #[serde(skip)]
    pub recent: Vec<u64>,
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}
fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

impl Sheet {
    /// The maximum as it stands: the base, with the changes until a long rest and less the
    /// reductions, never below 0.
    pub fn max_hp(&self) -> u32 {
        let max = i64::from(self.base_max_hp) + self.max_hp_until_long_rest
            - i64::from(self.max_hp_reduced);
        u32::try_from(max.clamp(0, i64::from(MAX_AMOUNT))).unwrap_or(0)
    }

    /// Whether a command with this id is among the last ones.
    pub fn remembers(&self, command: Uuid) -> bool {
        self.recent.contains(&recent_key(command))
    }

    /// The sheet with `command` remembered, the oldest forgotten past [`RECENT_COMMANDS`].
    pub fn remember(&mut self, command: Uuid) {
        self.recent.push(recent_key(command));
        let over = self.recent.len().saturating_sub(RECENT_COMMANDS);
        self.recent.drain(..over);
    }
}

/// The part of a command id a sheet remembers: its first 8 bytes (60 random bits of a v4
/// uuid), enough to tell 20 commands apart; a match is confirmed against the stored event.
pub fn recent_key(command: Uuid) -> u64 {
    let (high, _) = command.as_u64_pair();
    high
}

/// How long a change of the maximum lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Until {
    /// Until the next long rest (a wraith's Life Drain).
    LongRest,
    /// A change of the base maximum (a new level, a lasting curse).
    Permanent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestKind {
    Short,
    Long,
}

/// What turns the rules on for a character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RulesSetup {
    pub max_hp: u32,
    /// Current HP; the maximum when absent. On a character that had none, its HP so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hp: Option<u32>,
    #[serde(default)]
    #[schema(value_type = String, example = "3d10+2d8")]
    pub hit_dice: HitDice,
    #[serde(default)]
    pub con_modifier: i32,
    #[serde(default)]
    pub defences: Defences,
    #[serde(default)]
    pub ruleset: Ruleset,
}

/// What a table asks of a character, valid by construction (the edge checks the ranges).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    /// Turns the rules on: a new character, or one whose events had none.
    Rules(RulesSetup),
    Damage {
        parts: Vec<DamagePart>,
        #[serde(default, skip_serializing_if = "is_false")]
        critical: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        halved: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        defences_override: Option<Defences>,
    },
    Healing {
        amount: u32,
    },
    TempHp {
        amount: u32,
        #[serde(default, skip_serializing_if = "is_false")]
        replace: bool,
    },
    MaxHp {
        change: i64,
        until: Until,
        #[serde(default, skip_serializing_if = "is_false")]
        raise_current: bool,
    },
    DeathSave {
        roll: u32,
        #[serde(default)]
        bonus: i32,
    },
    Stabilize,
    Revive {
        hp: u32,
    },
    Rest {
        rest: RestKind,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        hit_dice: Vec<SpentDie>,
    },
    /// A plain change (`hp_change`), clamped to 0..=max on a character with rules.
    Adjust {
        hp_change: i64,
    },
    Defences(Defences),
    HitDice {
        hit_dice: HitDice,
    },
    Undo {
        event_id: Uuid,
    },
}

/// A die spent on a short rest and what it gave back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DieRegained {
    pub die: u32,
    pub roll: u32,
    /// roll + Constitution modifier, at least 0 (5e-2014) or 1 (5e-2024).
    pub regained: u32,
}

/// What a command did: the numbers it computed, so a replay never depends on today's rules.
/// Its `type` is the event's stable `EventType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    /// The rules were turned on, as `rules` says (its `hp` where HP now stands); on a
    /// character that had events without rules, `hp_before` is what they summed to.
    RulesEnabled {
        rules: RulesSetup,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hp_before: Option<i64>,
    },
    Damaged {
        parts: Vec<PartTaken>,
        #[serde(default, skip_serializing_if = "is_false")]
        critical: bool,
        /// The damage taken, after the save and the defences.
        taken: u32,
        #[serde(default, skip_serializing_if = "is_zero_u32")]
        temp_hp_absorbed: u32,
        hp_lost: u32,
        #[serde(default, skip_serializing_if = "is_false")]
        fell_unconscious: bool,
        /// Taken at 0 HP: one failure, two on a critical hit.
        #[serde(default, skip_serializing_if = "is_zero_u8")]
        death_save_failures: u8,
        /// Damage taken while stable: dying again.
        #[serde(default, skip_serializing_if = "is_false")]
        stability_lost: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        died: bool,
        /// Died of damage at least the maximum (massive damage).
        #[serde(default, skip_serializing_if = "is_false")]
        massive_damage: bool,
        /// The Constitution save to keep concentration: max(10, taken / 2), 30 at most under
        /// 5e-2024.
        concentration_dc: u32,
    },
    Healed {
        amount: u32,
        /// HP regained: the amount up to the maximum.
        regained: u32,
        #[serde(default, skip_serializing_if = "is_false")]
        regained_consciousness: bool,
    },
    TempHpGained {
        amount: u32,
        /// Temporary HP before and after: the higher of the two unless `replace`d.
        temp_hp_before: u32,
        temp_hp: u32,
    },
    MaxHpChanged {
        change: i64,
        until: Until,
        /// The maximum after.
        max_hp: u32,
        /// HP lost to the lower maximum, or gained with `raise_current`.
        #[serde(default, skip_serializing_if = "is_zero_i64")]
        hp_change: i64,
        #[serde(default, skip_serializing_if = "is_false")]
        died: bool,
    },
    DeathSaveRolled {
        roll: u32,
        #[serde(default, skip_serializing_if = "is_zero_i32")]
        bonus: i32,
        #[serde(default, skip_serializing_if = "is_zero_u8")]
        successes: u8,
        #[serde(default, skip_serializing_if = "is_zero_u8")]
        failures: u8,
        /// A natural 20: 1 HP regained.
        #[serde(default, skip_serializing_if = "is_false")]
        regained_hp: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        stabilized: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        died: bool,
    },
    Stabilized,
    Revived {
        hp: u32,
        /// The changes of the maximum that last until a long rest had drained it to 0: they
        /// end.
        #[serde(default, skip_serializing_if = "is_false")]
        max_hp_restored: bool,
    },
    ShortRested {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dice: Vec<DieRegained>,
        regained: u32,
        #[serde(default, skip_serializing_if = "is_false")]
        regained_consciousness: bool,
    },
    LongRested {
        regained: u32,
        #[serde(default, skip_serializing_if = "is_zero_u32")]
        temp_hp_lost: u32,
        #[serde(default, skip_serializing_if = "is_zero_u32")]
        hit_dice_regained: u32,
        /// The maximum after the changes that last until a long rest ended.
        max_hp: u32,
    },
    /// A plain change: as asked and as applied (clamped to 0..=max with rules).
    Adjusted {
        requested: i64,
        applied: i64,
        #[serde(default, skip_serializing_if = "is_false")]
        fell_unconscious: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        regained_consciousness: bool,
    },
    DefencesChanged {
        defences: Defences,
    },
    HitDiceChanged {
        #[schema(value_type = String)]
        hit_dice: HitDice,
    },
    /// The command `event_id` (at `version`) undone: the sheet as it was before it.
    Undone {
        event_id: Uuid,
        #[schema(value_type = u64)]
        version: u64,
        #[schema(value_type = Object)]
        restored: Box<Sheet>,
    },
}

fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}
fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}

impl Outcome {
    /// The event's stable type name, stored as `EventType`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Outcome::RulesEnabled { .. } => "rules_enabled",
            Outcome::Damaged { .. } => "damaged",
            Outcome::Healed { .. } => "healed",
            Outcome::TempHpGained { .. } => "temp_hp_gained",
            Outcome::MaxHpChanged { .. } => "max_hp_changed",
            Outcome::DeathSaveRolled { .. } => "death_save_rolled",
            Outcome::Stabilized => "stabilized",
            Outcome::Revived { .. } => "revived",
            Outcome::ShortRested { .. } => "short_rested",
            Outcome::LongRested { .. } => "long_rested",
            Outcome::Adjusted { .. } => "adjusted",
            Outcome::DefencesChanged { .. } => "defences_changed",
            Outcome::HitDiceChanged { .. } => "hit_dice_changed",
            Outcome::Undone { .. } => "undone",
        }
    }

    /// Whether the event killed the character (a long rest that ends the last of its
    /// maximum does too).
    pub fn killed(&self) -> bool {
        matches!(
            self,
            Outcome::Damaged { died: true, .. }
                | Outcome::MaxHpChanged { died: true, .. }
                | Outcome::DeathSaveRolled { died: true, .. }
                | Outcome::LongRested { max_hp: 0, .. }
        )
    }
}

/// Why the rules refuse a command. Each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the character is dead: only revive changes a dead character")]
    CharacterDead,
    #[error("the character is not dying: death saves and stabilize are for a character unconscious at 0 HP")]
    NotDying,
    #[error("the character is not dead: revive is for a dead character")]
    NotDead,
    #[error("a character needs at least 1 HP to benefit from this rest")]
    RestNeedsHp,
    #[error("no d{0} hit die is left to spend")]
    NoHitDice(u32),
    #[error("{0}")]
    InvalidRoll(String),
    #[error("{0}")]
    InvalidAmount(String),
    #[error("this character has no rules: POST /characters/{{id}}/rules turns them on")]
    RulesNotEnabled,
    #[error("this character's rules are on already")]
    RulesEnabledAlready,
    #[error(
        "a dead character with a maximum of 0 HP cannot be revived until its maximum is raised"
    )]
    NoMaximum,
    #[error("only the character's latest event can be undone")]
    UndoNotLatest,
    #[error("an event that killed the character cannot be undone: revive it")]
    UndoDeath,
    #[error("the event that turned the rules on cannot be undone")]
    UndoRules,
    #[error("a move between campaigns is not undone: move the character back")]
    UndoMove,
    #[error("{0:?} is not a damage type: acid, bludgeoning, cold, fire, force, lightning, necrotic, piercing, poison, psychic, radiant, slashing or thunder")]
    UnknownDamageType(String),
    #[error("a hit has at most {0} targets")]
    TooManyTargets(usize),
    #[error(transparent)]
    InvalidHitDice(#[from] super::dice::BadHitDice),
}

impl Refusal {
    /// The refusal's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::CharacterDead => "character_dead",
            Refusal::NotDying => "not_dying",
            Refusal::NotDead => "not_dead",
            Refusal::RestNeedsHp => "rest_needs_hp",
            Refusal::NoHitDice(_) => "no_hit_dice",
            Refusal::InvalidRoll(_) => "invalid_roll",
            Refusal::InvalidAmount(_) => "invalid_amount",
            Refusal::RulesNotEnabled => "rules_not_enabled",
            Refusal::RulesEnabledAlready => "rules_enabled_already",
            Refusal::NoMaximum => "no_maximum",
            Refusal::UndoNotLatest => "undo_not_latest",
            Refusal::UndoDeath => "undo_death",
            Refusal::UndoRules => "undo_rules",
            Refusal::UndoMove => "undo_move",
            Refusal::UnknownDamageType(_) => "unknown_damage_type",
            Refusal::TooManyTargets(_) => "too_many_targets",
            Refusal::InvalidHitDice(_) => "invalid_hit_dice",
        }
    }

    /// A conflict with the stream's history (409) rather than a refusal by the rules (422).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Refusal::UndoNotLatest | Refusal::UndoDeath)
    }
}
