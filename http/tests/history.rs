//! HP as it was (`at_version`, `as_of`) and the party (`GET /characters`), through the router
//! on dynoxide.

use aws_sdk_dynamodb::types::AttributeValue;
use axum::http::{Method, StatusCode};
use hitpoints::hp::SnapshotStore;
use hitpoints::store::EventStore;
use hitpoints::ExpectedVersion;
use hitpoints_http::{Api, Function, Router};
use hitpoints_testkit::{call, event, test_db, TestDb};
use serde_json::{json, Value};
use uuid::Uuid;

struct Party {
    router: Router,
    store: EventStore,
    snapshots: SnapshotStore,
    db: TestDb,
}

async fn party() -> Party {
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    Party {
        router: Api::new(store.clone())
            .with_snapshots(snapshots.clone())
            .router(Function::All),
        store,
        snapshots,
        db,
    }
}

impl Party {
    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (status, body, _) = call(&self.router, Method::GET, uri, None).await;
        (status, body)
    }

    async fn project(&self, stream: Uuid) {
        hitpoints_testkit::project_stream(&self.store, &self.snapshots, stream).await;
    }

    /// Writes an event item with a `RecordedAt` of the test's choosing.
    async fn put_at(&self, table: &str, stream: Uuid, version: u64, hp: i64, at: Option<&str>) {
        let mut put = self
            .db
            .client
            .put_item()
            .table_name(table)
            .item("Id", AttributeValue::S(stream.to_string()))
            .item("Version", AttributeValue::N(version.to_string()))
            .item("CharacterName", AttributeValue::S("Nuru".into()))
            .item("CharacterHitPoints", AttributeValue::N(hp.to_string()))
            .item("Note", AttributeValue::S(format!("event {version}")))
            .item("EventId", AttributeValue::S(Uuid::new_v4().to_string()));
        if let Some(at) = at {
            put = put.item("RecordedAt", AttributeValue::S(at.to_owned()));
        }
        put.send().await.expect("put an event item");
    }
}

#[track_caller]
fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "body: {}", got.1);
    assert_eq!(got.1["error"], code, "body: {}", got.1);
    assert!(got.1["message"].as_str().is_some_and(|m| m.len() > 10));
}

#[tokio::test]
async fn at_version_folds_exactly_the_versions_up_to_it() {
    let p = party().await;
    let stream = Uuid::new_v4();
    let changes = [10, -3, -4, 2, -1];
    for (i, hp) in changes.iter().enumerate() {
        p.store
            .append(
                stream,
                ExpectedVersion::Any,
                vec![event(&format!("Nuru {i}"), *hp, "n")],
            )
            .await
            .expect("append");
    }
    for n in 0..changes.len() {
        let (status, body) = p.get(&format!("/characters/{stream}?at_version={n}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let hp: i64 = changes[..=n].iter().sum();
        assert_eq!(
            body,
            json!({"id": stream, "character_name": format!("Nuru {n}"), "hp": hp,
                   "version": n, "source": "events", "at_version": n,
                   "campaign_id": "00000000-0000-0000-0000-000000000000",
                   // A character without rules: the rules' fields are null.
                   "max_hp": null, "temp_hp": null, "status": null, "death_saves": null, "ruleset": null,
                   "defences": null, "hit_dice": null, "hit_dice_left": null, "con_modifier": null})
        );
    }
    let got = p.get(&format!("/characters/{stream}?at_version=5")).await;
    assert_error(&got, StatusCode::NOT_FOUND, "version_not_found");
    let got = p
        .get(&format!("/characters/{}?at_version=0", Uuid::new_v4()))
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "stream_not_found");
    for bad in ["-1", "x", "1.5", "", "18446744073709551616"] {
        let got = p
            .get(&format!("/characters/{stream}?at_version={bad}"))
            .await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_at_version");
    }
}

#[tokio::test]
async fn as_of_compares_instants_and_stops_at_the_first_later_event() {
    let p = party().await;
    let table = p.db.events_table().await;
    let store = EventStore::new(p.db.client.clone(), table.clone());
    let router = Api::new(store).router(Function::Query);
    let get = |uri: String| {
        let router = router.clone();
        async move {
            let (status, body, _) = call(&router, Method::GET, &uri, None).await;
            (status, body)
        }
    };
    let stream = Uuid::new_v4();
    // Version 0 has no RecordedAt (the source material's code); 1 at a whole second, written
    // without a fraction (as stored timestamps are), 2 a fraction later; 3 recorded after a
    // clock stepped back, 4 later again.
    p.put_at(&table, stream, 0, 10, None).await;
    p.put_at(&table, stream, 1, -1, Some("2026-11-29T20:00:00Z"))
        .await;
    p.put_at(&table, stream, 2, -2, Some("2026-11-29T20:00:00.5Z"))
        .await;
    p.put_at(&table, stream, 3, -3, Some("2026-11-29T19:59:00Z"))
        .await;
    p.put_at(&table, stream, 4, -4, Some("2026-11-29T21:00:00Z"))
        .await;
    let at = |time: &str| format!("/characters/{stream}?as_of={}", time.replace('+', "%2B"));
    for (time, version, hp) in [
        // Before anything with a time: only the event without one.
        ("1970-01-01T00:00:00Z", 0, 10),
        // As text "…20:00:00Z" sorts after "…20:00:00.5Z"; as instants it comes first.
        ("2026-11-29T20:00:00Z", 1, 9),
        ("2026-11-29T20:00:00.4Z", 1, 9),
        // Version 3, recorded at 19:59 after the clock stepped back, follows in the prefix.
        ("2026-11-29T20:00:00.5Z", 3, 4),
        // The same instant with an offset.
        ("2026-11-29T21:00:00.5+01:00", 3, 4),
        // Version 3 was recorded at 19:59, but version 1 (20:00) ends the prefix before it.
        ("2026-11-29T19:59:30Z", 0, 10),
        ("2026-11-29T20:30:00Z", 3, 4),
        ("2026-11-29T21:00:00Z", 4, 0),
    ] {
        let (status, body) = get(at(time)).await;
        assert_eq!(status, StatusCode::OK, "{time}: {body}");
        assert_eq!(
            (body["version"].clone(), body["hp"].clone()),
            (json!(version), json!(hp)),
            "{time}"
        );
        assert_eq!(body["source"], "events");
    }

    // A stream whose first event has a time: nothing by an earlier one.
    let late = Uuid::new_v4();
    p.put_at(&table, late, 0, 5, Some("2026-11-29T20:00:00Z"))
        .await;
    let got = get(format!("/characters/{late}?as_of=2026-11-29T19:00:00Z")).await;
    assert_error(&got, StatusCode::NOT_FOUND, "no_event_as_of");
    let got = get(format!(
        "/characters/{}?as_of=2026-11-29T19:00:00Z",
        Uuid::new_v4()
    ))
    .await;
    assert_error(&got, StatusCode::NOT_FOUND, "stream_not_found");
    for bad in [
        "yesterday",
        "2026-11-29",
        "2026-11-29T20:00:00",
        "2026-13-01T00:00:00Z",
        "",
    ] {
        let got = get(format!("/characters/{stream}?as_of={bad}")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_as_of");
    }
}

#[tokio::test]
async fn at_version_as_of_and_consistent_exclude_each_other() {
    let p = party().await;
    let stream = Uuid::new_v4();
    p.store
        .append(
            stream,
            ExpectedVersion::NoStream,
            vec![event("Nuru", 8, "n")],
        )
        .await
        .expect("append");
    for query in [
        "at_version=0&consistent=true",
        "at_version=0&consistent=false",
        "as_of=2099-01-01T00:00:00Z&consistent=true",
        "at_version=0&as_of=2099-01-01T00:00:00Z",
    ] {
        let got = p.get(&format!("/characters/{stream}?{query}")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "conflicting_parameters");
    }
    let (status, body) = p
        .get(&format!("/characters/{stream}?as_of=2099-01-01T00:00:00Z"))
        .await;
    assert_eq!((status, body["hp"].clone()), (StatusCode::OK, json!(8)));
}

#[tokio::test]
async fn the_party_pages_through_every_snapshot_with_its_latest_event() {
    let p = party().await;
    let (status, body) = p.get("/characters").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"characters": [], "next_cursor": null})
        )
    );
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..25 {
        let stream = Uuid::new_v4();
        let events = vec![
            event(&format!("Hero {i}"), 20 + i, "Init"),
            event(&format!("Hero {i}"), -i, &format!("Hit {i}")),
        ];
        let stored = p
            .store
            .append(stream, ExpectedVersion::NoStream, events)
            .await
            .expect("append")
            .events;
        p.project(stream).await;
        expected.insert(stream.to_string(), (20, stored[1].clone()));
    }
    let mut seen = std::collections::BTreeMap::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/characters?limit=7&cursor={c}"),
            None => "/characters?limit=7".to_owned(),
        };
        let (status, body) = p.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        let characters = body["characters"].as_array().expect("characters");
        assert!(characters.len() <= 7);
        for c in characters {
            let id = c["id"].as_str().expect("id").to_owned();
            assert!(seen.insert(id, c.clone()).is_none(), "once each");
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // 25 at 7 a page: 4 pages, the last one short, and no empty page after it.
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 25);
    for (id, (hp, last)) in expected {
        let c = &seen[&id];
        assert_eq!(c["hp"], json!(hp), "{c}");
        assert_eq!(c["version"], json!(1));
        assert_eq!(c["character_name"], json!(last.character_name));
        assert_eq!(c["last_hp_change"], json!(last.hp_change));
        assert_eq!(c["last_note"], json!(last.note));
        assert_eq!(c["last_recorded_at"], json!(last.recorded_at));
    }
    // Exactly a page's worth: no cursor to an empty page.
    let (_, body) = p.get("/characters?limit=25").await;
    assert_eq!(body["characters"].as_array().map(Vec::len), Some(25));
    assert_eq!(body["next_cursor"], Value::Null);
}

#[tokio::test]
async fn the_party_refuses_bad_limits_and_foreign_cursors() {
    let p = party().await;
    let stream = Uuid::new_v4();
    p.store
        .append(
            stream,
            ExpectedVersion::NoStream,
            vec![event("Nuru", 8, "n")],
        )
        .await
        .expect("append");
    for bad in ["0", "1001", "-1", "x"] {
        let got = p.get(&format!("/characters?limit={bad}")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_limit");
    }
    // A cursor of a stream's events is not a cursor of the party.
    let (_, page) = p.get(&format!("/characters/{stream}/events?limit=1")).await;
    let stream_cursor = page["next_cursor"].as_str().map(str::to_owned);
    let stream_cursor = stream_cursor.unwrap_or_else(|| {
        hitpoints::store::Cursor {
            stream,
            direction: hitpoints::Direction::Forward,
            version: 1,
        }
        .encode()
    });
    for bad in [stream_cursor.as_str(), "garbage", "aHAxOnBhcnR5"] {
        let got = p.get(&format!("/characters?cursor={bad}")).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_cursor");
    }
    let got = p.get("/characters?sort=hp").await;
    assert_error(&got, StatusCode::BAD_REQUEST, "unknown_parameter");
}

#[tokio::test]
async fn a_snapshot_that_cannot_be_read_is_left_out_of_the_party() {
    let p = party().await;
    let stream = Uuid::new_v4();
    p.store
        .append(
            stream,
            ExpectedVersion::NoStream,
            vec![event("Nuru", 8, "n")],
        )
        .await
        .expect("append");
    p.project(stream).await;
    p.db.client
        .put_item()
        .table_name(p.snapshots.table())
        .item("Id", AttributeValue::S(Uuid::new_v4().to_string()))
        .item("HitPoints", AttributeValue::S("lots".into()))
        .send()
        .await
        .expect("put a damaged snapshot");
    let (status, body) = p.get("/characters").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body["characters"]
        .as_array()
        .expect("characters")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, vec![stream.to_string().as_str()]);
}
