// HP over a character's history: one point per event, each focusable with its words. Damage
// points down and healing up, so shape as well as colour tells them apart.
import { $, svg } from "./dom.js";
import { outcomeWords } from "./rules.js";

export function chart(events) {
  const width = 640, height = 260, pad = 36;
  let hp = 0;
  const points = events.map((e) => ({ event: e, hp: (hp += e.snapshot ? 0 : e.hp_change) }));
  const max = Math.max(1, ...points.map((p) => p.hp));
  const min = Math.min(0, ...points.map((p) => p.hp));
  const x = (i) => pad + (i * (width - 2 * pad)) / Math.max(1, points.length - 1);
  const y = (v) => height - pad - ((v - min) * (height - 2 * pad)) / (max - min || 1);
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.hp).toFixed(1)}`).join(" ");
  const marks = points.map(({ event: e, hp }, i) => {
    const change = e.hp_change;
    const kind = i && change ? (change < 0 ? "damage" : "healing") : "start";
    const words = i ? outcomeWords(e.outcome) ?? (change ? `${kind} ${Math.abs(change)}` : "no change") : "start";
    const label = `Version ${e.version}: ${words}, HP ${hp}. ${e.note}`;
    const cx = x(i), cy = y(hp), tip = kind === "damage" ? 7 : -7;
    const detail = () => ($("#point-detail").textContent = label);
    return svg("g", { class: `point ${kind}`, tabindex: 0, role: "img", "aria-label": label, "data-version": e.version,
      onfocus: detail, onmouseenter: detail },
    svg("title", {}, label),
    kind === "start"
      ? svg("circle", { class: "mark start", cx, cy, r: 6 })
      : svg("path", { class: `mark ${kind}`, d: `M${cx - 7},${cy - tip * 5 / 7} L${cx + 7},${cy - tip * 5 / 7} L${cx},${cy + tip} Z` }));
  });
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "group", id: "chart",
    "aria-label": `HP over ${points.length} events: damage points down, healing points up` },
  svg("line", { class: "axis", x1: pad, y1: y(0), x2: width - pad, y2: y(0) }),
  svg("text", { x: 4, y: y(max) + 4 }, `${max}`),
  svg("text", { x: 4, y: y(min) + 4 }, `${min}`),
  svg("text", { x: pad, y: height - 8 }, "version 0"),
  svg("text", { x: width - pad - 60, y: height - 8 }, `version ${Math.max(0, points.length - 1)}`),
  svg("path", { class: "line", d: line }),
  marks);
}
