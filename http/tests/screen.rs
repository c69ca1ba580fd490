//! The Dungeon Master's screen as the query function serves it: every file with its type and
//! the security headers, nothing inline for the policy to have to allow, and not served by the
//! append function.

use axum::http::Method;
use hitpoints_http::screen::{FILES, POLICY};
use hitpoints_http::{Api, Function};
use hitpoints_testkit::{call_raw, unreachable_client};

#[tokio::test]
async fn every_file_of_the_screen_comes_with_the_security_headers() {
    let store = hitpoints::store::EventStore::new(unreachable_client(), "events");
    let query = Api::new(store.clone()).router(Function::Query);
    let append = Api::new(store).router(Function::Append);
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(POLICY.contains(directive), "{directive}");
    }
    assert!(
        !POLICY.contains("unsafe"),
        "no inline script or style allowed"
    );
    for (path, content_type, body) in FILES {
        let (status, _, headers) = call_raw(&query, Method::GET, path, Vec::new()).await;
        assert_eq!(status.as_u16(), 200, "{path}");
        let header = |name: &str| headers[name].to_str().expect("ascii").to_owned();
        assert_eq!(header("content-type"), content_type, "{path}");
        assert_eq!(header("content-security-policy"), POLICY, "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        if content_type.starts_with("text/html") {
            // Scripts and styles from files only: the policy allows nothing inline.
            for tag in body.split("<script").skip(1) {
                let open = &tag[..tag.find('>').expect("a closed tag")];
                assert!(open.contains("src="), "{path}: an inline script");
            }
            assert!(!body.contains("<style"), "{path}: an inline style");
            assert!(!body.contains(" style="), "{path}: a style attribute");
            // No inline event handler (` onclick=` and the like).
            let handler = body.split(" on").skip(1).any(|rest| {
                let name: String = rest.chars().take_while(char::is_ascii_lowercase).collect();
                !name.is_empty() && rest[name.len()..].starts_with('=')
            });
            assert!(!handler, "{path}: an inline event handler");
        }
        // The append function serves the API's POST routes only.
        let (status, _, _) = call_raw(&append, Method::GET, path, Vec::new()).await;
        assert_eq!(status.as_u16(), 404, "{path}");
    }
}

/// Where people sign in: `/sign-in.json` tells the screen, and the pages may connect to that
/// origin's token endpoint and to nothing else.
#[tokio::test]
async fn the_sign_in_configuration_and_its_origin_in_the_policy() {
    use hitpoints_http::SignIn;
    let store = hitpoints::store::EventStore::new(unreachable_client(), "events");
    let domain = "https://hitpoints-1a2b.auth.eu-west-1.amazoncognito.com";
    let sign_in = SignIn::new(&format!("{domain}/"), "3n4b5urk1ft4fl3mg5e62d9ado").expect("valid");
    let query = Api::new(store.clone())
        .with_sign_in(sign_in)
        .router(Function::Query);
    let (status, body, headers) = call_raw(&query, Method::GET, "/sign-in.json", Vec::new()).await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        body,
        serde_json::json!({"required": true, "client_id": "3n4b5urk1ft4fl3mg5e62d9ado",
            "authorize": format!("{domain}/oauth2/authorize"),
            "token": format!("{domain}/oauth2/token"), "logout": format!("{domain}/logout")})
    );
    let policy = headers["content-security-policy"].to_str().expect("ascii");
    assert_eq!(
        policy,
        POLICY.replace(
            "connect-src 'self'",
            &format!("connect-src 'self' {domain}")
        )
    );
    let (_, _, headers) = call_raw(&query, Method::GET, "/", Vec::new()).await;
    assert_eq!(headers["content-security-policy"], policy);
    // Without sign-in (the local run by default): nobody signs in, and the policy is the plain one.
    let plain = Api::new(store).router(Function::Query);
    let (_, body, _) = call_raw(&plain, Method::GET, "/sign-in.json", Vec::new()).await;
    assert_eq!(body, serde_json::json!({"required": false}));
    // Nothing but an origin goes into the policy.
    for bad in [
        "https://a.example; script-src *",
        "http://a.example",
        "https://a.example/path",
        "javascript:alert(1)",
    ] {
        assert!(SignIn::new(bad, "abc").is_err(), "{bad}");
    }
    assert!(SignIn::new(domain, "a b").is_err());
    assert!(SignIn::new("", "hitpoints-local").is_ok());
}
