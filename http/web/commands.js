// A character's commands under the rules: one form, the fields each command takes, a preview from
// the API's dry run and the API's answer after. No rule is applied here.
import { outcomeWords, TYPES } from "./rules.js";

// kind: [words, path, the fields it shows, a player may]
const KINDS = {
  damage: ["Damage", "damage", ["amount", "type", "critical", "halved"], true],
  healing: ["Healing", "healing", ["amount"], true],
  temp: ["Temporary HP", "temp-hp", ["amount"], true],
  save: ["Death save", "death-saves", ["roll"], true],
  short: ["Short rest", "rests", ["dice"], true],
  long: ["Long rest", "rests", [], true],
  stabilize: ["Stabilise", "stabilize", [], false],
  revive: ["Revive", "revive", ["hp"], false],
  max: ["Change the maximum", "max-hp", ["change"], false],
};

function body(kind, f) {
  const n = (name) => Number(f[name].value);
  switch (kind) {
    case "damage": return { amount: n("amount"), type: f.type.value, critical: f.critical.checked, halved: f.halved.checked };
    case "healing": case "temp": return { amount: n("amount") };
    case "save": return { roll: n("roll") };
    case "short": {
      // "10:7, 10:3": a die's size and its roll, for each hit die spent.
      const dice = f.dice.value.split(",").map((d) => d.trim()).filter(Boolean)
        .map((d) => d.split(":").map(Number)).map(([die, roll]) => ({ die, roll }));
      return { kind: "short", hit_dice: dice };
    }
    case "long": return { kind: "long" };
    case "revive": return { hp: n("hp") };
    case "max": return { change: n("change"), until: "long_rest" };
    default: return {};
  }
}

// `view`: the character view ({id, character, known, events}); `api`, `el`, `done(answer)`,
// `stale()` (read the character again after a 409), `fail(error, doing)`, `clear()`: the page's.
export function commandsSection(view, { api, el, player, done, stale, fail, clear }) {
  const c = view.character;
  const d = c.defences ?? {};
  const defences = [["resists", d.resistances], ["vulnerable to", d.vulnerabilities], ["immune to", d.immunities]]
    .filter(([, list]) => list?.length).map(([w, list]) => `${w} ${list.join(", ")}`).join("; ");
  const kinds = Object.entries(KINDS).filter(([, k]) => !player || k[3]);
  const field = (name, ...children) => el("div", { class: "field", "data-field": name }, ...children);
  const form = el(
    "form",
    { id: "command", "aria-labelledby": "command-heading" },
    el("label", { for: "command-kind" }, "Command"),
    el("select", { id: "command-kind", name: "kind" }, kinds.map(([k, [words]]) => el("option", { value: k }, words))),
    field("amount", el("label", { for: "command-amount" }, "Amount"),
      el("input", { id: "command-amount", name: "amount", type: "number", min: 0, step: 1 })),
    field("type", el("label", { for: "command-type" }, "Damage type"),
      el("select", { id: "command-type", name: "type" }, TYPES.map((t) => el("option", { value: t }, t)))),
    field("critical", el("label", { class: "check" }, el("input", { type: "checkbox", name: "critical" }), " critical hit")),
    field("halved", el("label", { class: "check" }, el("input", { type: "checkbox", name: "halved" }), " saved: half")),
    field("roll", el("label", { for: "command-roll" }, "d20 roll"),
      el("input", { id: "command-roll", name: "roll", type: "number", min: 1, max: 20, step: 1 })),
    field("dice", el("label", { for: "command-dice" }, `Hit dice spent, as die:roll (left: ${c.hit_dice_left || "none"})`),
      el("input", { id: "command-dice", name: "dice", placeholder: "10:7, 10:3" })),
    field("hp", el("label", { for: "command-hp" }, "HP on revival"),
      el("input", { id: "command-hp", name: "hp", type: "number", min: 1, step: 1, value: 1 })),
    field("change", el("label", { for: "command-change" }, "Change of the maximum (until a long rest)"),
      el("input", { id: "command-change", name: "change", type: "number", step: 1 })),
    el("label", { for: "command-note" }, "Note"),
    el("input", { id: "command-note", name: "note", maxlength: 2000 }),
    el("div", { class: "buttons" },
      el("button", { type: "button", id: "command-preview", class: "secondary" }, "Preview"),
      el("button", { type: "submit", id: "command-send" }, "Send")),
    el("output", { id: "command-result", for: "command-preview command-send" }),
  );
  // Only the chosen command's fields count: shown, and required where a number is asked.
  const show = () => {
    const fields = KINDS[form.kind.value][2];
    for (const f of form.querySelectorAll("[data-field]")) {
      const on = fields.includes(f.dataset.field);
      f.hidden = !on;
      for (const input of f.querySelectorAll("input")) {
        input.disabled = !on;
        input.required = on && input.type === "number";
      }
    }
  };
  // Drawn again after an answer: the same command chosen, and its result still said.
  if (view.command && KINDS[view.command.kind]) form.kind.value = view.command.kind;
  form.kind.addEventListener("change", show);
  show();
  let attempt = null;
  const out = form.querySelector("#command-result");
  if (view.command?.said) out.textContent = view.command.said;
  const send = async (dryRun) => {
    if (!form.reportValidity()) return;
    clear();
    const kind = form.kind.value;
    const wanted = { ...body(kind, form), note: form.note.value || undefined };
    const key = JSON.stringify([kind, wanted]);
    if (!attempt || attempt.key !== key) attempt = { key, id: crypto.randomUUID() };
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const answer = await api("POST", `/characters/${view.id}/${KINDS[kind][1]}`,
        { ...wanted, event_id: attempt.id, expected_version: view.known, dry_run: dryRun });
      const words = outcomeWords(answer.event.outcome) ?? answer.event.note;
      const dc = answer.concentration_dc ? ` Concentration: DC ${answer.concentration_dc}.` : "";
      out.textContent = `${dryRun ? "Preview: " : ""}${words}. HP ${c.hp} → ${answer.state.hp}.${dc}`;
      view.command = { kind, said: out.textContent };
      if (!dryRun) {
        attempt = null;
        done(answer);
      }
    } catch (error) {
      if (error.status && error.status < 500) attempt = null;
      fail(error, dryRun ? "preview the command" : "send the command");
      // Someone else wrote first: the character as it is now, then the DM decides again.
      if (error.status === 409) {
        view.command = { kind, said: "Someone else changed the character first: check it and send again." };
        stale();
      }
    }
    for (const b of form.querySelectorAll("button")) b.disabled = false;
  };
  form.querySelector("#command-preview").addEventListener("click", () => send(true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(false);
  });
  // Undo names what it undoes: the latest event, with what the rules computed for it.
  const latest = view.events?.at(-1);
  const undo = latest?.event_id && latest.version > 0
    ? el("button", { type: "button", id: "undo", class: "secondary" },
        `Undo version ${latest.version}: ${outcomeWords(latest.outcome) ?? latest.note}`)
    : null;
  undo?.addEventListener("click", async () => {
    clear();
    try {
      const answer = await api("POST", `/characters/${view.id}/undo`, { event_id: latest.event_id, expected_version: view.known });
      view.command = { kind: form.kind.value, said: `Undone: version ${latest.version}. HP ${answer.state.hp}.` };
      done(answer);
    } catch (error) {
      fail(error, "undo");
      if (error.status === 409) stale();
    }
  });
  return el(
    "section",
    { id: "commands", "aria-labelledby": "command-heading" },
    el("h2", { id: "command-heading" }, "Under the rules"),
    el("p", { id: "defences" }, defences ? `Defences: ${defences}.` : "No resistances, vulnerabilities or immunities."),
    form,
    player ? null : undo,
  );
}
