// Sign-in: the OAuth 2.0 authorization-code flow with PKCE, against the stack's Cognito user
// pool (its hosted sign-in page) or, locally, the `--auth dev` issuer with the same endpoints.
// `/sign-in.json` says which, or that nobody signs in here.
//
// The access token is kept in this module's memory only: a reload signs in again (silently,
// with no page, while the sign-in server's own session lasts). Not in localStorage, where any
// script that ever ran on this origin could read it after the tab is closed, and where it would
// outlive signing out. sessionStorage holds only the one-time PKCE verifier across the redirect
// and whether this tab signed in before.

const PENDING = "hitpoints.signin";
const SIGNED_IN = "hitpoints.signedin";

let config = { required: false };
let token = null;
let expires = 0;
// The ID token's claims (who signed in, for the page to show), never sent anywhere.
let identity = {};

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

const redirectUri = () => `${location.origin}/`;

// Reads the configuration and finishes a sign-in the page came back from. Resolves when the
// page may go on; a silent sign-in navigates away instead.
export async function ready() {
  try {
    const response = await fetch("/sign-in.json");
    if (response.ok) config = await response.json();
  } catch {
    config = { required: false };
  }
  if (!config.required) return;
  const query = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  if (query.has("code") && pending) {
    sessionStorage.removeItem(PENDING);
    // The code leaves the address bar and the history at once.
    history.replaceState(null, "", `/${pending.hash ?? ""}`);
    if (query.get("state") !== pending.state) throw new Error("the sign-in answer does not match the request");
    const response = await fetch(config.token, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: config.client_id,
        code: query.get("code"),
        redirect_uri: redirectUri(),
        code_verifier: pending.verifier,
      }),
    });
    if (!response.ok) throw new Error(`the sign-in server refused the code (HTTP ${response.status})`);
    const tokens = await response.json();
    token = tokens.access_token;
    identity = claims(tokens.id_token) ?? {};
    expires = Date.now() + (tokens.expires_in ?? 3600) * 1000;
    sessionStorage.setItem(SIGNED_IN, "1");
    return;
  }
  if (sessionStorage.getItem(SIGNED_IN)) {
    await signIn();
    await new Promise(() => {});
  }
}

export const required = () => config.required === true;
export const signedIn = () => token !== null && Date.now() < expires;

// The header the API's calls carry.
export const authorization = () => (signedIn() ? { authorization: `Bearer ${token}` } : {});

function claims(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

// Who signed in, in words: the ID token's email (Cognito's), else its username (the local
// issuer's), for the page's header and the name a player joins with.
export function displayName() {
  if (!token) return null;
  return identity.email ?? identity.username ?? claims(token)?.username ?? null;
}

// To the sign-in page, and back to where the page is now.
export async function signIn() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: "openid email profile",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${config.authorize}?${params}`);
}

// Forgets the token, and ends the sign-in server's session.
export function signOut() {
  token = null;
  sessionStorage.removeItem(SIGNED_IN);
  const params = new URLSearchParams({ client_id: config.client_id, logout_uri: redirectUri() });
  location.assign(`${config.logout}?${params}`);
}
