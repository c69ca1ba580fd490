//! The sample events in `events/`, fed through lambda_http as API Gateway would send them, to
//! the function the template routes each to: every one gets the status the README says.

use axum::http::Method;
use hitpoints::metrics::{EmfWriter, Metrics};
use hitpoints_http::metrics::emf_after_each_request;
use hitpoints_http::{Api, Function};
use hitpoints_testkit::{call_lambda, emf_documents, emf_value, test_db};
use serde_json::{json, Value};

/// Every sample in `events/`, as API Gateway sends it, through lambda_http and the function
/// that the template routes it to, on one table that starts empty: the good ones in the order
/// the README runs them (create, append, reads), each a 2xx; then each bad one. A sample not
/// listed here fails the test.
#[tokio::test]
async fn every_sample_event_gets_its_status_in_the_readmes_order() {
    let in_order: &[(&str, u16)] = &[
        ("apigw-create-character.json", 201),
        ("apigw-append-events.json", 201),
        ("apigw-append-events-any.json", 201),
        ("apigw-get-character.json", 200),
        ("apigw-read-events.json", 200),
        ("apigw-read-events-backward.json", 200),
        ("apigw-get-character-at-version.json", 200),
        ("apigw-get-character-as-of.json", 200),
        ("apigw-list-characters.json", 200),
        ("apigw-read-feed.json", 200),
        ("apigw-read-feed-backward.json", 200),
        ("apigw-openapi.json", 200),
        // The screen, which the query function serves (no authorisation on AWS).
        ("apigw-get-screen.json", 200),
        // Campaigns: one created; the default campaign, its party and its feed; the samples'
        // character moved to the campaign it is in already (nothing written).
        ("apigw-create-campaign.json", 201),
        ("apigw-list-campaigns.json", 200),
        ("apigw-get-campaign.json", 200),
        ("apigw-campaign-characters.json", 200),
        ("apigw-campaign-events.json", 200),
        ("apigw-move-character.json", 200),
        ("apigw-bad-unknown-campaign.json", 422),
        ("apigw-bad-campaign-not-found.json", 404),
        // A character under the rules, through every command: down, dying, stable, dead,
        // revived, healed and the healing undone, rested.
        ("apigw-create-rules-character.json", 201),
        ("apigw-damage.json", 201),
        ("apigw-temp-hp.json", 201),
        ("apigw-healing.json", 201),
        ("apigw-max-hp.json", 201),
        ("apigw-rest-short.json", 201),
        ("apigw-defences.json", 201),
        ("apigw-hit-dice.json", 201),
        ("apigw-damage-many.json", 201),
        ("apigw-death-save.json", 201),
        ("apigw-stabilize.json", 201),
        ("apigw-damage-at-zero.json", 201),
        ("apigw-revive.json", 201),
        ("apigw-healing-with-id.json", 201),
        ("apigw-undo.json", 201),
        ("apigw-rest-long.json", 201),
        ("apigw-dry-run.json", 200),
        ("apigw-bad-unknown-damage-type.json", 422),
        ("apigw-bad-not-dying.json", 422),
        ("apigw-bad-rules-not-enabled.json", 422),
        ("apigw-bad-too-many-targets.json", 422),
        // Rules for the character created without them: its HP so far (8) within 0..=10.
        ("apigw-rules.json", 201),
        ("apigw-bad-malformed-json.json", 400),
        ("apigw-bad-unknown-field.json", 400),
        ("apigw-bad-wrong-type.json", 400),
        ("apigw-bad-id.json", 400),
        ("apigw-bad-direction.json", 400),
        ("apigw-bad-cursor.json", 400),
        ("apigw-bad-negative-expected-version.json", 400),
        ("apigw-bad-at-version.json", 400),
        ("apigw-bad-as-of.json", 400),
        ("apigw-bad-list-cursor.json", 400),
        ("apigw-bad-conflicting-parameters.json", 400),
        ("apigw-bad-feed-position.json", 400),
        ("apigw-bad-feed-wait.json", 400),
        ("apigw-bad-version-not-found.json", 404),
        ("apigw-bad-no-event-as-of.json", 404),
        ("apigw-bad-version-conflict.json", 409),
        ("apigw-bad-empty-name.json", 422),
        ("apigw-bad-hp-out-of-range.json", 422),
        ("apigw-bad-too-many-events.json", 413),
        ("apigw-bad-unknown-character.json", 404),
        ("apigw-bad-route.json", 404),
        ("apigw-bad-method.json", 405),
    ];
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    let mut samples: Vec<String> = std::fs::read_dir(dir)
        .expect("events/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("apigw-"))
        .collect();
    samples.sort();
    let mut listed: Vec<String> = in_order.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(
        samples, listed,
        "every API Gateway sample has an expected status"
    );

    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let campaigns = db.campaigns().await;
    // Each request's metrics, as the functions write them after each one.
    let emf = EmfWriter::buffer(Metrics::new());
    let append = Api::new(store.clone())
        .with_campaigns(campaigns.clone())
        .with_metrics(emf.metrics().clone())
        .router(Function::Append);
    let append = emf_after_each_request(append, emf.clone());
    let feed = db.feed().await;
    let query = Api::new(store.clone())
        .with_snapshots(snapshots.clone())
        .with_feed(feed.clone())
        .with_campaigns(campaigns.clone())
        .with_document(hitpoints_http::openapi::OPENAPI_JSON)
        .with_metrics(emf.metrics().clone())
        .router(Function::Query);
    let query = emf_after_each_request(query, emf.clone());
    let all = Api::new(store.clone()).router(Function::All);
    for (name, status) in in_order {
        if *name == "apigw-list-characters.json" {
            // The projector and the indexer have caught up with what the samples wrote: the
            // party and the feed show it.
            let samples = SAMPLES_CHARACTER.parse().expect("uuid");
            hitpoints_testkit::index_stream(&store, &feed, samples).await;
            hitpoints_testkit::project_stream(
                &store,
                &snapshots,
                SAMPLES_CHARACTER.parse().expect("uuid"),
            )
            .await;
        }
        let text = std::fs::read_to_string(format!("{dir}/{name}")).expect("read sample");
        let request =
            lambda_http::request::from_str(&text).expect("an API Gateway payload 2.0 event");
        // The function the template routes it to; a route or method no function takes goes to
        // the router of every route, which must still refuse it.
        let router = if name.contains("bad-method") || name.contains("bad-route") {
            &all
        } else if request.method() == Method::POST {
            &append
        } else {
            &query
        };
        let lines_before = emf.lines().len();
        let (got, body, _) = call_lambda(router, &text).await;
        assert_eq!(got.as_u16(), *status, "{name}: {body}");
        if !std::ptr::eq(router, &all) {
            let function = if std::ptr::eq(router, &append) {
                "append"
            } else {
                "query"
            };
            metrics_say(name, function, *status, &body, &emf.lines()[lines_before..]);
        }
        if *name == "apigw-list-characters.json" {
            let id = request.uri().path().to_owned();
            let state = store
                .character(SAMPLES_CHARACTER.parse().expect("uuid"))
                .await
                .expect("the samples' character");
            assert_eq!(body["characters"].as_array().map(Vec::len), Some(1), "{id}");
            let member = &body["characters"][0];
            assert_eq!(member["id"], SAMPLES_CHARACTER);
            assert_eq!(member["hp"], json!(state.hp));
            assert_eq!(member["version"], json!(state.version));
            assert_eq!(member["last_note"], json!(state.latest.note));
        }
        if *name == "apigw-rest-long.json" {
            let state = &body["state"];
            assert_eq!(body["id"], RULES_CHARACTER);
            assert_eq!(
                (
                    state["hp"].clone(),
                    state["max_hp"].clone(),
                    state["status"].clone()
                ),
                (json!(27), json!(27), json!("up")),
                "{body}"
            );
            assert_eq!(state["hit_dice_left"], "4d10", "{body}");
        }
        if *name == "apigw-rules.json" {
            assert_eq!(body["state"]["hp"], 8, "{body}");
            assert_eq!(body["event"]["outcome"]["hp_before"], 8, "{body}");
            assert_eq!(body["event"]["outcome"]["type"], "rules_enabled", "{body}");
        }
        if name.starts_with("apigw-read-feed") {
            let events = body["events"].as_array().expect("events");
            let stored = store
                .read_all(SAMPLES_CHARACTER.parse().expect("uuid"))
                .await
                .expect("the samples' events");
            // Forward: the first ten; backward: the newest five, newest first.
            let want: Vec<u64> = if name.contains("backward") {
                stored.iter().rev().take(5).map(|e| e.version).collect()
            } else {
                stored.iter().take(10).map(|e| e.version).collect()
            };
            let got: Vec<u64> = events
                .iter()
                .filter_map(|e| e["version"].as_u64())
                .collect();
            assert_eq!(got, want, "{name}: {body}");
            assert_eq!(body["next"], events.last().expect("events")["position"]);
            assert!(events.iter().all(|e| e["id"] == SAMPLES_CHARACTER));
        }
    }
}

/// The character under the rules the samples create (`apigw-create-rules-character.json`):
/// what it ends as, after a long rest.
const RULES_CHARACTER: &str = "da81cca5-3c03-5f9f-8063-af11936c0838";

/// The character the API Gateway samples are about (`apigw-create-character.json` creates it).
const SAMPLES_CHARACTER: &str = "eb3cefea-4c14-53d1-92ec-d92459133c76";

/// What the metrics a request wrote say: documents CloudWatch takes, one request counted by the
/// function the template routes it to, and what it came to.
#[track_caller]
fn metrics_say(name: &str, function: &str, status: u16, body: &Value, lines: &[String]) {
    let documents = emf_documents(lines);
    assert!(
        documents.iter().all(|d| d["Function"] == function),
        "{name}: {documents:?}"
    );
    let value = |metric, outcome| emf_value(&documents, function, metric, outcome);
    assert_eq!(value("Requests", None), 1.0, "{name}");
    let code = body["error"].as_str();
    let (metric, outcome) = match status {
        409 => ("Conflicts", code),
        422 => ("Refusals", code),
        500.. => ("ServerErrors", code),
        400.. => ("ClientErrors", code),
        // A campaign created writes no event.
        201 if name != "apigw-create-campaign.json" => ("Appends", None),
        _ => ("Requests", None),
    };
    assert_eq!(value(metric, outcome), 1.0, "{name}: {metric} {outcome:?}");
    if status == 201 && name != "apigw-create-campaign.json" {
        let written = body["events"]
            .as_array()
            .map_or(body["targets"].as_array().map_or(1, Vec::len), Vec::len);
        assert_eq!(value("EventsWritten", None), written as f64, "{name}");
    } else {
        assert_eq!(value("Appends", None), 0.0, "{name}");
    }
    if status >= 400 {
        // An error is counted once, under its code only.
        let errors: f64 = ["Conflicts", "Refusals", "ServerErrors", "ClientErrors"]
            .iter()
            .map(|m| value(m, None))
            .sum();
        assert_eq!(errors, 1.0, "{name}");
    }
}
