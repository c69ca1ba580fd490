// The Dungeon Master's screen: plain JavaScript on the documented HTTP API, no build step.
// Views: the party (#/) and a character (#/characters/<id>). The global feed's long poll keeps
// both current.

const ZERO = "00000000000000000000";
const FEED_SHOWN = 20;
const PAGE = 10;

const state = {
  party: new Map(), // id -> {id, character_name, hp, version, last_hp_change, last_note, last_recorded_at}
  feed: [], // newest first
  head: null, // the feed position read up to
  view: null, // {kind: "party"} | {kind: "character", id, ...}
};

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// --- The API ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = body?.error ?? "http_error";
    this.body = body;
  }
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, { error: "unreachable", message: "the server cannot be reached" });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
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

// --- The feed ---------------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let feedFailing = false;

// Tonight's latest events, and where the feed ends now.
async function readLatest() {
  const page = await api("GET", `/events?direction=backward&limit=${FEED_SHOWN}`);
  state.feed = page.events;
  state.head = page.events.length ? page.events[0].position : ZERO;
}

// Follows the feed for ever: a long poll after the last position read. A failure is shown and
// retried; a position the feed does not know (the server started afresh) starts it again.
async function followFeed() {
  for (;;) {
    try {
      if (state.head === null) {
        await readLatest();
        renderFeed();
      }
      const page = await api("GET", `/events?after=${state.head}&wait=10`);
      if (page.events.length) {
        await onFeedEvents(page.events);
        state.head = page.next;
      }
      if (feedFailing) {
        feedFailing = false;
        clearError();
      }
    } catch (error) {
      if (error.code === "invalid_position") state.head = null;
      feedFailing = true;
      showError(error, "follow the feed");
      await sleep(2000);
    }
  }
}

async function onFeedEvents(events) {
  const touched = [...new Set(events.map((e) => e.id))];
  // The snapshot table may lag the feed: read each touched character consistently. All of
  // them first: if one read fails, nothing is applied and the same events come again.
  const characters = await Promise.all(touched.map((id) => api("GET", `/characters/${id}?consistent=true`)));
  const known = new Set(state.feed.map((e) => e.position));
  state.feed = [...events.filter((e) => !known.has(e.position)).reverse(), ...state.feed].slice(0, FEED_SHOWN);
  touched.forEach((id, i) => {
    const character = characters[i];
    const last = events.filter((e) => e.id === id).at(-1);
    state.party.set(id, {
      ...(state.party.get(id) ?? {}),
      id,
      character_name: character.character_name,
      hp: character.hp,
      version: character.version,
      last_hp_change: last.hp_change,
      last_note: last.note,
      last_recorded_at: last.recorded_at,
    });
  });
  const view = state.view;
  if (view?.kind === "party") renderParty();
  else if (view?.kind === "character" && touched.includes(view.id)) await refreshCharacter(view, false);
  else renderFeed();
}

// Only the feed's list, where the view shows it.
function renderFeed() {
  $("#feed")?.replaceWith(feedList());
}

// --- The party view ---------------------------------------------------------------------------

async function loadParty() {
  let cursor = null;
  const party = new Map();
  do {
    const page = await api("GET", `/characters?limit=1000${cursor ? `&cursor=${cursor}` : ""}`);
    for (const c of page.characters) party.set(c.id, c);
    cursor = page.next_cursor;
  } while (cursor);
  // What the feed already brought is at least as new as the snapshot.
  for (const [id, c] of state.party) {
    const listed = party.get(id);
    if (!listed || listed.version < c.version) party.set(id, c);
  }
  state.party = party;
}

function partyInOrder() {
  return [...state.party.values()].sort((a, b) => {
    const at = (c) => (c.last_recorded_at ? Date.parse(c.last_recorded_at) : 0);
    return at(b) - at(a) || a.character_name.localeCompare(b.character_name);
  });
}

function renderParty() {
  const typing = $("#create");
  const draft = typing
    ? { name: typing.name.value, hp: typing.hp.value, note: typing.note.value }
    : null;
  const rows = partyInOrder().map((c) =>
    el(
      "tr",
      { "data-character": c.id },
      el("th", { scope: "row" }, el("a", { href: `#/characters/${c.id}`, class: "name" }, c.character_name)),
      el("td", { class: "num hp" }, c.hp),
      el("td", { class: "last" }, changeWords(c.last_hp_change, c.version)),
      el("td", { class: "note" }, c.last_note ?? ""),
      el("td", { class: "num version" }, c.version),
    ),
  );
  const table = el(
    "table",
    { id: "party" },
    el("caption", {}, "Most recently changed first"),
    el(
      "thead",
      {},
      el("tr", {}, el("th", { scope: "col" }, "Character"), el("th", { scope: "col", class: "num" }, "HP"),
        el("th", { scope: "col" }, "Last change"), el("th", { scope: "col" }, "Note"),
        el("th", { scope: "col", class: "num" }, "Version")),
    ),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 5 }, "No characters yet: create one below."))),
  );
  const main = $("#main");
  const focused = document.activeElement?.id;
  main.replaceChildren(
    el(
      "div",
      { class: "grid" },
      el(
        "section",
        { "aria-labelledby": "party-heading" },
        el("h2", { id: "party-heading", tabindex: "-1" }, "The party"),
        table,
        el("h2", { id: "create-heading" }, "Create a character"),
        createForm(draft),
      ),
      feedSection(),
    ),
  );
  if (focused && $(`#${focused}`)) $(`#${focused}`).focus();
  if (!performance.getEntriesByName("party-rendered").length) performance.mark("party-rendered");
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
      state.feed.length
        ? state.feed.map((e) =>
            el(
              "li",
              { "data-position": e.position },
              el("a", { href: `#/characters/${e.id}` }, e.character_name),
              ": ",
              changeWords(e.hp_change, e.version),
              ` (version ${e.version}) `,
              el("span", { class: "note" }, e.note),
              el("br"),
              when(e.recorded_at),
            ),
          )
        : el("li", {}, "Nothing has happened yet."),
  );
}

// One event id per character the DM means to create (same name, HP and note): a retry after a
// lost answer finds the character it created instead of making a second.
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
    el("button", { type: "submit" }, "Create"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("button", form);
    if (button.disabled) return;
    button.disabled = true;
    clearError();
    const wanted = { name: form.name.value, hp: Number(form.hp.value), note: form.note.value };
    const same = createAttempt && ["name", "hp", "note"].every((k) => createAttempt[k] === wanted[k]);
    if (!same) createAttempt = { ...wanted, id: crypto.randomUUID() };
    try {
      const created = await api("POST", "/characters", {
        character_name: wanted.name,
        hp_change: wanted.hp,
        note: wanted.note,
        event_id: createAttempt.id,
      });
      createAttempt = null;
      say(`${form.name.value} joined the party.`);
      location.hash = `#/characters/${created.id}`;
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
  const view = { kind: "character", id, known: null, pageIndex: 0, pending: null, travel: null };
  state.view = view;
  await refreshCharacter(view, true);
}

// Reads the character consistently, for `view` if it is still the one on screen. `initial`:
// also the version the page knows for appends.
async function refreshCharacter(view, initial) {
  const [character, events] = await Promise.all([
    api("GET", `/characters/${view.id}?consistent=true`),
    loadAllEvents(view.id),
  ]);
  if (state.view !== view) return;
  view.character = character;
  view.events = events;
  if (initial || view.known === null) view.known = character.version;
  renderCharacter(initial);
}

function renderCharacter(focusHeading) {
  const view = state.view;
  // A live update re-renders the view: what the DM is typing stays.
  const typing = $("#record");
  if (typing) {
    view.draft = { kind: typing.kind.value, amount: typing.amount.value, note: typing.note.value };
  }
  const c = view.character;
  const behind = view.known < c.version;
  const main = $("#main");
  const focused = document.activeElement?.id;
  main.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, "← The party")),
    el(
      "section",
      { "aria-labelledby": "character-heading" },
      el("h2", { id: "character-heading", tabindex: "-1" }, c.character_name),
      el("p", { class: "hp-now" }, "HP ", el("span", { id: "hp" }, c.hp)),
      el("p", {}, "Version ", el("span", { id: "version" }, c.version), ` · ${view.events.length} events`),
      behind
        ? el("p", { class: "notice", id: "behind" },
            `Another player recorded since you last did (version ${c.version}); your next record will ask you to confirm.`)
        : null,
    ),
    el(
      "div",
      { class: "grid" },
      el(
        "section",
        { "aria-labelledby": "chart-heading", class: "chart" },
        el("h2", { id: "chart-heading" }, "HP over its history"),
        chart(view.events),
        el("p", { id: "point-detail", "aria-live": "polite" }, "Hover or focus a point for its note."),
        el("h2", { id: "travel-heading" }, "HP as it was"),
        travelControl(),
        el("h2", { id: "events-heading" }, "Events, newest first"),
        eventsTable(),
      ),
      el(
        "section",
        { "aria-labelledby": "record-heading" },
        el("h2", { id: "record-heading" }, "Record damage or healing"),
        recordForm(),
        feedSection(),
      ),
    ),
  );
  if (focusHeading) $("#character-heading").focus();
  else if (focused && $(`#${focused}`)) $(`#${focused}`).focus();
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
    view.travel ? `As of version ${view.travel.version}: ${view.travel.character_name} had HP ${view.travel.hp}.` : "Pick a version to see the character as it was.");
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

async function travelTo(version) {
  const view = state.view;
  try {
    const then = await api("GET", `/characters/${view.id}?at_version=${version}`);
    if (state.view !== view) return;
    view.travel = { version, hp: then.hp, character_name: then.character_name };
    $("#travel-result").textContent = `As of version ${version}: ${then.character_name} had HP ${then.hp}.`;
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
      el("td", {}, changeWords(e.hp_change, e.version)),
      el("td", { class: "note" }, e.note),
      el("td", {}, when(e.recorded_at)),
    ),
  );
  const older = el("button", { type: "button", class: "secondary", id: "older", disabled: view.pageIndex >= pages - 1 }, "Older events");
  const newer = el("button", { type: "button", class: "secondary", id: "newer", disabled: view.pageIndex === 0 }, "Newer events");
  const turn = (by, id) => () => {
    view.pageIndex += by;
    renderCharacter(false);
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
      el("thead", {}, el("tr", {}, el("th", { scope: "col", class: "num" }, "Version"), el("th", { scope: "col" }, "Change"),
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
    if (!view.pending || view.pending.kind !== kind || view.pending.amount !== amount || view.pending.note !== form.note.value) {
      view.pending = { kind, amount, note: form.note.value, eventId: crypto.randomUUID() };
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
    answer = await api("POST", `/characters/${view.id}/events`, {
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
  view.known = answer.events.at(-1).version;
  view.pending = null;
  view.draft = null;
  view.conflict = null;
  // Ready for the next record (its inputs' defaults may hold an earlier draft: clear them).
  const done = state.view === view ? $("#record") : null;
  if (done) {
    done.amount.value = "";
    done.note.value = "";
  }
  say(`Recorded ${p.kind} ${p.amount} for ${view.character.character_name} at version ${view.known}.`);
  try {
    await refreshCharacter(view, false);
  } catch (error) {
    showError(error, "show the character again (the record was saved)");
  }
}

// --- Routing ------------------------------------------------------------------------------------

async function route() {
  // Only "#/…" is a view; another fragment (the skip link's #main) is a place on the page.
  if (location.hash && !location.hash.startsWith("#/")) return;
  const match = location.hash.match(/^#\/characters\/([0-9a-fA-F-]{36})$/);
  try {
    if (match) {
      await showCharacter(match[1]);
    } else {
      state.view = { kind: "party" };
      await loadParty();
      renderParty();
      $("#party-heading").focus();
    }
  } catch (error) {
    showError(error, "load the screen");
  }
}

window.addEventListener("hashchange", () => {
  clearError();
  route();
});

(async () => {
  try {
    await readLatest();
  } catch (error) {
    state.head = null;
    feedFailing = true;
    showError(error, "read the feed");
  }
  await route();
  document.body.dataset.ready = "true";
  followFeed();
})();
