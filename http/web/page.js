// What the views share: the state, who may do what, messages, words for a change, the feed.
import { $, el } from "./dom.js";
import { api } from "./api.js";
import { outcomeWords } from "./rules.js";

// campaign: the open one ({id, name, role, party: id -> character, feed, head, stop}).
export const state = { campaign: null, campaigns: null, view: null };

// "dm", "player", or none (an operator, or no sign-in). The page hides what the API refuses.
export const role = () => state.campaign?.role;
export const isPlayer = () => role() === "player";
export const mayCommand = (id) => !isPlayer() || (state.campaign?.characters ?? []).includes(id);
export const ruled = (c) => c.max_hp != null;

export function showError(error, doing) {
  $("#error").replaceChildren(el("strong", {}, `Could not ${doing}: `), error.message,
    error.status ? ` (HTTP ${error.status}, ${error.code})` : "");
}

export const clearError = () => $("#error").replaceChildren();
export const say = (text) => ($("#status").textContent = text);
export const here = (path = "") => `#/campaigns/${state.campaign.id}${path}`;
export const col = (text, cls) => el("th", { scope: "col", class: cls }, text);

// Every page of a list.
export async function all(path, key) {
  const items = [];
  let cursor = null;
  do {
    const page = await api("GET", path + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""));
    items.push(...page[key]);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

// One submit at a time; after a failure the form may be sent again.
export function onSubmit(form, doing, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("button[type=submit]", form);
    if (button.disabled) return;
    button.disabled = true;
    clearError();
    try {
      await work();
    } catch (error) {
      showError(error, doing);
      button.disabled = false;
    }
  });
}

// What an event did: as the rules computed it, else its change of HP.
export function whatItDid(outcome, hp, version) {
  const words = outcomeWords(outcome);
  if (words) return el("span", { class: "change" }, words);
  if (hp == null) return el("span", {}, "none yet");
  if (version === 0) return el("span", { class: "change" }, `starts at ${hp}`);
  if (hp) return el("span", { class: `change ${hp < 0 ? "damage" : "healing"}` }, `${hp < 0 ? "damage" : "healing"} ${Math.abs(hp)}`);
  return el("span", { class: "change" }, "no change");
}

export const when = (text) =>
  text ? el("time", { datetime: text }, new Date(text).toLocaleString()) : el("span", {}, "time not recorded");

// A character of the open party as an event left it.
export function remember(campaign, character, e) {
  campaign.party.set(e.id, { ...campaign.party.get(e.id), ...character, id: e.id, last_hp_change: e.hp_change,
    last_note: e.note, last_recorded_at: e.recorded_at, last_outcome: e.outcome });
}

export function campaignBar() {
  const c = state.campaign;
  return el("div", { class: "campaign-bar" }, el("h2", { id: "campaign-name" }, c.name),
    el("p", {}, `Dungeon Master: ${c.dm_name || "not named"} · Rules: ${c.ruleset} · `,
      el("a", { href: "#/", id: "to-campaigns" }, "All campaigns")));
}

export const feedSection = () =>
  el("section", { "aria-labelledby": "feed-heading" }, el("h2", { id: "feed-heading" }, "Tonight's feed"), feedList());

function feedList() {
  const feed = state.campaign.feed;
  return el("ol", { class: "feed", id: "feed", "aria-live": "polite" }, feed.length
    ? feed.map((e) => el("li", { "data-position": e.position },
      el("a", { href: here(`/characters/${e.id}`) }, e.character_name), ": ",
      whatItDid(e.outcome, e.hp_change, e.version), ` (version ${e.version}) `,
      el("span", { class: "note" }, e.note), el("br"), when(e.recorded_at)))
    : el("li", {}, "Nothing has happened yet."));
}

export const renderFeed = () => $("#feed")?.replaceWith(feedList());
