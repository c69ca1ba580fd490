//! The rules of hit points, after the System Reference Document (SRD 5.1 for `5e-2014`,
//! SRD 5.2.1 for `5e-2024`, both CC-BY-4.0): a character sheet, the commands a table gives, the
//! events they become, and the decider, `decide(command, sheet) -> event` and
//! `evolve(sheet, event) -> sheet`, pure and free of I/O.
//!
//! An event records the numbers the decision computed (damage taken per part, temporary HP
//! absorbed, HP lost), so a replay never depends on today's defences or on this code.

mod damage;
mod decide;
mod dice;
mod note;
mod sheet;
#[cfg(test)]
mod tests;

pub use damage::{DamagePart, DamageType, Defences, PartTaken};
pub use decide::{decide, enable, evolve, undo, Decided, UndoTarget};
pub use dice::{BadHitDice, HitDice, SpentDie, DICE, MAX_DICE};
pub use note::describe;
pub use sheet::{
    recent_key, Command, DeathSaves, DieRegained, Outcome, Refusal, RestKind, RulesSetup, Ruleset,
    Sheet, Status, Until, MAX_AMOUNT, MAX_DAMAGE_PARTS, RECENT_COMMANDS,
};

/// A plain change folded into a sheet, as the rules clamp it: an item written without a type
/// on a character with rules (by the source material's code, or by an earlier hitpoints).
/// A dead character stays dead.
pub fn fold_plain(sheet: &Sheet, hp_change: i64) -> Sheet {
    let bound = i64::from(MAX_AMOUNT);
    let command = Command::Adjust {
        hp_change: hp_change.clamp(-bound, bound),
    };
    decide(&command, sheet).map_or_else(|_| sheet.clone(), |decided| decided.sheet)
}
