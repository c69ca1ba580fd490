// A character's commands under the rules: the fields each takes, a preview from the API's dry run,
// the API's answer after. No rule is applied here.
import { el, labelled } from "./dom.js";
import { api } from "./api.js";
import { outcomeWords, TYPES } from "./rules.js";
import { clearError, showError } from "./page.js";

// kind: [words, path, its fields, a player may]
const KINDS = {
  damage: ["Damage", "damage", ["amount", "type", "parts", "critical", "halved"], 1],
  healing: ["Healing", "healing", ["amount"], 1],
  temp: ["Temporary HP", "temp-hp", ["amount"], 1],
  save: ["Death save", "death-saves", ["roll"], 1],
  short: ["Short rest", "rests", ["dice"], 1],
  long: ["Long rest", "rests", [], 1],
  stabilize: ["Stabilise", "stabilize", []],
  revive: ["Revive", "revive", ["hp"]],
  max: ["Change the maximum", "max-hp", ["change"]],
};

// "10:7, 10:3" or "6 fire, 3 poison": a list of pairs.
const pairs = (text, by) => text.split(",").map((p) => p.trim()).filter(Boolean).map((p) => p.split(by));

function body(kind, f) {
  const n = (name) => Number(f[name].value);
  switch (kind) {
    case "damage": {
      const first = { amount: n("amount"), type: f.type.value };
      const more = pairs(f.parts.value, /\s+/).map(([amount, type]) => ({ amount: Number(amount), type }));
      return { ...(more.length ? { parts: [first, ...more] } : first), critical: f.critical.checked, halved: f.halved.checked };
    }
    case "healing": case "temp": return { amount: n("amount") };
    case "save": return { roll: n("roll") };
    case "short": return { kind, hit_dice: pairs(f.dice.value, ":").map(([die, roll]) => ({ die: Number(die), roll: Number(roll) })) };
    case "long": return { kind };
    case "revive": return { hp: n("hp") };
    case "max": return { change: n("change"), until: "long_rest" };
    default: return {};
  }
}

// `done(answer)` after a command; `stale()` reads the character again after a 409.
export function commandsSection(view, { player, done, stale }) {
  const c = view.character;
  const d = c.defences ?? {};
  const defences = [["resists", d.resistances], ["vulnerable to", d.vulnerabilities], ["immune to", d.immunities]]
    .filter(([, list]) => list?.length).map(([w, list]) => `${w} ${list.join(", ")}`).join("; ");
  const field = (name, words, input) => el("div", { class: "field", "data-field": name },
    labelled(`command-${name}`, words, { name, ...input }));
  const check = (name, words) => el("div", { class: "field", "data-field": name },
    el("label", { class: "check" }, el("input", { type: "checkbox", name }), words));
  const number = { type: "number", step: 1 };
  const form = el("form", { id: "command", "aria-labelledby": "command-heading" },
    field("kind", "Command", { tag: "select", options: Object.entries(KINDS).filter(([, k]) => !player || k[3])
      .map(([value, [words]]) => el("option", { value }, words)) }),
    field("amount", "Amount", { ...number, min: 0 }),
    field("type", "Damage type", { tag: "select", options: TYPES.map((t) => el("option", {}, t)) }),
    field("parts", "More parts of the hit, as amount type (optional)", { placeholder: "6 fire, 3 poison" }),
    check("critical", " critical hit"),
    check("halved", " saved: half"),
    field("roll", "d20 roll", { ...number, min: 1, max: 20 }),
    field("dice", `Hit dice spent, as die:roll (left: ${c.hit_dice_left || "none"})`, { placeholder: "10:7, 10:3" }),
    field("hp", "HP on revival", { ...number, min: 1, value: 1 }),
    field("change", "Change of the maximum (until a long rest)", number),
    field("note", "Note", { maxlength: 2000 }),
    el("div", { class: "buttons" },
      el("button", { type: "button", id: "command-preview", class: "secondary" }, "Preview"),
      el("button", { type: "submit", id: "command-send" }, "Send")),
    el("output", { id: "command-result", for: "command-preview command-send" }, view.command?.said));
  // Only the chosen command's fields count: shown, and required where a number is asked.
  const show = () => {
    for (const f of form.querySelectorAll("[data-field]")) {
      const on = ["kind", "note", ...KINDS[form.kind.value][2]].includes(f.dataset.field);
      f.hidden = !on;
      for (const input of f.querySelectorAll("input")) {
        input.disabled = !on;
        input.required = on && input.type === "number";
      }
    }
  };
  // Drawn again after an answer: the same command, its result still said.
  if (KINDS[view.command?.kind]) form.kind.value = view.command.kind;
  form.kind.addEventListener("change", show);
  show();
  let attempt = null;
  const out = form.querySelector("output");
  const run = async (doing, path, wanted, said) => {
    clearError();
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const answer = await api("POST", `/characters/${view.id}/${path}`, { ...wanted, expected_version: view.known });
      view.command = { kind: form.kind.value, said: (out.textContent = said(answer)) };
      if (!wanted.dry_run) done(answer);
      return true;
    } catch (error) {
      showError(error, doing);
      // Someone else wrote first: the character as it is now, then the DM decides again.
      if (error.status === 409) {
        view.command = { kind: form.kind.value, said: "Someone else changed the character first: check it and send again." };
        stale();
      }
      return Boolean(error.status && error.status < 500);
    } finally {
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  };
  const send = async (dryRun) => {
    if (!form.reportValidity()) return;
    const kind = form.kind.value;
    const wanted = { ...body(kind, form), note: form.note.value || undefined };
    const key = JSON.stringify([kind, wanted]);
    if (attempt?.key !== key) attempt = { key, id: crypto.randomUUID() };
    // A refused command is done with; one that may not have arrived keeps its id.
    const over = await run(dryRun ? "preview the command" : "send the command", KINDS[kind][1],
      { ...wanted, event_id: attempt.id, dry_run: dryRun }, (a) => {
        const dc = a.concentration_dc ? ` Concentration: DC ${a.concentration_dc}.` : "";
        return `${dryRun ? "Preview: " : ""}${outcomeWords(a.event.outcome) ?? a.event.note}. HP ${c.hp} → ${a.state.hp}.${dc}`;
      });
    if (over && !dryRun) attempt = null;
  };
  form.querySelector("#command-preview").addEventListener("click", () => send(true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(false);
  });
  // Undo names what it undoes: the latest event, as the rules computed it.
  const latest = view.events?.at(-1);
  const undo = !player && latest?.event_id && latest.version > 0 &&
    el("button", { type: "button", id: "undo", class: "secondary" }, `Undo version ${latest.version}: ${outcomeWords(latest.outcome) ?? latest.note}`);
  if (undo) undo.addEventListener("click", () => run("undo", "undo", { event_id: latest.event_id },
    (a) => `Undone: version ${latest.version}. HP ${a.state.hp}.`));
  return el("section", { id: "commands", "aria-labelledby": "command-heading" },
    el("h2", { id: "command-heading" }, "Under the rules"),
    el("p", { id: "defences" }, defences ? `Defences: ${defences}.` : "No resistances, vulnerabilities or immunities."),
    form, undo);
}
