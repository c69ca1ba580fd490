//! The rules of hit points through the API, on dynoxide: a character under the rules from
//! creation to death and back; what every reader of the table sees; retries, races, dry runs,
//! undo and a hit on many targets; and each refusal's status and code.

#[allow(dead_code)]
mod common;

use axum::http::{Method, StatusCode};
use common::{assert_error_of, test_api, TestApi};
use hitpoints::store::item_bytes;
use hitpoints_http::Function;
use serde_json::{json, Value};
use uuid::Uuid;

/// Creates a character under the rules; its id.
async fn create(t: &TestApi, body: Value) -> String {
    let (status, answer, _) = t.send(Method::POST, "/characters", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer["id"].as_str().expect("an id").to_owned()
}

/// The character as the fold of its events has it (`?consistent=true`).
async fn consistent(t: &TestApi, id: &str) -> Value {
    let (status, body, _) = t
        .send(
            Method::GET,
            &format!("/characters/{id}?consistent=true"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Sends a command; its status and answer.
async fn command(t: &TestApi, id: &str, route: &str, body: Value) -> (StatusCode, Value) {
    let (status, answer, _) = t
        .send(
            Method::POST,
            &format!("/characters/{id}/{route}"),
            Some(body),
        )
        .await;
    (status, answer)
}

/// Sends a command that must be written; its answer.
/// Sends a command that must be written; its answer. The fold of the stored events up to
/// the new version (`at_version`) must be the state the command answered.
async fn written(t: &TestApi, id: &str, route: &str, body: Value) -> Value {
    let (status, answer) = command(t, id, route, body).await;
    assert_eq!(status, StatusCode::CREATED, "{route}: {answer}");
    let version = &answer["event"]["version"];
    let (status, folded, _) = t
        .send(
            Method::GET,
            &format!("/characters/{id}?at_version={version}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{folded}");
    for (field, value) in answer["state"].as_object().expect("a state") {
        assert_eq!(
            &folded[field], value,
            "{route}: {field} folded {folded}, answered {answer}"
        );
    }
    answer
}

fn nuru() -> Value {
    json!({"character_name": "Nuru", "max_hp": 20, "hit_dice": "2d10", "con_modifier": 1,
           "defences": {"resistances": ["fire"]}, "ruleset": "5e-2014"})
}

#[tokio::test]
async fn a_character_under_the_rules_falls_dies_and_is_revived() {
    let t = test_api(Function::All).await;
    let id = create(&t, nuru()).await;

    // 14 fire, resisted: 7 taken; concentration DC 10.
    let a = written(&t, &id, "damage", json!({"amount": 14, "type": "fire"})).await;
    assert_eq!(a["event"]["event_type"], "damaged");
    assert_eq!(a["event"]["outcome"]["parts"][0]["taken"], 7);
    assert_eq!(a["event"]["outcome"]["parts"][0]["resisted"], true);
    assert_eq!(a["concentration_dc"], 10);
    assert_eq!(
        (a["state"]["hp"].clone(), a["state"]["max_hp"].clone()),
        (json!(13), json!(20))
    );
    assert_eq!(a["event"]["hp_change"], -7);

    // Temporary HP absorb damage first.
    written(&t, &id, "temp-hp", json!({"amount": 5})).await;
    let a = written(
        &t,
        &id,
        "damage",
        json!({"parts": [{"amount": 6, "type": "slashing"},
        {"amount": 4, "type": "fire"}]}),
    )
    .await;
    assert_eq!(a["event"]["outcome"]["taken"], 8);
    assert_eq!(a["event"]["outcome"]["temp_hp_absorbed"], 5);
    assert_eq!(
        (a["state"]["hp"].clone(), a["state"]["temp_hp"].clone()),
        (json!(10), json!(0))
    );

    // Healing stops at the maximum.
    let a = written(&t, &id, "healing", json!({"amount": 100})).await;
    assert_eq!(a["event"]["outcome"]["regained"], 10);
    assert_eq!(a["state"]["hp"], 20);

    // 30 bludgeoning: 0 HP with 10 left over, under the maximum: unconscious, dying.
    let a = written(
        &t,
        &id,
        "damage",
        json!({"amount": 30, "type": "bludgeoning"}),
    )
    .await;
    assert_eq!(a["event"]["outcome"]["fell_unconscious"], true);
    assert_eq!(a["state"]["status"], "unconscious");
    // A natural 1 is two failures; damage at 0 HP one more: dead.
    let a = written(&t, &id, "death-saves", json!({"roll": 1})).await;
    assert_eq!(
        a["state"]["death_saves"],
        json!({"successes": 0, "failures": 2})
    );
    let a = written(&t, &id, "damage", json!({"amount": 1, "type": "piercing"})).await;
    assert_eq!(a["event"]["outcome"]["died"], true);
    assert_eq!(a["state"]["status"], "dead");

    // Dead: only revive.
    let (status, answer) = command(&t, &id, "healing", json!({"amount": 5})).await;
    assert_error_of(
        "healing the dead",
        &(status, answer, Default::default()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "character_dead",
    );
    let a = written(&t, &id, "revive", json!({"hp": 5})).await;
    assert_eq!(
        (a["state"]["hp"].clone(), a["state"]["status"].clone()),
        (json!(5), json!("up"))
    );

    // The fold of the events says the same as the last answer.
    let (status, body, _) = t
        .send(
            Method::GET,
            &format!("/characters/{id}?consistent=true"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for field in [
        "hp",
        "max_hp",
        "temp_hp",
        "status",
        "death_saves",
        "ruleset",
        "defences",
        "version",
    ] {
        assert_eq!(body[field], a["state"][field], "{field}: {body}");
    }
}

#[tokio::test]
async fn every_item_keeps_what_other_readers_of_the_table_read() {
    let t = test_api(Function::All).await;
    let id = create(&t, nuru()).await;
    written(&t, &id, "damage", json!({"amount": 9, "type": "cold"})).await;
    written(&t, &id, "temp-hp", json!({"amount": 4})).await;
    written(
        &t,
        &id,
        "damage",
        json!({"amount": 30, "type": "fire", "halved": true}),
    )
    .await;
    written(
        &t,
        &id,
        "healing",
        json!({"amount": 3, "note": "Healing word"}),
    )
    .await;
    written(
        &t,
        &id,
        "max-hp",
        json!({"change": -4, "until": "long_rest"}),
    )
    .await;
    written(
        &t,
        &id,
        "rests",
        json!({"kind": "short", "hit_dice": [{"die": 10, "roll": 6}]}),
    )
    .await;
    let (_, last, _) = t
        .send(
            Method::POST,
            &format!("/characters/{id}/events"),
            Some(json!({"events": [
            {"character_name": "Nuru", "hp_change": -50, "note": "a fall"}]})),
        )
        .await;
    assert_eq!(last["events"][0]["hp_change"], -16, "clamped to 0: {last}");

    // The sum of CharacterHitPoints over the items (none a SNAPSHOT) is the HP, each item
    // has a name and a note, and an ordinary one stays within 1 KB.
    // Twenty more commands: the last ones carry 20 remembered command ids.
    for _ in 0..20 {
        written(&t, &id, "temp-hp", json!({"amount": 1})).await;
    }
    let table = t.store.table().to_owned();
    let items = t
        ._db
        .client
        .query()
        .table_name(&table)
        .key_condition_expression("Id = :id")
        .expression_attribute_values(
            ":id",
            aws_sdk_dynamodb::types::AttributeValue::S(id.clone()),
        )
        .send()
        .await
        .expect("query")
        .items
        .unwrap_or_default();
    assert_eq!(items.len(), 28);
    let mut sum = 0i64;
    for item in &items {
        let text = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        let number = item
            .get("CharacterHitPoints")
            .and_then(|v| v.as_n().ok())
            .expect("a number");
        sum += number.parse::<i64>().expect("whole");
        assert!(!text("Note").is_empty() && text("Note") != "SNAPSHOT");
        assert_eq!(text("CharacterName"), "Nuru");
        assert!(!text("EventType").is_empty(), "{item:?}");
        assert!(
            item_bytes(item) <= 1024,
            "{} bytes: {item:?}",
            item_bytes(item)
        );
    }
    let state = consistent(&t, &id).await;
    assert_eq!(json!(sum), state["hp"], "{state}");
    assert_eq!(state["status"], "unconscious");
}

#[tokio::test]
async fn a_character_without_rules_gets_them_and_the_source_materials_items_are_clamped() {
    let t = test_api(Function::All).await;
    let (_, created, _) = t
        .send(
            Method::POST,
            "/characters",
            Some(json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"})),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let legacy = consistent(&t, &id).await;
    assert_eq!(
        (
            legacy["hp"].clone(),
            legacy["max_hp"].clone(),
            legacy["status"].clone()
        ),
        (json!(8), Value::Null, Value::Null)
    );

    let (status, answer) = command(&t, &id, "damage", json!({"amount": 3, "type": "fire"})).await;
    assert_error_of(
        "no rules",
        &(status, answer, Default::default()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "rules_not_enabled",
    );

    // Rules on: 8 is clamped to the maximum of 5, and the clamp is recorded.
    let a = written(&t, &id, "rules", json!({"max_hp": 5})).await;
    assert_eq!(a["event"]["outcome"]["hp_before"], 8);
    assert_eq!(
        (a["state"]["hp"].clone(), a["event"]["hp_change"].clone()),
        (json!(5), json!(-3))
    );
    let (status, answer) = command(&t, &id, "rules", json!({"max_hp": 9})).await;
    assert_error_of(
        "twice",
        &(status, answer, Default::default()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "rules_enabled_already",
    );

    // The source material's code appends -10 at HP 5: read as a plain change, clamped to 0.
    let stream = Uuid::parse_str(&id).expect("uuid");
    let table = t.store.table().to_owned();
    t._db
        .put_source_item(&table, stream, 2, ("Nuru", -10, "Go code"))
        .await;
    let state = consistent(&t, &id).await;
    assert_eq!(
        (state["hp"].clone(), state["status"].clone()),
        (json!(0), json!("unconscious")),
        "{state}"
    );
    // A command decides on the clamped state.
    let a = written(&t, &id, "healing", json!({"amount": 2})).await;
    assert_eq!(
        (
            a["event"]["version"].clone(),
            a["state"]["hp"].clone(),
            a["state"]["status"].clone()
        ),
        (json!(3), json!(2), json!("up"))
    );
}

#[tokio::test]
async fn a_retry_is_answered_from_the_stored_event_even_after_other_commands() {
    let t = test_api(Function::All).await;
    let id = create(&t, nuru()).await;
    let event_id = Uuid::new_v4();
    let hit = json!({"amount": 4, "type": "acid", "event_id": event_id});
    let first = written(&t, &id, "damage", hit.clone()).await;
    for _ in 0..5 {
        written(&t, &id, "healing", json!({"amount": 1})).await;
    }
    let (status, again) = command(&t, &id, "damage", hit.clone()).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["event"], first["event"]);
    assert_eq!(again["state"], first["state"]);
    // A body that is not valid is refused as such, even with a remembered id.
    let (status, answer) = command(
        &t,
        &id,
        "damage",
        json!({"amount": 4, "type": "acid", "event_id": event_id, "note": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    // The same id for another command is a conflict, not a second hit.
    let (status, other) = command(
        &t,
        &id,
        "damage",
        json!({"amount": 5, "type": "acid", "event_id": event_id}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{other}");
    assert_eq!(other["event_ids_reused"], true);
    let state = consistent(&t, &id).await;
    assert_eq!(state["version"], 6, "nothing written twice: {state}");
}

#[tokio::test]
async fn two_tables_damaging_one_character_at_once_are_both_applied() {
    let t = test_api(Function::All).await;
    let id = create(&t, json!({"character_name": "Nuru", "max_hp": 100})).await;
    let hits = (0..8).map(|_| command(&t, &id, "damage", json!({"amount": 3, "type": "force"})));
    let answers = futures_util::future::join_all(hits).await;
    for (status, answer) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{answer}");
    }
    let state = consistent(&t, &id).await;
    assert_eq!(
        (state["hp"].clone(), state["version"].clone()),
        (json!(76), json!(8)),
        "{state}"
    );
    // With expected_version, a stale writer gets its 409.
    let (status, answer) = command(
        &t,
        &id,
        "damage",
        json!({"amount": 3, "type": "force", "expected_version": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_an_undo_restores_the_state_before() {
    let t = test_api(Function::All).await;
    let id = create(&t, nuru()).await;
    let (status, preview) = command(
        &t,
        &id,
        "damage",
        json!({"amount": 8, "type": "cold", "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["state"]["hp"], 12);
    let state = consistent(&t, &id).await;
    assert_eq!(
        (state["hp"].clone(), state["version"].clone()),
        (json!(20), json!(0))
    );

    let hit = written(&t, &id, "damage", json!({"amount": 8, "type": "cold"})).await;
    let undone = written(
        &t,
        &id,
        "undo",
        json!({"event_id": hit["event"]["event_id"]}),
    )
    .await;
    assert_eq!(undone["event"]["event_type"], "undone");
    assert_eq!(
        (
            undone["state"]["hp"].clone(),
            undone["event"]["version"].clone()
        ),
        (json!(20), json!(2))
    );
    // The same undo again: its own id derives from the event it undoes, so it is a replay.
    let (status, answer) = command(
        &t,
        &id,
        "undo",
        json!({"event_id": hit["event"]["event_id"]}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a retry of the same undo is its replay: {answer}"
    );
    let heal = written(&t, &id, "healing", json!({"amount": 1})).await;
    written(&t, &id, "damage", json!({"amount": 1, "type": "cold"})).await;
    let (status, answer) = command(
        &t,
        &id,
        "undo",
        json!({"event_id": heal["event"]["event_id"]}),
    )
    .await;
    assert_error_of(
        "not latest",
        &(status, answer, Default::default()),
        StatusCode::CONFLICT,
        "undo_not_latest",
    );
    // An event that killed cannot be undone.
    let death = written(&t, &id, "damage", json!({"amount": 60, "type": "cold"})).await;
    assert_eq!(death["state"]["status"], "dead");
    let (status, answer) = command(
        &t,
        &id,
        "undo",
        json!({"event_id": death["event"]["event_id"]}),
    )
    .await;
    assert_error_of(
        "death",
        &(status, answer, Default::default()),
        StatusCode::CONFLICT,
        "undo_death",
    );
}

#[tokio::test]
async fn one_fireball_on_many_targets_is_one_transaction_with_one_correlation_id() {
    let t = test_api(Function::All).await;
    let resistant = create(&t, nuru()).await;
    let plain = create(&t, json!({"character_name": "Bryn", "max_hp": 30})).await;
    let event_id = Uuid::new_v4();
    let fireball = json!({"amount": 32, "type": "fire", "event_id": event_id, "note": "Fireball",
        "targets": [{"id": resistant, "halved": true}, {"id": plain}]});
    let (status, answer, _) = t
        .send(Method::POST, "/damage", Some(fireball.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["correlation_id"], json!(event_id));
    let targets = answer["targets"].as_array().expect("targets");
    assert_eq!(
        targets[0]["event"]["outcome"]["taken"], 8,
        "32 halved, resisted"
    );
    assert_eq!(targets[1]["event"]["outcome"]["taken"], 32);
    assert_eq!(targets[1]["state"]["status"], "unconscious");
    for target in targets {
        assert_eq!(target["event"]["correlation_id"], json!(event_id));
    }
    let (status, again, _) = t.send(Method::POST, "/damage", Some(fireball)).await;
    assert_eq!(status, StatusCode::OK, "a retry is a replay: {again}");

    // A target that refuses fails the whole hit: nothing written to the other.
    let legacy = t
        .send(
            Method::POST,
            "/characters",
            Some(json!({"character_name": "Old", "hp_change": 5, "note": "Init"})),
        )
        .await
        .1["id"]
        .clone();
    let (status, _, _) = t
        .send(
            Method::POST,
            "/damage",
            Some(json!({"amount": 2, "type": "fire", "targets": [{"id": plain}, {"id": legacy}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, refused, _) = t
        .send(
            Method::POST,
            "/damage",
            Some(json!({"amount": 2, "type": "fire", "targets": [{"id": plain}, {"id": legacy}]})),
        )
        .await;
    assert_eq!(refused["error"], "rules_not_enabled", "{refused}");
    let state = consistent(&t, &plain).await;
    assert_eq!(state["version"], 1, "{state}");
    let many: Vec<Value> = (0..101).map(|_| json!({"id": Uuid::new_v4()})).collect();
    let got = t
        .send(
            Method::POST,
            "/damage",
            Some(json!({"amount": 1, "type": "fire", "targets": many})),
        )
        .await;
    assert_error_of(
        "101 targets",
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "too_many_targets",
    );
}

#[tokio::test]
async fn each_refusal_has_its_status_and_code() {
    let t = test_api(Function::All).await;
    let id = create(
        &t,
        json!({"character_name": "Nuru", "max_hp": 10, "hit_dice": "1d8", "ruleset": "5e-2024"}),
    )
    .await;
    #[rustfmt::skip]
    let cases: [(&str, Value, StatusCode, &str); 11] = [
        ("damage", json!({"amount": 3, "type": "sonic"}), StatusCode::UNPROCESSABLE_ENTITY, "unknown_damage_type"),
        ("damage", json!({"amount": -3, "type": "fire"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
        ("damage", json!({"amount": 3}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
        ("damage", json!({"amount": null, "type": "fire"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
        ("death-saves", json!({"roll": 12}), StatusCode::UNPROCESSABLE_ENTITY, "not_dying"),
        ("stabilize", json!({}), StatusCode::UNPROCESSABLE_ENTITY, "not_dying"),
        ("revive", json!({"hp": 1}), StatusCode::UNPROCESSABLE_ENTITY, "not_dead"),
        ("rests", json!({"kind": "short", "hit_dice": [{"die": 10, "roll": 3}]}), StatusCode::UNPROCESSABLE_ENTITY, "no_hit_dice"),
        ("rests", json!({"kind": "short", "hit_dice": [{"die": 8, "roll": 9}]}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_roll"),
        ("hit-dice", json!({"hit_dice": "3d7"}), StatusCode::UNPROCESSABLE_ENTITY, "invalid_hit_dice"),
        ("max-hp", json!({"change": 2, "until": "tomorrow"}), StatusCode::BAD_REQUEST, "invalid_body"),
    ];
    for (route, body, status, code) in cases {
        let (got, answer) = command(&t, &id, route, body.clone()).await;
        assert_error_of(
            &format!("{route} {body}"),
            &(got, answer, Default::default()),
            status,
            code,
        );
    }
    written(&t, &id, "damage", json!({"amount": 10, "type": "fire"})).await;
    let (got, answer) = command(&t, &id, "rests", json!({"kind": "long"})).await;
    assert_error_of(
        "long rest at 0",
        &(got, answer, Default::default()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "rest_needs_hp",
    );
    let (got, answer) = command(&t, &id, "death-saves", json!({"roll": 21})).await;
    assert_error_of(
        "roll 21",
        &(got, answer, Default::default()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_roll",
    );
    let state = consistent(&t, &id).await;
    assert_eq!(state["version"], 1, "no refusal wrote anything: {state}");
}

#[tokio::test]
async fn a_plain_retry_after_other_commands_is_a_replay_and_ids_and_expectations_are_kept() {
    let t = test_api(Function::All).await;
    let id = create(&t, nuru()).await;
    let event_id = Uuid::new_v4();
    let append = json!({"events": [{"character_name": "Nuru", "hp_change": -4, "note": "a fall",
        "event_id": event_id}]});
    let uri = format!("/characters/{id}/events");
    let (status, first, _) = t.send(Method::POST, &uri, Some(append.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        first["state"]["hp"], 16,
        "the plain answer carries the state: {first}"
    );
    written(&t, &id, "healing", json!({"amount": 1})).await;
    let (status, again, _) = t.send(Method::POST, &uri, Some(append)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a replay, not a second fall: {again}"
    );
    assert_eq!(again["events"], first["events"]);
    let state = consistent(&t, &id).await;
    assert_eq!(
        (state["hp"].clone(), state["version"].clone()),
        (json!(17), json!(2))
    );

    // A command expecting no stream on a character that exists: 409; rules for no one: 404.
    let (status, answer) = command(
        &t,
        &id,
        "healing",
        json!({"amount": 1, "expected_version": "no_stream"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let nobody = Uuid::new_v4();
    let (status, answer) = command(&t, &nobody.to_string(), "rules", json!({"max_hp": 5})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, answer) = command(
        &t,
        &nobody.to_string(),
        "damage",
        json!({"amount": 1, "type": "fire"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
}
