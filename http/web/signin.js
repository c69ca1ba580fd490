// Sign-in: the OAuth 2.0 authorization-code flow with PKCE, as a public client of the stack's
// Cognito user pool or of the local `--auth dev` issuer (`/sign-in.json` says which, if any).
// The access token lives in this module's memory only: a reload signs in again, silently while
// the sign-in server's session lasts. localStorage would let any script that ever ran on this
// origin read it, and outlive signing out; sessionStorage keeps only the one-time verifier.
const PENDING = "hitpoints.signin";
const SIGNED_IN = "hitpoints.signedin";
let config = { required: false };
let token = null;
let expires = 0;
let identity = {}; // the ID token's claims, shown, never sent

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const back = () => `${location.origin}/`;
const random = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));
const to = (url, params) => location.assign(`${url}?${new URLSearchParams({ client_id: config.client_id, ...params })}`);

// Reads the configuration and finishes a sign-in the page came back from. A silent sign-in
// navigates away instead of resolving.
export async function ready() {
  config = await fetch("/sign-in.json").then((r) => r.json()).catch(() => ({ required: false }));
  if (!config.required) return;
  const query = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  if (query.has("code") && pending) {
    sessionStorage.removeItem(PENDING);
    // The code leaves the address bar and the history at once.
    history.replaceState(null, "", `/${pending.hash ?? ""}`);
    if (query.get("state") !== pending.state) throw new Error("the sign-in answer does not match the request");
    const response = await fetch(config.token, { method: "POST", body: new URLSearchParams({
      grant_type: "authorization_code", client_id: config.client_id, code: query.get("code"), redirect_uri: back(),
      code_verifier: pending.verifier }) });
    if (!response.ok) throw new Error(`the sign-in server refused the code (HTTP ${response.status})`);
    const tokens = await response.json();
    token = tokens.access_token;
    identity = claims(tokens.id_token) ?? {};
    expires = Date.now() + (tokens.expires_in ?? 3600) * 1000;
    sessionStorage.setItem(SIGNED_IN, "1");
  } else if (sessionStorage.getItem(SIGNED_IN)) {
    await signIn();
    await new Promise(() => {});
  }
}

export const required = () => config.required === true;
export const signedIn = () => token !== null && Date.now() < expires;
export const authorization = () => (signedIn() ? { authorization: `Bearer ${token}` } : {});

function claims(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

// Who signed in: the email (Cognito's) or the username (the local issuer's).
export const displayName = () => token && (identity.email ?? identity.username ?? claims(token)?.username ?? null);

// To the sign-in page, and back to where the page is now.
export async function signIn() {
  const verifier = random(32);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = random(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  to(config.authorize, { response_type: "code", redirect_uri: back(), scope: "openid email profile", state,
    code_challenge: challenge, code_challenge_method: "S256" });
}

// Forgets the token, and ends the sign-in server's session.
export function signOut() {
  token = null;
  sessionStorage.removeItem(SIGNED_IN);
  to(config.logout, { logout_uri: back() });
}
