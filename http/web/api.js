// The API client: every call with the signed-in person's token, every refusal an ApiError with
// the API's own code and message.
import * as signin from "./signin.js";

let signInEnded = () => {};
// What the page does when the API says the sign-in has ended (a 401).
export function whenSignInEnds(then) {
  signInEnded = then;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = body?.error ?? "http_error";
    this.body = body;
  }
}

export async function api(method, path, body, signal) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { ...signin.authorization(), ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal,
    });
  } catch {
    if (signal?.aborted) throw new ApiError(0, { error: "aborted", message: "the campaign was closed" });
    throw new ApiError(0, { error: "unreachable", message: "the server cannot be reached" });
  }
  const data = await response.json().catch(() => null);
  if (response.status === 401 && signin.required()) signInEnded();
  if (!response.ok) throw new ApiError(response.status, data ?? { error: "http", message: response.statusText });
  return data;
}
