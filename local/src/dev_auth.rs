//! `--auth dev`: sign-in on a laptop, as the stack's Cognito user pool does it on AWS.
//!
//! The local run becomes an OAuth 2.0 authorization server with Cognito's endpoints, on its own
//! origin: `GET /oauth2/authorize` shows a sign-in page (any name signs in: it is a development
//! issuer), `POST /oauth2/token` exchanges the code for tokens (the authorization-code flow with
//! PKCE, S256 only, as a public client without a secret uses it), `GET /logout` forgets the
//! browser's session. Its access tokens carry the claims of Cognito's (`sub`, `iss`,
//! `client_id`, `token_use`, `scope`, `auth_time`, `iat`, `exp`, `jti`, `username`), signed with a
//! key made at start (HS256), so a token outlives no run.
//!
//! Every API request is then checked as API Gateway's JWT authorizer checks it (signature,
//! issuer, client, expiry, an access token), and the same [`Caller`] goes to the router: a person
//! with the token's `sub`, or nobody.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION,
    SET_COOKIE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hitpoints::access::Caller;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The app client the screen signs in with, as the stack's user pool client.
pub const CLIENT_ID: &str = "hitpoints-local";
/// How long an access token lasts: Cognito's default.
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// How long a code waits to be exchanged.
const CODE_LIFETIME: Duration = Duration::from_secs(120);
/// The cookie that keeps a browser signed in to the issuer (its "session"), so a reload of the
/// screen signs in again without the page, as Cognito's does.
const SESSION_COOKIE: &str = "hitpoints_dev_session";
/// The most codes waiting at once: a page left open cannot fill the memory.
const MAX_CODES: usize = 1000;

/// The claims of an access token, as Cognito writes them.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    client_id: String,
    token_use: String,
    scope: String,
    auth_time: u64,
    iat: u64,
    exp: u64,
    jti: String,
    username: String,
}

/// A code handed out, waiting for its exchange.
struct Grant {
    username: String,
    challenge: String,
    redirect_uri: String,
    issued: SystemTime,
}

/// The development issuer of one local run.
#[derive(Clone)]
pub struct DevIssuer {
    issuer: String,
    /// Where a sign-in or a logout may send the browser: the screen's own address, and nothing
    /// else (compared whole: no prefix of it is enough).
    redirects: Arc<Vec<String>>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    codes: Arc<Mutex<HashMap<String, Grant>>>,
    /// Sessions by cookie value: the name signed in.
    sessions: Arc<Mutex<HashMap<String, String>>>,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A person's `sub`: the same name is the same person for the run's data (a uuid, as Cognito's).
pub fn sub_of(username: &str) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("hitpoints-dev:{username}").as_bytes(),
    )
    .to_string()
}

impl DevIssuer {
    /// An issuer at `origin` (the local run's, e.g. `http://127.0.0.1:3000`) with a new key.
    pub fn new(origin: &str) -> DevIssuer {
        let mut key = Vec::with_capacity(32);
        key.extend_from_slice(Uuid::new_v4().as_bytes());
        key.extend_from_slice(Uuid::new_v4().as_bytes());
        let localhost = origin.replace("http://127.0.0.1:", "http://localhost:");
        DevIssuer {
            issuer: format!("{origin}/dev-issuer"),
            redirects: Arc::new(vec![format!("{origin}/"), format!("{localhost}/")]),
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            codes: Arc::default(),
            sessions: Arc::default(),
        }
    }

    /// An access token for `username`, as the token endpoint issues it.
    pub fn token_for(&self, username: &str) -> String {
        let now = now();
        let claims = Claims {
            sub: sub_of(username),
            iss: self.issuer.clone(),
            client_id: CLIENT_ID.to_owned(),
            token_use: "access".to_owned(),
            scope: "openid email profile".to_owned(),
            auth_time: now,
            iat: now,
            exp: now + TOKEN_LIFETIME.as_secs(),
            jti: Uuid::new_v4().to_string(),
            username: username.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    /// The caller a request's `Authorization` header proves, as API Gateway's JWT authorizer
    /// decides it: a valid access token of this issuer and client is its `sub`; anything else
    /// is nobody.
    pub fn caller(&self, headers: &HeaderMap) -> Caller {
        let Some(token) = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return Caller::Anonymous;
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 0;
        match jsonwebtoken::decode::<Claims>(token.trim(), &self.decoding, &validation) {
            Ok(data)
                if data.claims.client_id == CLIENT_ID
                    && data.claims.token_use == "access"
                    && !data.claims.sub.is_empty() =>
            {
                Caller::Person {
                    sub: data.claims.sub,
                }
            }
            _ => Caller::Anonymous,
        }
    }

    /// The issuer's endpoints, on the local run's origin.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/oauth2/authorize", get(authorize_page).post(authorize))
            .route("/oauth2/token", post(token))
            .route("/logout", get(logout))
            .with_state(self.clone())
    }
}

/// Puts the caller the request's token proves on it, for the router.
pub async fn identify(
    State(issuer): State<DevIssuer>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = issuer.caller(request.headers());
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The authorization request, as the screen sends it.
#[derive(Debug, Deserialize)]
struct AuthorizeParams {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    #[serde(default)]
    state: String,
    code_challenge: String,
    code_challenge_method: String,
    #[serde(default)]
    scope: String,
}

/// The sign-in form's fields: the request again, and the name.
#[derive(Debug, Deserialize)]
struct SignInForm {
    #[serde(flatten)]
    request: AuthorizeParams,
    username: String,
}

fn refuse(message: &'static str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({"error": "invalid_request", "error_description": message})),
    )
        .into_response()
}

impl DevIssuer {
    /// A redirect back to the screen: only to its own address, exactly.
    fn redirect_allowed(&self, uri: &str) -> bool {
        self.redirects.iter().any(|allowed| allowed == uri)
    }
}

/// What is wrong with an authorization request, if anything.
fn check(issuer: &DevIssuer, params: &AuthorizeParams) -> Result<(), &'static str> {
    if params.response_type != "code" || params.client_id != CLIENT_ID {
        return Err("response_type must be code, and client_id this run's");
    }
    if params.code_challenge_method != "S256" || params.code_challenge.len() != 43 {
        return Err("PKCE is required: code_challenge_method=S256");
    }
    if !issuer.redirect_allowed(&params.redirect_uri) {
        return Err("redirect_uri must be this run's screen: its origin and /");
    }
    Ok(())
}

fn session(headers: &HeaderMap, issuer: &DevIssuer) -> Option<String> {
    let cookies = headers.get(COOKIE)?.to_str().ok()?;
    let value = cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)?
        .1;
    issuer.sessions.lock().ok()?.get(value).cloned()
}

/// Hands out a code for `username` and sends the browser back to the page.
fn grant(issuer: &DevIssuer, params: &AuthorizeParams, username: String) -> Response {
    let code = Uuid::new_v4().simple().to_string();
    if let Ok(mut codes) = issuer.codes.lock() {
        codes.retain(|_, g| g.issued.elapsed().is_ok_and(|age| age < CODE_LIFETIME));
        if codes.len() >= MAX_CODES {
            return refuse("too many sign-ins waiting: try again in two minutes");
        }
        codes.insert(
            code.clone(),
            Grant {
                username,
                challenge: params.code_challenge.clone(),
                redirect_uri: params.redirect_uri.clone(),
                issued: SystemTime::now(),
            },
        );
    }
    let query = serde_urlencoded::to_string([("code", code.as_str()), ("state", &params.state)])
        .unwrap_or_default();
    let separator = if params.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{}{separator}{query}", params.redirect_uri);
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
        Err(_) => refuse("redirect_uri cannot be a header"),
    }
}

/// `GET /oauth2/authorize`: signed in already (the session cookie) goes straight back, as
/// Cognito's hosted UI does; otherwise the sign-in page.
async fn authorize_page(
    State(issuer): State<DevIssuer>,
    headers: HeaderMap,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    if let Err(why) = check(&issuer, &params) {
        return refuse(why);
    }
    if let Some(username) = session(&headers, &issuer) {
        return grant(&issuer, &params, username);
    }
    let hidden = [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("state", &params.state),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
        ("scope", &params.scope),
    ]
    .iter()
    .map(|(name, value)| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            escape(value)
        )
    })
    .collect::<String>();
    let page = format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · hitpoints (development)</title><link rel="icon" href="data:,"></head>
<body>
<main>
<h1>Sign in to hitpoints</h1>
<p>This is the local run's development sign-in (<code>--auth dev</code>): any name signs in, and
the same name is the same person until the data is deleted. On AWS, Cognito's page asks for an
email and a password.</p>
<form method="post" action="/oauth2/authorize">
{hidden}
<label for="username">Name</label>
<input id="username" name="username" required maxlength="64" autocomplete="username" autofocus>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
"#
    );
    page_response(page)
}

fn page_response(page: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src data:; form-action 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'",
            ),
        ],
        page,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `POST /oauth2/authorize`: the sign-in form sent. Starts the browser's session.
async fn authorize(State(issuer): State<DevIssuer>, Form(form): Form<SignInForm>) -> Response {
    if let Err(why) = check(&issuer, &form.request) {
        return refuse(why);
    }
    let username = form.username.trim().to_owned();
    if username.is_empty() || username.chars().count() > 64 {
        return refuse("a name has 1 to 64 characters");
    }
    let cookie = Uuid::new_v4().simple().to_string();
    if let Ok(mut sessions) = issuer.sessions.lock() {
        if sessions.len() >= MAX_CODES {
            sessions.clear();
        }
        sessions.insert(cookie.clone(), username.clone());
    }
    let mut response = grant(&issuer, &form.request, username);
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax"
    )) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// The token request: the code, and the verifier its challenge was made from.
#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    code_verifier: String,
}

/// `POST /oauth2/token`: a code (once) for an access token and an id token.
async fn token(State(issuer): State<DevIssuer>, Form(request): Form<TokenRequest>) -> Response {
    let invalid_grant = || {
        (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "invalid_grant"})),
        )
            .into_response()
    };
    if request.grant_type != "authorization_code" || request.client_id != CLIENT_ID {
        return refuse("grant_type must be authorization_code, and client_id this run's");
    }
    let grant = issuer
        .codes
        .lock()
        .ok()
        .and_then(|mut codes| codes.remove(&request.code));
    let Some(grant) = grant else {
        return invalid_grant();
    };
    // RFC 7636: a verifier has 43 to 128 characters.
    if !(43..=128).contains(&request.code_verifier.len()) {
        return invalid_grant();
    }
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(request.code_verifier.as_bytes()));
    let fresh = grant.issued.elapsed().is_ok_and(|age| age < CODE_LIFETIME);
    if !fresh || challenge != grant.challenge || request.redirect_uri != grant.redirect_uri {
        return invalid_grant();
    }
    let access = issuer.token_for(&grant.username);
    (
        [(CACHE_CONTROL, "no-store")],
        Json(serde_json::json!({
            "access_token": access,
            "id_token": access,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME.as_secs(),
        })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct LogoutParams {
    logout_uri: String,
}

/// `GET /logout`: the browser's session ends; back to the page.
async fn logout(
    State(issuer): State<DevIssuer>,
    headers: HeaderMap,
    Query(params): Query<LogoutParams>,
) -> Response {
    if !issuer.redirect_allowed(&params.logout_uri) {
        return refuse("logout_uri must be this run's own origin");
    }
    if let (Some(cookies), Ok(mut sessions)) = (headers.get(COOKIE), issuer.sessions.lock()) {
        for (name, value) in cookies
            .to_str()
            .unwrap_or_default()
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
        {
            if name == SESSION_COOKIE {
                sessions.remove(value);
            }
        }
    }
    match HeaderValue::from_str(&params.logout_uri) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (LOCATION, location),
                (
                    SET_COOKIE,
                    HeaderValue::from_static("hitpoints_dev_session=; Path=/; Max-Age=0"),
                ),
            ],
        )
            .into_response(),
        Err(_) => refuse("logout_uri cannot be a header"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_this_issuer_and_client_prove_a_person_and_nothing_else_does() {
        let issuer = DevIssuer::new("http://127.0.0.1:3000");
        let bearer = |token: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {token}")).expect("a header"),
            );
            headers
        };
        assert_eq!(
            issuer.caller(&bearer(&issuer.token_for("ana"))),
            Caller::Person { sub: sub_of("ana") }
        );
        assert_eq!(issuer.caller(&HeaderMap::new()), Caller::Anonymous);
        // Another run's key, a tampered token, and an expired one: nobody.
        let other = DevIssuer::new("http://127.0.0.1:3000");
        assert_eq!(
            issuer.caller(&bearer(&other.token_for("ana"))),
            Caller::Anonymous
        );
        let mut tampered = issuer.token_for("ana");
        tampered.push('x');
        assert_eq!(issuer.caller(&bearer(&tampered)), Caller::Anonymous);
        let expired = Claims {
            sub: sub_of("ana"),
            iss: issuer.issuer.clone(),
            client_id: CLIENT_ID.into(),
            token_use: "access".into(),
            scope: String::new(),
            auth_time: 1,
            iat: 1,
            exp: 2,
            jti: "j".into(),
            username: "ana".into(),
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &expired, &issuer.encoding)
                .expect("a token");
        assert_eq!(issuer.caller(&bearer(&expired)), Caller::Anonymous);
        assert_ne!(sub_of("ana"), sub_of("bo"));
        // Back to the screen only, compared whole.
        assert!(issuer.redirect_allowed("http://127.0.0.1:3000/"));
        assert!(issuer.redirect_allowed("http://localhost:3000/"));
        for elsewhere in [
            "http://127.0.0.1:3000@evil.example/",
            "http://127.0.0.1:3001/",
            "http://127.0.0.1:3000/x",
            "https://evil.example/",
        ] {
            assert!(!issuer.redirect_allowed(elsewhere), "{elsewhere}");
        }
    }
}
