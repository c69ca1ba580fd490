// The party: HP, status and last change, most recently changed first; one hit on many; a new
// character; the DM's players.
import { $, el, labelled } from "./dom.js";
import { api } from "./api.js";
import { membersSection } from "./members.js";
import { outcomeWords, stateWords, statusOf, TYPES } from "./rules.js";
import {
  all, campaignBar, clearError, col, feedSection, here, isPlayer, mayCommand, onSubmit, remember, renderFeed,
  role, ruled, say, showError, state, whatItDid,
} from "./page.js";

export async function loadParty(campaign) {
  const listed = await all(`/campaigns/${campaign.id}/characters?limit=1000`, "characters");
  const party = new Map(listed.map((c) => [c.id, c]));
  // What the feed brought is at least as new as the list.
  for (const [id, c] of campaign.party) if (!(party.get(id)?.version >= c.version)) party.set(id, c);
  campaign.party = party;
}

function partyInOrder() {
  const at = (c) => (c.last_recorded_at ? Date.parse(c.last_recorded_at) : 0);
  return [...state.campaign.party.values()]
    .sort((a, b) => at(b) - at(a) || a.character_name.localeCompare(b.character_name));
}

// `live`: from the feed. Only the table and the feed are drawn again, not what the DM is typing.
export function renderParty(live) {
  const focused = document.activeElement;
  if (live && $("#party") && ($("#create") || isPlayer())) {
    const row = focused?.closest("#party tr")?.dataset.character;
    const target = focused?.closest("#party input.target")?.value;
    const mine = focused?.closest("#yours li")?.dataset.character;
    const before = [...(state.campaign.selected ?? [])].join();
    $("#party").replaceWith(partyTable());
    $("#yours")?.replaceWith(yours());
    if ([...state.campaign.selected].join() !== before) refreshHit();
    renderFeed();
    if (target) $(`#party input.target[value="${target}"]`)?.focus();
    else if (row) $(`#party tr[data-character="${row}"] a`)?.focus();
    else if (mine) $(`#yours li[data-character="${mine}"] a`)?.focus();
    return;
  }
  const typing = $("#create");
  const draft = typing && { name: typing.name.value, hp: typing.hp.value, note: typing.note.value, rules: typing.rules.checked };
  $("#main").replaceChildren(...[
    campaignBar(),
    isPlayer() && yours(),
    el("div", { class: "grid" },
      el("section", { "aria-labelledby": "party-heading" },
        el("h2", { id: "party-heading", tabindex: "-1" }, "The party"),
        partyTable(),
        isPlayer() ? null : [el("h2", { id: "create-heading" }, "Create a character"), createForm(draft)],
        role() === "dm" ? membersSection(state.campaign, partyInOrder) : null),
      el("div", {}, isPlayer() ? null : hitForm(), feedSection())),
  ].filter(Boolean));
  if (focused?.id) $(`#${focused.id}`)?.focus();
  if (!performance.getEntriesByName("party-rendered").length) performance.mark("party-rendered");
}

// A player's own characters first, each a link to its commands.
function yours() {
  const mine = partyInOrder().filter((c) => state.campaign.characters?.includes(c.id));
  return el("section", { id: "yours", "aria-labelledby": "yours-heading" },
    el("h2", { id: "yours-heading" }, "Your characters"),
    mine.length
      ? el("ul", {}, mine.map((c) => el("li", { "data-character": c.id },
        el("a", { href: here(`/characters/${c.id}`), class: "name" }, c.character_name), `: ${stateWords(c)}`)))
      : el("p", {}, "None yet: the DM assigns you your characters."));
}

function hpCell(c) {
  if (!ruled(c)) return el("td", { class: "num hp" }, c.hp);
  return el("td", { class: "hp" },
    el("meter", { min: 0, max: c.max_hp, low: Math.floor(c.max_hp / 2) + 1, optimum: c.max_hp, value: c.hp,
      "aria-label": `${c.hp} of ${c.max_hp} HP` }),
    el("span", { class: "hp-words" }, el("strong", { class: "hp-value" }, c.hp), ` / ${c.max_hp}`),
    c.temp_hp ? el("span", { class: "temp" }, ` +${c.temp_hp} temporary`) : null);
}

function statusCell(c) {
  const s = statusOf(c);
  if (!s) return el("td", { class: "status" }, "no rules");
  return el("td", { class: `status ${s.status}` }, el("span", { "aria-hidden": "true" }, `${s.mark} `), s.word,
    s.detail ? el("span", { class: "saves" }, `: ${s.detail}`) : null,
    s.bloodied ? el("span", { class: "bloodied" }, " · bloodied") : null);
}

function partyTable() {
  const selected = (state.campaign.selected ??= new Set());
  for (const id of selected) if (!state.campaign.party.has(id) || !mayCommand(id)) selected.delete(id);
  const rows = partyInOrder().map((c) => el("tr", { "data-character": c.id },
    el("td", { class: "pick" }, ruled(c) && !isPlayer()
      ? el("input", { type: "checkbox", class: "target", value: c.id, checked: selected.has(c.id),
        "aria-label": `Target ${c.character_name}` })
      : null),
    el("th", { scope: "row" }, el("a", { href: here(`/characters/${c.id}`), class: "name" }, c.character_name)),
    hpCell(c),
    statusCell(c),
    el("td", { class: "last" }, whatItDid(c.last_outcome, c.last_hp_change, c.version)),
    el("td", { class: "note" }, c.last_note ?? ""),
    el("td", { class: "num version" }, c.version)));
  const table = el("table", { id: "party" },
    el("caption", {}, "Most recently changed first"),
    el("thead", {}, el("tr", {}, col(el("span", { class: "visually-hidden" }, "Target")), col("Character"), col("HP"),
      col("Status"), col("Last change"), col("Note", "note"), col("Version", "num version"))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 7 }, "No characters yet: create one below."))));
  table.addEventListener("change", ({ target }) => {
    if (!target.matches("input.target")) return;
    if (target.checked) selected.add(target.value);
    else selected.delete(target.value);
    refreshHit();
  });
  return table;
}

function refreshHit() {
  const old = $("#hit");
  if (!old) return;
  const form = hitForm();
  for (const name of ["amount", "type", "note"]) form[name].value = old[name].value;
  form.critical.checked = old.critical.checked;
  for (const input of old.querySelectorAll("input[name=saved]:checked")) {
    const same = form.querySelector(`input[name=saved][value="${input.value}"]`);
    if (same) same.checked = true;
  }
  old.replaceWith(form);
}

// One roll on the ticked characters, half for each who saved. Preview is the API's dry run.
function hitForm() {
  const campaign = state.campaign;
  const targets = [...(campaign.selected ?? [])].map((id) => campaign.party.get(id)).filter(Boolean);
  const form = el("form", { id: "hit", "aria-labelledby": "hit-heading" },
    el("h2", { id: "hit-heading" }, "One hit, many targets"),
    targets.length
      ? el("ul", { id: "hit-targets" }, targets.map((c) => el("li", { "data-character": c.id },
        el("span", { class: "name" }, c.character_name),
        el("label", { class: "check" }, el("input", { type: "checkbox", name: "saved", value: c.id,
          "aria-label": `${c.character_name} saved: half` }), " saved: half"),
        el("output", { class: "result", for: "hit-preview" }))))
      : el("p", {}, "Tick characters in the party to hit them together."),
    labelled("hit-amount", "Damage rolled", { name: "amount", type: "number", min: 0, step: 1, required: true }),
    labelled("hit-type", "Damage type", { tag: "select", name: "type",
      options: TYPES.map((t) => el("option", { selected: t === "fire" }, t)) }),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "critical" }), " critical hit"),
    labelled("hit-note", "Note", { name: "note", maxlength: 2000, value: "Fireball" }),
    el("div", { class: "buttons" },
      el("button", { type: "button", id: "hit-preview", class: "secondary", disabled: !targets.length }, "Preview"),
      el("button", { type: "submit", id: "hit-send", disabled: !targets.length }, "Send")));
  const body = (dryRun) => {
    const saved = new Set([...form.querySelectorAll("input[name=saved]:checked")].map((i) => i.value));
    const wanted = { amount: Number(form.amount.value), type: form.type.value, critical: form.critical.checked,
      note: form.note.value || undefined, targets: targets.map((c) => ({ id: c.id, halved: saved.has(c.id) })) };
    // The same hit keeps its id until it is written: a retry cannot hit twice.
    const key = JSON.stringify(wanted);
    if (campaign.hit?.key !== key) campaign.hit = { key, id: crypto.randomUUID() };
    return { ...wanted, event_id: campaign.hit.id, dry_run: dryRun };
  };
  const send = async (dryRun) => {
    if (!form.reportValidity()) return;
    clearError();
    const buttons = form.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    try {
      const answer = await api("POST", "/damage", body(dryRun));
      for (const t of answer.targets) {
        const out = $(`li[data-character="${t.id}"] output`, form);
        const dc = t.concentration_dc ? `, concentration DC ${t.concentration_dc}` : "";
        if (out) out.textContent = `${outcomeWords(t.event.outcome)}: HP ${t.state.hp}${dc}${dryRun ? " (preview)" : ""}`;
        if (!dryRun) remember(campaign, t.state, { ...t.event, id: t.id });
      }
      if (!dryRun) {
        campaign.hit = null;
        say(`Hit ${answer.targets.length} character(s).`);
        if (state.campaign === campaign) $("#party")?.replaceWith(partyTable());
      }
    } catch (error) {
      if (error.status && error.status < 500) campaign.hit = null;
      showError(error, dryRun ? "preview the hit" : "send the hit");
    }
    for (const b of buttons) b.disabled = false;
  };
  $("#hit-preview", form).addEventListener("click", () => send(true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(false);
  });
  return form;
}

// One event id per character meant: a retry after a lost answer cannot create a second.
let createAttempt = null;

function createForm(draft) {
  const form = el("form", { id: "create", "aria-labelledby": "create-heading" },
    labelled("create-name", "Name", { name: "name", required: true, maxlength: 1000, autocomplete: "off", value: draft?.name }),
    labelled("create-hp", "Starting hit points", { name: "hp", type: "number", required: true, min: 1, step: 1, value: draft?.hp ?? 10 }),
    labelled("create-note", "Note", { name: "note", required: true, value: draft?.note ?? "Rolled at character creation" }),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "rules", id: "create-rules", checked: draft?.rules }),
      " Under the rules: the starting hit points are the maximum"),
    el("button", { type: "submit" }, "Create"));
  onSubmit(form, "create the character", async () => {
    const campaign = state.campaign.id;
    const wanted = { campaign, name: form.name.value, hp: Number(form.hp.value), note: form.note.value, rules: form.rules.checked };
    const key = JSON.stringify(wanted);
    if (createAttempt?.key !== key) createAttempt = { key, id: crypto.randomUUID() };
    try {
      const created = await api("POST", "/characters", { character_name: wanted.name, note: wanted.note,
        ...(wanted.rules ? { max_hp: wanted.hp } : { hp_change: wanted.hp }),
        event_id: createAttempt.id, campaign_id: campaign });
      createAttempt = null;
      say(`${wanted.name} joined the party.`);
      location.hash = `#/campaigns/${campaign}/characters/${created.id}`;
    } catch (error) {
      if (error.status && error.status < 500) createAttempt = null;
      throw error;
    }
  });
  return form;
}
