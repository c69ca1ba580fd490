//! Who may do what, through the router on dynoxide, with requests shaped as API Gateway hands
//! them to the functions: a signed-in person's JWT authorizer claims (all strings), an
//! operator's IAM authorizer, or no authorizer at all. A DM, a player and a stranger.

use axum::http::StatusCode;
use hitpoints_http::{Api, Function, Router};
use hitpoints_testkit::{call_lambda, test_db, TestDb};
use serde_json::{json, Value};
use uuid::Uuid;

const DM: &str = "5c1e7a52-3d0b-4a8e-9f61-0d2c4b6a8e10";
const PLAYER: &str = "a7b3c9d1-2e4f-4a6b-8c0d-1e2f3a4b5c6d";
const STRANGER: &str = "f0e1d2c3-b4a5-4968-8776-655443322110";

struct Table {
    router: Router,
    _db: TestDb,
}

async fn table() -> Table {
    let db = test_db().await;
    let router = Api::new(db.store().await)
        .with_snapshots(db.snapshots().await)
        .with_feed(db.feed().await)
        .with_campaigns(db.campaigns().await)
        .with_members(db.members().await)
        .with_document(hitpoints_http::openapi::OPENAPI_JSON)
        .router(Function::All);
    Table { router, _db: db }
}

/// Who sends a request, as API Gateway's authorizers describe them.
#[derive(Clone, Copy)]
enum Who {
    Nobody,
    Person(&'static str),
    Operator,
}

impl Who {
    fn authorizer(self) -> Option<Value> {
        match self {
            Who::Nobody => None,
            // Cognito's access token as the JWT authorizer passes it: every claim a string.
            Who::Person(sub) => Some(json!({"jwt": {
                "claims": {"sub": sub, "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
                           "client_id": "3n4b5urk1ft4fl3mg5e62d9ado", "token_use": "access",
                           "scope": "openid", "auth_time": "1796000000", "exp": "1796003600",
                           "iat": "1796000000", "username": "someone"},
                "scopes": null
            }})),
            Who::Operator => Some(json!({"iam": {
                "accessKey": "AKIAIOSFODNN7EXAMPLE", "accountId": "123456789012",
                "callerId": "AIDAJQABLZS4A3QDU576Q", "principalOrgId": null,
                "userArn": "arn:aws:iam::123456789012:user/operator",
                "userId": "AIDAJQABLZS4A3QDU576Q"
            }})),
        }
    }
}

impl Table {
    async fn send(
        &self,
        who: Who,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut request_context = json!({
            "accountId": "123456789012", "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "domainPrefix": "abc123",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "test"},
            "requestId": "Jb6Z1hKfDoEEMbQ=", "routeKey": "$default", "stage": "$default",
            "time": "27/Nov/2026:20:15:04 +0000", "timeEpoch": 1795810504000u64
        });
        if let Some(authorizer) = who.authorizer() {
            request_context["authorizer"] = authorizer;
        }
        let event = json!({
            "version": "2.0", "routeKey": "$default", "rawPath": raw_path,
            "rawQueryString": query,
            // What a client could send to pretend: never read as an identity.
            "headers": {"content-type": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com",
                        "x-user-sub": DM, "x-amzn-oidc-identity": DM},
            "requestContext": request_context,
            "isBase64Encoded": false,
            "body": body.map(|b| b.to_string()),
        });
        let (status, body, headers) = call_lambda(&self.router, &event.to_string()).await;
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(
                headers.get("www-authenticate").map(|v| v.as_bytes()),
                Some(&b"Bearer"[..])
            );
        }
        (status, body)
    }

    async fn ok(&self, who: Who, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.send(who, method, path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    /// The status and code of an answer.
    async fn refused(
        &self,
        who: Who,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String) {
        let (status, answer) = self.send(who, method, path, body).await;
        let code = answer["error"].as_str().unwrap_or_default().to_owned();
        (status.as_u16(), code)
    }
}

/// A body with the ids in it replaced, to compare two 404s.
fn without(body: &Value, ids: &[&str]) -> Value {
    let mut text = body.to_string();
    for id in ids {
        text = text.replace(id, "<id>");
    }
    serde_json::from_str(&text).expect("JSON")
}

#[tokio::test]
async fn a_dm_a_player_and_a_stranger_each_get_what_their_role_allows() {
    let t = table().await;
    let (dm, player, stranger) = (Who::Person(DM), Who::Person(PLAYER), Who::Person(STRANGER));

    // No identity: 401 everywhere but the contract, whatever the headers claim.
    assert_eq!(
        t.refused(Who::Nobody, "GET", "/campaigns", None).await,
        (401, "unauthenticated".into())
    );
    assert_eq!(
        t.refused(
            Who::Nobody,
            "POST",
            "/campaigns",
            Some(json!({"name": "X", "dm_name": "Y"}))
        )
        .await,
        (401, "unauthenticated".into())
    );
    assert_eq!(
        t.send(Who::Nobody, "GET", "/openapi.json", None).await.0,
        StatusCode::OK
    );

    // The DM creates a campaign, a character in it, and an invite.
    let campaign = t
        .ok(
            dm,
            "POST",
            "/campaigns",
            Some(json!({"name": "Curse of Strahd", "dm_name": "Ana"})),
        )
        .await;
    assert_eq!(campaign["role"], "dm");
    let id = campaign["id"].as_str().expect("an id").to_owned();
    let c = format!("/campaigns/{id}");
    let new_character = |name: &str| json!({"character_name": name, "max_hp": 20, "note": "Init", "campaign_id": id});
    let nuru = t
        .ok(dm, "POST", "/characters", Some(new_character("Nuru")))
        .await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let bo = t
        .ok(dm, "POST", "/characters", Some(new_character("Bo")))
        .await["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    // The default campaign is the operators': to a person it is a campaign that does not exist.
    let mut in_default = new_character("Lost");
    in_default["campaign_id"] = json!(Uuid::nil());
    assert_eq!(
        t.refused(dm, "POST", "/characters", Some(in_default)).await,
        (422, "unknown_campaign".into())
    );
    let code = t.ok(dm, "POST", &format!("{c}/invite"), None).await["code"]
        .as_str()
        .expect("a code")
        .to_owned();

    // A stranger: every id of the campaign answers as an id that does not exist.
    let nowhere = Uuid::new_v4().to_string();
    let (status, real) = t.send(stranger, "GET", &c, None).await;
    let (status_none, none) = t
        .send(dm, "GET", &format!("/campaigns/{nowhere}"), None)
        .await;
    assert_eq!(
        (status, status_none),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(without(&real, &[&id]), without(&none, &[&nowhere]));
    let (status, real) = t
        .send(stranger, "GET", &format!("/characters/{nuru}"), None)
        .await;
    let (_, none) = t
        .send(dm, "GET", &format!("/characters/{nowhere}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(without(&real, &[&nuru]), without(&none, &[&nowhere]));
    for (method, path, body) in [
        (
            "POST",
            format!("/characters/{nuru}/damage"),
            Some(json!({"amount": 3, "type": "fire"})),
        ),
        ("GET", format!("{c}/characters"), None),
        ("GET", format!("{c}/events"), None),
        ("POST", format!("{c}/invite"), None),
        (
            "POST",
            "/damage".to_owned(),
            Some(json!({"amount": 3, "type": "fire", "targets": [{"id": nuru}]})),
        ),
    ] {
        let (status, _) = t.refused(stranger, method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    // A wrong code is the same 404 as no campaign.
    assert_eq!(
        t.refused(
            stranger,
            "POST",
            &format!("{c}/members"),
            Some(json!({"code": "0".repeat(32)}))
        )
        .await,
        (404, "campaign_not_found".into())
    );
    assert_eq!(
        t.ok(stranger, "GET", "/campaigns", None).await["campaigns"],
        json!([])
    );

    // The player joins with the code, and reads the campaign.
    let (status, joined) = t
        .send(
            player,
            "POST",
            &format!("{c}/members"),
            Some(json!({"code": code, "name": "Bo's player"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    assert_eq!(joined["role"], "player");
    let (status, again) = t
        .send(
            player,
            "POST",
            &format!("{c}/members"),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!((status, &again["role"]), (StatusCode::OK, &json!("player")));
    assert_eq!(t.ok(player, "GET", &c, None).await["role"], "player");
    t.ok(player, "GET", &format!("{c}/characters"), None).await;
    t.ok(player, "GET", &format!("{c}/events"), None).await;
    t.ok(player, "GET", &format!("/characters/{nuru}/events"), None)
        .await;
    let mine = t.ok(player, "GET", "/campaigns", None).await;
    assert_eq!(mine["campaigns"][0]["id"], json!(id));
    assert_eq!(mine["campaigns"][0]["role"], "player");
    assert_eq!(mine["campaigns"].as_array().map(Vec::len), Some(1));

    // Before the DM assigns a character, the player runs no command: 403 (a member).
    let hit = json!({"amount": 3, "type": "fire"});
    let damage_bo = format!("/characters/{bo}/damage");
    assert_eq!(
        t.refused(player, "POST", &damage_bo, Some(hit.clone()))
            .await,
        (403, "forbidden".into())
    );
    let members = t.ok(dm, "GET", &format!("{c}/members"), None).await;
    assert_eq!(members["members"][0]["sub"], DM);
    assert_eq!(members["members"][1]["name"], "Bo's player");
    let assigned = t
        .ok(
            dm,
            "PUT",
            &format!("{c}/members/{PLAYER}"),
            Some(json!({"characters": [bo]})),
        )
        .await;
    assert_eq!(assigned["characters"], json!([bo]));
    // Only characters of the campaign; the DM's own membership takes none.
    assert_eq!(
        t.refused(
            dm,
            "PUT",
            &format!("{c}/members/{PLAYER}"),
            Some(json!({"characters": [nowhere]}))
        )
        .await,
        (422, "not_in_campaign".into())
    );
    assert_eq!(
        t.refused(
            dm,
            "PUT",
            &format!("{c}/members/{DM}"),
            Some(json!({"characters": [bo]}))
        )
        .await,
        (404, "member_not_found".into())
    );

    // The player's commands on their own character, and nothing else.
    let (status, hit_bo) = t.send(player, "POST", &damage_bo, Some(hit.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{hit_bo}");
    assert_eq!(hit_bo["state"]["hp"], 17);
    t.ok(
        player,
        "POST",
        &format!("/characters/{bo}/healing"),
        Some(json!({"amount": 2})),
    )
    .await;
    for (method, path, body) in [
        (
            "POST",
            format!("/characters/{nuru}/damage"),
            Some(hit.clone()),
        ),
        (
            "POST",
            format!("/characters/{bo}/max-hp"),
            Some(json!({"max_hp": 30})),
        ),
        (
            "POST",
            format!("/characters/{bo}/undo"),
            Some(json!({"event_id": Uuid::new_v4()})),
        ),
        (
            "POST",
            format!("/characters/{bo}/events"),
            Some(json!({"events": [{"character_name": "Bo", "hp_change": 1, "note": "x"}]})),
        ),
        (
            "POST",
            "/characters".to_owned(),
            Some(new_character("Mine")),
        ),
        ("POST", format!("{c}/invite"), None),
        ("GET", format!("{c}/members"), None),
        ("DELETE", format!("{c}/members/{PLAYER}"), None),
        (
            "POST",
            "/damage".to_owned(),
            Some(json!({"amount": 3, "type": "fire", "targets": [{"id": bo}, {"id": nuru}]})),
        ),
    ] {
        assert_eq!(
            t.refused(player, method, &path, body).await,
            (403, "forbidden".into()),
            "{method} {path}"
        );
    }
    let many = json!({"amount": 3, "type": "fire", "targets": [{"id": bo}]});
    assert_eq!(
        t.send(player, "POST", "/damage", Some(many)).await.0,
        StatusCode::CREATED
    );

    // The listings of everything are the operators': a person finds no such route.
    for path in [
        "/characters",
        "/events",
        "/campaigns/00000000-0000-0000-0000-000000000000",
    ] {
        let (status, _) = t.refused(dm, "GET", path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    // The operator sees every campaign (the default one first) and every character.
    let everything = t.ok(Who::Operator, "GET", "/campaigns", None).await;
    assert_eq!(everything["campaigns"].as_array().map(Vec::len), Some(2));
    assert_eq!(everything["campaigns"][1].get("role"), None);
    t.ok(Who::Operator, "GET", "/characters", None).await;
    // An operator joins nothing (they may do everything), and nobody is invited to the default
    // campaign.
    let join = Some(json!({"code": code}));
    let operator_joins = t
        .refused(Who::Operator, "POST", &format!("{c}/members"), join)
        .await;
    assert_eq!(operator_joins, (403, "forbidden".into()));
    let default_invite = format!("/campaigns/{}/invite", Uuid::nil());
    let invited = t
        .refused(Who::Operator, "POST", &default_invite, None)
        .await;
    assert_eq!(invited, (422, "invalid_campaign".into()));
    t.ok(Who::Operator, "GET", &format!("/characters/{bo}"), None)
        .await;

    // One hit on several targets tells a stranger nothing about which ids exist: the same
    // answer, naming the first target, whether the others exist or not.
    let hit_on = |ids: [&str; 2]| json!({"amount": 1, "type": "fire", "targets": [{"id": ids[0]}, {"id": ids[1]}]});
    let (status, exists) = t
        .send(stranger, "POST", "/damage", Some(hit_on([&nowhere, &nuru])))
        .await;
    let (_, missing) = t
        .send(
            stranger,
            "POST",
            "/damage",
            Some(hit_on([&nowhere, &Uuid::new_v4().to_string()])),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(exists, missing);
    // A player's own character beside one that does not exist: the same 404.
    let (status, _) = t
        .send(player, "POST", "/damage", Some(hit_on([&bo, &nowhere])))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Removed, the player is a stranger at once, and the code they joined with is withdrawn.
    let (status, _) = t
        .send(dm, "DELETE", &format!("{c}/members/{PLAYER}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.refused(player, "GET", &c, None).await,
        (404, "campaign_not_found".into())
    );
    assert_eq!(
        t.refused(
            player,
            "POST",
            &format!("{c}/members"),
            Some(json!({"code": code}))
        )
        .await,
        (404, "campaign_not_found".into())
    );
    // A new code for the next player does not revive the old one.
    t.ok(dm, "POST", &format!("{c}/invite"), None).await;
    assert_eq!(
        t.refused(
            player,
            "POST",
            &format!("{c}/members"),
            Some(json!({"code": code}))
        )
        .await,
        (404, "campaign_not_found".into())
    );
    // The DM stays.
    assert_eq!(
        t.refused(dm, "DELETE", &format!("{c}/members/{DM}"), None)
            .await,
        (404, "member_not_found".into())
    );
    assert_eq!(t.ok(dm, "GET", &c, None).await["role"], "dm");
}
