// A character's commands under the rules: one form, the fields each command takes, a preview from
// the API's dry run and the API's answer after. No rule is applied here.
import { outcomeWords, statusOf } from "./rules.js";

const TYPES = ["acid", "bludgeoning", "cold", "fire", "force", "lightning", "necrotic", "piercing",
  "poison", "psychic", "radiant", "slashing", "thunder"];
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

// `view`: the character view ({id, character, known}); `api`, `el`, `done(answer)`: the page's.
export function commandsSection(view, { api, el, player, done, fail }) {
  const c = view.character;
  const s = statusOf(c);
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
  const show = () => {
    const fields = KINDS[form.kind.value][2];
    for (const f of form.querySelectorAll("[data-field]")) f.hidden = !fields.includes(f.dataset.field);
  };
  form.kind.addEventListener("change", show);
  show();
  let attempt = null;
  const send = async (dryRun) => {
    const kind = form.kind.value;
    const wanted = { ...body(kind, form), note: form.note.value || undefined };
    const key = JSON.stringify([kind, wanted]);
    if (!attempt || attempt.key !== key) attempt = { key, id: crypto.randomUUID() };
    const out = form.querySelector("#command-result");
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const answer = await api("POST", `/characters/${view.id}/${KINDS[kind][1]}`,
        { ...wanted, event_id: attempt.id, expected_version: view.known, dry_run: dryRun });
      const words = outcomeWords(answer.event.outcome) ?? answer.event.note;
      const dc = answer.concentration_dc ? ` Concentration: DC ${answer.concentration_dc}.` : "";
      out.textContent = `${dryRun ? "Preview: " : ""}${words}. HP ${c.hp} → ${answer.state.hp}.${dc}`;
      if (!dryRun) {
        attempt = null;
        done(answer);
      }
    } catch (error) {
      if (error.status && error.status < 500) attempt = null;
      fail(error, dryRun ? "preview the command" : "send the command");
    }
    for (const b of form.querySelectorAll("button")) b.disabled = false;
  };
  form.querySelector("#command-preview").addEventListener("click", () => send(true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(false);
  });
  const undo = el("button", { type: "button", id: "undo", class: "secondary" }, "Undo the latest command");
  undo.addEventListener("click", async () => {
    const latest = view.events?.at(-1);
    try {
      const answer = await api("POST", `/characters/${view.id}/undo`, { event_id: latest?.event_id, expected_version: view.known });
      done(answer);
    } catch (error) {
      fail(error, "undo");
    }
  });
  return el(
    "section",
    { id: "commands", "aria-labelledby": "command-heading" },
    el("h2", { id: "command-heading" }, "Under the rules"),
    el("p", { id: "state-words" },
      s ? `${s.mark} ${s.word}${s.detail ? `: ${s.detail}` : ""}${s.bloodied ? " · bloodied" : ""}` : "",
      ` · HP ${c.hp} of ${c.max_hp}${c.temp_hp ? `, +${c.temp_hp} temporary` : ""}`),
    el("p", { id: "defences" }, defences ? `Defences: ${defences}.` : "No resistances, vulnerabilities or immunities."),
    form,
    player ? null : undo,
  );
}
