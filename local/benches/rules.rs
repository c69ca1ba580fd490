//! The rules' cost per command: `decide` (which evolves the sheet it answers) and `evolve`
//! alone, on a damage of two parts against defences and on a healing, in nanoseconds. Prints
//! the median of 15 rounds of 100,000 commands each; asserts nothing about time.

use std::hint::black_box;
use std::time::Instant;

use hitpoints::rules::{
    decide, enable, evolve, Command, DamagePart, DamageType, Defences, HitDice, RulesSetup, Ruleset,
};

const ROUNDS: usize = 15;
const COMMANDS: usize = 100_000;

fn main() {
    let setup = RulesSetup {
        max_hp: 1_000,
        hp: None,
        hit_dice: HitDice::parse("5d10").expect("hit dice"),
        con_modifier: 2,
        defences: Defences {
            resistances: [DamageType::Fire].into(),
            vulnerabilities: [DamageType::Cold].into(),
            immunities: [DamageType::Poison].into(),
        },
        ruleset: Ruleset::Srd2024,
    };
    let start = enable(&setup, None).expect("rules on").sheet;
    let hit = Command::Damage {
        parts: vec![
            DamagePart {
                amount: 14,
                damage_type: DamageType::Fire,
            },
            DamagePart {
                amount: 6,
                damage_type: DamageType::Slashing,
            },
        ],
        critical: false,
        halved: true,
        defences_override: None,
    };
    let heal = Command::Healing { amount: 9 };
    let hit_outcome = decide(&hit, &start).expect("a hit").outcome;

    let mut decide_ns = Vec::with_capacity(ROUNDS);
    let mut evolve_ns = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let mut sheet = start.clone();
        let began = Instant::now();
        for i in 0..COMMANDS {
            let command = if i % 2 == 0 { &hit } else { &heal };
            sheet = decide(black_box(command), &sheet).expect("decided").sheet;
        }
        decide_ns.push(began.elapsed().as_nanos() as f64 / COMMANDS as f64);
        black_box(&sheet);

        let mut sheet = start.clone();
        let began = Instant::now();
        for _ in 0..COMMANDS {
            sheet = evolve(&sheet, black_box(&hit_outcome));
            if sheet.hp < 100 {
                sheet.hp = 1_000;
            }
        }
        evolve_ns.push(began.elapsed().as_nanos() as f64 / COMMANDS as f64);
        black_box(&sheet);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "decide (with its evolve), damage of 2 parts and healing alternately: {:.0} ns per command",
        median(decide_ns)
    );
    println!(
        "evolve alone, the damage's outcome: {:.0} ns per event",
        median(evolve_ns)
    );
}
