//! Campaigns through the router on dynoxide: campaigns created, read and listed; two campaigns
//! whose parties and feeds never mix; a move between campaigns; the default campaign holding
//! earlier data and answering the old feed's positions.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use hitpoints::campaign::CampaignStore;
use hitpoints::domain::DEFAULT_CAMPAIGN;
use hitpoints::feed::FeedStore;
use hitpoints::hp::{Audit, Mode, Progress, SnapshotStore};
use hitpoints::store::EventStore;
use hitpoints_http::{Api, Function, Router};
use hitpoints_testkit::{call, index_stream, project_stream, test_db, TestDb};
use serde_json::{json, Value};
use uuid::Uuid;

const NIL: &str = "00000000-0000-0000-0000-000000000000";

struct Table {
    router: Router,
    store: EventStore,
    snapshots: SnapshotStore,
    feed: FeedStore,
    _campaigns: CampaignStore,
    db: TestDb,
}

async fn table() -> Table {
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let feed = db.feed().await;
    let campaigns = db.campaigns().await;
    Table {
        router: Api::new(store.clone())
            .with_snapshots(snapshots.clone())
            .with_feed(feed.clone())
            .with_campaigns(campaigns.clone())
            .router(Function::All),
        store,
        snapshots,
        feed,
        _campaigns: campaigns,
        db,
    }
}

impl Table {
    async fn send(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, body, _) = call(&self.router, method, uri, body).await;
        (status, body)
    }

    async fn get(&self, uri: &str) -> Value {
        let (status, body) = self.send(Method::GET, uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        body
    }

    async fn campaign(&self, name: &str, ruleset: &str) -> String {
        let (status, body) = self
            .send(
                Method::POST,
                "/campaigns",
                Some(json!({"name": name, "dm_name": "Ana", "ruleset": ruleset})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("an id").to_owned()
    }

    /// A character created in `campaign` (`None`: no campaign_id), then projected and indexed
    /// as the stream would.
    async fn character(&self, name: &str, campaign: Option<&str>, rules: bool) -> Uuid {
        let mut body = if rules {
            json!({"character_name": name, "max_hp": 20})
        } else {
            json!({"character_name": name, "hp_change": 12, "note": "Init"})
        };
        if let Some(campaign) = campaign {
            body["campaign_id"] = json!(campaign);
        }
        let (status, body) = self.send(Method::POST, "/characters", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
        self.sync(id).await;
        id
    }

    async fn hit(&self, id: Uuid, hp: i64) {
        let body = json!({"events": [{"character_name": "x", "hp_change": hp, "note": "hit"}]});
        let uri = format!("/characters/{id}/events");
        let (status, body) = self.send(Method::POST, &uri, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.sync(id).await;
    }

    /// The projector and the indexer on every event of the character.
    async fn sync(&self, id: Uuid) {
        project_stream(&self.store, &self.snapshots, id).await;
        index_stream(&self.store, &self.feed, id).await;
    }

    /// The ids in a campaign's party, every page of `limit`.
    async fn party(&self, campaign: &str, limit: usize) -> Vec<String> {
        let mut ids = Vec::new();
        let mut uri = format!("/campaigns/{campaign}/characters?limit={limit}");
        loop {
            let page = self.get(&uri).await;
            for c in page["characters"].as_array().expect("characters") {
                assert_eq!(c["campaign_id"], json!(campaign), "{c}");
                ids.push(c["id"].as_str().expect("id").to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    uri = format!("/campaigns/{campaign}/characters?limit={limit}&cursor={cursor}")
                }
                None => return ids,
            }
        }
    }

    /// A feed's entries as (character, version, position).
    async fn feed_of(&self, path: &str) -> Vec<(String, u64, String)> {
        let body = self.get(&format!("{path}?limit=1000")).await;
        body["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| {
                (
                    e["id"].as_str().expect("id").to_owned(),
                    e["version"].as_u64().expect("version"),
                    e["position"].as_str().expect("position").to_owned(),
                )
            })
            .collect()
    }
}

#[tokio::test]
async fn campaigns_are_created_read_and_listed() {
    let t = table().await;
    let (status, body, headers) = call(
        &t.router,
        Method::POST,
        "/campaigns",
        Some(json!({"name": "Curse of Strahd", "dm_name": "Ana"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        body,
        json!({"id": id, "name": "Curse of Strahd", "dm_name": "Ana", "ruleset": "5e-2024"})
    );
    assert_eq!(headers["location"], format!("/campaigns/{id}").as_str());
    assert_eq!(t.get(&format!("/campaigns/{id}")).await, body);
    let default =
        json!({"id": NIL, "name": "Default campaign", "dm_name": "", "ruleset": "5e-2024"});
    assert_eq!(t.get(&format!("/campaigns/{NIL}")).await, default);

    let mut made = BTreeSet::from([id.clone()]);
    for n in 0..4 {
        made.insert(t.campaign(&format!("Table {n}"), "5e-2014").await);
    }
    // Every page of one: the default campaign first, then each campaign once.
    let mut listed = Vec::new();
    let mut uri = "/campaigns?limit=1".to_owned();
    loop {
        let page = t.get(&uri).await;
        let campaigns = page["campaigns"].as_array().expect("campaigns");
        assert_eq!(campaigns.len(), 1, "{page}");
        listed.push(campaigns[0]["id"].as_str().expect("id").to_owned());
        match page["next_cursor"].as_str() {
            Some(cursor) => uri = format!("/campaigns?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(listed[0], NIL);
    assert_eq!(listed.len(), 6, "{listed:?}");
    assert_eq!(listed[1..].iter().cloned().collect::<BTreeSet<_>>(), made);
    let whole = t.get("/campaigns").await;
    assert_eq!(whole["campaigns"].as_array().map(Vec::len), Some(6));
    assert_eq!(whole["next_cursor"], Value::Null);

    // Errors.
    let missing = Uuid::new_v4();
    for uri in [
        format!("/campaigns/{missing}"),
        format!("/campaigns/{missing}/characters"),
        format!("/campaigns/{missing}/events"),
    ] {
        let (status, body) = t.send(Method::GET, &uri, None).await;
        assert_eq!(
            (status, body["error"].clone()),
            (StatusCode::NOT_FOUND, json!("campaign_not_found")),
            "{uri}"
        );
    }
    let (status, body) = t.send(Method::GET, "/campaigns/strahd", None).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_id"))
    );
    for (bad, code, status) in [
        (
            json!({"name": " ", "dm_name": "Ana"}),
            "invalid_campaign",
            422,
        ),
        (
            json!({"name": "x".repeat(101), "dm_name": "Ana"}),
            "invalid_campaign",
            422,
        ),
        (
            json!({"name": "Strahd", "dm_name": ""}),
            "invalid_campaign",
            422,
        ),
        (json!({"name": "Strahd"}), "invalid_body", 400),
        (
            json!({"name": "Strahd", "dm_name": "Ana", "ruleset": "4e"}),
            "invalid_body",
            400,
        ),
        (
            json!({"name": "Strahd", "dm_name": "Ana", "colour": "red"}),
            "invalid_body",
            400,
        ),
    ] {
        let (got, body) = t.send(Method::POST, "/campaigns", Some(bad.clone())).await;
        assert_eq!(
            (got.as_u16(), body["error"].clone()),
            (status, json!(code)),
            "{bad}"
        );
    }
    let (status, body) = t.send(Method::GET, "/campaigns?cursor=abc", None).await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_cursor"))
    );
}

#[tokio::test]
async fn two_campaigns_never_mix_in_party_or_feed() {
    let t = table().await;
    let (a, b) = (
        t.campaign("Strahd", "5e-2014").await,
        t.campaign("Avernus", "5e-2024").await,
    );
    let a1 = t.character("Ireena", Some(&a), true).await;
    let a2 = t.character("Ismark", Some(&a), false).await;
    let b1 = t.character("Lulu", Some(&b), true).await;
    let d1 = t.character("Nuru", None, false).await;
    t.hit(a1, -3).await;
    t.hit(b1, -4).await;
    t.hit(a2, -1).await;
    t.hit(d1, 2).await;

    // A new character under the rules takes its campaign's ruleset.
    for (id, ruleset) in [(a1, "5e-2014"), (b1, "5e-2024")] {
        let state = t.get(&format!("/characters/{id}")).await;
        assert_eq!(state["ruleset"], json!(ruleset), "{state}");
    }
    assert_eq!(
        t.get(&format!("/characters/{a2}")).await["campaign_id"],
        json!(a)
    );

    let sorted = |mut ids: Vec<Uuid>| {
        ids.sort_unstable_by_key(|id| id.to_string());
        ids.into_iter().map(|id| id.to_string()).collect::<Vec<_>>()
    };
    // Each party by one Query, in the order of the ids, whatever the page size.
    assert_eq!(t.party(&a, 100).await, sorted(vec![a1, a2]));
    assert_eq!(t.party(&a, 1).await, sorted(vec![a1, a2]));
    assert_eq!(t.party(&b, 1).await, sorted(vec![b1]));
    assert_eq!(t.party(NIL, 10).await, sorted(vec![d1]));
    // A cursor pages its own listing only: campaign a's is refused on b and on every character's.
    let page = t.get(&format!("/campaigns/{a}/characters?limit=1")).await;
    let cursor = page["next_cursor"].as_str().expect("a second page");
    for uri in [
        format!("/campaigns/{b}/characters?cursor={cursor}"),
        format!("/characters?cursor={cursor}"),
    ] {
        let (status, body) = t.send(Method::GET, &uri, None).await;
        assert_eq!(
            (status, body["error"].clone()),
            (StatusCode::BAD_REQUEST, json!("invalid_cursor")),
            "{uri}"
        );
    }
    // The operator's listing still has everyone.
    let everyone = t.get("/characters").await;
    assert_eq!(everyone["characters"].as_array().map(Vec::len), Some(4));

    // Each feed has its own characters' events, positions from 1, each once.
    let feed_a = t.feed_of(&format!("/campaigns/{a}/events")).await;
    let feed_b = t.feed_of(&format!("/campaigns/{b}/events")).await;
    let feed_d = t.feed_of("/events").await;
    let characters =
        |feed: &[(String, u64, String)]| feed.iter().map(|e| e.0.clone()).collect::<BTreeSet<_>>();
    assert_eq!(
        characters(&feed_a),
        BTreeSet::from([a1.to_string(), a2.to_string()])
    );
    assert_eq!(characters(&feed_b), BTreeSet::from([b1.to_string()]));
    assert_eq!(characters(&feed_d), BTreeSet::from([d1.to_string()]));
    assert_eq!((feed_a.len(), feed_b.len(), feed_d.len()), (4, 2, 2));
    for feed in [&feed_a, &feed_b, &feed_d] {
        let positions: Vec<u64> = feed.iter().map(|e| e.2.parse().expect("digits")).collect();
        assert_eq!(positions, (1..=feed.len() as u64).collect::<Vec<_>>());
    }
    // The default campaign's feed is GET /events, entry for entry.
    assert_eq!(t.feed_of(&format!("/campaigns/{NIL}/events")).await, feed_d);
}

#[tokio::test]
async fn a_move_is_the_last_entry_of_the_old_feed_and_the_first_of_the_new() {
    let t = table().await;
    let (a, b) = (
        t.campaign("Strahd", "5e-2014").await,
        t.campaign("Avernus", "5e-2024").await,
    );
    let id = t.character("Ireena", Some(&a), true).await;
    t.hit(id, -3).await;
    let uri = format!("/characters/{id}/campaign");
    let (status, body) = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"campaign_id": b, "expected_version": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let moved = &body["events"][0];
    assert_eq!(
        (
            moved["version"].clone(),
            moved["event_type"].clone(),
            moved["campaign_id"].clone(),
            moved["moved_from"].clone(),
            moved["hp_change"].clone(),
            moved["note"].clone()
        ),
        (
            json!(2),
            json!("moved"),
            json!(b),
            json!(a),
            json!(0),
            json!("Moved to Avernus")
        )
    );
    t.sync(id).await;
    // A move is not undone (that would be a move back, in both feeds): the move route does it.
    let undo = format!("/characters/{id}/undo");
    let moved_id = moved["event_id"].clone();
    let (status, body) = t
        .send(Method::POST, &undo, Some(json!({"event_id": moved_id})))
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].clone()),
        (422, json!("undo_move")),
        "{body}"
    );
    t.hit(id, -2).await;

    // The rules carry over: HP 20 - 3 - 2, its ruleset unchanged.
    let state = t.get(&format!("/characters/{id}?consistent=true")).await;
    assert_eq!(
        (
            state["hp"].clone(),
            state["ruleset"].clone(),
            state["campaign_id"].clone()
        ),
        (json!(15), json!("5e-2014"), json!(b))
    );
    let versions =
        |feed: Vec<(String, u64, String)>| feed.into_iter().map(|e| e.1).collect::<Vec<_>>();
    assert_eq!(
        versions(t.feed_of(&format!("/campaigns/{a}/events")).await),
        vec![0, 1, 2]
    );
    assert_eq!(
        versions(t.feed_of(&format!("/campaigns/{b}/events")).await),
        vec![2, 3]
    );
    assert!(t.party(&a, 10).await.is_empty());
    assert_eq!(t.party(&b, 10).await, vec![id.to_string()]);

    // In that campaign already: nothing written.
    let (status, body) = t
        .send(Method::POST, &uri, Some(json!({"campaign_id": b})))
        .await;
    assert_eq!(
        (status, body["events"].clone()),
        (StatusCode::OK, json!([])),
        "{body}"
    );
    // Back to the default campaign, with a note of the caller's.
    let (status, body) = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"campaign_id": NIL, "note": "Left the party"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    t.sync(id).await;
    assert_eq!(versions(t.feed_of("/events").await), vec![4]);
    assert_eq!(
        versions(t.feed_of(&format!("/campaigns/{b}/events")).await),
        vec![2, 3, 4]
    );

    // Refusals.
    let unknown = Uuid::new_v4();
    for (body, status, code) in [
        (json!({"campaign_id": unknown}), 422, "unknown_campaign"),
        (
            json!({"campaign_id": a, "expected_version": 1}),
            409,
            "version_conflict",
        ),
        (json!({}), 400, "invalid_body"),
        (json!({"campaign_id": "strahd"}), 400, "invalid_body"),
    ] {
        let (got, answer) = t.send(Method::POST, &uri, Some(body.clone())).await;
        assert_eq!(
            (got.as_u16(), answer["error"].clone()),
            (status, json!(code)),
            "{body}"
        );
    }
    let nobody = format!("/characters/{}/campaign", Uuid::new_v4());
    let (got, answer) = t
        .send(Method::POST, &nobody, Some(json!({"campaign_id": a})))
        .await;
    assert_eq!(
        (got, answer["error"].clone()),
        (StatusCode::NOT_FOUND, json!("stream_not_found"))
    );
    // A new character in a campaign that does not exist is refused, and nothing is written.
    let (got, answer) = t
        .send(
            Method::POST,
            "/characters",
            Some(
                json!({"character_name": "x", "hp_change": 1, "note": "n", "campaign_id": unknown}),
            ),
        )
        .await;
    assert_eq!(
        (got.as_u16(), answer["error"].clone()),
        (422, json!("unknown_campaign"))
    );
}

#[tokio::test]
async fn earlier_data_is_the_default_campaigns_and_a_rebuild_puts_it_in_the_party() {
    let t = table().await;
    // The source material's items: no CampaignId.
    let go = Uuid::new_v4();
    for (version, hp) in [(0, 8), (1, -2)] {
        t.db.put_source_item(t.store.table(), go, version, ("Nuru", hp, "n"))
            .await;
    }
    index_stream(&t.store, &t.feed, go).await;
    let feed = t.feed_of("/events").await;
    assert_eq!(
        feed.iter().map(|e| (e.1, e.2.as_str())).collect::<Vec<_>>(),
        vec![(0, "00000000000000000001"), (1, "00000000000000000002")]
    );
    assert_eq!(t.feed_of(&format!("/campaigns/{NIL}/events")).await, feed);
    // An old checkpoint reads on from where it was.
    let after = t.get("/events?after=00000000000000000001").await;
    assert_eq!(after["events"][0]["version"], 1);
    assert_eq!(
        t.get(&format!("/characters/{go}")).await["campaign_id"],
        json!(NIL)
    );

    // A snapshot written before campaigns has no CampaignId: out of every campaign's party
    // until a rebuild writes the campaign.
    t.db.client
        .put_item()
        .table_name(t.snapshots.table())
        .item(
            "Id",
            aws_sdk_dynamodb::types::AttributeValue::S(go.to_string()),
        )
        .item(
            "CharacterName",
            aws_sdk_dynamodb::types::AttributeValue::S("Nuru".into()),
        )
        .item(
            "HitPoints",
            aws_sdk_dynamodb::types::AttributeValue::N("6".into()),
        )
        .item(
            "Version",
            aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
        )
        .item(
            "UpdatedAt",
            aws_sdk_dynamodb::types::AttributeValue::S("2026-11-29T20:00:00Z".into()),
        )
        .send()
        .await
        .expect("an old snapshot");
    assert!(t.party(NIL, 10).await.is_empty());
    let progress = Progress::default();
    let audit = Audit {
        events: &t.store,
        snapshots: &t.snapshots,
        segments: 1,
        progress: &progress,
    };
    let verified = audit.run(Mode::Verify).await.expect("verify");
    assert_eq!(verified.wrong, vec![go.to_string()], "{verified:?}");
    let rebuilt = audit.run(Mode::Rebuild).await.expect("rebuild");
    assert!(rebuilt.all_agree(Mode::Rebuild), "{rebuilt:?}");
    assert_eq!(t.party(NIL, 10).await, vec![go.to_string()]);
    // A new character without a campaign, written by this code, is the default campaign's.
    let plain = t.character("Lulu", None, false).await;
    let item = t.store.read_all(plain).await.expect("events");
    assert_eq!(item[0].campaign_id, Some(DEFAULT_CAMPAIGN));
}

#[tokio::test]
async fn a_campaigns_long_poll_answers_with_its_own_event_not_another_campaigns() {
    let t = table().await;
    let (a, b) = (
        t.campaign("Strahd", "5e-2014").await,
        t.campaign("Avernus", "5e-2024").await,
    );
    let in_a = t.character("Ireena", Some(&a), false).await;
    let in_b = t.character("Lulu", Some(&b), false).await;
    let head = t
        .get(&format!("/campaigns/{a}/events?direction=backward&limit=1"))
        .await;
    let after = head["next"].as_str().expect("next").to_owned();
    let waiting = {
        let router = t.router.clone();
        let uri = format!("/campaigns/{a}/events?after={after}&wait=10");
        tokio::spawn(async move {
            let (status, body, _) = call(&router, Method::GET, &uri, None).await;
            (status, body, std::time::Instant::now())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Another campaign's event does not answer it.
    t.hit(in_b, -4).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "answered by another campaign's event"
    );
    t.hit(in_a, -3).await;
    let appended = std::time::Instant::now();
    let (status, body, answered) = waiting.await.expect("the waiting read");
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = body["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(
        (events[0]["id"].clone(), events[0]["hp_change"].clone()),
        (json!(in_a), json!(-3))
    );
    assert!(answered.duration_since(appended) < std::time::Duration::from_secs(5));
    // A page is capped by limit, and next resumes after it.
    let first = t.get(&format!("/campaigns/{a}/events?limit=1")).await;
    let next = first["next"].as_str().expect("next");
    let rest = t.get(&format!("/campaigns/{a}/events?after={next}")).await;
    assert_eq!(first["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["events"][0]["hp_change"], json!(-3));
}
