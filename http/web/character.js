// A character: its state, history, state at any version, commands (or, without rules, the DM's
// record of a change) and move.
import { $, el, labelled } from "./dom.js";
import { api } from "./api.js";
import { chart } from "./chart.js";
import { commandsSection } from "./commands.js";
import { loadCampaigns } from "./campaigns.js";
import { stateWords, statusOf } from "./rules.js";
import {
  all, campaignBar, clearError, col, feedSection, here, isPlayer, mayCommand, onSubmit, renderFeed, ruled, say,
  showError, state, when, whatItDid,
} from "./page.js";

const PAGE = 10;

export async function showCharacter(id) {
  const view = { kind: "character", id, known: null, pageIndex: 0, campaign: state.campaign };
  state.view = view;
  // The campaigns it may move to (optional).
  const campaigns = loadCampaigns().catch(() => {});
  if (!state.campaigns) await campaigns;
  await refreshCharacter(view, true);
}

// `initial`: its version is the one the page knows. `live`: the forms stay as they are.
export async function refreshCharacter(view, initial, live) {
  const [character, events] = await Promise.all([
    api("GET", `/characters/${view.id}?consistent=true`),
    all(`/characters/${view.id}/events?limit=1000`, "events"),
  ]);
  if (state.view !== view) return;
  if (character.campaign_id && character.campaign_id !== view.campaign.id) {
    return location.replace(`#/campaigns/${character.campaign_id}/characters/${view.id}`);
  }
  Object.assign(view, { character, events });
  if (initial || view.known === null) view.known = character.version;
  renderCharacter(initial, live);
}

function renderCharacter(focusHeading, live) {
  const view = state.view;
  const focused = document.activeElement;
  if (live && $("#summary") && ($("#record") || $("#read-only") || $("#commands"))) {
    const point = focused?.closest?.("#chart .point")?.dataset.version;
    $("#summary").replaceWith(summary());
    $("#history").replaceWith(history());
    renderFeed();
    if (point) $(`#chart .point[data-version="${point}"]`)?.focus();
    else if (focused?.id) $(`#${focused.id}`)?.focus();
    return;
  }
  const typing = $("#record");
  if (typing) view.draft = { kind: typing.kind.value, amount: typing.amount.value, note: typing.note.value };
  view.moveTo = $("#move")?.campaign.value ?? view.moveTo;
  const commands = ruled(view.character) && mayCommand(view.id);
  $("#main").replaceChildren(
    campaignBar(),
    el("p", {}, el("a", { href: here() }, "← The party")),
    summary(),
    // What to do first, then the history: on a phone the commands are at hand.
    el("div", { class: "grid flip" },
      el("section", { "aria-label": "Change the character" },
        commands
          ? commandsSection(view, { player: isPlayer(), done: commanded, stale: () => reread(view) })
          : el("h2", { id: "record-heading" }, "Record damage or healing"),
        commands ? null : isPlayer() || ruled(view.character)
          ? el("p", { id: "read-only" },
            "You follow this character: the DM records its changes (a player runs the rules' commands on the characters the DM assigned them).")
          : recordForm(),
        isPlayer() ? null : moveForm(),
        feedSection()),
      history()),
  );
  if (focusHeading) $("#character-heading").focus();
  else if (focused?.id) $(`#${focused.id}`)?.focus();
}

// After a 409: its version now is the one the page knows.
async function reread(view) {
  try {
    view.known = (await api("GET", `/characters/${view.id}?consistent=true`)).version;
    if (state.view === view) await refreshCharacter(view, false);
  } catch (error) {
    showError(error, "read the character again");
  }
}

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

function summary() {
  const { character: c, events, known } = state.view;
  return el("section", { id: "summary", "aria-labelledby": "character-heading" },
    el("h2", { id: "character-heading", tabindex: "-1" }, c.character_name),
    el("p", { class: "hp-now" }, "HP ", el("span", { id: "hp" }, c.hp)),
    ruled(c) ? el("p", { id: "state-words" }, stateWords(c)) : null,
    el("p", {}, "Version ", el("span", { id: "version" }, c.version), ` · ${events.length} events`),
    known < c.version
      ? el("p", { class: "notice", id: "behind" },
        `Another player recorded since you last did (version ${c.version}); your next record will ask you to confirm.`)
      : null);
}

function history() {
  return el("section", { id: "history", "aria-labelledby": "chart-heading", class: "chart" },
    el("h2", { id: "chart-heading" }, "HP over its history"),
    chart(state.view.events),
    el("p", { id: "point-detail", "aria-live": "polite" }, "Hover or focus a point for its note."),
    el("h2", { id: "travel-heading" }, "HP as it was"),
    travel(),
    el("h2", { id: "events-heading" }, "Events, newest first"),
    eventsTable());
}

function travel() {
  const view = state.view;
  const at = view.travel?.version ?? view.character.version;
  const words = (then) => {
    const s = statusOf(then);
    const rules = s ? ` of ${then.max_hp}${then.temp_hp ? `, +${then.temp_hp} temporary` : ""}; ${s.word}` +
      `${s.detail ? ` (${s.detail})` : ""}${s.bloodied ? ", bloodied" : ""}` : "";
    return `As of version ${then.version}: ${then.character_name} had HP ${then.hp}${rules}.`;
  };
  const input = el("input", { id: "travel", type: "range", min: 0, max: view.character.version, step: 1, value: at,
    "aria-valuetext": `version ${at}` });
  let timer = null;
  input.addEventListener("input", () => {
    const version = Number(input.value);
    input.setAttribute("aria-valuetext", `version ${version}`);
    $("#travel-version").textContent = version;
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        const then = await api("GET", `/characters/${view.id}?at_version=${version}`);
        if (state.view !== view) return;
        view.travel = { ...then, version };
        $("#travel-result").textContent = words(view.travel);
      } catch (error) {
        showError(error, `read version ${version}`);
      }
    }, 150);
  });
  return el("div", { class: "travel" },
    el("label", { for: "travel" }, "Version ", el("span", { id: "travel-version" }, at)),
    input,
    el("p", { id: "travel-result", "aria-live": "polite" },
      view.travel ? words(view.travel) : "Pick a version to see the character as it was."));
}

function eventsTable() {
  const view = state.view;
  const pages = Math.max(1, Math.ceil(view.events.length / PAGE));
  view.pageIndex = Math.min(view.pageIndex, pages - 1);
  const start = view.events.length - view.pageIndex * PAGE;
  const rows = view.events.slice(Math.max(0, start - PAGE), start).reverse().map((e) =>
    el("tr", { "data-version": e.version },
      el("td", { class: "num" }, e.version),
      el("td", { class: "type" }, (e.event_type ?? "change").replace(/_/g, " ")),
      el("td", {}, whatItDid(e.outcome, e.hp_change, e.version)),
      el("td", { class: "note" }, e.note),
      el("td", { class: "when" }, when(e.recorded_at))));
  const turn = (id, by, disabled) => {
    const button = el("button", { type: "button", class: "secondary", id, disabled }, `${id === "older" ? "Older" : "Newer"} events`);
    button.addEventListener("click", () => {
      view.pageIndex += by;
      renderCharacter(false, true);
      $(`#${id}`)?.focus();
    });
    return button;
  };
  return el("div", {},
    el("table", { id: "events" },
      el("caption", {}, `Page ${view.pageIndex + 1} of ${pages}`),
      el("thead", {}, el("tr", {}, col("Version", "num"), col("Event"), col("What it did"), col("Note"), col("Recorded", "when"))),
      el("tbody", {}, rows)),
    el("div", { class: "pager" }, turn("newer", -1, view.pageIndex === 0), turn("older", 1, view.pageIndex >= pages - 1)));
}

function recordForm() {
  const view = state.view;
  const p = view.pending ?? view.draft;
  const kind = (k, words) => el("label", {}, el("input", { type: "radio", name: "kind", value: k, checked: (p?.kind ?? "damage") === k }), words);
  const form = el("form", { id: "record", "aria-labelledby": "record-heading" },
    el("fieldset", {}, el("legend", {}, "Kind"), kind("damage", " Damage"), kind("healing", " Healing")),
    labelled("amount", "Hit points", { name: "amount", type: "number", required: true, min: 1, step: 1, value: p?.amount }),
    labelled("note", "Note: what caused it", { name: "note", required: true, maxlength: 2000, value: p?.note }),
    el("button", { type: "submit", id: "record-button", disabled: view.sending }, "Record"),
    view.conflict
      ? el("div", { class: "notice", id: "conflict" }, el("p", {}, view.conflict),
        el("button", { type: "button", id: "record-again" }, "Record again"))
      : null);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (view.sending) return;
    const wanted = { kind: form.kind.value, amount: Number(form.amount.value), note: form.note.value };
    // Until it is written, a double click or a retry reuses its event id.
    if (["kind", "amount", "note"].some((k) => view.pending?.[k] !== wanted[k])) view.pending = { ...wanted, eventId: crypto.randomUUID() };
    record(view);
  });
  $("#record-again", form)?.addEventListener("click", () => {
    if (view.sending || !view.pending) return;
    view.pending.eventId = crypto.randomUUID();
    view.conflict = null;
    record(view);
  });
  return form;
}

async function record(view) {
  view.sending = true;
  $("#record-button").disabled = true;
  clearError();
  const p = view.pending;
  let answer;
  try {
    answer = await api("POST", `/characters/${view.id}/events`, { expected_version: view.known,
      events: [{ character_name: view.character.character_name, hp_change: p.kind === "damage" ? -p.amount : p.amount,
        note: p.note, event_id: p.eventId }] });
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
    // One that may not have arrived (no answer, 5xx) keeps its event id: no double record.
    if (error.status && error.status < 500) view.pending = null;
    showError(error, "record it");
    if (state.view === view) $("#record-button")?.removeAttribute("disabled");
    return;
  }
  view.sending = false;
  view.known = answer.events.at(-1).version;
  view.pending = view.draft = view.conflict = null;
  const done = state.view === view && $("#record");
  if (done) {
    done.amount.value = done.note.value = "";
    $("#record-button").disabled = false;
    if (document.activeElement?.closest("#conflict")) $("#amount").focus();
    $("#conflict")?.remove();
  }
  say(`Recorded ${p.kind} ${p.amount} for ${view.character.character_name} at version ${view.known}.`);
  try {
    await refreshCharacter(view, false, true);
  } catch (error) {
    showError(error, "show the character again (the record was saved)");
  }
}

function moveForm() {
  const view = state.view;
  const others = (state.campaigns ?? []).filter((c) => c.id !== view.campaign.id);
  if (!others.length) return null;
  const form = el("form", { id: "move", "aria-labelledby": "move-heading" },
    labelled("move-campaign", "Campaign", { tag: "select", name: "campaign",
      options: others.map((c) => el("option", { value: c.id, selected: c.id === view.moveTo }, c.name)) }),
    el("button", { type: "submit", class: "secondary" }, "Move"));
  onSubmit(form, "move the character", async () => {
    const to = others.find((c) => c.id === form.campaign.value);
    await api("POST", `/characters/${view.id}/campaign`, { campaign_id: to.id });
    say(`${view.character.character_name} moved to ${to.name}.`);
    location.hash = `#/campaigns/${to.id}/characters/${view.id}`;
  });
  return [el("h2", { id: "move-heading" }, "Move to another campaign"), form];
}
