//! A character's life through every route of the API, on dynoxide: created, changed, read
//! whole and by pages; retries that are replays; and the 409 of a version conflict.

mod common;

use axum::http::{Method, StatusCode};
use common::{assert_error, assert_error_of, hit, test_api};
use hitpoints_http::Function;
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn a_characters_life_through_every_route() {
    let t = test_api(Function::All).await;
    let (status, body, response) = t
        .send(Method::POST, "/characters", Some(hit(8, "Init")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        response["location"].to_str().expect("ascii"),
        format!("/characters/{id}")
    );
    assert_eq!(body["events"][0]["version"], 0);
    assert!(body["events"][0]["event_id"].is_string());
    assert!(body["events"][0]["recorded_at"].is_string());

    let events_uri = format!("/characters/{id}/events");
    let (status, body, _) = t
        .send(
            Method::POST,
            &events_uri,
            Some(json!({"expected_version": 0, "events": [hit(-2, "goblin"), hit(-3, "bugbear")]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["events"][1]["version"], 2);

    let (status, body, _) = t
        .send(Method::GET, &format!("/characters/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"id": id, "character_name": "Nuru", "hp": 3, "version": 2, "source": "events",
                   "campaign_id": "00000000-0000-0000-0000-000000000000", "max_hp": null, "temp_hp": null, "status": null, "death_saves": null, "ruleset": null,
                   "defences": null, "hit_dice": null, "hit_dice_left": null, "con_modifier": null})
    );

    let (status, page, _) = t
        .send(Method::GET, &format!("{events_uri}?limit=2"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["events"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let (status, page, _) = t
        .send(
            Method::GET,
            &format!("{events_uri}?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["events"][0]["note"], "bugbear");
    assert_eq!(page["next_cursor"], Value::Null);

    let (status, page, _) = t
        .send(
            Method::GET,
            &format!("{events_uri}?direction=backward&from_version=1"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let versions: Vec<_> = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["version"].clone())
        .collect();
    assert_eq!(versions, vec![json!(1), json!(0)]);
}

#[tokio::test]
async fn retries_are_replays_not_duplicates() {
    let t = test_api(Function::All).await;
    let create = json!({"character_name": "Nuru", "hp_change": 8, "note": "Init", "event_id": Uuid::new_v4()});
    let (first, body1, _) = t
        .send(Method::POST, "/characters", Some(create.clone()))
        .await;
    let (again, body2, _) = t.send(Method::POST, "/characters", Some(create)).await;
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(body1, body2, "the same character, the same event");

    let id = body1["id"].as_str().expect("id");
    let uri = format!("/characters/{id}/events");
    let append = json!({"events": [{"character_name": "Nuru", "hp_change": -1, "note": "trap", "event_id": Uuid::new_v4()}]});
    let (first, body1, _) = t.send(Method::POST, &uri, Some(append.clone())).await;
    let (again, body2, _) = t.send(Method::POST, &uri, Some(append)).await;
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(body1, body2);
    let (_, state, _) = t
        .send(Method::GET, &format!("/characters/{id}"), None)
        .await;
    assert_eq!(
        (state["hp"].clone(), state["version"].clone()),
        (json!(7), json!(1))
    );
}

#[tokio::test]
async fn conflicts_are_409_with_both_versions() {
    let t = test_api(Function::All).await;
    let stream = t.seed_sample().await;
    let uri = format!("/characters/{stream}/events");
    for (expected, expected_json) in [
        (json!(5), json!(5)),
        (json!(0), json!(0)),
        (json!("no_stream"), json!("no_stream")),
    ] {
        let got = t
            .send(
                Method::POST,
                &uri,
                Some(json!({"expected_version": expected, "events": [hit(-1, "x")]})),
            )
            .await;
        let case = format!("expected_version {expected_json}");
        assert_error_of(&case, &got, StatusCode::CONFLICT, "version_conflict");
        assert_eq!(got.1["expected_version"], expected_json, "{case}");
        assert_eq!(got.1["current_version"], 2, "{case}");
    }
    let missing = Uuid::new_v4();
    let got = t
        .send(
            Method::POST,
            &format!("/characters/{missing}/events"),
            Some(json!({"expected_version": 3, "events": [hit(1, "x")]})),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "version_conflict");
    assert_eq!(got.1["current_version"], Value::Null);
}

/// A 409 says what kind of conflict it is, in fields of its own.
#[tokio::test]
async fn a_conflict_says_whether_ids_were_reused_or_partly_replayed() {
    let t = test_api(Function::All).await;
    let (_, created, _) = t
        .send(Method::POST, "/characters", Some(hit(8, "Init")))
        .await;
    let id = created["id"].as_str().expect("id");
    let uri = format!("/characters/{id}/events");
    let a =
        json!({"character_name": "Nuru", "hp_change": -1, "note": "a", "event_id": Uuid::new_v4()});
    let b =
        json!({"character_name": "Nuru", "hp_change": -2, "note": "b", "event_id": Uuid::new_v4()});
    let (status, _, _) = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"expected_version": 0, "events": [a, b]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut b_changed = b.clone();
    b_changed["hp_change"] = json!(-20);
    let got = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"expected_version": 0, "events": [a, b_changed]})),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "version_conflict");
    assert_eq!(
        (
            got.1["event_ids_reused"].clone(),
            got.1["partial_replay"].clone()
        ),
        (json!(true), json!(false))
    );
    let fresh =
        json!({"character_name": "Nuru", "hp_change": -3, "note": "c", "event_id": Uuid::new_v4()});
    let got = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"expected_version": 0, "events": [a, fresh]})),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "version_conflict");
    assert_eq!(
        (
            got.1["event_ids_reused"].clone(),
            got.1["partial_replay"].clone()
        ),
        (json!(false), json!(true))
    );
    assert_eq!(got.1["current_version"], 2);
    assert_eq!(got.1["expected_version"], 0);
}
