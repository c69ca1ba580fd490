//! The note an event gets when its command brings none: what happened, in words, so that
//! every reader of the table (the source material's code too) sees a non-empty `Note`.

use super::sheet::{Outcome, RestKind};

/// A short description of `outcome`, e.g. `7 damage taken (14 fire, resisted)`.
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::RulesEnabled { rules, .. } => {
            format!("rules on: max HP {}", rules.max_hp)
        }
        Outcome::Damaged {
            parts, taken, died, ..
        } => {
            let parts: Vec<String> = parts
                .iter()
                .map(|p| {
                    let mut text = format!("{} {}", p.amount, p.damage_type.name());
                    for (flag, word) in [
                        (p.halved, "halved"),
                        (p.immune, "immune"),
                        (p.resisted, "resisted"),
                        (p.vulnerable, "vulnerable"),
                    ] {
                        if flag {
                            text.push_str(", ");
                            text.push_str(word);
                        }
                    }
                    text
                })
                .collect();
            let death = if *died { "; died" } else { "" };
            format!("{taken} damage taken ({}){death}", parts.join("; "))
        }
        Outcome::Healed {
            amount, regained, ..
        } => format!("healed {amount} (regained {regained})"),
        Outcome::TempHpGained {
            amount, temp_hp, ..
        } => {
            format!("{amount} temporary HP (now {temp_hp})")
        }
        Outcome::MaxHpChanged { change, max_hp, .. } => {
            format!("max HP changed by {change} (now {max_hp})")
        }
        Outcome::DeathSaveRolled { roll, .. } => format!("death save: rolled {roll}"),
        Outcome::Stabilized => "stabilized".to_owned(),
        Outcome::Revived { hp, .. } => format!("revived with {hp} HP"),
        Outcome::ShortRested { regained, .. } => {
            format!("{} rest: regained {regained}", rest(RestKind::Short))
        }
        Outcome::LongRested { regained, .. } => {
            format!("{} rest: regained {regained}", rest(RestKind::Long))
        }
        Outcome::Adjusted { applied, .. } => format!("HP changed by {applied}"),
        Outcome::DefencesChanged { .. } => "defences changed".to_owned(),
        Outcome::HitDiceChanged { hit_dice } => format!("hit dice now {hit_dice}"),
        Outcome::Undone { version, .. } => format!("undid version {version}"),
    }
}

fn rest(kind: RestKind) -> &'static str {
    match kind {
        RestKind::Short => "short",
        RestKind::Long => "long",
    }
}
