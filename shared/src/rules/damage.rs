//! Damage types, a character's defences, and the damage a hit's part deals after them.
//! SRD 5.1 "Damage and Healing: Damage Types, Damage Resistance and Vulnerability";
//! SRD 5.2.1 "Damage and Healing: Damage Types, Resistance and Vulnerability, Immunity".

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The 13 damage types, by their SRD names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DamageType {
    Acid,
    Bludgeoning,
    Cold,
    Fire,
    Force,
    Lightning,
    Necrotic,
    Piercing,
    Poison,
    Psychic,
    Radiant,
    Slashing,
    Thunder,
}

impl DamageType {
    pub const ALL: [DamageType; 13] = [
        DamageType::Acid,
        DamageType::Bludgeoning,
        DamageType::Cold,
        DamageType::Fire,
        DamageType::Force,
        DamageType::Lightning,
        DamageType::Necrotic,
        DamageType::Piercing,
        DamageType::Poison,
        DamageType::Psychic,
        DamageType::Radiant,
        DamageType::Slashing,
        DamageType::Thunder,
    ];

    /// The type named `name` (lower case, as the SRD names it), if there is one.
    pub fn parse(name: &str) -> Option<DamageType> {
        DamageType::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            DamageType::Acid => "acid",
            DamageType::Bludgeoning => "bludgeoning",
            DamageType::Cold => "cold",
            DamageType::Fire => "fire",
            DamageType::Force => "force",
            DamageType::Lightning => "lightning",
            DamageType::Necrotic => "necrotic",
            DamageType::Piercing => "piercing",
            DamageType::Poison => "poison",
            DamageType::Psychic => "psychic",
            DamageType::Radiant => "radiant",
            DamageType::Slashing => "slashing",
            DamageType::Thunder => "thunder",
        }
    }
}

/// A character's resistances, vulnerabilities and immunities. Sets: several sources of
/// resistance to one type count once (SRD 5.1: "Multiple instances of resistance or
/// vulnerability that affect the same damage type count as only one instance").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Defences {
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub resistances: BTreeSet<DamageType>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub vulnerabilities: BTreeSet<DamageType>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub immunities: BTreeSet<DamageType>,
}

/// One part of a hit: an amount of one type, as rolled at the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DamagePart {
    pub amount: u32,
    #[serde(rename = "type")]
    pub damage_type: DamageType,
}

/// What one part of a hit dealt, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PartTaken {
    /// The amount rolled.
    pub amount: u32,
    #[serde(rename = "type")]
    pub damage_type: DamageType,
    /// The damage taken from this part after the save and the defences.
    pub taken: u32,
    /// Halved by a successful save.
    #[serde(default, skip_serializing_if = "is_false")]
    pub halved: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub resisted: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub vulnerable: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub immune: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

impl Defences {
    /// The damage `part` deals to a creature with these defences. The order is the SRD's:
    /// a save's half (rounded down) first, then resistance (half, rounded down), then
    /// vulnerability (double); immunity makes it 0 (SRD 5.1 "Damage Resistance and
    /// Vulnerability": "Resistance and then vulnerability are applied after all other
    /// modifiers to damage"; SRD 5.2.1 "Order of Application").
    pub fn apply(&self, part: DamagePart, halved: bool) -> PartTaken {
        let t = part.damage_type;
        let immune = self.immunities.contains(&t);
        let resisted = !immune && self.resistances.contains(&t);
        let vulnerable = !immune && self.vulnerabilities.contains(&t);
        let mut taken = part.amount;
        if halved {
            taken /= 2;
        }
        if resisted {
            taken /= 2;
        }
        if vulnerable {
            taken = taken.saturating_mul(2);
        }
        if immune {
            taken = 0;
        }
        PartTaken {
            amount: part.amount,
            damage_type: t,
            taken,
            halved,
            resisted,
            vulnerable,
            immune,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defences(r: &[DamageType], v: &[DamageType], i: &[DamageType]) -> Defences {
        Defences {
            resistances: r.iter().copied().collect(),
            vulnerabilities: v.iter().copied().collect(),
            immunities: i.iter().copied().collect(),
        }
    }

    #[test]
    fn a_save_halves_first_then_resistance_then_vulnerability_each_rounding_down() {
        let fire = |amount| DamagePart {
            amount,
            damage_type: DamageType::Fire,
        };
        let none = Defences::default();
        assert_eq!(none.apply(fire(15), false).taken, 15);
        assert_eq!(none.apply(fire(15), true).taken, 7);
        let resistant = defences(&[DamageType::Fire], &[], &[]);
        assert_eq!(resistant.apply(fire(15), false).taken, 7);
        // 15 halved by the save is 7, resisted is 3 (not 15 / 4 = 3.75 rounded once).
        assert_eq!(resistant.apply(fire(15), true).taken, 3);
        let vulnerable = defences(&[], &[DamageType::Fire], &[]);
        assert_eq!(vulnerable.apply(fire(15), false).taken, 30);
        assert_eq!(vulnerable.apply(fire(15), true).taken, 14);
        // Both: resistance first, then vulnerability: 15 → 7 → 14.
        let both = defences(&[DamageType::Fire], &[DamageType::Fire], &[]);
        assert_eq!(both.apply(fire(15), false).taken, 14);
        let immune = defences(
            &[DamageType::Fire],
            &[DamageType::Fire],
            &[DamageType::Fire],
        );
        let taken = immune.apply(fire(15), false);
        assert_eq!(
            (taken.taken, taken.immune, taken.resisted),
            (0, true, false)
        );
        // Other types are untouched.
        let cold = DamagePart {
            amount: 9,
            damage_type: DamageType::Cold,
        };
        assert_eq!(resistant.apply(cold, false).taken, 9);
    }

    #[test]
    fn thirteen_types_by_their_srd_names() {
        assert_eq!(DamageType::ALL.len(), 13);
        for t in DamageType::ALL {
            assert_eq!(DamageType::parse(t.name()), Some(t));
            let json = serde_json::to_string(&t).expect("serialises");
            assert_eq!(json, format!("\"{}\"", t.name()));
        }
        assert_eq!(DamageType::parse("Fire"), None);
        assert_eq!(DamageType::parse("sonic"), None);
    }
}
