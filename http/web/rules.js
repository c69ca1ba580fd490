// Words for what the rules computed: every number comes from the API's answer (an event's
// outcome, a character's state). Nothing here applies a rule.
export const TYPES = ["acid", "bludgeoning", "cold", "fire", "force", "lightning", "necrotic", "piercing",
  "poison", "psychic", "radiant", "slashing", "thunder"];

// A mark beside each word, so no state is told by colour alone.
const STATUS = { up: ["Up", "●"], unconscious: ["Dying", "◐"], stable: ["Stable", "◑"], dead: ["Dead", "✝"] };

// {status, word, mark, detail, bloodied}; null without rules (a legacy character has HP only).
export function statusOf(c) {
  if (c.max_hp == null) return null;
  const status = c.status ?? "up";
  const [word, mark] = STATUS[status] ?? [status, ""];
  const saves = c.death_saves ?? { successes: 0, failures: 0 };
  return { status, word, mark, bloodied: c.hp > 0 && 2 * c.hp <= c.max_hp,
    detail: status === "unconscious" ? `${saves.successes} of 3 successes, ${saves.failures} of 3 failures` : "" };
}

// In a line: "◐ Dying: 0 of 3 successes, 1 of 3 failures · HP 0 of 10".
export function stateWords(c) {
  const s = statusOf(c);
  if (!s) return `HP ${c.hp}`;
  return `${s.mark} ${s.word}${s.detail ? `: ${s.detail}` : ""}${s.bloodied ? " · bloodied" : ""}` +
    ` · HP ${c.hp} of ${c.max_hp}${c.temp_hp ? `, +${c.temp_hp} temporary` : ""}`;
}

const count = (n, one, many) => n && `${n} ${n > 1 ? many : one}`;
const list = (...words) => words.filter(Boolean).join(", ");
const signed = (n) => `${n > 0 ? "+" : ""}${n}`;
const part = (p) => `${p.amount} ${p.type}${p.halved || p.resisted || p.vulnerable || p.immune ? ", " : ""}` +
  list(p.halved && "halved", p.resisted && "resisted", p.vulnerable && "vulnerable", p.immune && "immune");

// An event as the rules computed it, e.g. "14 fire, resisted → 7"; null for a plain change.
export function outcomeWords(o) {
  switch (o?.type) {
    case undefined: return null;
    case "damaged":
      return list(`${o.parts.map(part).join(" + ")} → ${o.taken}`, o.critical && "critical",
        o.temp_hp_absorbed && `${o.temp_hp_absorbed} on temporary HP`, o.fell_unconscious && "falls unconscious",
        count(o.death_save_failures, "death save failure", "death save failures"),
        o.died && (o.massive_damage ? "dies of massive damage" : "dies"));
    case "healed":
      return list(`healing ${o.amount}${o.regained !== o.amount ? ` → ${o.regained}` : ""}`, o.regained_consciousness && "conscious again");
    case "temp_hp_gained": return `temporary HP ${o.temp_hp_before} → ${o.temp_hp}`;
    case "max_hp_changed": return list(`maximum ${signed(o.change)} → ${o.max_hp}`, o.died && "dies");
    case "death_save_rolled":
      return list(`death save: rolled ${o.roll}${o.bonus ? ` ${signed(o.bonus)}` : ""}`, count(o.successes, "success", "successes"),
        count(o.failures, "failure", "failures"), o.regained_hp && "1 HP regained", o.stabilized && "stable", o.died && "dies");
    case "stabilized": return "stabilised";
    case "revived": return `revived at ${o.hp} HP`;
    case "short_rested": case "long_rested": return `${o.type.split("_")[0]} rest: ${o.regained} HP regained`;
    case "adjusted": return `${signed(o.applied)}${o.applied !== o.requested ? ` (asked ${o.requested})` : ""}`;
    case "undone": return `undid version ${o.version}`;
    case "rules_enabled": return `under the rules: maximum ${o.rules.max_hp}`;
    default: return o.type.replace(/_/g, " ");
  }
}
