//! Who may do what: the caller as the edge established them, their role in a campaign, and the
//! one decision every request goes through. Pure: where the caller and the role come from (API
//! Gateway's authorizers, the local run, the memberships table) is the caller's business.
//!
//! - An **operator** (an IAM principal: a person with AWS credentials, or a service) may do
//!   everything, and alone may use the listings of everything and the default campaign.
//! - A **signed-in person** may create a campaign, and becomes its Dungeon Master. The DM may do
//!   everything in it. A **player** (invited) reads its party, its feed and its characters, and
//!   runs the rules' player commands (damage, healing, temporary HP, death saves, rests) on the
//!   characters assigned to them: nothing else.
//! - The answers: no verified identity is 401; a member without the right is 403; anyone else
//!   is 404, as for an id that does not exist, so ids cannot be probed (a person asking for the
//!   operator's listings is not a member of anything there: 404 too).
//! - A request that touches several campaigns (a hit on many targets, a move) is decided once
//!   per campaign it touches, and allowed only if each allows it.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::domain::DEFAULT_CAMPAIGN;

/// Who is calling, as the edge verified it. Headers from a client never say who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No verified identity.
    Anonymous,
    /// An IAM principal (its ARN), or the local run without sign-in.
    Operator { principal: String },
    /// A signed-in person: their token's `sub`.
    Person { sub: String },
}

/// A person's place in one campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The campaign's Dungeon Master (who created it).
    Dm,
    /// A player, with the characters the DM assigned them.
    Player { characters: BTreeSet<Uuid> },
}

/// What a request does, as the rules of access see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The listings of everything (every character, the feed of every character of the default
    /// campaign, every campaign): the operator's.
    Operate,
    /// Create a campaign: any signed-in person, who becomes its DM.
    CreateCampaign,
    /// Read a campaign: the campaign itself, its party, its feed, a character and its history.
    Read,
    /// A player command (damage, healing, temporary HP, death saves, rests) on these
    /// characters of the campaign (a request over several campaigns: one decision per campaign,
    /// with its own targets).
    PlayerCommand { targets: Vec<Uuid> },
    /// Everything else in a campaign: create, assign or move characters, append plain events,
    /// the DM's commands (maximum HP, defences, hit dice, stabilise, revive, undo, rules), invite
    /// and remove players.
    Manage,
}

/// What a request is answered with, before it does anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// 401: no verified identity.
    Unauthenticated,
    /// 403: a member of the campaign without the right.
    Forbidden,
    /// 404: not a member; answered as an id that does not exist.
    NotFound,
}

/// The one decision: may `caller`, whose role in `campaign` is `role` (`None`: not a member),
/// do `action` there? For [`Action::Operate`] and [`Action::CreateCampaign`], `campaign` and
/// `role` are not looked at.
pub fn decide(caller: &Caller, campaign: Uuid, role: Option<&Role>, action: &Action) -> Decision {
    match caller {
        Caller::Anonymous => Decision::Unauthenticated,
        Caller::Operator { .. } => Decision::Allow,
        Caller::Person { .. } => match action {
            Action::CreateCampaign => Decision::Allow,
            Action::Operate => Decision::NotFound,
            // The default campaign has no members: it is the operator's.
            _ if campaign == DEFAULT_CAMPAIGN => Decision::NotFound,
            _ => match role {
                None => Decision::NotFound,
                Some(Role::Dm) => Decision::Allow,
                Some(Role::Player { characters }) => match action {
                    Action::Read => Decision::Allow,
                    Action::PlayerCommand { targets }
                        if !targets.is_empty()
                            && targets.iter().all(|t| characters.contains(t)) =>
                    {
                        Decision::Allow
                    }
                    _ => Decision::Forbidden,
                },
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Caller {
        Caller::Person {
            sub: "0b1c2d3e-player".into(),
        }
    }

    /// Every caller, role and action, against the rules as the module states them.
    #[test]
    fn the_rules_of_access() {
        let campaign = Uuid::new_v4();
        let (mine, theirs) = (Uuid::new_v4(), Uuid::new_v4());
        let player = Role::Player {
            characters: BTreeSet::from([mine]),
        };
        let actions = [
            Action::Operate,
            Action::CreateCampaign,
            Action::Read,
            Action::PlayerCommand {
                targets: vec![mine],
            },
            Action::PlayerCommand {
                targets: vec![mine, theirs],
            },
            Action::PlayerCommand { targets: vec![] },
            Action::Manage,
        ];
        use Decision::{Allow as A, Forbidden as F, NotFound as N, Unauthenticated as U};
        // One row per (caller, role): the decision for each action above, in order.
        let operator = Caller::Operator {
            principal: "arn:aws:iam::123456789012:user/ops".into(),
        };
        let table: [(&Caller, Option<&Role>, [Decision; 7]); 5] = [
            (&Caller::Anonymous, Some(&Role::Dm), [U, U, U, U, U, U, U]),
            (&operator, None, [A, A, A, A, A, A, A]),
            (&person(), Some(&Role::Dm), [N, A, A, A, A, A, A]),
            (&person(), Some(&player), [N, A, A, A, F, F, F]),
            (&person(), None, [N, A, N, N, N, N, N]),
        ];
        for (caller, role, expected) in table {
            for (action, want) in actions.iter().zip(expected) {
                assert_eq!(
                    decide(caller, campaign, role, action),
                    want,
                    "{caller:?} as {role:?}: {action:?}"
                );
            }
        }
        // The default campaign is the operator's alone, whatever a person holds.
        for action in [Action::Read, Action::Manage] {
            assert_eq!(
                decide(&person(), DEFAULT_CAMPAIGN, Some(&Role::Dm), &action),
                Decision::NotFound
            );
            assert_eq!(
                decide(&operator, DEFAULT_CAMPAIGN, None, &action),
                Decision::Allow
            );
        }
    }
}
