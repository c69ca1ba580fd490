// The Dungeon Master's screen: plain JavaScript on the documented HTTP API, no build step.
// Views: the campaigns (#/), a campaign's party (#/campaigns/<cid>) and one of its characters
// (#/campaigns/<cid>/characters/<id>). The open campaign's feed (read conditionally every second)
// keeps the last two current; another campaign's characters and events never reach them.
// Modules: the sign-in (signin.js), the API client (api.js), building elements (dom.js), the
// rules' answers in words (rules.js), a character's commands (commands.js), the DM's players
// (members.js); the views, the chart and the forms are here.

import * as signin from "./signin.js";
import { $, el, svg } from "./dom.js";
import { api, ApiError, whenSignInEnds } from "./api.js";
import { membersSection } from "./members.js";
import { outcomeWords, statusOf, TYPES } from "./rules.js";
import { commandsSection } from "./commands.js";

const ZERO = "00000000000000000000";
const DEFAULT_CAMPAIGN = "00000000-0000-0000-0000-000000000000";
const UUID = "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})";
const RULESETS = [["5e-2024", "5e-2024 (SRD 5.2.1)"], ["5e-2014", "5e-2014 (SRD 5.1)"]];
const TITLE = document.title;
const FEED_SHOWN = 20;
// How often an open screen asks for newer events (a 304 while there are none).
const POLL_MS = 1000;
const PAGE = 10;

const state = {
  // The open campaign: {id, name, dm_name, ruleset, stop (ends its feed), failing, and
  // party: id -> {id, character_name, hp, version, last_hp_change, last_note, last_recorded_at},
  // feed: newest first, head: the feed position read up to}. A new object for each opening.
  campaign: null,
  campaigns: null, // the list as last read
  view: null, // {kind: "campaigns"} | {kind: "party"} | {kind: "character", id, ...}
};

// --- Who is here ------------------------------------------------------------------------------

// The campaign's role of whoever signed in: "dm", "player", or undefined (an operator, or the
// local run without sign-in, who may do everything).
const role = () => state.campaign?.role;
const isPlayer = () => role() === "player";
// May this screen's user run commands on the character? (The API decides; this only hides
// what it would refuse.)
const mayCommand = (id) => !isPlayer() || (state.campaign?.characters ?? []).includes(id);

function accountBar() {
  const bar = $("#account");
  if (!signin.required()) return bar.replaceChildren();
  if (!signin.signedIn()) {
    const button = el("button", { type: "button", id: "sign-in" }, "Sign in");
    button.addEventListener("click", () => signin.signIn());
    return bar.replaceChildren(button);
  }
  const out = el("button", { type: "button", id: "sign-out" }, "Sign out");
  out.addEventListener("click", () => signin.signOut());
  bar.replaceChildren(el("span", { id: "signed-in-as" }, `Signed in as ${signin.displayName() ?? "you"}`), " ", out);
}

function showSignIn(why) {
  closeCampaign();
  state.view = { kind: "sign-in" };
  const button = el("button", { type: "button", id: "sign-in-main" }, "Sign in");
  button.addEventListener("click", () => signin.signIn());
  $("#main").replaceChildren(
    el("section", { "aria-labelledby": "sign-in-heading" },
      el("h2", { id: "sign-in-heading", tabindex: "-1" }, "Sign in"),
      el("p", {}, why),
      button),
  );
  accountBar();
}

function showError(error, doing) {
  const box = $("#error");
  box.replaceChildren(
    el("strong", {}, `Could not ${doing}: `),
    `${error.message}`,
    error.status ? ` (HTTP ${error.status}, ${error.code})` : "",
  );
}

function clearError() {
  $("#error").replaceChildren();
}

function say(text) {
  $("#status").textContent = text;
}

// --- Words for numbers ------------------------------------------------------------------------

function changeWords(hp, version) {
  if (hp === null || hp === undefined) return el("span", {}, "none yet");
  if (version === 0) return el("span", { class: "change" }, `starts at ${hp}`);
  if (hp < 0) return el("span", { class: "change damage" }, `damage ${-hp}`);
  if (hp > 0) return el("span", { class: "change healing" }, `healing ${hp}`);
  return el("span", { class: "change" }, "no change");
}

function when(text) {
  if (!text) return el("span", {}, "time not recorded");
  const date = new Date(text);
  return el("time", { datetime: text }, date.toLocaleString());
}

// --- The campaign and its feed ------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const here = (path = "") => `#/campaigns/${state.campaign.id}${path}`;
const after = (cursor) => (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "");

// Opens a campaign (unless it is the open one): its name, its latest events, and its feed
// followed until another campaign or the list is opened.
async function openCampaign(id) {
  if (state.campaign?.id === id) return;
  closeCampaign();
  const campaign = { id, stop: new AbortController(), failing: false, party: new Map(), feed: [], head: null };
  state.campaign = campaign;
  try {
    Object.assign(campaign, await api("GET", `/campaigns/${id}`), { id });
  } catch (error) {
    if (state.campaign === campaign) closeCampaign();
    throw error;
  }
  try {
    await readLatest(campaign);
  } catch (error) {
    // The feed follower reads it again.
    campaign.failing = true;
    showError(error, "read the feed");
  }
  if (state.campaign === campaign) followFeed(campaign);
}

function closeCampaign() {
  state.campaign?.stop.abort();
  state.campaign = null;
}

// The campaign's latest events, and where its feed ends now.
async function readLatest(campaign) {
  const page = await api("GET", `/campaigns/${campaign.id}/events?direction=backward&limit=${FEED_SHOWN}`, null, campaign.stop.signal);
  campaign.feed = page.events;
  campaign.head = page.events.length ? page.events[0].position : ZERO;
}

// The feed's newer events, read conditionally: with the ETag of the last answer, the server
// answers 304 (one read of the feed's head, no body) while nothing is new. No request is held
// open, so on AWS no Lambda waits for an open screen.
async function readNewer(campaign, signal) {
  let response;
  try {
    response = await fetch(`/campaigns/${campaign.id}/events?after=${campaign.head}`, {
      headers: { ...signin.authorization(), ...(campaign.tag ? { "if-none-match": campaign.tag } : {}) },
      cache: "no-store",
      signal,
    });
  } catch {
    if (signal.aborted) throw new ApiError(0, { error: "aborted", message: "the campaign was closed" });
    throw new ApiError(0, { error: "unreachable", message: "the server cannot be reached" });
  }
  if (response.status === 304) return { events: [] };
  const data = await response.json().catch(() => null);
  if (response.status === 401 && signin.required()) showSignIn("Your sign-in has ended: sign in again.");
  if (!response.ok) throw new ApiError(response.status, data);
  // Kept by the caller once the events are shown: until then the same events must come again.
  return { ...data, tag: response.headers.get("etag") };
}

// Follows the campaign's feed until it is closed: a conditional read after the last position
// read, every POLL_MS. A failure is shown and retried; a position the feed does not know (the
// server started afresh) starts it again.
async function followFeed(campaign) {
  const { signal } = campaign.stop;
  while (!signal.aborted) {
    try {
      if (campaign.head === null) {
        campaign.tag = null;
        await readLatest(campaign);
        if (state.campaign === campaign) renderFeed();
      }
      const page = await readNewer(campaign, signal);
      if (page.events.length) {
        await onFeedEvents(campaign, page.events);
        campaign.head = page.next;
      }
      if (page.tag !== undefined) campaign.tag = page.tag;
      // A page that did not reach the feed's end (no tag) is followed at once.
      if (!page.events.length || page.tag) await sleep(POLL_MS);
      if (campaign.failing) {
        campaign.failing = false;
        clearError();
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error.code === "invalid_position") campaign.head = null;
      campaign.failing = true;
      showError(error, "follow the feed");
      await sleep(2000);
    }
  }
}

async function onFeedEvents(campaign, events) {
  const touched = [...new Set(events.map((e) => e.id))];
  // The snapshot table may lag the feed: read each touched character consistently. All of
  // them first: if one read fails, nothing is applied and the same events come again.
  const characters = await Promise.all(
    touched.map((id) => api("GET", `/characters/${id}?consistent=true`, null, campaign.stop.signal)),
  );
  const known = new Set(campaign.feed.map((e) => e.position));
  campaign.feed = [...events.filter((e) => !known.has(e.position)).reverse(), ...campaign.feed].slice(0, FEED_SHOWN);
  touched.forEach((id, i) => {
    const character = characters[i];
    // Moved to another campaign since: no longer in this party.
    if (character.campaign_id && character.campaign_id !== campaign.id) return campaign.party.delete(id);
    const last = events.filter((e) => e.id === id).at(-1);
    campaign.party.set(id, {
      ...(campaign.party.get(id) ?? {}),
      ...character,
      id,
      last_hp_change: last.hp_change,
      last_note: last.note,
      last_recorded_at: last.recorded_at,
      last_event_type: last.event_type ?? null,
      last_outcome: last.outcome ?? null,
    });
  });
  if (state.campaign !== campaign) return;
  const view = state.view;
  if (view?.kind === "party") renderParty(true);
  else if (view?.kind === "character" && touched.includes(view.id)) await refreshCharacter(view, false, true);
  else renderFeed();
}

// Only the feed's list, where the view shows it.
function renderFeed() {
  $("#feed")?.replaceWith(feedList());
}

// --- The party view ---------------------------------------------------------------------------

async function loadParty(campaign) {
  let cursor = null;
  const party = new Map();
  do {
    const page = await api("GET", `/campaigns/${campaign.id}/characters?limit=1000${after(cursor)}`);
    for (const c of page.characters) party.set(c.id, c);
    cursor = page.next_cursor;
  } while (cursor);
  // What the feed already brought is at least as new as the snapshot.
  for (const [id, c] of campaign.party) {
    const listed = party.get(id);
    if (!listed || listed.version < c.version) party.set(id, c);
  }
  campaign.party = party;
}

function partyInOrder() {
  return [...state.campaign.party.values()].sort((a, b) => {
    const at = (c) => (c.last_recorded_at ? Date.parse(c.last_recorded_at) : 0);
    return at(b) - at(a) || a.character_name.localeCompare(b.character_name);
  });
}

// `live`: the feed brought something. Only the table and the feed are drawn again: the form,
// and what the DM is typing in it, stay as they are.
function renderParty(live) {
  if (live && $("#party") && ($("#create") || isPlayer())) {
    const row = document.activeElement?.closest("#party tr")?.dataset.character;
    const focused = document.activeElement?.closest("#party input.target")?.value;
    const before = [...(state.campaign.selected ?? [])].join();
    $("#party").replaceWith(partyTable());
    if ([...state.campaign.selected].join() !== before) refreshHit();
    renderFeed();
    if (focused) $(`#party input.target[value="${focused}"]`)?.focus();
    else if (row) $(`#party tr[data-character="${row}"] a`)?.focus();
    return;
  }
  const typing = $("#create");
  const draft = typing
    ? { name: typing.name.value, hp: typing.hp.value, note: typing.note.value, rules: typing.rules.checked }
    : null;
  const main = $("#main");
  const focused = document.activeElement?.id;
  main.replaceChildren(
    campaignBar(),
    el(
      "div",
      { class: "grid" },
      el(
        "section",
        { "aria-labelledby": "party-heading" },
        el("h2", { id: "party-heading", tabindex: "-1" }, "The party"),
        partyTable(),
        isPlayer() ? null : el("h2", { id: "create-heading" }, "Create a character"),
        isPlayer() ? null : createForm(draft),
        role() === "dm" ? membersSection(state.campaign, { say, showError, characters: partyInOrder }) : null,
      ),
      el("div", {}, hitForm(), feedSection()),
    ),
  );
  if (focused && $(`#${focused}`)) $(`#${focused}`).focus();
  if (!performance.getEntriesByName("party-rendered").length) performance.mark("party-rendered");
}

// The HP cell: HP against the maximum (a meter), temporary HP apart; HP alone without rules.
function hpCell(c) {
  if (c.max_hp === null || c.max_hp === undefined) return el("td", { class: "num hp" }, c.hp);
  return el(
    "td",
    { class: "hp" },
    el("meter", { min: 0, max: c.max_hp, low: Math.floor(c.max_hp / 2) + 1, optimum: c.max_hp, value: c.hp,
      "aria-label": `${c.hp} of ${c.max_hp} HP` }),
    el("span", { class: "hp-words" }, el("strong", { class: "hp-value" }, c.hp), ` / ${c.max_hp}`),
    c.temp_hp ? el("span", { class: "temp" }, ` +${c.temp_hp} temporary`) : null,
  );
}

function statusCell(c) {
  const s = statusOf(c);
  if (!s) return el("td", { class: "status" }, "no rules");
  return el(
    "td",
    { class: `status ${s.status}` },
    el("span", { "aria-hidden": "true" }, `${s.mark} `),
    s.word,
    s.detail ? el("span", { class: "saves" }, `: ${s.detail}`) : null,
    s.bloodied ? el("span", { class: "bloodied" }, " · bloodied") : null,
  );
}

// The last change, as the rules computed it where they did.
function lastChange(c) {
  const words = outcomeWords(c.last_outcome);
  return words ? el("span", { class: "change" }, words) : changeWords(c.last_hp_change, c.version);
}

function partyTable() {
  const campaign = state.campaign;
  // A character that left the party (or that this screen may not command) is no target.
  const selected = (campaign.selected ??= new Set());
  for (const id of selected) if (!campaign.party.has(id) || !mayCommand(id)) selected.delete(id);
  const rows = partyInOrder().map((c) => {
    const ruled = c.max_hp !== null && c.max_hp !== undefined;
    return el(
      "tr",
      { "data-character": c.id },
      el("td", { class: "pick" }, ruled && mayCommand(c.id)
        ? el("input", { type: "checkbox", class: "target", value: c.id, checked: selected.has(c.id),
            "aria-label": `Target ${c.character_name}` })
        : null),
      el("th", { scope: "row" }, el("a", { href: here(`/characters/${c.id}`), class: "name" }, c.character_name)),
      hpCell(c),
      statusCell(c),
      el("td", { class: "last" }, lastChange(c)),
      el("td", { class: "note" }, c.last_note ?? ""),
      el("td", { class: "num version" }, c.version),
    );
  });
  const table = el(
    "table",
    { id: "party" },
    el("caption", {}, "Most recently changed first"),
    el(
      "thead",
      {},
      el("tr", {}, el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Target")), el("th", { scope: "col" }, "Character"), el("th", { scope: "col" }, "HP"),
        el("th", { scope: "col" }, "Status"), el("th", { scope: "col" }, "Last change"),
        el("th", { scope: "col" }, "Note"), el("th", { scope: "col", class: "num version" }, "Version")),
    ),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 7 }, "No characters yet: create one below."))),
  );
  table.addEventListener("change", (event) => {
    if (!event.target.matches("input.target")) return;
    const chosen = (state.campaign.selected ??= new Set());
    if (event.target.checked) chosen.add(event.target.value);
    else chosen.delete(event.target.value);
    refreshHit();
  });
  return table;
}

// --- One hit, many targets ----------------------------------------------------------------------

// The hit form drawn again for the targets ticked now, keeping what the DM entered.
function refreshHit() {
  const old = $("#hit");
  if (!old) return;
  const saved = new Set([...old.querySelectorAll("input[name=saved]:checked")].map((i) => i.value));
  const values = { amount: old.amount.value, type: old.type.value, critical: old.critical.checked, note: old.note.value };
  const form = hitForm();
  form.amount.value = values.amount;
  form.type.value = values.type;
  form.critical.checked = values.critical;
  form.note.value = values.note;
  for (const input of form.querySelectorAll("input[name=saved]")) input.checked = saved.has(input.value);
  old.replaceWith(form);
}

// The selected characters take one roll; each marked "saved" takes half. Preview asks the API
// (dry_run), Send writes every target's event in one request.
function hitForm() {
  const campaign = state.campaign;
  const targets = [...(campaign.selected ?? [])].map((id) => campaign.party.get(id)).filter(Boolean);
  const form = el(
    "form",
    { id: "hit", "aria-labelledby": "hit-heading" },
    el("h2", { id: "hit-heading" }, "One hit, many targets"),
    targets.length
      ? el("ul", { id: "hit-targets" }, targets.map((c) => el("li", { "data-character": c.id },
          el("span", { class: "name" }, c.character_name),
          el("label", { class: "check" }, el("input", { type: "checkbox", name: "saved", value: c.id,
            "aria-label": `${c.character_name} saved: half` }), " saved: half"),
          el("output", { class: "result", for: "hit-preview" }))))
      : el("p", {}, "Tick characters in the party to hit them together."),
    el("label", { for: "hit-amount" }, "Damage rolled"),
    el("input", { id: "hit-amount", name: "amount", type: "number", min: 0, step: 1, required: true }),
    el("label", { for: "hit-type" }, "Damage type"),
    el("select", { id: "hit-type", name: "type" }, TYPES.map((t) => el("option", { value: t, selected: t === "fire" }, t))),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "critical" }), " critical hit"),
    el("label", { for: "hit-note" }, "Note"),
    el("input", { id: "hit-note", name: "note", maxlength: 2000, value: "Fireball" }),
    el("div", { class: "buttons" },
      el("button", { type: "button", id: "hit-preview", class: "secondary", disabled: !targets.length }, "Preview"),
      el("button", { type: "submit", id: "hit-send", disabled: !targets.length }, "Send")),
  );
  // Kept on the campaign: a form drawn again keeps the hit's id until it is written.
  const body = (dryRun) => {
    const saved = new Set([...form.querySelectorAll("input[name=saved]:checked")].map((i) => i.value));
    const wanted = {
      amount: Number(form.amount.value),
      type: form.type.value,
      critical: form.critical.checked,
      note: form.note.value || undefined,
      targets: targets.map((c) => ({ id: c.id, halved: saved.has(c.id) })),
    };
    // The same hit until it is written: a retry cannot hit twice.
    const key = JSON.stringify(wanted);
    if (!campaign.hitAttempt || campaign.hitAttempt.key !== key) campaign.hitAttempt = { key, id: crypto.randomUUID() };
    return { ...wanted, event_id: campaign.hitAttempt.id, dry_run: dryRun };
  };
  const show = (answer, done) => {
    for (const t of answer.targets) {
      const out = form.querySelector(`li[data-character="${t.id}"] output`);
      if (out) out.textContent = `${outcomeWords(t.event.outcome)}: HP ${t.state.hp}${done ? "" : " (preview)"}`;
    }
  };
  const send = async (dryRun) => {
    if (!form.reportValidity()) return;
    clearError();
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const answer = await api("POST", "/damage", body(dryRun));
      show(answer, !dryRun);
      if (!dryRun) {
        campaign.hitAttempt = null;
        for (const t of answer.targets) {
          const before = campaign.party.get(t.id) ?? {};
          campaign.party.set(t.id, { ...before, ...t.state, id: t.id, last_hp_change: t.event.hp_change,
            last_note: t.event.note, last_recorded_at: t.event.recorded_at, last_event_type: t.event.event_type,
            last_outcome: t.event.outcome });
        }
        say(`Hit ${answer.targets.length} character(s).`);
        if (state.campaign === campaign) $("#party")?.replaceWith(partyTable());
      }
    } catch (error) {
      if (error.status && error.status < 500) campaign.hitAttempt = null;
      showError(error, dryRun ? "preview the hit" : "send the hit");
    }
    for (const b of form.querySelectorAll("button")) b.disabled = false;
  };
  $("#hit-preview", form).addEventListener("click", () => send(true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(false);
  });
  return form;
}

// Which campaign is open, and the way back to the list.
function campaignBar() {
  const c = state.campaign;
  return el(
    "div",
    { class: "campaign-bar" },
    el("h2", { id: "campaign-name" }, c.name),
    el("p", {}, `Dungeon Master: ${c.dm_name || "not named"} · Rules: ${c.ruleset} · `,
      el("a", { href: "#/", id: "to-campaigns" }, "All campaigns")),
  );
}

function feedSection() {
  return el(
    "section",
    { "aria-labelledby": "feed-heading" },
    el("h2", { id: "feed-heading" }, "Tonight's feed"),
    feedList(),
  );
}

function feedList() {
  return el(
      "ol",
      { class: "feed", id: "feed", "aria-live": "polite" },
      state.campaign.feed.length
        ? state.campaign.feed.map((e) =>
            el(
              "li",
              { "data-position": e.position },
              el("a", { href: here(`/characters/${e.id}`) }, e.character_name),
              ": ",
              outcomeWords(e.outcome) ? el("span", { class: "change" }, outcomeWords(e.outcome)) : changeWords(e.hp_change, e.version),
              ` (version ${e.version}) `,
              el("span", { class: "note" }, e.note),
              el("br"),
              when(e.recorded_at),
            ),
          )
        : el("li", {}, "Nothing has happened yet."),
  );
}

// One event id per character the DM means to create (same campaign, name, HP and note): a retry
// after a lost answer finds the character it created instead of making a second.
let createAttempt = null;

function createForm(draft) {
  const form = el(
    "form",
    { id: "create", "aria-labelledby": "create-heading" },
    el("label", { for: "create-name" }, "Name"),
    el("input", { id: "create-name", name: "name", required: true, maxlength: 256, autocomplete: "off", value: draft?.name ?? "" }),
    el("label", { for: "create-hp" }, "Starting hit points"),
    el("input", { id: "create-hp", name: "hp", type: "number", required: true, min: 1, step: 1, value: draft?.hp ?? 10 }),
    el("label", { for: "create-note" }, "Note"),
    el("input", { id: "create-note", name: "note", required: true, value: draft?.note ?? "Rolled at character creation" }),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "rules", id: "create-rules", checked: draft?.rules }),
      " Under the rules: the starting hit points are the maximum"),
    el("button", { type: "submit" }, "Create"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("button", form);
    if (button.disabled) return;
    button.disabled = true;
    clearError();
    const campaign = state.campaign.id;
    const wanted = { campaign, name: form.name.value, hp: Number(form.hp.value), note: form.note.value };
    const same = createAttempt && ["campaign", "name", "hp", "note"].every((k) => createAttempt[k] === wanted[k]);
    if (!same) createAttempt = { ...wanted, id: crypto.randomUUID() };
    try {
      const created = await api("POST", "/characters", {
        character_name: wanted.name,
        ...(form.rules.checked ? { max_hp: wanted.hp } : { hp_change: wanted.hp }),
        note: wanted.note,
        event_id: createAttempt.id,
        campaign_id: campaign,
      });
      createAttempt = null;
      say(`${form.name.value} joined the party.`);
      location.hash = `#/campaigns/${campaign}/characters/${created.id}`;
    } catch (error) {
      if (error.status && error.status < 500) createAttempt = null;
      showError(error, "create the character");
      button.disabled = false;
    }
  });
  return form;
}

// --- The character view -----------------------------------------------------------------------

async function loadAllEvents(id) {
  const events = [];
  let cursor = null;
  do {
    const page = await api("GET", `/characters/${id}/events?limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
    events.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor);
  return events;
}

async function showCharacter(id) {
  const view = { kind: "character", id, known: null, pageIndex: 0, pending: null, travel: null, campaign: state.campaign };
  state.view = view;
  // The other campaigns, where the character may move (the screen works without them).
  const campaigns = loadCampaigns().catch(() => {});
  if (!state.campaigns) await campaigns;
  await refreshCharacter(view, true);
}

// Reads the character consistently, for `view` if it is still the one on screen. `initial`:
// also the version the page knows for appends.
async function refreshCharacter(view, initial, live) {
  const [character, events] = await Promise.all([
    api("GET", `/characters/${view.id}?consistent=true`),
    loadAllEvents(view.id),
  ]);
  if (state.view !== view) return;
  // A link into the wrong campaign (or the character moved): the campaign it is in.
  if (character.campaign_id && character.campaign_id !== view.campaign.id) {
    location.replace(`#/campaigns/${character.campaign_id}/characters/${view.id}`);
    return;
  }
  view.character = character;
  view.events = events;
  if (initial || view.known === null) view.known = character.version;
  renderCharacter(initial, live);
}

// `live`: the feed brought something. The character and its history are drawn again, the
// forms (and what the DM is typing in them) stay as they are.
function renderCharacter(focusHeading, live) {
  const view = state.view;
  const focused = document.activeElement?.id;
  if (live && $("#summary") && $("#history") && ($("#record") || $("#read-only") || $("#commands"))) {
    const point = document.activeElement?.closest?.("#chart .point")?.dataset.version;
    $("#summary").replaceWith(characterSummary());
    $("#history").replaceWith(characterHistory());
    renderFeed();
    if (point) $(`#chart .point[data-version="${point}"]`)?.focus();
    else if (focused && $(`#${focused}`)) $(`#${focused}`).focus();
    return;
  }
  // Drawn again: what the DM is typing stays.
  const typing = $("#record");
  if (typing) {
    view.draft = { kind: typing.kind.value, amount: typing.amount.value, note: typing.note.value, type: typing.type?.value };
  }
  const moving = $("#move");
  if (moving) view.moveTo = moving.campaign.value;
  const ruled = view.character.max_hp !== null && view.character.max_hp !== undefined;
  $("#main").replaceChildren(
    campaignBar(),
    el("p", {}, el("a", { href: here() }, "← The party")),
    characterSummary(),
    el(
      "div",
      { class: "grid" },
      characterHistory(),
      el(
        "section",
        { "aria-label": "Change the character" },
        ruled && mayCommand(view.id)
          ? commandsSection(view, { api, el, player: isPlayer(), done: commanded, stale: () => reread(view), fail: showError, clear: clearError })
          : el("h2", { id: "record-heading" }, "Record damage or healing"),
        ruled && mayCommand(view.id) ? null : !isPlayer() && !ruled
          ? recordForm()
          : el("p", { id: "read-only" },
            "You follow this character: the DM records its changes (a player runs the rules' commands on the characters the DM assigned them)."),
        isPlayer() ? null : moveForm(),
        feedSection(),
      ),
    ),
  );
  if (focusHeading) $("#character-heading").focus();
  else if (focused && $(`#${focused}`)) $(`#${focused}`).focus();
}

// After a 409: the character as it is now, and its version the one the page knows.
async function reread(view) {
  try {
    const now = await api("GET", `/characters/${view.id}?consistent=true`);
    view.known = now.version;
    if (state.view === view) await refreshCharacter(view, false);
  } catch (error) {
    showError(error, "read the character again");
  }
}

// A character under the rules in words: its status, HP of its maximum, temporary HP.
function stateWords(c) {
  const s = statusOf(c);
  return `${s.mark} ${s.word}${s.detail ? `: ${s.detail}` : ""}${s.bloodied ? " · bloodied" : ""}` +
    ` · HP ${c.hp} of ${c.max_hp}${c.temp_hp ? `, +${c.temp_hp} temporary` : ""}`;
}

// A command under the rules was written: the version it wrote is the one the page knows.
async function commanded(answer) {
  const view = state.view;
  view.known = answer.event?.version ?? view.known;
  say(`${view.character.character_name}: HP ${answer.state.hp}.`);
  try {
    await refreshCharacter(view, false);
  } catch (error) {
    showError(error, "show the character again (the command was saved)");
  }
}

function characterSummary() {
  const view = state.view;
  const c = view.character;
  return el(
    "section",
    { id: "summary", "aria-labelledby": "character-heading" },
    el("h2", { id: "character-heading", tabindex: "-1" }, c.character_name),
    el("p", { class: "hp-now" }, "HP ", el("span", { id: "hp" }, c.hp)),
    statusOf(c) ? el("p", { id: "state-words" }, stateWords(c)) : null,
    el("p", {}, "Version ", el("span", { id: "version" }, c.version), ` · ${view.events.length} events`),
    view.known < c.version
      ? el("p", { class: "notice", id: "behind" },
          `Another player recorded since you last did (version ${c.version}); your next record will ask you to confirm.`)
      : null,
  );
}

function characterHistory() {
  return el(
    "section",
    { id: "history", "aria-labelledby": "chart-heading", class: "chart" },
    el("h2", { id: "chart-heading" }, "HP over its history"),
    chart(state.view.events),
    el("p", { id: "point-detail", "aria-live": "polite" }, "Hover or focus a point for its note."),
    el("h2", { id: "travel-heading" }, "HP as it was"),
    travelControl(),
    el("h2", { id: "events-heading" }, "Events, newest first"),
    eventsTable(),
  );
}

function chart(events) {
  const width = 640, height = 260, pad = 36;
  let hp = 0;
  const points = events.map((e) => {
    hp += e.snapshot ? 0 : e.hp_change;
    return { event: e, hp };
  });
  const max = Math.max(1, ...points.map((p) => p.hp));
  const min = Math.min(0, ...points.map((p) => p.hp));
  const last = Math.max(1, points.length - 1);
  const x = (i) => pad + (i * (width - 2 * pad)) / last;
  const y = (v) => height - pad - ((v - min) * (height - 2 * pad)) / (max - min || 1);
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.hp).toFixed(1)}`).join(" ");
  const marks = points.map((p, i) => {
    const change = p.event.hp_change;
    const kind = i === 0 ? "start" : change < 0 ? "damage" : change > 0 ? "healing" : "start";
    const words = i === 0 ? `start, HP ${p.hp}` : `${change < 0 ? `damage ${-change}` : change > 0 ? `healing ${change}` : "no change"}, HP ${p.hp}`;
    const label = `Version ${p.event.version}: ${words}. ${p.event.note}`;
    const cx = x(i), cy = y(p.hp);
    // Damage points down, healing points up: shape as well as colour.
    const shape =
      kind === "damage"
        ? svg("path", { class: "mark damage", d: `M${cx - 7},${cy - 5} L${cx + 7},${cy - 5} L${cx},${cy + 7} Z` })
        : kind === "healing"
          ? svg("path", { class: "mark healing", d: `M${cx - 7},${cy + 5} L${cx + 7},${cy + 5} L${cx},${cy - 7} Z` })
          : svg("circle", { class: "mark start", cx, cy, r: 6 });
    const detail = () => ($("#point-detail").textContent = label);
    return svg(
      "g",
      { class: `point ${kind}`, tabindex: 0, role: "img", "aria-label": label, "data-version": p.event.version, onfocus: detail, onmouseenter: detail },
      svg("title", {}, label),
      shape,
    );
  });
  return svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "group", "aria-label": `HP over ${points.length} events: damage points down, healing points up`, id: "chart" },
    svg("line", { class: "axis", x1: pad, y1: y(0), x2: width - pad, y2: y(0) }),
    svg("text", { x: 4, y: y(max) + 4 }, `${max}`),
    svg("text", { x: 4, y: y(min) + 4 }, `${min}`),
    svg("text", { x: pad, y: height - 8 }, "version 0"),
    svg("text", { x: width - pad - 60, y: height - 8 }, `version ${Math.max(0, points.length - 1)}`),
    svg("path", { class: "line", d: line }),
    marks,
  );
}

function travelControl() {
  const view = state.view;
  const max = view.character.version;
  const at = view.travel?.version ?? max;
  const output = el("p", { id: "travel-result", "aria-live": "polite" },
    view.travel ? travelWords(view.travel) : "Pick a version to see the character as it was.");
  const input = el("input", { id: "travel", type: "range", min: 0, max, step: 1, value: at, "aria-valuetext": `version ${at}` });
  let timer = null;
  input.addEventListener("input", () => {
    input.setAttribute("aria-valuetext", `version ${input.value}`);
    $("#travel-version").textContent = input.value;
    clearTimeout(timer);
    timer = setTimeout(() => travelTo(Number(input.value)), 150);
  });
  return el(
    "div",
    { class: "travel" },
    el("label", { for: "travel" }, "Version ", el("span", { id: "travel-version" }, at)),
    input,
    output,
  );
}

// The character as it was, in full: HP, and under the rules its maximum, temporary HP, status
// and death saves.
function travelWords(then) {
  const s = statusOf(then);
  const rules = s
    ? ` of ${then.max_hp}${then.temp_hp ? `, +${then.temp_hp} temporary` : ""}; ${s.word}${s.detail ? ` (${s.detail})` : ""}${s.bloodied ? ", bloodied" : ""}`
    : "";
  return `As of version ${then.version}: ${then.character_name} had HP ${then.hp}${rules}.`;
}

async function travelTo(version) {
  const view = state.view;
  try {
    const then = await api("GET", `/characters/${view.id}?at_version=${version}`);
    if (state.view !== view) return;
    view.travel = { ...then, version };
    $("#travel-result").textContent = travelWords(view.travel);
  } catch (error) {
    showError(error, `read version ${version}`);
  }
}

function eventsTable() {
  const view = state.view;
  // Pages of the events the chart already read, newest first.
  const pages = Math.max(1, Math.ceil(view.events.length / PAGE));
  view.pageIndex = Math.min(view.pageIndex, pages - 1);
  const start = view.events.length - view.pageIndex * PAGE;
  const page = view.events.slice(Math.max(0, start - PAGE), start).reverse();
  const rows = page.map((e) =>
    el(
      "tr",
      { "data-version": e.version },
      el("td", { class: "num" }, e.version),
      el("td", { class: "type" }, (e.event_type ?? "change").replace(/_/g, " ")),
      el("td", {}, outcomeWords(e.outcome) ?? changeWords(e.hp_change, e.version)),
      el("td", { class: "note" }, e.note),
      el("td", {}, when(e.recorded_at)),
    ),
  );
  const older = el("button", { type: "button", class: "secondary", id: "older", disabled: view.pageIndex >= pages - 1 }, "Older events");
  const newer = el("button", { type: "button", class: "secondary", id: "newer", disabled: view.pageIndex === 0 }, "Newer events");
  const turn = (by, id) => () => {
    view.pageIndex += by;
    renderCharacter(false, true);
    $(`#${id}`)?.focus();
  };
  older.addEventListener("click", turn(1, "older"));
  newer.addEventListener("click", turn(-1, "newer"));
  return el(
    "div",
    {},
    el(
      "table",
      { id: "events" },
      el("caption", {}, `Page ${view.pageIndex + 1} of ${pages}`),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", class: "num" }, "Version"), el("th", { scope: "col" }, "Event"),
        el("th", { scope: "col" }, "What it did"),
        el("th", { scope: "col" }, "Note"), el("th", { scope: "col" }, "Recorded"))),
      el("tbody", {}, rows),
    ),
    el("div", { class: "pager" }, newer, older),
  );
}

function recordForm() {
  const view = state.view;
  const pending = view.pending ?? view.draft;
  const form = el(
    "form",
    { id: "record", "aria-labelledby": "record-heading" },
    el(
      "fieldset",
      {},
      el("legend", {}, "Kind"),
      el("label", {}, el("input", { type: "radio", name: "kind", value: "damage", checked: (pending?.kind ?? "damage") === "damage" }), " Damage"),
      el("label", {}, el("input", { type: "radio", name: "kind", value: "healing", checked: pending?.kind === "healing" }), " Healing"),
    ),
    el("label", { for: "amount" }, "Hit points"),
    el("input", { id: "amount", name: "amount", type: "number", required: true, min: 1, step: 1, value: pending?.amount ?? "" }),
    view.character.max_hp != null ? el("label", { for: "damage-type" }, "Damage type") : null,
    view.character.max_hp != null
      ? el("select", { id: "damage-type", name: "type" },
          TYPES.map((t) => el("option", { value: t, selected: t === (pending?.type ?? "bludgeoning") }, t)))
      : null,
    el("label", { for: "note" }, "Note: what caused it"),
    el("input", { id: "note", name: "note", required: true, maxlength: 2000, value: pending?.note ?? "" }),
    el("button", { type: "submit", id: "record-button", disabled: view.sending === true }, "Record"),
    view.conflict
      ? el(
          "div",
          { class: "notice", id: "conflict" },
          el("p", {}, view.conflict),
          el("button", { type: "button", id: "record-again" }, "Record again"),
        )
      : null,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // One record at a time: the one being sent is not replaced under it.
    if (view.sending) return;
    const kind = form.kind.value;
    const amount = Number(form.amount.value);
    // The same record until it is written: a double click or a retry reuses its event id.
    const type = form.type?.value;
    if (!view.pending || view.pending.kind !== kind || view.pending.amount !== amount || view.pending.note !== form.note.value || view.pending.type !== type) {
      view.pending = { kind, amount, type, note: form.note.value, eventId: crypto.randomUUID() };
    }
    record();
  });
  $("#record-again", form)?.addEventListener("click", () => {
    if (view.sending || !view.pending) return;
    view.pending.eventId = crypto.randomUUID();
    view.conflict = null;
    record();
  });
  return form;
}

async function record() {
  const view = state.view;
  if (view.sending) return;
  view.sending = true;
  const button = $("#record-button");
  if (button) button.disabled = true;
  clearError();
  const p = view.pending;
  let answer;
  try {
    // A character under the rules takes the rules' commands; one without, a plain event.
    answer = view.character.max_hp != null
      ? await api("POST", `/characters/${view.id}/${p.kind}`, {
          amount: p.amount,
          ...(p.kind === "damage" ? { type: p.type ?? "bludgeoning" } : {}),
          note: p.note,
          event_id: p.eventId,
          expected_version: view.known,
        })
      : await api("POST", `/characters/${view.id}/events`, {
          expected_version: view.known,
          events: [{
            character_name: view.character.character_name,
            hp_change: p.kind === "damage" ? -p.amount : p.amount,
            note: p.note,
            event_id: p.eventId,
          }],
        });
  } catch (error) {
    view.sending = false;
    if (error.status === 409) {
      try {
        const now = await api("GET", `/characters/${view.id}?consistent=true`);
        view.known = now.version;
        view.conflict = `Another player recorded first: ${now.character_name} is now at HP ${now.hp} (version ${now.version}). Your ${p.kind} of ${p.amount} was not recorded.`;
        await refreshCharacter(view, false);
        $("#record-again")?.focus();
      } catch (readError) {
        showError(readError, "read the character after another player's record");
        if (state.view === view) renderCharacter(false);
      }
      return;
    }
    // A request the server refused is done with; one that may not have arrived (no answer,
    // 5xx) keeps its event id, so sending it again cannot record it twice.
    if (error.status && error.status < 500) view.pending = null;
    showError(error, "record it");
    if (state.view === view) $("#record-button")?.removeAttribute("disabled");
    return;
  }
  // Recorded. The version the page knows comes from the append's own answer.
  view.sending = false;
  view.known = answer.event ? answer.event.version : answer.events.at(-1).version;
  view.pending = null;
  view.draft = null;
  view.conflict = null;
  // Ready for the next record (its inputs' defaults may hold an earlier draft: clear them).
  const done = state.view === view ? $("#record") : null;
  if (done) {
    done.amount.value = "";
    done.note.value = "";
    $("#record-button").disabled = false;
    if (document.activeElement?.closest("#conflict")) $("#amount").focus();
    $("#conflict")?.remove();
  }
  say(`Recorded ${p.kind} ${p.amount} for ${view.character.character_name} at version ${view.known}.`);
  try {
    // The form stays as it is: the DM may be typing the next one.
    await refreshCharacter(view, false, true);
  } catch (error) {
    showError(error, "show the character again (the record was saved)");
  }
}

function moveForm() {
  const view = state.view;
  const others = (state.campaigns ?? []).filter((c) => c.id !== view.campaign.id);
  if (!others.length) return null;
  const form = el(
    "form",
    { id: "move", "aria-labelledby": "move-heading" },
    el("label", { for: "move-campaign" }, "Campaign"),
    el("select", { id: "move-campaign", name: "campaign" },
      others.map((c) => el("option", { value: c.id, selected: c.id === view.moveTo }, c.name))),
    el("button", { type: "submit", class: "secondary" }, "Move"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("button", form);
    if (button.disabled) return;
    button.disabled = true;
    clearError();
    const to = others.find((c) => c.id === form.campaign.value);
    try {
      await api("POST", `/characters/${view.id}/campaign`, { campaign_id: to.id });
      say(`${view.character.character_name} moved to ${to.name}.`);
      location.hash = `#/campaigns/${to.id}/characters/${view.id}`;
    } catch (error) {
      showError(error, "move the character");
      button.disabled = false;
    }
  });
  return [el("h2", { id: "move-heading" }, "Move to another campaign"), form];
}

// --- The campaigns ------------------------------------------------------------------------------

async function loadCampaigns() {
  const campaigns = [];
  let cursor = null;
  do {
    const page = await api("GET", `/campaigns?limit=100${after(cursor)}`);
    campaigns.push(...page.campaigns);
    cursor = page.next_cursor;
  } while (cursor);
  state.campaigns = campaigns;
  return campaigns;
}

async function showCampaigns() {
  const view = { kind: "campaigns" };
  state.view = view;
  document.title = TITLE;
  // The default campaign is the operators' (a signed-in person has none).
  const [campaigns, used] = await Promise.all([
    loadCampaigns(),
    signin.required() ? { characters: [] } : api("GET", `/campaigns/${DEFAULT_CAMPAIGN}/characters?limit=1`),
  ]);
  if (state.view !== view) return;
  // The default campaign holds the characters made without one: listed once it has any.
  const shown = campaigns.filter((c) => c.id !== DEFAULT_CAMPAIGN || used.characters.length);
  const rows = shown.map((c) =>
    el(
      "tr",
      { "data-campaign": c.id },
      el("th", { scope: "row" }, el("a", { href: `#/campaigns/${c.id}`, class: "name" }, c.name)),
      el("td", { class: "dm" }, c.dm_name || "not named"),
      el("td", { class: "ruleset" }, c.ruleset),
      signin.required() ? el("td", { class: "role" }, c.role === "dm" ? "Dungeon Master" : "Player") : null,
    ),
  );
  // A route again (the same list) keeps what the DM is typing.
  const typing = $("#new-campaign");
  const draft = typing && { name: typing.name.value, dm: typing.dm.value, ruleset: typing.ruleset.value };
  $("#main").replaceChildren(
    el(
      "div",
      { class: "grid" },
      el(
        "section",
        { "aria-labelledby": "campaigns-heading" },
        el("h2", { id: "campaigns-heading", tabindex: "-1" }, "Campaigns"),
        el(
          "table",
          { id: "campaigns" },
          el("caption", {}, "Open one to see its party and its feed"),
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Campaign"),
            el("th", { scope: "col" }, "Dungeon Master"), el("th", { scope: "col" }, "Rules"),
            signin.required() ? el("th", { scope: "col" }, "You are") : null)),
          el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 4 }, "No campaigns yet: create one, or open an invite link."))),
        ),
      ),
      el(
        "section",
        { "aria-labelledby": "new-campaign-heading" },
        el("h2", { id: "new-campaign-heading" }, "Create a campaign"),
        campaignForm(draft),
      ),
    ),
  );
  $("#campaigns-heading").focus();
}

function campaignForm(draft) {
  const form = el(
    "form",
    { id: "new-campaign", "aria-labelledby": "new-campaign-heading" },
    el("label", { for: "new-campaign-name" }, "Campaign name"),
    el("input", { id: "new-campaign-name", name: "name", required: true, maxlength: 256, autocomplete: "off", value: draft?.name }),
    el("label", { for: "new-campaign-dm" }, "Dungeon Master's name"),
    el("input", { id: "new-campaign-dm", name: "dm", required: true, maxlength: 256, value: draft?.dm }),
    el("label", { for: "new-campaign-ruleset" }, "Rules"),
    el("select", { id: "new-campaign-ruleset", name: "ruleset" },
      RULESETS.map(([value, words]) => el("option", { value, selected: value === draft?.ruleset }, words))),
    el("button", { type: "submit" }, "Create the campaign"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("button", form);
    if (button.disabled) return;
    button.disabled = true;
    clearError();
    try {
      const created = await api("POST", "/campaigns", {
        name: form.name.value,
        dm_name: form.dm.value,
        ruleset: form.ruleset.value,
      });
      say(`Campaign ${created.name} created.`);
      location.hash = `#/campaigns/${created.id}`;
    } catch (error) {
      showError(error, "create the campaign");
      button.disabled = false;
    }
  });
  return form;
}

// --- Routing ------------------------------------------------------------------------------------

async function route() {
  // Only "#/…" is a view; another fragment (the skip link's #main) is a place on the page.
  if (location.hash && !location.hash.startsWith("#/")) return;
  if (signin.required() && !signin.signedIn()) {
    showSignIn(location.hash.startsWith("#/join/")
      ? "Sign in to join the campaign you were invited to."
      : "Sign in to see your campaigns.");
    return;
  }
  accountBar();
  const join = location.hash.match(new RegExp(`^#/join/${UUID}/([0-9a-f]{32})$`));
  if (join) {
    try {
      const member = await api("POST", `/campaigns/${join[1]}/members`, { code: join[2], name: signin.displayName() ?? undefined });
      say(member.role === "dm" ? "You are this campaign's DM." : "You joined the campaign as a player.");
      location.replace(`#/campaigns/${join[1].toLowerCase()}`);
    } catch (error) {
      showError(error, "join the campaign (the invite may have been replaced: ask the DM for a new link)");
      location.replace("#/");
    }
    return;
  }
  const old = location.hash.match(new RegExp(`^#/characters/${UUID}$`));
  const match = location.hash.match(new RegExp(`^#/campaigns/${UUID}(?:/characters/${UUID})?$`));
  try {
    if (old) {
      // A link from before campaigns: the character's campaign.
      const character = await api("GET", `/characters/${old[1]}?consistent=true`);
      location.replace(`#/campaigns/${character.campaign_id ?? DEFAULT_CAMPAIGN}/characters/${old[1]}`);
    } else if (match) {
      const view = { kind: "opening" };
      state.view = view;
      await openCampaign(match[1].toLowerCase());
      if (state.view !== view) return;
      document.title = `${state.campaign.name} · ${TITLE}`;
      if (match[2]) {
        await showCharacter(match[2].toLowerCase());
      } else {
        const party = { kind: "party" };
        state.view = party;
        await loadParty(state.campaign);
        if (state.view !== party) return;
        renderParty();
        $("#party-heading").focus();
      }
    } else {
      closeCampaign();
      await showCampaigns();
    }
  } catch (error) {
    showError(error, "load the screen");
    if (error.code === "campaign_not_found") {
      $("#main").replaceChildren(el("p", {}, "No such campaign. ", el("a", { href: "#/" }, "All campaigns")));
    }
  }
}

window.addEventListener("hashchange", () => {
  clearError();
  route();
});

whenSignInEnds(() => showSignIn("Your sign-in has ended: sign in again."));

(async () => {
  try {
    await signin.ready();
  } catch (error) {
    showError(error, "sign in");
  }
  await route();
  document.body.dataset.ready = "true";
})();
