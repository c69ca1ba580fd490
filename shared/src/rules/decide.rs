//! The decider: `decide(command, sheet) -> event` applies the SRD's rules and records what they
//! computed; `evolve(sheet, event) -> sheet` applies an event's numbers, and nothing else.
//! The rules cited are SRD 5.1 "Damage and Healing" and "Resting" (5e-2014) and SRD 5.2.1
//! "Damage and Healing", "Resting" and the Rules Glossary (5e-2024).

use uuid::Uuid;

use super::damage::PartTaken;
use super::sheet::{
    Command, DeathSaves, DieRegained, Outcome, Refusal, RestKind, RulesSetup, Ruleset, Sheet,
    Status, Until, MAX_AMOUNT, MAX_DAMAGE_PARTS,
};

/// A command decided: the event, and the sheet after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub outcome: Outcome,
    pub sheet: Sheet,
}

/// What an undo needs to know of the event it undoes.
#[derive(Debug, Clone, Copy)]
pub struct UndoTarget<'a> {
    pub event_id: Uuid,
    pub version: u64,
    pub outcome: Option<&'a Outcome>,
    /// The sheet before that event; `None` when the rules were not on.
    pub before: Option<&'a Sheet>,
}

/// Turns the rules on: a new character (`hp_so_far` `None`), or one whose events summed to
/// `hp_so_far` without rules, clamped into 0..=max.
pub fn enable(setup: &RulesSetup, hp_so_far: Option<i64>) -> Result<Decided, Refusal> {
    amount("max_hp", i64::from(setup.max_hp), 1)?;
    let hp = match (setup.hp, hp_so_far) {
        (Some(hp), _) if hp > setup.max_hp => {
            return Err(Refusal::InvalidAmount(format!(
                "hp {hp} is over max_hp {}",
                setup.max_hp
            )))
        }
        (Some(hp), _) => hp,
        (None, Some(sum)) => clamp(sum, setup.max_hp),
        (None, None) => setup.max_hp,
    };
    if !(-30..=30).contains(&setup.con_modifier) {
        return Err(Refusal::InvalidAmount(
            "con_modifier must be from -30 to 30".into(),
        ));
    }
    let outcome = Outcome::RulesEnabled {
        rules: RulesSetup {
            hp: Some(hp),
            ..setup.clone()
        },
        hp_before: hp_so_far,
    };
    Ok(Decided {
        sheet: evolve(&Sheet::default(), &outcome),
        outcome,
    })
}

/// Decides `command` on a character under the rules.
pub fn decide(command: &Command, sheet: &Sheet) -> Result<Decided, Refusal> {
    let dead = sheet.status == Status::Dead;
    // SRD 5.1 "Death Saving Throws" / 5.2.1 "Dead": a dead creature can't regain HP until
    // revived; here nothing but `revive` changes it.
    if dead && !matches!(command, Command::Revive { .. }) {
        return Err(match command {
            Command::Rules(_) => Refusal::RulesEnabledAlready,
            _ => Refusal::CharacterDead,
        });
    }
    let outcome = match command {
        Command::Rules(_) => return Err(Refusal::RulesEnabledAlready),
        Command::Damage {
            parts,
            critical,
            halved,
            defences_override,
        } => damage(sheet, parts, *critical, *halved, defences_override.as_ref())?,
        Command::Healing { amount: heal } => {
            amount("amount", i64::from(*heal), 0)?;
            let regained = (*heal).min(sheet.max_hp().saturating_sub(sheet.hp));
            Outcome::Healed {
                amount: *heal,
                regained,
                regained_consciousness: sheet.hp == 0 && regained > 0,
            }
        }
        Command::TempHp {
            amount: gain,
            replace,
        } => {
            amount("amount", i64::from(*gain), 0)?;
            // SRD 5.1 "Temporary Hit Points": they don't stack; keep the higher unless the
            // new ones replace them.
            let temp_hp = if *replace {
                *gain
            } else {
                (*gain).max(sheet.temp_hp)
            };
            Outcome::TempHpGained {
                amount: *gain,
                temp_hp_before: sheet.temp_hp,
                temp_hp,
            }
        }
        Command::MaxHp {
            change,
            until,
            raise_current,
        } => max_hp(sheet, *change, *until, *raise_current)?,
        Command::DeathSave { roll, bonus } => death_save(sheet, *roll, *bonus)?,
        Command::Stabilize => {
            if sheet.status != Status::Unconscious {
                return Err(Refusal::NotDying);
            }
            Outcome::Stabilized
        }
        Command::Revive { hp } => {
            if !dead {
                return Err(Refusal::NotDead);
            }
            amount("hp", i64::from(*hp), 1)?;
            // A maximum drained to 0 by effects that last until a long rest comes back with
            // the character; one lowered to 0 for good does not.
            let restore = sheet.max_hp() == 0 && sheet.max_hp_until_long_rest != 0;
            let mut after = sheet.clone();
            if restore {
                after.max_hp_until_long_rest = 0;
            }
            let max = after.max_hp();
            if max == 0 {
                return Err(Refusal::NoMaximum);
            }
            Outcome::Revived {
                hp: (*hp).min(max),
                max_hp_restored: restore,
            }
        }
        Command::Rest {
            rest: RestKind::Short,
            hit_dice,
        } => short_rest(sheet, hit_dice)?,
        Command::Rest {
            rest: RestKind::Long,
            hit_dice,
        } => {
            if !hit_dice.is_empty() {
                return Err(Refusal::InvalidRoll(
                    "hit dice are spent on a short rest; a long rest regains them".into(),
                ));
            }
            long_rest(sheet)?
        }
        Command::Adjust { hp_change } => {
            amount("hp_change", hp_change.saturating_abs(), 0)?;
            let hp = clamp(i64::from(sheet.hp) + hp_change, sheet.max_hp());
            Outcome::Adjusted {
                requested: *hp_change,
                applied: i64::from(hp) - i64::from(sheet.hp),
                fell_unconscious: sheet.hp > 0 && hp == 0,
                regained_consciousness: sheet.hp == 0 && hp > 0,
            }
        }
        Command::Defences(defences) => Outcome::DefencesChanged {
            defences: defences.clone(),
        },
        Command::HitDice { hit_dice } => Outcome::HitDiceChanged {
            hit_dice: hit_dice.clone(),
        },
        Command::Undo { .. } => return Err(Refusal::UndoNotLatest),
    };
    Ok(Decided {
        sheet: evolve(sheet, &outcome),
        outcome,
    })
}

/// Undoes the character's latest event, `target`: back to the sheet before it.
pub fn undo(sheet: &Sheet, target: UndoTarget<'_>) -> Result<Decided, Refusal> {
    // A long rest that ended the last of the maximum killed too (see `evolve`).
    let killed = |o: &Outcome| o.killed() || matches!(o, Outcome::LongRested { max_hp: 0, .. });
    if target.outcome.is_some_and(killed) {
        return Err(Refusal::UndoDeath);
    }
    let before = match (target.outcome, target.before) {
        (Some(Outcome::RulesEnabled { .. }), _) | (_, None) => return Err(Refusal::UndoRules),
        (_, Some(before)) => before,
    };
    let outcome = Outcome::Undone {
        event_id: target.event_id,
        version: target.version,
        restored: Box::new(Sheet {
            recent: Vec::new(),
            ..before.clone()
        }),
    };
    Ok(Decided {
        sheet: evolve(sheet, &outcome),
        outcome,
    })
}

/// SRD 5.1 "Damage and Healing"; 5.2.1 "Damage and Healing", "Temporary Hit Points",
/// "Dropping to 0 Hit Points", "Instant Death", "Damage at 0 Hit Points", "Concentration".
fn damage(
    sheet: &Sheet,
    parts: &[super::DamagePart],
    critical: bool,
    halved: bool,
    defences_override: Option<&super::Defences>,
) -> Result<Outcome, Refusal> {
    if parts.is_empty() || parts.len() > MAX_DAMAGE_PARTS {
        return Err(Refusal::InvalidAmount(format!(
            "a hit has 1 to {MAX_DAMAGE_PARTS} parts"
        )));
    }
    for part in parts {
        amount("amount", i64::from(part.amount), 0)?;
    }
    let defences = defences_override.unwrap_or(&sheet.defences);
    let parts: Vec<PartTaken> = parts.iter().map(|p| defences.apply(*p, halved)).collect();
    let taken: u32 = parts.iter().map(|p| p.taken).fold(0, u32::saturating_add);
    // Temporary HP absorb the damage first; what they absorb is still damage taken.
    let temp_hp_absorbed = taken.min(sheet.temp_hp);
    let to_hp = taken - temp_hp_absorbed;
    let max = sheet.max_hp();
    let mut outcome = DamageOutcome::default();
    if sheet.hp > 0 {
        outcome.hp_lost = to_hp.min(sheet.hp);
        if to_hp >= sheet.hp {
            // Massive damage: the damage left over after 0 HP, against the maximum.
            if to_hp - sheet.hp >= max {
                outcome.died = true;
                outcome.massive = true;
            } else {
                outcome.fell_unconscious = true;
            }
        }
    } else if taken > 0 {
        // At 0 HP: damage of at least the maximum kills (what is left of it after temporary
        // HP, as for massive damage above); any damage taken, absorbed or not, is a failed
        // death save (two on a critical hit), and ends stability.
        if to_hp >= max {
            outcome.died = true;
            outcome.massive = true;
        } else {
            outcome.failures = if critical { 2 } else { 1 };
            outcome.stability_lost = sheet.status == Status::Stable;
            let failures_before = if outcome.stability_lost {
                0
            } else {
                sheet.death_saves.failures
            };
            outcome.died = failures_before + outcome.failures >= 3;
        }
    }
    let mut dc = (taken / 2).max(10);
    if sheet.ruleset == Ruleset::Srd2024 {
        dc = dc.min(30);
    }
    Ok(Outcome::Damaged {
        parts,
        critical,
        taken,
        temp_hp_absorbed,
        hp_lost: outcome.hp_lost,
        fell_unconscious: outcome.fell_unconscious,
        death_save_failures: outcome.failures,
        stability_lost: outcome.stability_lost,
        died: outcome.died,
        massive_damage: outcome.massive,
        concentration_dc: dc,
    })
}

#[derive(Default)]
struct DamageOutcome {
    hp_lost: u32,
    fell_unconscious: bool,
    failures: u8,
    stability_lost: bool,
    died: bool,
    massive: bool,
}

/// SRD 5.1 "Hit Point Maximum" effects (e.g. Life Drain "until the target finishes a long
/// rest"); a maximum of 0 kills. SRD 5.2.1 "Hit Point Maximum": current HP above a lowered
/// maximum falls to it.
fn max_hp(
    sheet: &Sheet,
    change: i64,
    until: Until,
    raise_current: bool,
) -> Result<Outcome, Refusal> {
    amount("change", change.saturating_abs(), 0)?;
    let mut after = sheet.clone();
    change_max(&mut after, change, until);
    let max = after.max_hp();
    let raised = if raise_current && change > 0 {
        i64::from(sheet.hp) + change
    } else {
        i64::from(sheet.hp)
    };
    let hp = clamp(raised, max);
    Ok(Outcome::MaxHpChanged {
        change,
        until,
        max_hp: max,
        hp_change: i64::from(hp) - i64::from(sheet.hp),
        died: max == 0,
    })
}

fn change_max(sheet: &mut Sheet, change: i64, until: Until) {
    match until {
        Until::LongRest => sheet.max_hp_until_long_rest += change,
        Until::Permanent if change >= 0 => {
            sheet.base_max_hp = sheet.base_max_hp.saturating_add(as_u32(change));
        }
        // 5e-2024 "Long Rest": a long rest restores every reduction of the maximum.
        Until::Permanent if sheet.ruleset == Ruleset::Srd2024 => {
            sheet.max_hp_reduced = sheet.max_hp_reduced.saturating_add(as_u32(-change));
        }
        Until::Permanent => sheet.base_max_hp = sheet.base_max_hp.saturating_sub(as_u32(-change)),
    }
}

/// SRD 5.1 / 5.2.1 "Death Saving Throws".
fn death_save(sheet: &Sheet, roll: u32, bonus: i32) -> Result<Outcome, Refusal> {
    if sheet.status != Status::Unconscious {
        return Err(Refusal::NotDying);
    }
    if !(1..=20).contains(&roll) {
        return Err(Refusal::InvalidRoll(format!(
            "a death save's roll is a d20: 1 to 20, not {roll}"
        )));
    }
    if !(-100..=100).contains(&bonus) {
        return Err(Refusal::InvalidRoll(
            "a death save's bonus is from -100 to 100".into(),
        ));
    }
    let (mut successes, mut failures, mut regained_hp) = (0, 0, false);
    match roll {
        20 => regained_hp = true,
        1 => failures = 2,
        _ if i64::from(roll) + i64::from(bonus) >= 10 => successes = 1,
        _ => failures = 1,
    }
    let saves = sheet.death_saves;
    Ok(Outcome::DeathSaveRolled {
        roll,
        bonus,
        successes,
        failures,
        regained_hp,
        stabilized: !regained_hp && saves.successes + successes >= 3,
        died: saves.failures + failures >= 3,
    })
}

/// SRD 5.1 "Short Rest": each die spent regains roll + Constitution modifier (minimum 0);
/// SRD 5.2.1 "Short Rest": minimum 1, and the character needs at least 1 HP.
fn short_rest(sheet: &Sheet, dice: &[super::SpentDie]) -> Result<Outcome, Refusal> {
    if sheet.ruleset == Ruleset::Srd2024 && sheet.hp == 0 {
        return Err(Refusal::RestNeedsHp);
    }
    let floor = match sheet.ruleset {
        Ruleset::Srd2014 => 0,
        Ruleset::Srd2024 => 1,
    };
    let mut left = sheet.hit_dice_left.clone();
    let mut regained_dice = Vec::with_capacity(dice.len());
    for spent in dice {
        if spent.roll == 0 || spent.roll > spent.die {
            return Err(Refusal::InvalidRoll(format!(
                "a d{} rolls 1 to {}, not {}",
                spent.die, spent.die, spent.roll
            )));
        }
        left = left
            .without_one(spent.die)
            .ok_or(Refusal::NoHitDice(spent.die))?;
        let regained = (i64::from(spent.roll) + i64::from(sheet.con_modifier)).max(floor);
        regained_dice.push(DieRegained {
            die: spent.die,
            roll: spent.roll,
            regained: as_u32(regained),
        });
    }
    let total = regained_dice
        .iter()
        .map(|d| d.regained)
        .fold(0, u32::saturating_add);
    let regained = total.min(sheet.max_hp().saturating_sub(sheet.hp));
    Ok(Outcome::ShortRested {
        dice: regained_dice,
        regained,
        regained_consciousness: sheet.hp == 0 && regained > 0,
    })
}

/// SRD 5.1 "Long Rest": at least 1 HP; all HP back, half the hit dice (at least one);
/// SRD 5.2.1 "Long Rest": all the hit dice, and a reduced maximum restored.
fn long_rest(sheet: &Sheet) -> Result<Outcome, Refusal> {
    if sheet.hp == 0 {
        return Err(Refusal::RestNeedsHp);
    }
    let mut after = sheet.clone();
    end_until_long_rest(&mut after);
    let max = after.max_hp();
    let regain = regained_dice(sheet);
    let left = sheet.hit_dice_left.regain(&sheet.hit_dice, regain);
    Ok(Outcome::LongRested {
        regained: max.saturating_sub(sheet.hp),
        temp_hp_lost: sheet.temp_hp,
        hit_dice_regained: left.total() - sheet.hit_dice_left.total(),
        max_hp: max,
    })
}

fn regained_dice(sheet: &Sheet) -> u32 {
    let total = sheet.hit_dice.total();
    match sheet.ruleset {
        Ruleset::Srd2014 if total == 0 => 0,
        Ruleset::Srd2014 => (total / 2).max(1),
        Ruleset::Srd2024 => total,
    }
}

fn end_until_long_rest(sheet: &mut Sheet) {
    sheet.max_hp_until_long_rest = 0;
    if sheet.ruleset == Ruleset::Srd2024 {
        sheet.max_hp_reduced = 0;
    }
}

/// The sheet after `outcome`: the event's recorded numbers applied, no rule re-decided.
pub fn evolve(sheet: &Sheet, outcome: &Outcome) -> Sheet {
    let mut s = sheet.clone();
    let hp_before = s.hp;
    match outcome {
        Outcome::RulesEnabled { rules, .. } => {
            s = Sheet {
                ruleset: rules.ruleset,
                base_max_hp: rules.max_hp,
                hp: rules.hp.unwrap_or(rules.max_hp),
                defences: rules.defences.clone(),
                hit_dice: rules.hit_dice.clone(),
                hit_dice_left: rules.hit_dice.clone(),
                con_modifier: rules.con_modifier,
                recent: std::mem::take(&mut s.recent),
                ..Sheet::default()
            };
            s.status = if s.hp == 0 {
                Status::Unconscious
            } else {
                Status::Up
            };
            return s;
        }
        Outcome::Damaged {
            temp_hp_absorbed,
            hp_lost,
            death_save_failures,
            stability_lost,
            died,
            ..
        } => {
            s.temp_hp = s.temp_hp.saturating_sub(*temp_hp_absorbed);
            s.hp = s.hp.saturating_sub(*hp_lost);
            if *stability_lost {
                s.death_saves = DeathSaves::default();
            }
            s.death_saves.failures = s.death_saves.failures.saturating_add(*death_save_failures);
            if *died {
                s.status = Status::Dead;
                s.hp = 0;
            } else if s.hp == 0 {
                s.status = Status::Unconscious;
            }
            return s;
        }
        Outcome::Healed { regained, .. } => s.hp += regained,
        Outcome::TempHpGained { temp_hp, .. } => s.temp_hp = *temp_hp,
        Outcome::MaxHpChanged {
            change,
            until,
            hp_change,
            died,
            ..
        } => {
            change_max(&mut s, *change, *until);
            s.hp = clamp(i64::from(s.hp) + hp_change, s.max_hp());
            if *died {
                s.status = Status::Dead;
                s.hp = 0;
                return s;
            }
        }
        Outcome::DeathSaveRolled {
            successes,
            failures,
            regained_hp,
            stabilized,
            died,
            ..
        } => {
            s.death_saves.successes += successes;
            s.death_saves.failures = (s.death_saves.failures + failures).min(3);
            if *died {
                s.status = Status::Dead;
                return s;
            }
            if *stabilized {
                s.status = Status::Stable;
                s.death_saves = DeathSaves::default();
                return s;
            }
            // A natural 20: 1 HP, and up (below).
            if *regained_hp {
                s.hp = 1;
            }
        }
        Outcome::Stabilized => {
            s.status = Status::Stable;
            s.death_saves = DeathSaves::default();
            return s;
        }
        Outcome::Revived {
            hp,
            max_hp_restored,
        } => {
            if *max_hp_restored {
                s.max_hp_until_long_rest = 0;
            }
            s.hp = *hp;
            s.status = Status::Up;
            s.death_saves = DeathSaves::default();
            return s;
        }
        Outcome::ShortRested { dice, regained, .. } => {
            for die in dice {
                s.hit_dice_left = s.hit_dice_left.without_one(die.die).unwrap_or_default();
            }
            s.hp += regained;
        }
        Outcome::LongRested {
            hit_dice_regained, ..
        } => {
            end_until_long_rest(&mut s);
            s.hp = s.max_hp();
            s.temp_hp = 0;
            s.hit_dice_left = s.hit_dice_left.regain(&s.hit_dice, *hit_dice_regained);
            // A raise until a long rest that outlived a maximum reduced to 0 (5e-2014: a
            // permanent reduction) ends: a maximum of 0 kills.
            if s.max_hp() == 0 {
                s.status = Status::Dead;
                return s;
            }
        }
        Outcome::Adjusted { applied, .. } => {
            s.hp = clamp(i64::from(s.hp) + applied, s.max_hp());
            if hp_before > 0 && s.hp == 0 {
                s.status = Status::Unconscious;
                s.death_saves = DeathSaves::default();
                return s;
            }
        }
        Outcome::DefencesChanged { defences } => s.defences = defences.clone(),
        Outcome::HitDiceChanged { hit_dice } => {
            s.hit_dice_left = s.hit_dice_left.refit(&s.hit_dice, hit_dice);
            s.hit_dice = hit_dice.clone();
        }
        Outcome::Undone { restored, .. } => {
            return Sheet {
                recent: std::mem::take(&mut s.recent),
                ..(**restored).clone()
            };
        }
    }
    // Regaining any HP at 0 brings the character back up, and resets the death saves.
    if hp_before == 0 && s.hp > 0 {
        s.status = Status::Up;
        s.death_saves = DeathSaves::default();
    }
    s
}

/// `hp` within 0..=max.
fn clamp(hp: i64, max: u32) -> u32 {
    as_u32(hp.clamp(0, i64::from(max)))
}

fn as_u32(value: i64) -> u32 {
    u32::try_from(value.clamp(0, i64::from(u32::MAX))).unwrap_or(u32::MAX)
}

/// Refuses an amount outside `least..=MAX_AMOUNT`.
fn amount(field: &str, value: i64, least: i64) -> Result<(), Refusal> {
    if (least..=i64::from(MAX_AMOUNT)).contains(&value) {
        Ok(())
    } else {
        Err(Refusal::InvalidAmount(format!(
            "{field} must be from {least} to {MAX_AMOUNT}"
        )))
    }
}
