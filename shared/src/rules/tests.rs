//! The rules, rule by rule, under both rulesets where they differ; and the decider's
//! properties over seeded random command sequences.

use fastrand::Rng;

use super::{
    decide, enable, evolve, undo, Command, DamagePart, DamageType, DeathSaves, Decided, Defences,
    HitDice, Outcome, Refusal, RestKind, RulesSetup, Ruleset, Sheet, SpentDie, Status, UndoTarget,
    Until, DICE, MAX_AMOUNT, MAX_DAMAGE_PARTS,
};
use DamageType::{Acid, Cold, Fire, Necrotic, Poison, Slashing};
use Ruleset::{Srd2014, Srd2024};

const RULESETS: [Ruleset; 2] = [Srd2014, Srd2024];

// ---------------------------------------------------------------------------------------------
// Helpers

fn setup(ruleset: Ruleset, max_hp: u32) -> RulesSetup {
    RulesSetup {
        max_hp,
        hp: None,
        hit_dice: HitDice::default(),
        con_modifier: 0,
        defences: Defences::default(),
        ruleset,
    }
}

fn fresh(ruleset: Ruleset, max_hp: u32) -> Sheet {
    enable(&setup(ruleset, max_hp), None)
        .expect("a valid setup enables the rules")
        .sheet
}

fn with_dice(ruleset: Ruleset, max_hp: u32, dice: &str, con_modifier: i32) -> Sheet {
    let setup = RulesSetup {
        hit_dice: HitDice::parse(dice).expect("a valid pool"),
        con_modifier,
        ..setup(ruleset, max_hp)
    };
    enable(&setup, None)
        .expect("a valid setup enables the rules")
        .sheet
}

/// A character at 0 HP, dying, with no death saves yet.
fn dying(ruleset: Ruleset, max_hp: u32) -> Sheet {
    let s = ok(&fresh(ruleset, max_hp), &hit(max_hp, Slashing)).sheet;
    assert_eq!(
        (s.hp, s.status, s.death_saves),
        (0, Status::Unconscious, DeathSaves::default())
    );
    s
}

fn stable(ruleset: Ruleset, max_hp: u32) -> Sheet {
    let s = ok(&dying(ruleset, max_hp), &Command::Stabilize).sheet;
    assert_eq!(s.status, Status::Stable);
    s
}

fn dead(ruleset: Ruleset, max_hp: u32) -> Sheet {
    let s = ok(&fresh(ruleset, max_hp), &hit(2 * max_hp, Slashing)).sheet;
    assert_eq!((s.hp, s.status), (0, Status::Dead));
    s
}

#[track_caller]
fn ok(sheet: &Sheet, command: &Command) -> Decided {
    match decide(command, sheet) {
        Ok(decided) => decided,
        Err(refusal) => panic!("{command:?} refused ({refusal}) on {sheet:?}"),
    }
}

/// Decides each command in turn, all of which must be accepted.
#[track_caller]
fn run(sheet: &Sheet, commands: &[Command]) -> Sheet {
    commands
        .iter()
        .fold(sheet.clone(), |sheet, command| ok(&sheet, command).sheet)
}

#[track_caller]
fn refused(sheet: &Sheet, command: &Command) -> Refusal {
    match decide(command, sheet) {
        Ok(decided) => panic!("{command:?} accepted on {sheet:?}: {:?}", decided.outcome),
        Err(refusal) => refusal,
    }
}

fn part(amount: u32, damage_type: DamageType) -> DamagePart {
    DamagePart {
        amount,
        damage_type,
    }
}

fn hit(amount: u32, damage_type: DamageType) -> Command {
    hit_parts(vec![part(amount, damage_type)])
}

fn hit_parts(parts: Vec<DamagePart>) -> Command {
    Command::Damage {
        parts,
        critical: false,
        halved: false,
        defences_override: None,
    }
}

fn crit(amount: u32) -> Command {
    Command::Damage {
        parts: vec![part(amount, Slashing)],
        critical: true,
        halved: false,
        defences_override: None,
    }
}

fn heal(amount: u32) -> Command {
    Command::Healing { amount }
}

fn temp(amount: u32) -> Command {
    Command::TempHp {
        amount,
        replace: false,
    }
}

fn save(roll: u32, bonus: i32) -> Command {
    Command::DeathSave { roll, bonus }
}

fn adjust(hp_change: i64) -> Command {
    Command::Adjust { hp_change }
}

fn max_change(change: i64, until: Until) -> Command {
    Command::MaxHp {
        change,
        until,
        raise_current: false,
    }
}

fn short_rest(dice: &[(u32, u32)]) -> Command {
    Command::Rest {
        rest: RestKind::Short,
        hit_dice: dice
            .iter()
            .map(|&(die, roll)| SpentDie { die, roll })
            .collect(),
    }
}

fn long_rest() -> Command {
    Command::Rest {
        rest: RestKind::Long,
        hit_dice: Vec::new(),
    }
}

fn defences(r: &[DamageType], v: &[DamageType], i: &[DamageType]) -> Defences {
    Defences {
        resistances: r.iter().copied().collect(),
        vulnerabilities: v.iter().copied().collect(),
        immunities: i.iter().copied().collect(),
    }
}

/// The numbers of a `Damaged` outcome: (taken, temp HP absorbed, HP lost, death save failures,
/// died, massive damage, concentration DC).
#[track_caller]
fn damaged(outcome: &Outcome) -> (u32, u32, u32, u8, bool, bool, u32) {
    match outcome {
        Outcome::Damaged {
            taken,
            temp_hp_absorbed,
            hp_lost,
            death_save_failures,
            died,
            massive_damage,
            concentration_dc,
            ..
        } => (
            *taken,
            *temp_hp_absorbed,
            *hp_lost,
            *death_save_failures,
            *died,
            *massive_damage,
            *concentration_dc,
        ),
        other => panic!("not a damage outcome: {other:?}"),
    }
}

fn saves(successes: u8, failures: u8) -> DeathSaves {
    DeathSaves {
        successes,
        failures,
    }
}

// ---------------------------------------------------------------------------------------------
// Current HP, healing, amounts

#[test]
fn hp_stays_within_zero_and_the_maximum_and_healing_past_it_is_lost() {
    for ruleset in RULESETS {
        let s = fresh(ruleset, 20);
        assert_eq!(
            (s.hp, s.max_hp(), s.temp_hp, s.status),
            (20, 20, 0, Status::Up)
        );
        let hurt = ok(&s, &hit(15, Slashing)).sheet;
        assert_eq!(hurt.hp, 5);
        let d = ok(&hurt, &heal(30));
        assert_eq!(
            d.outcome,
            Outcome::Healed {
                amount: 30,
                regained: 15,
                regained_consciousness: false
            }
        );
        assert_eq!(d.sheet.hp, 20);
        let d = ok(&d.sheet, &heal(7));
        assert_eq!(
            (d.sheet.hp, d.outcome.clone()),
            (
                20,
                Outcome::Healed {
                    amount: 7,
                    regained: 0,
                    regained_consciousness: false
                }
            )
        );
        // Damage past the HP left stops at 0.
        let d = ok(&hurt, &hit(12, Slashing));
        assert_eq!(damaged(&d.outcome).2, 5, "{ruleset:?}: HP lost");
        assert_eq!((d.sheet.hp, d.sheet.status), (0, Status::Unconscious));
    }
}

#[test]
fn amounts_over_max_amount_are_refused_as_invalid_and_never_overflow() {
    let over = MAX_AMOUNT + 1;
    let big = i64::from(over);
    for ruleset in RULESETS {
        let s = fresh(ruleset, 20);
        let commands = [
            heal(over),
            temp(over),
            hit(over, Fire),
            hit_parts(vec![part(3, Fire), part(over, Cold)]),
            hit_parts(Vec::new()),
            hit_parts(vec![part(1, Fire); MAX_DAMAGE_PARTS + 1]),
            max_change(big, Until::Permanent),
            max_change(-big, Until::LongRest),
            max_change(i64::MAX, Until::Permanent),
            max_change(i64::MIN, Until::Permanent),
            adjust(big),
            adjust(-big),
            adjust(i64::MAX),
            adjust(i64::MIN),
        ];
        for command in commands {
            assert!(
                matches!(refused(&s, &command), Refusal::InvalidAmount(_)),
                "{ruleset:?}: {command:?}"
            );
        }
        // MAX_AMOUNT itself is an amount; thirteen parts are a hit.
        assert_eq!(ok(&s, &heal(MAX_AMOUNT)).sheet.hp, 20);
        assert_eq!(ok(&s, &adjust(-i64::from(MAX_AMOUNT))).sheet.hp, 0);
        let d = ok(&s, &hit_parts(vec![part(1, Fire); MAX_DAMAGE_PARTS]));
        assert_eq!(d.sheet.hp, 20 - 13);
        let d = ok(
            &s,
            &hit_parts(vec![part(MAX_AMOUNT, Fire); MAX_DAMAGE_PARTS]),
        );
        assert_eq!(damaged(&d.outcome).0, 13 * MAX_AMOUNT);
        assert_eq!(d.sheet.status, Status::Dead);
        // Revive takes 1 to MAX_AMOUNT.
        let corpse = dead(ruleset, 20);
        for hp in [0, over] {
            let refusal = refused(&corpse, &Command::Revive { hp });
            assert!(
                matches!(refusal, Refusal::InvalidAmount(_)),
                "revive {hp}: {refusal:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Damage after the save and the defences

#[test]
fn damage_is_halved_by_the_save_then_resisted_then_doubled_per_part_rounding_down() {
    let mut s = fresh(Srd2024, 500);
    s.defences = defences(&[Fire, Acid], &[Cold, Acid], &[Poison]);
    let parts = vec![
        part(15, Fire),
        part(15, Cold),
        part(15, Poison),
        part(15, Acid),
        part(15, Slashing),
    ];
    let halved = |halved| Command::Damage {
        parts: parts.clone(),
        critical: false,
        halved,
        defences_override: None,
    };
    let d = ok(&s, &halved(false));
    let Outcome::Damaged { parts: taken, .. } = &d.outcome else {
        panic!("not damage: {:?}", d.outcome)
    };
    // fire 15 → 7 resisted; cold 15 → 30; poison 0; acid 15 → 7 → 14; slashing 15.
    let each: Vec<u32> = taken.iter().map(|p| p.taken).collect();
    assert_eq!(each, [7, 30, 0, 14, 15]);
    assert_eq!(damaged(&d.outcome).0, 66);
    assert_eq!(d.sheet.hp, 500 - 66);
    let flags: Vec<(bool, bool, bool)> = taken
        .iter()
        .map(|p| (p.resisted, p.vulnerable, p.immune))
        .collect();
    assert_eq!(
        flags,
        [
            (true, false, false),
            (false, true, false),
            (false, false, true),
            (true, true, false),
            (false, false, false)
        ]
    );
    // With a save: each part halved first (15 → 7), then the defences: 3, 14, 0, 6, 7.
    let d = ok(&s, &halved(true));
    let Outcome::Damaged { parts: taken, .. } = &d.outcome else {
        panic!("not damage: {:?}", d.outcome)
    };
    let each: Vec<u32> = taken.iter().map(|p| p.taken).collect();
    assert_eq!(each, [3, 14, 0, 6, 7]);
    assert!(taken.iter().all(|p| p.halved));
    assert_eq!(damaged(&d.outcome).0, 30);
}

#[test]
fn immunity_makes_the_damage_zero_and_at_zero_hp_costs_no_death_save() {
    for ruleset in RULESETS {
        let mut s = fresh(ruleset, 20);
        s.defences = defences(&[Necrotic], &[Necrotic], &[Necrotic]);
        let d = ok(&s, &hit(50, Necrotic));
        assert_eq!(damaged(&d.outcome), (0, 0, 0, 0, false, false, 10));
        assert_eq!(d.sheet.hp, 20);
        let mut down = dying(ruleset, 20);
        down.defences = s.defences.clone();
        let d = ok(&down, &hit(50, Necrotic));
        assert_eq!(damaged(&d.outcome).3, 0);
        assert_eq!(
            (d.sheet.status, d.sheet.death_saves),
            (Status::Unconscious, saves(0, 0))
        );
    }
}

#[test]
fn a_defences_override_stands_for_the_characters_defences_for_one_hit() {
    let mut s = fresh(Srd2014, 40);
    s.defences = defences(&[Fire], &[], &[]);
    let with = |over: Option<Defences>| Command::Damage {
        parts: vec![part(10, Fire), part(10, Cold)],
        critical: false,
        halved: false,
        defences_override: over,
    };
    assert_eq!(damaged(&ok(&s, &with(None)).outcome).0, 5 + 10);
    assert_eq!(
        damaged(&ok(&s, &with(Some(Defences::default()))).outcome).0,
        20
    );
    let d = ok(&s, &with(Some(defences(&[], &[Cold], &[Fire]))));
    assert_eq!(damaged(&d.outcome).0, 20);
    assert_eq!(d.sheet.defences, s.defences, "the override lasts one hit");
    assert_eq!(damaged(&ok(&d.sheet, &with(None)).outcome).0, 15);
}

#[test]
fn a_hit_of_several_parts_counts_once_at_zero_hp() {
    for ruleset in RULESETS {
        let s = dying(ruleset, 20);
        let d = ok(
            &s,
            &hit_parts(vec![part(3, Slashing), part(4, Fire), part(2, Cold)]),
        );
        assert_eq!(damaged(&d.outcome).0, 9);
        assert_eq!(
            damaged(&d.outcome).3,
            1,
            "{ruleset:?}: one failure for one hit"
        );
        assert_eq!(d.sheet.death_saves, saves(0, 1));
        let critical = Command::Damage {
            parts: vec![part(3, Slashing), part(4, Fire)],
            critical: true,
            halved: false,
            defences_override: None,
        };
        let d = ok(&s, &critical);
        assert_eq!(
            d.sheet.death_saves,
            saves(0, 2),
            "{ruleset:?}: two for a critical hit"
        );
    }
}

#[test]
fn a_critical_hit_never_changes_the_damage_taken() {
    for ruleset in RULESETS {
        let s = fresh(ruleset, 30);
        let plain = ok(&s, &hit(10, Slashing));
        let critical = ok(&s, &crit(10));
        assert_eq!(damaged(&plain.outcome), damaged(&critical.outcome));
        assert_eq!(plain.sheet, critical.sheet);
        assert_eq!(critical.sheet.hp, 20);
    }
}

// ---------------------------------------------------------------------------------------------
// Temporary HP

#[test]
fn temporary_hp_absorb_damage_first_and_the_rest_carries_over_to_hp() {
    for ruleset in RULESETS {
        let s = run(&fresh(ruleset, 20), &[temp(5)]);
        let d = ok(&s, &hit(3, Slashing));
        assert_eq!(damaged(&d.outcome), (3, 3, 0, 0, false, false, 10));
        assert_eq!((d.sheet.hp, d.sheet.temp_hp), (20, 2));
        let d = ok(&s, &hit(8, Slashing));
        assert_eq!(damaged(&d.outcome), (8, 5, 3, 0, false, false, 10));
        assert_eq!((d.sheet.hp, d.sheet.temp_hp), (17, 0));
    }
}

#[test]
fn temporary_hp_may_exceed_the_maximum_and_nothing_but_temp_hp_restores_them() {
    for ruleset in RULESETS {
        let s = run(
            &with_dice(ruleset, 10, "2d8", 1),
            &[temp(25), hit(10, Slashing)],
        );
        assert_eq!((s.hp, s.temp_hp), (10, 15));
        let s = run(&s, &[adjust(-6)]);
        for restore in [heal(100), adjust(50), short_rest(&[(8, 4)])] {
            let after = ok(&s, &restore).sheet;
            assert!(after.hp > 4, "{ruleset:?}: {restore:?}");
            assert_eq!(after.temp_hp, 15, "{ruleset:?}: {restore:?}");
        }
        let s = run(&s, &[hit(16, Slashing)]);
        assert_eq!((s.hp, s.temp_hp), (3, 0));
        let after = run(
            &s,
            &[heal(100), adjust(-3), adjust(50), short_rest(&[(8, 4)])],
        );
        assert_eq!((after.hp, after.temp_hp), (10, 0), "{ruleset:?}");
    }
}

#[test]
fn temporary_hp_do_not_stack_the_higher_stays_unless_replaced() {
    for ruleset in RULESETS {
        let s = run(&fresh(ruleset, 20), &[temp(8)]);
        let d = ok(&s, &temp(5));
        assert_eq!(
            d.outcome,
            Outcome::TempHpGained {
                amount: 5,
                temp_hp_before: 8,
                temp_hp: 8
            }
        );
        assert_eq!(ok(&s, &temp(12)).sheet.temp_hp, 12);
        let replace = Command::TempHp {
            amount: 3,
            replace: true,
        };
        assert_eq!(ok(&s, &replace).sheet.temp_hp, 3);
    }
}

#[test]
fn a_long_rest_ends_temporary_hp() {
    for ruleset in RULESETS {
        let s = run(&fresh(ruleset, 20), &[temp(7), hit(10, Slashing)]);
        assert_eq!((s.hp, s.temp_hp), (17, 0));
        let s = run(&s, &[temp(7)]);
        let d = ok(&s, &long_rest());
        let Outcome::LongRested {
            temp_hp_lost,
            regained,
            ..
        } = d.outcome
        else {
            panic!("not a long rest: {:?}", d.outcome)
        };
        assert_eq!((temp_hp_lost, regained), (7, 3));
        assert_eq!((d.sheet.hp, d.sheet.temp_hp), (20, 0));
    }
}

#[test]
fn temporary_hp_at_zero_hp_neither_restore_consciousness_nor_stabilise() {
    for ruleset in RULESETS {
        let s = run(&dying(ruleset, 20), &[save(5, 0)]);
        let d = ok(&s, &temp(10));
        assert_eq!(
            (
                d.sheet.hp,
                d.sheet.temp_hp,
                d.sheet.status,
                d.sheet.death_saves
            ),
            (0, 10, Status::Unconscious, saves(0, 1))
        );
        // Still dying: death saves go on, and damage they absorb is still a failure.
        assert!(decide(&save(15, 0), &d.sheet).is_ok());
        let d = ok(&d.sheet, &hit(4, Slashing));
        assert_eq!(damaged(&d.outcome), (4, 4, 0, 1, false, false, 10));
        assert_eq!((d.sheet.temp_hp, d.sheet.death_saves), (6, saves(0, 2)));
        // And on a stable character they leave it stable.
        let d = ok(&stable(ruleset, 20), &temp(10));
        assert_eq!((d.sheet.hp, d.sheet.status), (0, Status::Stable));
    }
}

#[test]
fn damage_absorbed_by_temporary_hp_is_still_damage_taken() {
    for ruleset in RULESETS {
        let s = run(&fresh(ruleset, 100), &[temp(50)]);
        let d = ok(&s, &hit(40, Slashing));
        assert_eq!(damaged(&d.outcome), (40, 40, 0, 0, false, false, 20));
        assert_eq!(d.sheet.hp, 100);
        let s = run(&dying(ruleset, 20), &[temp(10)]);
        let d = ok(&s, &crit(3));
        assert_eq!(damaged(&d.outcome), (3, 3, 0, 2, false, false, 10));
        assert_eq!(d.sheet.death_saves, saves(0, 2));
    }
}

// ---------------------------------------------------------------------------------------------
// Dropping to 0 HP

#[test]
fn dropping_to_zero_with_damage_left_over_of_at_least_the_maximum_kills() {
    for ruleset in RULESETS {
        let full = fresh(ruleset, 10);
        let d = ok(&full, &hit(20, Slashing));
        assert_eq!(
            damaged(&d.outcome),
            (20, 0, 10, 0, true, true, 10),
            "{ruleset:?}"
        );
        assert_eq!((d.sheet.hp, d.sheet.status), (0, Status::Dead));
        // 9 left over after 0 is less than the maximum.
        let d = ok(&full, &hit(19, Slashing));
        assert_eq!(
            (d.sheet.status, damaged(&d.outcome).4),
            (Status::Unconscious, false)
        );
        // From 4 HP: the left over counts, not the hit.
        let hurt = run(&full, &[hit(6, Slashing)]);
        assert_eq!(ok(&hurt, &hit(14, Slashing)).sheet.status, Status::Dead);
        assert_eq!(
            ok(&hurt, &hit(13, Slashing)).sheet.status,
            Status::Unconscious
        );
        // Temporary HP take their share first.
        let shielded = run(&full, &[temp(5)]);
        assert_eq!(ok(&shielded, &hit(25, Slashing)).sheet.status, Status::Dead);
        assert_eq!(
            ok(&shielded, &hit(24, Slashing)).sheet.status,
            Status::Unconscious
        );
        // The maximum as it stands counts: lowered to 6 until a long rest.
        let drained = run(&full, &[max_change(-4, Until::LongRest)]);
        assert_eq!(ok(&drained, &hit(12, Slashing)).sheet.status, Status::Dead);
    }
}

#[test]
fn dropping_to_zero_otherwise_falls_unconscious_and_dying() {
    for ruleset in RULESETS {
        let d = ok(&fresh(ruleset, 10), &hit(12, Slashing));
        let Outcome::Damaged {
            fell_unconscious,
            died,
            death_save_failures,
            ..
        } = d.outcome
        else {
            panic!("not damage: {:?}", d.outcome)
        };
        assert!(fell_unconscious && !died);
        assert_eq!(death_save_failures, 0, "falling to 0 is no failure");
        assert_eq!(
            (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
            (0, Status::Unconscious, saves(0, 0))
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Death saves

#[test]
fn death_saves_are_rolled_only_while_dying() {
    for ruleset in RULESETS {
        assert_eq!(
            refused(&fresh(ruleset, 10), &save(10, 0)),
            Refusal::NotDying
        );
        assert_eq!(
            refused(&stable(ruleset, 10), &save(10, 0)),
            Refusal::NotDying
        );
        assert_eq!(
            refused(&dead(ruleset, 10), &save(10, 0)),
            Refusal::CharacterDead
        );
        let s = dying(ruleset, 10);
        for roll in [0, 21, 100] {
            assert!(
                matches!(refused(&s, &save(roll, 0)), Refusal::InvalidRoll(_)),
                "{ruleset:?}: roll {roll}"
            );
        }
    }
}

#[test]
fn a_death_save_succeeds_when_roll_plus_bonus_is_at_least_ten() {
    for ruleset in RULESETS {
        let s = dying(ruleset, 10);
        for (roll, bonus, expected) in [
            (10, 0, saves(1, 0)),
            (9, 0, saves(0, 1)),
            (8, 2, saves(1, 0)),
            (12, -3, saves(0, 1)),
            (19, 0, saves(1, 0)),
            (2, 0, saves(0, 1)),
        ] {
            let d = ok(&s, &save(roll, bonus));
            assert_eq!(
                d.sheet.death_saves, expected,
                "{ruleset:?}: {roll}{bonus:+}"
            );
            assert_eq!((d.sheet.hp, d.sheet.status), (0, Status::Unconscious));
        }
    }
}

#[test]
fn a_natural_one_counts_two_failures_whatever_the_bonus() {
    for ruleset in RULESETS {
        let d = ok(&dying(ruleset, 10), &save(1, 20));
        assert_eq!(d.sheet.death_saves, saves(0, 2));
        assert_eq!(d.sheet.status, Status::Unconscious);
    }
}

#[test]
fn a_natural_twenty_regains_one_hp_and_resets_the_counts() {
    for ruleset in RULESETS {
        let s = run(&dying(ruleset, 10), &[save(1, 0), save(15, 0)]);
        assert_eq!(s.death_saves, saves(1, 2));
        let d = ok(&s, &save(20, -15));
        let Outcome::DeathSaveRolled {
            regained_hp,
            died,
            stabilized,
            ..
        } = d.outcome
        else {
            panic!("not a death save: {:?}", d.outcome)
        };
        assert!(regained_hp && !died && !stabilized);
        assert_eq!(
            (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
            (1, Status::Up, saves(0, 0))
        );
    }
}

#[test]
fn three_successes_stabilise_three_failures_kill_and_need_not_be_in_a_row() {
    for ruleset in RULESETS {
        let s = dying(ruleset, 10);
        let steady = run(&s, &[save(15, 0), save(5, 0), save(12, 0), save(3, 0)]);
        assert_eq!(steady.death_saves, saves(2, 2));
        let d = ok(&steady, &save(10, 0));
        assert_eq!(
            (d.sheet.status, d.sheet.death_saves, d.sheet.hp),
            (Status::Stable, saves(0, 0), 0)
        );
        let d = ok(&steady, &save(9, 0));
        assert!(d.outcome.killed());
        assert_eq!((d.sheet.status, d.sheet.hp), (Status::Dead, 0));
        // A natural 1 on one failure is the third.
        let d = ok(&run(&s, &[save(2, 0)]), &save(1, 0));
        assert_eq!(d.sheet.status, Status::Dead);
    }
}

#[test]
fn damage_at_zero_hp_is_one_death_save_failure_two_on_a_critical_hit() {
    for ruleset in RULESETS {
        let s = dying(ruleset, 20);
        let d = ok(&s, &hit(3, Slashing));
        assert_eq!(damaged(&d.outcome), (3, 0, 0, 1, false, false, 10));
        assert_eq!(d.sheet.death_saves, saves(0, 1));
        let d = ok(&d.sheet, &crit(3));
        assert_eq!(damaged(&d.outcome).3, 2);
        assert_eq!((d.sheet.status, d.sheet.hp), (Status::Dead, 0));
        assert!(d.outcome.killed());
        // Two failures, then one more from a hit.
        let d = ok(&run(&s, &[save(1, 0)]), &hit(1, Fire));
        assert_eq!(d.sheet.status, Status::Dead);
    }
}

#[test]
fn damage_at_zero_hp_of_at_least_the_maximum_kills() {
    for ruleset in RULESETS {
        let s = dying(ruleset, 20);
        let d = ok(&s, &hit(19, Slashing));
        assert_eq!(
            (d.sheet.status, d.sheet.death_saves),
            (Status::Unconscious, saves(0, 1))
        );
        let d = ok(&s, &hit(20, Slashing));
        assert_eq!(damaged(&d.outcome), (20, 0, 0, 0, true, true, 10));
        assert_eq!(d.sheet.status, Status::Dead);
        let d = ok(&stable(ruleset, 20), &hit(25, Slashing));
        assert_eq!(d.sheet.status, Status::Dead);
    }
}

#[test]
fn regaining_hp_or_becoming_stable_resets_both_death_save_counts() {
    for ruleset in RULESETS {
        let s = run(
            &with_dice(ruleset, 20, "2d8", 0),
            &[hit(20, Slashing), save(15, 0), save(5, 0)],
        );
        assert_eq!(s.death_saves, saves(1, 1));
        let raise = Command::MaxHp {
            change: 3,
            until: Until::LongRest,
            raise_current: true,
        };
        let mut ways = vec![heal(1), adjust(2), raise, Command::Stabilize];
        if ruleset == Srd2014 {
            ways.push(short_rest(&[(8, 3)]));
        }
        for way in ways {
            let d = ok(&s, &way);
            assert_eq!(d.sheet.death_saves, saves(0, 0), "{ruleset:?}: {way:?}");
            let status = if d.sheet.hp > 0 {
                Status::Up
            } else {
                Status::Stable
            };
            assert_eq!(d.sheet.status, status, "{ruleset:?}: {way:?}");
            // Down again: the counts start afresh (a hit at 0 HP is one failure).
            let again = ok(&d.sheet, &hit(d.sheet.hp + 1, Slashing)).sheet;
            let failures = u8::from(d.sheet.hp == 0);
            assert_eq!(
                (again.status, again.death_saves),
                (Status::Unconscious, saves(0, failures))
            );
        }
    }
}

#[test]
fn damage_ends_stability_with_the_failure_counted() {
    for ruleset in RULESETS {
        let s = stable(ruleset, 20);
        let d = ok(&s, &hit(1, Fire));
        let Outcome::Damaged {
            stability_lost,
            death_save_failures,
            ..
        } = d.outcome
        else {
            panic!("not damage: {:?}", d.outcome)
        };
        assert!(stability_lost);
        assert_eq!(death_save_failures, 1);
        assert_eq!(
            (d.sheet.status, d.sheet.death_saves),
            (Status::Unconscious, saves(0, 1))
        );
        let d = ok(&s, &crit(1));
        assert_eq!(
            (d.sheet.status, d.sheet.death_saves),
            (Status::Unconscious, saves(0, 2))
        );
        // Dying again, it rolls death saves again.
        assert!(decide(&save(12, 0), &d.sheet).is_ok());
    }
}

#[test]
fn stabilize_makes_a_dying_character_stable_and_is_refused_otherwise() {
    for ruleset in RULESETS {
        let s = run(&dying(ruleset, 10), &[save(1, 0), save(14, 0)]);
        let d = ok(&s, &Command::Stabilize);
        assert_eq!(d.outcome, Outcome::Stabilized);
        assert_eq!(
            (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
            (0, Status::Stable, saves(0, 0))
        );
        assert_eq!(refused(&d.sheet, &Command::Stabilize), Refusal::NotDying);
        assert_eq!(
            refused(&fresh(ruleset, 10), &Command::Stabilize),
            Refusal::NotDying
        );
        assert_eq!(
            refused(&dead(ruleset, 10), &Command::Stabilize),
            Refusal::CharacterDead
        );
        // A stable character healed is up.
        assert_eq!(ok(&d.sheet, &heal(2)).sheet.status, Status::Up);
    }
}

// ---------------------------------------------------------------------------------------------
// The maximum

#[test]
fn a_maximum_lowered_until_a_long_rest_caps_hp_and_comes_back_at_the_long_rest() {
    for ruleset in RULESETS {
        let s = fresh(ruleset, 20);
        let d = ok(&s, &max_change(-8, Until::LongRest));
        assert_eq!(
            d.outcome,
            Outcome::MaxHpChanged {
                change: -8,
                until: Until::LongRest,
                max_hp: 12,
                hp_change: -8,
                died: false
            }
        );
        assert_eq!((d.sheet.max_hp(), d.sheet.hp), (12, 12));
        let rested = ok(&d.sheet, &long_rest()).sheet;
        assert_eq!((rested.max_hp(), rested.hp), (20, 20), "{ruleset:?}");
        // HP already under the new maximum stay where they are.
        let hurt = run(&s, &[hit(15, Slashing), max_change(-10, Until::LongRest)]);
        assert_eq!((hurt.max_hp(), hurt.hp), (10, 5));
        // A raise until a long rest ends at it too.
        let raised = run(&s, &[max_change(5, Until::LongRest), heal(5)]);
        assert_eq!((raised.max_hp(), raised.hp), (25, 25));
        let rested = ok(&raised, &long_rest()).sheet;
        assert_eq!((rested.max_hp(), rested.hp), (20, 20));
    }
}

#[test]
fn a_permanent_reduction_ends_at_a_long_rest_under_2024_but_stays_under_2014() {
    for (ruleset, after_rest) in [(Srd2014, 15), (Srd2024, 20)] {
        let s = run(&fresh(ruleset, 20), &[max_change(-5, Until::Permanent)]);
        assert_eq!((s.max_hp(), s.hp), (15, 15));
        let rested = ok(&s, &long_rest()).sheet;
        assert_eq!(
            (rested.max_hp(), rested.hp),
            (after_rest, after_rest),
            "{ruleset:?}"
        );
        // A permanent raise stays under both.
        let s = run(
            &fresh(ruleset, 20),
            &[max_change(4, Until::Permanent), long_rest()],
        );
        assert_eq!((s.max_hp(), s.hp), (24, 24), "{ruleset:?}");
    }
}

#[test]
fn a_maximum_of_zero_kills() {
    for ruleset in RULESETS {
        for until in [Until::LongRest, Until::Permanent] {
            for change in [-20, -25] {
                let d = ok(&fresh(ruleset, 20), &max_change(change, until));
                assert!(d.outcome.killed(), "{ruleset:?} {until:?} {change}");
                assert_eq!(
                    (d.sheet.max_hp(), d.sheet.hp, d.sheet.status),
                    (0, 0, Status::Dead)
                );
                // A maximum lowered to 0 for good allows no revival; one drained until a
                // long rest comes back with the character.
                if until == Until::Permanent {
                    assert_eq!(
                        refused(&d.sheet, &Command::Revive { hp: 5 }),
                        Refusal::NoMaximum
                    );
                } else {
                    let back = ok(&d.sheet, &Command::Revive { hp: 5 });
                    assert_eq!(
                        (back.sheet.max_hp(), back.sheet.hp, back.sheet.status),
                        (20, 5, Status::Up)
                    );
                }
            }
        }
        // One short of it lives.
        let d = ok(&fresh(ruleset, 20), &max_change(-19, Until::Permanent));
        assert_eq!(
            (d.sheet.max_hp(), d.sheet.hp, d.sheet.status),
            (1, 1, Status::Up)
        );
    }
}

#[test]
fn raise_current_raises_hp_by_the_same_amount() {
    for ruleset in RULESETS {
        let s = run(&fresh(ruleset, 20), &[hit(8, Slashing)]);
        let raise = |change, until| Command::MaxHp {
            change,
            until,
            raise_current: true,
        };
        let d = ok(&s, &raise(5, Until::Permanent));
        assert_eq!((d.sheet.max_hp(), d.sheet.hp), (25, 17));
        let d = ok(&s, &raise(5, Until::LongRest));
        assert_eq!((d.sheet.max_hp(), d.sheet.hp), (25, 17));
        let d = ok(&s, &max_change(5, Until::Permanent));
        assert_eq!((d.sheet.max_hp(), d.sheet.hp), (25, 12));
        // A lowered maximum raises nothing.
        let d = ok(&s, &raise(-10, Until::Permanent));
        assert_eq!((d.sheet.max_hp(), d.sheet.hp), (10, 10));
    }
}

#[test]
fn a_long_rest_that_ends_the_last_of_the_maximum_kills() {
    // 5e-2014: a permanent reduction to nothing, outlived only by a raise until a long rest.
    let s = run(
        &fresh(Srd2014, 10),
        &[
            max_change(5, Until::LongRest),
            max_change(-10, Until::Permanent),
        ],
    );
    assert_eq!((s.max_hp(), s.hp, s.status), (5, 5, Status::Up));
    let d = ok(&s, &long_rest());
    assert_eq!(d.sheet.max_hp(), 0);
    assert_eq!((d.sheet.hp, d.sheet.status), (0, Status::Dead));
    let undone = undo(&d.sheet, target(&d.outcome, Some(&s)));
    assert_eq!(undone.map(|d| d.outcome), Err(Refusal::UndoDeath));
}

// ---------------------------------------------------------------------------------------------
// Rests

#[test]
fn a_short_rest_regains_roll_plus_con_per_die_at_least_0_under_2014_and_1_under_2024() {
    for (ruleset, low) in [(Srd2014, 0), (Srd2024, 1)] {
        let s = run(&with_dice(ruleset, 40, "3d8", -3), &[hit(39, Slashing)]);
        let d = ok(&s, &short_rest(&[(8, 1), (8, 2), (8, 8)]));
        let Outcome::ShortRested { dice, regained, .. } = &d.outcome else {
            panic!("not a short rest: {:?}", d.outcome)
        };
        let each: Vec<u32> = dice.iter().map(|d| d.regained).collect();
        assert_eq!(each, [low, low, 5], "{ruleset:?}");
        assert_eq!(*regained, 2 * low + 5);
        assert_eq!(d.sheet.hp, 1 + 2 * low + 5);
        assert_eq!(d.sheet.hit_dice_left.total(), 0);
        assert_eq!(d.sheet.hit_dice.total(), 3);
        // A good Constitution adds to every die.
        let s = run(&with_dice(ruleset, 40, "2d10", 2), &[hit(30, Slashing)]);
        let d = ok(&s, &short_rest(&[(10, 3), (10, 10)]));
        assert_eq!(d.sheet.hp, 10 + 5 + 12);
    }
}

#[test]
fn a_short_rest_heals_no_further_than_the_maximum() {
    for ruleset in RULESETS {
        let s = run(&with_dice(ruleset, 20, "2d12", 3), &[hit(5, Slashing)]);
        let d = ok(&s, &short_rest(&[(12, 12)]));
        let Outcome::ShortRested { regained, .. } = d.outcome else {
            panic!("not a short rest: {:?}", d.outcome)
        };
        assert_eq!(
            (regained, d.sheet.hp, d.sheet.hit_dice_left.total()),
            (5, 20, 1)
        );
    }
}

#[test]
fn a_short_rest_refuses_rolls_off_the_die_and_dice_not_left() {
    for ruleset in RULESETS {
        let s = run(&with_dice(ruleset, 40, "1d10+1d8", 0), &[hit(30, Slashing)]);
        for bad in [
            vec![(10, 0)],
            vec![(8, 9)],
            vec![(10, 5), (8, 0)],
            vec![(20, 21)],
        ] {
            let refusal = refused(&s, &short_rest(&bad));
            assert!(
                matches!(refusal, Refusal::InvalidRoll(_)),
                "{ruleset:?} {bad:?}: {refusal:?}"
            );
        }
        assert_eq!(refused(&s, &short_rest(&[(6, 3)])), Refusal::NoHitDice(6));
        assert_eq!(
            refused(&s, &short_rest(&[(8, 3), (8, 4)])),
            Refusal::NoHitDice(8)
        );
        let spent = ok(&s, &short_rest(&[(10, 5)])).sheet;
        assert_eq!(spent.hit_dice_left.to_string(), "1d8");
        assert_eq!(
            refused(&spent, &short_rest(&[(10, 5)])),
            Refusal::NoHitDice(10)
        );
        // A rest spending no dice is a rest.
        assert_eq!(ok(&spent, &short_rest(&[])).sheet, spent);
    }
}

#[test]
fn a_short_rest_at_zero_hp_is_refused_under_2024_only() {
    let s = run(&with_dice(Srd2024, 20, "2d8", 0), &[hit(20, Slashing)]);
    assert_eq!(refused(&s, &short_rest(&[(8, 5)])), Refusal::RestNeedsHp);
    let s = run(
        &with_dice(Srd2014, 20, "2d8", 0),
        &[hit(20, Slashing), save(4, 0)],
    );
    let d = ok(&s, &short_rest(&[(8, 5)]));
    let Outcome::ShortRested {
        regained_consciousness,
        ..
    } = d.outcome
    else {
        panic!("not a short rest: {:?}", d.outcome)
    };
    assert!(regained_consciousness);
    assert_eq!(
        (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
        (5, Status::Up, saves(0, 0))
    );
}

#[test]
fn a_long_rest_needs_at_least_one_hp_under_both_rulesets() {
    for ruleset in RULESETS {
        assert_eq!(
            refused(&dying(ruleset, 20), &long_rest()),
            Refusal::RestNeedsHp
        );
        assert_eq!(
            refused(&stable(ruleset, 20), &long_rest()),
            Refusal::RestNeedsHp
        );
        let s = run(&fresh(ruleset, 20), &[hit(19, Slashing)]);
        assert_eq!(ok(&s, &long_rest()).sheet.hp, 20);
        // Hit dice are spent on a short rest, not a long one.
        let spending = Command::Rest {
            rest: RestKind::Long,
            hit_dice: vec![SpentDie { die: 8, roll: 3 }],
        };
        assert!(matches!(refused(&s, &spending), Refusal::InvalidRoll(_)));
    }
}

/// A pool, the dice spent from it, and the dice left after a long rest under 5e-2014 and
/// under 5e-2024.
type LongRestCase = (
    &'static str,
    &'static [(u32, u32)],
    &'static str,
    &'static str,
);

#[test]
fn a_long_rest_regains_half_the_hit_dice_under_2014_and_all_under_2024() {
    let cases: [LongRestCase; 5] = [
        ("5d8", &[(8, 1); 5], "2d8", "5d8"),
        ("1d10", &[(10, 1)], "1d10", "1d10"),
        ("3d6", &[(6, 1); 3], "1d6", "3d6"),
        // Largest first.
        (
            "3d10+2d8",
            &[(10, 1), (10, 1), (10, 1), (8, 1), (8, 1)],
            "2d10",
            "3d10+2d8",
        ),
        // No more than were spent.
        ("3d10+2d8", &[(10, 1)], "3d10+2d8", "3d10+2d8"),
    ];
    for (pool, spent, after_2014, after_2024) in cases {
        for (ruleset, after) in [(Srd2014, after_2014), (Srd2024, after_2024)] {
            let s = run(
                &with_dice(ruleset, 100, pool, 0),
                &[hit(50, Slashing), short_rest(spent)],
            );
            let d = ok(&s, &long_rest());
            assert_eq!(
                d.sheet.hit_dice_left.to_string(),
                after,
                "{ruleset:?} {pool} {spent:?}"
            );
            let Outcome::LongRested {
                hit_dice_regained,
                regained,
                max_hp,
                ..
            } = d.outcome
            else {
                panic!("not a long rest: {:?}", d.outcome)
            };
            let want = HitDice::parse(after).expect("a pool").total() - s.hit_dice_left.total();
            assert_eq!(hit_dice_regained, want);
            assert_eq!((regained, max_hp, d.sheet.hp), (100 - s.hp, 100, 100));
        }
    }
    // No dice, none regained.
    for ruleset in RULESETS {
        let d = ok(&run(&fresh(ruleset, 10), &[hit(3, Fire)]), &long_rest());
        assert_eq!(d.sheet.hit_dice_left.total(), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Concentration

#[test]
fn the_concentration_dc_is_half_the_damage_taken_at_least_10_and_at_most_30_under_2024_only() {
    for (amount, dc_2014, dc_2024) in [
        (0, 10, 10),
        (1, 10, 10),
        (21, 10, 10),
        (22, 11, 11),
        (23, 11, 11),
        (60, 30, 30),
        (61, 30, 30),
        (62, 31, 30),
        (100, 50, 30),
        (MAX_AMOUNT, MAX_AMOUNT / 2, 30),
    ] {
        for (ruleset, dc) in [(Srd2014, dc_2014), (Srd2024, dc_2024)] {
            let d = ok(&fresh(ruleset, 1000), &hit(amount, Slashing));
            assert_eq!(damaged(&d.outcome).6, dc, "{ruleset:?}: {amount} damage");
        }
    }
    // The damage taken, not the damage rolled: 44 fire resisted is 22.
    let mut s = fresh(Srd2024, 100);
    s.defences = defences(&[Fire], &[], &[]);
    assert_eq!(damaged(&ok(&s, &hit(44, Fire)).outcome).6, 11);
}

// ---------------------------------------------------------------------------------------------
// Death and revival

fn every_command_but_revive() -> Vec<Command> {
    vec![
        hit(1, Fire),
        crit(1),
        heal(5),
        temp(5),
        max_change(5, Until::Permanent),
        max_change(-5, Until::LongRest),
        save(10, 0),
        save(20, 0),
        Command::Stabilize,
        short_rest(&[]),
        short_rest(&[(8, 3)]),
        long_rest(),
        adjust(5),
        adjust(-5),
        Command::Defences(defences(&[Fire], &[], &[])),
        Command::HitDice {
            hit_dice: HitDice::parse("2d8").expect("a pool"),
        },
        Command::Undo {
            event_id: uuid::Uuid::nil(),
        },
    ]
}

#[test]
fn a_dead_character_accepts_only_revive() {
    for ruleset in RULESETS {
        let corpse = dead(ruleset, 10);
        for command in every_command_but_revive() {
            assert_eq!(
                refused(&corpse, &command),
                Refusal::CharacterDead,
                "{ruleset:?}: {command:?}"
            );
        }
        let rules = Command::Rules(setup(ruleset, 10));
        assert_eq!(refused(&corpse, &rules), Refusal::RulesEnabledAlready);
        let d = ok(&corpse, &Command::Revive { hp: 4 });
        assert_eq!(
            d.outcome,
            Outcome::Revived {
                hp: 4,
                max_hp_restored: false
            }
        );
        assert_eq!(
            (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
            (4, Status::Up, saves(0, 0))
        );
        // No more than the maximum.
        assert_eq!(ok(&corpse, &Command::Revive { hp: 50 }).sheet.hp, 10);
        // Dead of failed death saves, too.
        let failed = run(&dying(ruleset, 10), &[save(1, 0), save(1, 0)]);
        assert_eq!(
            (failed.status, failed.death_saves.failures),
            (Status::Dead, 3)
        );
        assert_eq!(refused(&failed, &heal(5)), Refusal::CharacterDead);
        let d = ok(&failed, &Command::Revive { hp: 1 });
        assert_eq!(
            (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
            (1, Status::Up, saves(0, 0))
        );
    }
}

#[test]
fn revive_is_refused_for_a_living_character() {
    for ruleset in RULESETS {
        for s in [fresh(ruleset, 10), dying(ruleset, 10), stable(ruleset, 10)] {
            assert_eq!(
                refused(&s, &Command::Revive { hp: 5 }),
                Refusal::NotDead,
                "{:?}",
                s.status
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hit dice and defences that change

#[test]
fn hit_dice_may_mix_dice_and_change_later() {
    for ruleset in RULESETS {
        let s = with_dice(ruleset, 40, "3d10+2d8", 1);
        assert_eq!(
            (s.hit_dice.to_string(), s.hit_dice_left.to_string()),
            ("3d10+2d8".into(), "3d10+2d8".into())
        );
        let s = run(&s, &[hit(30, Slashing), short_rest(&[(10, 4), (8, 4)])]);
        assert_eq!(
            (s.hp, s.hit_dice_left.to_string()),
            (20, "2d10+1d8".to_owned())
        );
        // A new level's die arrives unspent; the spent ones stay spent.
        let levelled = Command::HitDice {
            hit_dice: HitDice::parse("4d10+2d8").expect("a pool"),
        };
        let d = ok(&s, &levelled);
        assert_eq!(d.sheet.hit_dice.to_string(), "4d10+2d8");
        assert_eq!(d.sheet.hit_dice_left.to_string(), "3d10+1d8");
        // Fewer dice: what is left is cut to fit.
        let fewer = Command::HitDice {
            hit_dice: HitDice::parse("1d10").expect("a pool"),
        };
        assert_eq!(ok(&s, &fewer).sheet.hit_dice_left.to_string(), "1d10");
    }
}

#[test]
fn defences_can_change_later() {
    for ruleset in RULESETS {
        let s = fresh(ruleset, 40);
        let resistant = defences(&[Fire], &[], &[]);
        let d = ok(&s, &Command::Defences(resistant.clone()));
        assert_eq!(
            d.outcome,
            Outcome::DefencesChanged {
                defences: resistant.clone()
            }
        );
        assert_eq!(d.sheet.defences, resistant);
        assert_eq!(ok(&d.sheet, &hit(10, Fire)).sheet.hp, 35);
        let back = run(
            &d.sheet,
            &[Command::Defences(Defences::default()), hit(10, Fire)],
        );
        assert_eq!(back.hp, 30);
    }
}

// ---------------------------------------------------------------------------------------------
// Plain changes

#[test]
fn a_plain_change_is_clamped_and_reaching_zero_is_unconscious_without_failure_or_death() {
    for ruleset in RULESETS {
        let s = run(&fresh(ruleset, 20), &[hit(10, Slashing)]);
        let d = ok(&s, &adjust(50));
        assert_eq!(
            d.outcome,
            Outcome::Adjusted {
                requested: 50,
                applied: 10,
                fell_unconscious: false,
                regained_consciousness: false
            }
        );
        assert_eq!(d.sheet.hp, 20);
        // 40 past 0 would be massive damage; a plain change is not damage.
        let d = ok(&s, &adjust(-50));
        assert_eq!(
            d.outcome,
            Outcome::Adjusted {
                requested: -50,
                applied: -10,
                fell_unconscious: true,
                regained_consciousness: false
            }
        );
        assert_eq!(
            (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
            (0, Status::Unconscious, saves(0, 0))
        );
        // Lower at 0 HP: no failure either.
        let down = run(&d.sheet, &[save(3, 0)]);
        let d = ok(&down, &adjust(-5));
        assert_eq!(
            (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
            (0, Status::Unconscious, saves(0, 1))
        );
        let d = ok(&down, &adjust(3));
        assert_eq!(
            (d.sheet.hp, d.sheet.status, d.sheet.death_saves),
            (3, Status::Up, saves(0, 0))
        );
        assert_eq!(
            refused(&dead(ruleset, 20), &adjust(5)),
            Refusal::CharacterDead
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Turning the rules on, and undo

#[test]
fn enabling_clamps_a_legacy_sum_into_zero_and_the_maximum_and_records_it() {
    for ruleset in RULESETS {
        let s = setup(ruleset, 20);
        for (so_far, hp, status) in [
            (Some(35), 20, Status::Up),
            (Some(12), 12, Status::Up),
            (Some(-7), 0, Status::Unconscious),
            (None, 20, Status::Up),
        ] {
            let d = enable(&s, so_far).expect("enables");
            assert_eq!(
                d.outcome,
                Outcome::RulesEnabled {
                    rules: RulesSetup {
                        hp: Some(hp),
                        ..s.clone()
                    },
                    hp_before: so_far
                }
            );
            assert_eq!(
                (d.sheet.hp, d.sheet.max_hp(), d.sheet.status),
                (hp, 20, status)
            );
            assert_eq!(d.sheet, evolve(&Sheet::default(), &d.outcome));
        }
        // An HP given wins over the sum so far, and must fit the maximum.
        let given = RulesSetup {
            hp: Some(5),
            ..s.clone()
        };
        assert_eq!(enable(&given, Some(15)).expect("enables").sheet.hp, 5);
        let over = RulesSetup {
            hp: Some(21),
            ..s.clone()
        };
        assert!(matches!(
            enable(&over, None),
            Err(Refusal::InvalidAmount(_))
        ));
        for max_hp in [0, MAX_AMOUNT + 1] {
            assert!(matches!(
                enable(&setup(ruleset, max_hp), None),
                Err(Refusal::InvalidAmount(_))
            ));
        }
        // Once on, the rules are not turned on again.
        assert_eq!(
            refused(&fresh(ruleset, 20), &Command::Rules(s.clone())),
            Refusal::RulesEnabledAlready
        );
    }
}

#[test]
fn undo_restores_the_sheet_before_the_event() {
    for ruleset in RULESETS {
        let before = run(&fresh(ruleset, 20), &[temp(4), hit(3, Slashing)]);
        let d = ok(&before, &hit(9, Fire));
        let mut after = d.sheet.clone();
        after.remember(uuid::Uuid::from_u128(7));
        let event_id = uuid::Uuid::from_u128(42);
        let undone = undo(
            &after,
            UndoTarget {
                event_id,
                version: 3,
                outcome: Some(&d.outcome),
                before: Some(&before),
            },
        )
        .expect("the latest event can be undone");
        assert_eq!(
            undone.outcome,
            Outcome::Undone {
                event_id,
                version: 3,
                restored: Box::new(before.clone())
            }
        );
        assert_eq!(
            undone.sheet,
            Sheet {
                recent: after.recent.clone(),
                ..before.clone()
            }
        );
        assert_eq!(undone.sheet, evolve(&after, &undone.outcome));
        // Undo through the decider is for the store, which knows the latest event.
        let command = Command::Undo { event_id };
        assert_eq!(refused(&after, &command), Refusal::UndoNotLatest);
    }
}

fn target<'a>(outcome: &'a Outcome, before: Option<&'a Sheet>) -> UndoTarget<'a> {
    UndoTarget {
        event_id: uuid::Uuid::nil(),
        version: 2,
        outcome: Some(outcome),
        before,
    }
}

#[test]
fn undo_refuses_the_event_that_killed_and_the_event_that_turned_the_rules_on() {
    for ruleset in RULESETS {
        let alive = fresh(ruleset, 10);
        let d = ok(&alive, &hit(30, Fire));
        assert_eq!(
            undo(&d.sheet, target(&d.outcome, Some(&alive))).map(|d| d.sheet),
            Err(Refusal::UndoDeath)
        );
        let down = run(&dying(ruleset, 10), &[save(1, 0)]);
        let d = ok(&down, &save(5, 0));
        assert_eq!(
            undo(&d.sheet, target(&d.outcome, Some(&down))).map(|d| d.sheet),
            Err(Refusal::UndoDeath)
        );
        let d = ok(&alive, &max_change(-10, Until::LongRest));
        assert_eq!(
            undo(&d.sheet, target(&d.outcome, Some(&alive))).map(|d| d.sheet),
            Err(Refusal::UndoDeath)
        );
        let enabled = enable(&setup(ruleset, 10), None).expect("enables");
        assert_eq!(
            undo(&enabled.sheet, target(&enabled.outcome, None)).map(|d| d.sheet),
            Err(Refusal::UndoRules)
        );
        // An event from before the rules were on: there is no sheet to go back to.
        let d = ok(&alive, &heal(1));
        assert_eq!(
            undo(&d.sheet, target(&d.outcome, None)).map(|d| d.sheet),
            Err(Refusal::UndoRules)
        );
        // The revival can be undone: dead again.
        let corpse = dead(ruleset, 10);
        let d = ok(&corpse, &Command::Revive { hp: 3 });
        let back =
            undo(&d.sheet, target(&d.outcome, Some(&corpse))).expect("a revival can be undone");
        assert_eq!(back.sheet, corpse);
    }
}

#[test]
fn evolve_replays_the_recorded_numbers_whatever_the_rules_say_now() {
    let mut s = run(&with_dice(Srd2024, 30, "2d8", 0), &[temp(3)]);
    s.defences = defences(&[Fire], &[], &[]);
    let d = ok(&s, &hit(20, Fire));
    assert_eq!((d.sheet.hp, d.sheet.temp_hp), (23, 0));
    // The same event on a sheet whose defences have changed since: the same numbers.
    let mut changed = s.clone();
    changed.defences = defences(&[], &[Fire], &[]);
    let replayed = evolve(&changed, &d.outcome);
    assert_eq!((replayed.hp, replayed.temp_hp), (23, 0));
    // And a short rest under a changed Constitution modifier.
    let rest = ok(&d.sheet, &short_rest(&[(8, 2)]));
    let mut changed = d.sheet.clone();
    changed.con_modifier = 5;
    assert_eq!(evolve(&changed, &rest.outcome).hp, rest.sheet.hp);
}

// ---------------------------------------------------------------------------------------------
// Properties over seeded random command sequences

const SEEDS: u64 = 150;
const STEPS: usize = 400;

fn random_amount(rng: &mut Rng) -> u32 {
    match rng.u8(0..100) {
        0 => MAX_AMOUNT + rng.u32(0..=1),
        1..=5 => rng.u32(0..=200),
        _ => rng.u32(0..=25),
    }
}

fn random_defences(rng: &mut Rng) -> Defences {
    let mut d = Defences::default();
    for t in DamageType::ALL {
        match rng.u8(0..24) {
            0 => {
                d.resistances.insert(t);
            }
            1 => {
                d.vulnerabilities.insert(t);
            }
            2 => {
                d.immunities.insert(t);
            }
            3 => {
                d.resistances.insert(t);
                d.vulnerabilities.insert(t);
            }
            _ => {}
        }
    }
    d
}

fn random_hit_dice(rng: &mut Rng) -> HitDice {
    let terms: Vec<String> = (0..rng.usize(0..=3))
        .map(|_| format!("{}d{}", rng.u32(1..=5), DICE[rng.usize(..DICE.len())]))
        .collect();
    HitDice::parse(&terms.join("+")).expect("a valid pool")
}

fn random_setup(rng: &mut Rng, ruleset: Ruleset) -> (RulesSetup, Option<i64>) {
    let max_hp = rng.u32(1..=60);
    let setup = RulesSetup {
        max_hp,
        hp: if rng.u8(0..4) == 0 {
            Some(rng.u32(0..=max_hp))
        } else {
            None
        },
        hit_dice: random_hit_dice(rng),
        con_modifier: rng.i32(-5..=5),
        defences: random_defences(rng),
        ruleset,
    };
    let so_far = if rng.bool() {
        Some(rng.i64(-20..=80))
    } else {
        None
    };
    (setup, so_far)
}

fn random_command(rng: &mut Rng, sheet: &Sheet) -> Command {
    // Dead or dying characters are given what they can take more often than chance would.
    match sheet.status {
        Status::Dead if rng.u8(0..3) == 0 => {
            return Command::Revive {
                hp: rng.u32(0..=30),
            }
        }
        Status::Unconscious if rng.bool() => return save(rng.u32(0..=21), rng.i32(-3..=5)),
        _ => {}
    }
    match rng.u8(0..30) {
        0..=6 => {
            let parts = (0..rng.usize(1..=3))
                .map(|_| part(random_amount(rng), DamageType::ALL[rng.usize(..13)]))
                .collect();
            Command::Damage {
                parts,
                critical: rng.u8(0..5) == 0,
                halved: rng.u8(0..4) == 0,
                defences_override: (rng.u8(0..6) == 0).then(|| random_defences(rng)),
            }
        }
        7..=8 => heal(random_amount(rng)),
        9..=10 => Command::TempHp {
            amount: random_amount(rng),
            replace: rng.bool(),
        },
        11..=12 => Command::MaxHp {
            change: if rng.u8(0..50) == 0 {
                i64::from(MAX_AMOUNT) + 1
            } else {
                rng.i64(-12..=12)
            },
            until: if rng.bool() {
                Until::LongRest
            } else {
                Until::Permanent
            },
            raise_current: rng.bool(),
        },
        13..=17 => save(rng.u32(0..=21), rng.i32(-3..=5)),
        18 => Command::Stabilize,
        19..=20 => Command::Revive {
            hp: rng.u32(0..=30),
        },
        21..=22 => {
            let have: Vec<u32> = DICE
                .into_iter()
                .filter(|&d| sheet.hit_dice.count(d) > 0)
                .collect();
            let n = rng.usize(0..=3);
            let dice = (0..n)
                .map(|_| {
                    // Mostly the dice the character has.
                    let die = if have.is_empty() || rng.u8(0..3) == 0 {
                        DICE[rng.usize(..DICE.len())]
                    } else {
                        have[rng.usize(..have.len())]
                    };
                    SpentDie {
                        die,
                        roll: rng.u32(0..=die + 1),
                    }
                })
                .collect();
            Command::Rest {
                rest: RestKind::Short,
                hit_dice: dice,
            }
        }
        23 => Command::Rest {
            rest: RestKind::Long,
            hit_dice: if rng.u8(0..10) == 0 {
                vec![SpentDie { die: 8, roll: 1 }]
            } else {
                Vec::new()
            },
        },
        24..=25 => adjust(if rng.u8(0..50) == 0 {
            if rng.bool() {
                i64::MIN
            } else {
                i64::MAX
            }
        } else {
            rng.i64(-30..=30)
        }),
        26 => Command::Defences(random_defences(rng)),
        27 => Command::HitDice {
            hit_dice: random_hit_dice(rng),
        },
        28 => Command::Undo {
            event_id: uuid::Uuid::from_u128(rng.u128(..)),
        },
        _ => Command::Rules(random_setup(rng, sheet.ruleset).0),
    }
}

/// The invariants every sheet keeps.
fn check_sheet(sheet: &Sheet, at: &dyn Fn() -> String) {
    assert!(
        sheet.hp <= sheet.max_hp(),
        "HP over the maximum: {sheet:?} {}",
        at()
    );
    let up = sheet.hp > 0 && sheet.status != Status::Dead;
    assert_eq!(sheet.status == Status::Up, up, "status: {sheet:?} {}", at());
    if sheet.status == Status::Dead {
        assert_eq!(sheet.hp, 0, "dead with HP: {sheet:?} {}", at());
    }
    match sheet.status {
        Status::Unconscious => assert!(
            sheet.death_saves.successes < 3 && sheet.death_saves.failures < 3,
            "three saves yet dying: {sheet:?} {}",
            at()
        ),
        Status::Dead => {}
        Status::Up | Status::Stable => assert_eq!(
            sheet.death_saves,
            DeathSaves::default(),
            "death saves counted: {sheet:?} {}",
            at()
        ),
    }
    for die in DICE {
        assert!(
            sheet.hit_dice_left.count(die) <= sheet.hit_dice.count(die),
            "more d{die} left than had: {sheet:?} {}",
            at()
        );
    }
}

/// One seeded sequence: `STEPS` random commands (and undos of the latest event) from a random
/// setup, checking the properties after each.
fn random_sequence(seed: u64, ruleset: Ruleset) {
    let mut rng = Rng::with_seed(seed);
    let (setup, so_far) = random_setup(&mut rng, ruleset);
    let enabled = enable(&setup, so_far).expect("a random setup enables");
    let mut sheet = enabled.sheet;
    // Accepted events, each with the sheet before it (`None` for the rules turned on).
    let mut history: Vec<(Outcome, Option<Sheet>)> = vec![(enabled.outcome, None)];
    let mut folded = evolve(&Sheet::default(), &history[0].0);
    for step in 0..STEPS {
        // A character dead for good (a maximum of 0) starts over.
        if sheet.status == Status::Dead && sheet.max_hp() == 0 {
            let (setup, so_far) = random_setup(&mut rng, ruleset);
            let enabled = enable(&setup, so_far).expect("a random setup enables");
            sheet = enabled.sheet;
            history = vec![(enabled.outcome, None)];
            folded = evolve(&Sheet::default(), &history[0].0);
        }
        let undoing = rng.u8(0..15) == 0;
        let command = if undoing {
            Command::Undo {
                event_id: uuid::Uuid::nil(),
            }
        } else {
            random_command(&mut rng, &sheet)
        };
        let at = || format!("(seed {seed}, {ruleset:?}, step {step}, {command:?}, undo {undoing})");
        let result = if undoing {
            let (outcome, before) = history.last().expect("the rules event at least");
            undo(
                &sheet,
                UndoTarget {
                    event_id: uuid::Uuid::nil(),
                    version: history.len() as u64,
                    outcome: Some(outcome),
                    before: before.as_ref(),
                },
            )
        } else {
            decide(&command, &sheet)
        };
        // (3) A dead character changes only by revival (or by undoing an undo that made it
        // dead again); the rest is refused.
        if sheet.status == Status::Dead {
            match (&command, &result) {
                (Command::Revive { .. }, _) | (_, Err(_)) => {}
                (Command::Undo { .. }, Ok(_)) if undoing => assert!(
                    matches!(history.last(), Some((Outcome::Undone { .. }, _))),
                    "a dead character undid {:?} {}",
                    history.last(),
                    at()
                ),
                (_, Ok(d)) => panic!("a dead character accepted it: {:?} {}", d.outcome, at()),
            }
            if let Err(refusal) = &result {
                let expected = match (&command, undoing) {
                    (_, true) => Refusal::UndoDeath,
                    (Command::Rules(_), false) => Refusal::RulesEnabledAlready,
                    (Command::Revive { .. }, false) => {
                        assert!(
                            matches!(refusal, Refusal::InvalidAmount(_) | Refusal::NoMaximum),
                            "{refusal:?} {}",
                            at()
                        );
                        refusal.clone()
                    }
                    (_, false) => Refusal::CharacterDead,
                };
                assert_eq!(refusal, &expected, "{}", at());
            }
        }
        let Ok(decided) = result else {
            continue;
        };
        let after = &decided.sheet;
        // (1) and (5).
        check_sheet(after, &at);
        // (2) Only temporary HP raise temporary HP (an undo restores them).
        if !matches!(command, Command::TempHp { .. }) && !undoing {
            assert!(
                after.temp_hp <= sheet.temp_hp,
                "temporary HP raised {} → {}: {:?} {}",
                sheet.temp_hp,
                after.temp_hp,
                decided.outcome,
                at()
            );
        }
        if let Outcome::Damaged {
            parts,
            taken,
            temp_hp_absorbed,
            hp_lost,
            concentration_dc,
            ..
        } = &decided.outcome
        {
            assert_eq!(
                *taken,
                parts.iter().map(|p| p.taken).sum::<u32>(),
                "{}",
                at()
            );
            assert!(temp_hp_absorbed + hp_lost <= *taken, "{}", at());
            let dc = (taken / 2).max(10);
            let dc = if ruleset == Srd2024 { dc.min(30) } else { dc };
            assert_eq!(*concentration_dc, dc, "{}", at());
        }
        // (4) Folding `evolve` over the events gives the sheets `decide` answered.
        folded = evolve(&folded, &decided.outcome);
        assert_eq!(&folded, after, "evolve departs from decide {}", at());
        // The event reads back as written.
        let json = serde_json::to_string(&decided.outcome).expect("serialises");
        let back: Outcome = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, decided.outcome, "{json} {}", at());
        history.push((decided.outcome, Some(sheet)));
        sheet = decided.sheet;
    }
    // And from scratch.
    let replayed = history
        .iter()
        .fold(Sheet::default(), |s, (outcome, _)| evolve(&s, outcome));
    assert_eq!(
        replayed, sheet,
        "replay from scratch (seed {seed}, {ruleset:?})"
    );
}

#[test]
fn seeded_random_commands_keep_the_rules_invariants_under_both_rulesets() {
    for seed in 0..SEEDS {
        for ruleset in RULESETS {
            random_sequence(seed, ruleset);
        }
    }
}
