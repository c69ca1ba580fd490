// What every test of the screen checks on a page: its layout, its accessibility, its console.
const { expect } = require("@playwright/test");
const AxeBuilder = require("@axe-core/playwright").default;

// Every element on the screen inside its container, and the screen inside the window.
async function overflowing(page) {
  return page.evaluate(() => {
    const out = (inner, outer) => inner.right > outer.right + 1 || inner.left < outer.left - 1;
    const all = [...document.querySelectorAll("#main, #main *")].filter((e) => e.getClientRects().length);
    return all
      .filter((e) => out(e.getBoundingClientRect(), e === all[0]
        ? { left: 0, right: document.documentElement.clientWidth } : e.parentElement.getBoundingClientRect()))
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}.${e.getAttribute("class") ?? ""}`);
  });
}

// axe-core on the page as it is: no serious or critical violation.
async function noSeriousViolations(page, view) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  expect(serious.map((v) => `${view}: ${v.id}: ${v.help}`)).toEqual([]);
}

// Words on the page that only a script's mistake writes: a value it failed to fill in.
async function unfilled(page) {
  return (await page.locator("#main").innerText()).match(/\b(null|undefined|NaN|false|true)\b|\[object \w+\]/g) ?? [];
}

// Console errors and uncaught exceptions of the page.
function watch(page) {
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  return problems;
}

module.exports = { overflowing, noSeriousViolations, unfilled, watch };
