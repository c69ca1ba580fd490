// The API client: every call with the signed-in person's token, every refusal an ApiError with
// the API's own code and message.
import * as signin from "./signin.js";

let signInEnded = () => {};
// What the page does when the API says the sign-in has ended (a 401).
export const whenSignInEnds = (then) => (signInEnded = then);

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = body?.error ?? "http_error";
  }
}

// The response and its JSON body; a 304 has none.
export async function call(path, { method = "GET", body, signal, headers } = {}) {
  let response;
  try {
    response = await fetch(path, { method, body: body && JSON.stringify(body), signal, cache: "no-store",
      headers: { ...signin.authorization(), ...(body && { "content-type": "application/json" }), ...headers } });
  } catch {
    if (signal?.aborted) throw new ApiError(0, { error: "aborted", message: "the campaign was closed" });
    throw new ApiError(0, { error: "unreachable", message: "the server cannot be reached" });
  }
  if (response.status === 304) return { response };
  const data = await response.json().catch(() => null);
  if (response.status === 401 && signin.required()) signInEnded();
  if (!response.ok) throw new ApiError(response.status, data ?? { error: "http", message: response.statusText });
  return { response, data };
}

export const api = async (method, path, body, signal) => (await call(path, { method, body, signal })).data;
