//! The rules, rule by rule, under both rulesets where they differ; and the decider's
//! properties over seeded random command sequences.
