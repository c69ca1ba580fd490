// Words for what the rules computed. Nothing here applies a rule: every number comes from the
// API's answer (an event's outcome, a character's state); this only says it.

// The damage types, as the API names them.
export const TYPES = ["acid", "bludgeoning", "cold", "fire", "force", "lightning", "necrotic", "piercing",
  "poison", "psychic", "radiant", "slashing", "thunder"];

const STATUS = { up: "Up", unconscious: "Dying", stable: "Stable", dead: "Dead" };
// A mark beside the word, so no state is told by colour alone.
const MARK = { up: "●", unconscious: "◐", stable: "◑", dead: "✝" };

// A character's state in words: {word, mark, detail, bloodied}; null without rules (a legacy
// character has HP only).
export function statusOf(c) {
  if (c.max_hp === null || c.max_hp === undefined) return null;
  const status = c.status ?? "up";
  const saves = c.death_saves ?? { successes: 0, failures: 0 };
  return {
    status,
    word: STATUS[status] ?? status,
    mark: MARK[status] ?? "",
    detail: status === "unconscious" ? `${saves.successes} of 3 successes, ${saves.failures} of 3 failures` : "",
    // Bloodied: above 0 and at most half the maximum.
    bloodied: c.hp > 0 && 2 * c.hp <= c.max_hp,
  };
}

function part(p) {
  const how = [p.halved && "halved", p.resisted && "resisted", p.vulnerable && "vulnerable", p.immune && "immune"]
    .filter(Boolean);
  return `${p.amount} ${p.type}${how.length ? `, ${how.join(", ")}` : ""}`;
}

// An event as the rules computed it, e.g. "14 fire, resisted → 7"; `null` for an event the
// rules did not decide (a plain change).
export function outcomeWords(outcome) {
  if (!outcome) return null;
  const o = outcome;
  switch (o.type) {
    case "damaged": {
      const words = [`${o.parts.map(part).join(" + ")} → ${o.taken}`];
      if (o.critical) words.push("critical");
      if (o.temp_hp_absorbed) words.push(`${o.temp_hp_absorbed} on temporary HP`);
      if (o.fell_unconscious) words.push("falls unconscious");
      if (o.death_save_failures) words.push(`${o.death_save_failures} death save failure${o.death_save_failures > 1 ? "s" : ""}`);
      if (o.died) words.push(o.massive_damage ? "dies of massive damage" : "dies");
      return words.join(", ");
    }
    case "healed":
      return `healing ${o.amount}${o.regained !== o.amount ? ` → ${o.regained}` : ""}${o.regained_consciousness ? ", conscious again" : ""}`;
    case "temp_hp_gained":
      return `temporary HP ${o.temp_hp_before} → ${o.temp_hp}`;
    case "max_hp_changed":
      return `maximum ${o.change > 0 ? "+" : ""}${o.change} → ${o.max_hp}${o.died ? ", dies" : ""}`;
    case "death_save_rolled": {
      const words = [`death save: rolled ${o.roll}${o.bonus ? ` ${o.bonus > 0 ? "+" : ""}${o.bonus}` : ""}`];
      if (o.successes) words.push(`${o.successes} success${o.successes > 1 ? "es" : ""}`);
      if (o.failures) words.push(`${o.failures} failure${o.failures > 1 ? "s" : ""}`);
      if (o.regained_hp) words.push("1 HP regained");
      if (o.stabilized) words.push("stable");
      if (o.died) words.push("dies");
      return words.join(", ");
    }
    case "stabilized":
      return "stabilised";
    case "revived":
      return `revived at ${o.hp} HP`;
    case "short_rested":
      return `short rest: ${o.regained} HP regained`;
    case "long_rested":
      return `long rest: ${o.regained} HP regained`;
    case "adjusted":
      return `${o.applied >= 0 ? "+" : ""}${o.applied}${o.applied !== o.requested ? ` (asked ${o.requested})` : ""}`;
    case "undone":
      return `undid version ${o.version}`;
    case "rules_enabled":
      return `under the rules: maximum ${o.rules.max_hp}`;
    default:
      return o.type.replace(/_/g, " ");
  }
}
