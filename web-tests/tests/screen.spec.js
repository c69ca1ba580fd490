// The Dungeon Master's screen in headless Chromium, against a local run started in memory.
// After each step the page is compared with what the API returns, so a blank or stale page fails.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { watchCsp } = require("./csp");
const { noSeriousViolations, watch } = require("./layout");

const SHOTS = path.join(__dirname, "..", "..", "target", "screenshots");
// The characters made without a campaign are the default campaign's: its screen is this one.
const DEFAULT_CAMPAIGN = "/#/campaigns/00000000-0000-0000-0000-000000000000";

test("the party, a character's history, the live feed, recording and time travel", async ({ page, request }) => {
  const cspViolations = await watchCsp(page);
  const problems = watch(page);
  const api = async (url) => {
    const response = await request.get(url);
    expect(response.ok(), url).toBeTruthy();
    return response.json();
  };
  const consistent = (id) => api(`/characters/${id}?consistent=true`);

  // The page, as a DM opens a campaign: how long until the party is on screen.
  const loaded = new Map();
  const loading = [];
  page.on("response", (response) => {
    if (!["document", "script", "stylesheet"].includes(response.request().resourceType())) return;
    const path = new URL(response.url()).pathname;
    loading.push(response.body().then((body) => loaded.set(path, body.length)));
  });
  await page.goto(DEFAULT_CAMPAIGN);
  await expect(page.locator("#party-heading")).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-ready", "true");
  const firstRender = await page.evaluate(() => performance.getEntriesByName("party-rendered")[0]?.startTime);
  await Promise.all(loading);
  // The page and every module it loads, as the browser received them.
  const files = ["/", "/app.js", "/page.js", "/campaigns.js", "/party.js", "/character.js", "/chart.js",
    "/rules.js", "/commands.js", "/members.js", "/signin.js", "/api.js", "/dom.js", "/app.css"];
  expect([...loaded.keys()].sort()).toEqual([...files].sort());
  const weight = [...loaded.values()].reduce((sum, bytes) => sum + bytes, 0);
  expect(weight).toBeLessThanOrEqual(60_000);

  // Create two characters through the page.
  async function create(name, hp) {
    await page.goto(DEFAULT_CAMPAIGN);
    await expect(page.locator("#party-heading")).toBeVisible();
    await page.fill("#create-name", name);
    await page.fill("#create-hp", String(hp));
    await page.fill("#create-note", "Rolled at the table");
    await page.click("#create button");
    await expect(page.locator("#character-heading")).toHaveText(name);
    const id = new URL(page.url()).hash.split("/").pop();
    const state = await consistent(id);
    expect([state.character_name, state.hp, state.version]).toEqual([name, hp, 0]);
    return id;
  }
  const nuru = await create("Nuru", 12);
  const vex = await create("Vex", 9);

  // Record damage and healing on Vex; the page shows what the API has.
  async function record(kind, amount, note) {
    await page.check(`input[name=kind][value=${kind}]`);
    await page.fill("#amount", String(amount));
    await page.fill("#note", note);
    await page.click("#record-button");
    await expect(page.locator("#status")).toContainText(`Recorded ${kind} ${amount}`);
  }
  await record("damage", 4, "Goblin arrow");
  await record("healing", 2, "Potion of healing");
  // A double click records once (the button is busy from the first click).
  await page.check("input[name=kind][value=damage]");
  await page.fill("#amount", "1");
  await page.fill("#note", "Stubbed a toe");
  await page.dblclick("#record-button");
  await expect(page.locator("#status")).toContainText("Recorded damage 1");
  let state = await consistent(vex);
  expect([state.hp, state.version]).toEqual([9 - 4 + 2 - 1, 3]);
  // A lost answer: the append reaches the server, the page never hears back. Sending the same
  // record again carries the same event id, so it is recorded once.
  let lose = true;
  await page.route("**/characters/*/events", async (route) => {
    if (lose && route.request().method() === "POST") {
      lose = false;
      await route.fetch();
      await route.abort("connectionreset");
    } else {
      await route.continue();
    }
  });
  await page.check("input[name=kind][value=damage]");
  await page.fill("#amount", "2");
  await page.fill("#note", "Arrow in the dark");
  await page.click("#record-button");
  await expect(page.locator("#error")).toContainText("cannot be reached");
  await page.click("#record-button");
  await expect(page.locator("#status")).toContainText("Recorded damage 2");
  await page.unroute("**/characters/*/events");
  // Recorded: the form is ready for the next one.
  await expect(page.locator("#amount")).toHaveValue("");
  await expect(page.locator("#note")).toHaveValue("");
  state = await consistent(vex);
  expect([state.hp, state.version]).toEqual([9 - 4 + 2 - 1 - 2, 4]);
  await expect(page.locator("#hp")).toHaveText(String(state.hp));
  await expect(page.locator("#version")).toHaveText(String(state.version));
  // The chart: a point per event, damage and healing told apart (shape, colour and words).
  await expect(page.locator("#chart .point")).toHaveCount(state.version + 1);
  await expect(page.locator("#chart .point.damage")).toHaveCount(3);
  await expect(page.locator("#chart .point.healing")).toHaveCount(1);
  await page.locator('#chart .point[data-version="2"]').focus();
  await expect(page.locator("#point-detail")).toHaveText("Version 2: healing 2, HP 7. Potion of healing");
  // The events, newest first, as the API lists them.
  const newest = await api(`/characters/${vex}/events?direction=backward&limit=10`);
  const rows = page.locator("#events tbody tr");
  await expect(rows).toHaveCount(newest.events.length);
  for (const [i, e] of newest.events.entries()) {
    await expect(rows.nth(i)).toHaveAttribute("data-version", String(e.version));
    await expect(rows.nth(i).locator(".note")).toHaveText(e.note);
  }
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, "character.png"), fullPage: true });
  await noSeriousViolations(page, "character");

  // The party, most recently changed first, with the API's HP.
  await page.click("text=← The party");
  await expect(page.locator("#party-heading")).toBeVisible();
  for (const id of [nuru, vex]) {
    const s = await consistent(id);
    await expect(page.locator(`tr[data-character="${id}"] .hp`)).toHaveText(String(s.hp));
    await expect(page.locator(`tr[data-character="${id}"] .name`)).toHaveText(s.character_name);
  }
  await expect(page.locator("#party tbody tr").first()).toHaveAttribute("data-character", vex);

  // An append from outside the page (another player, curl): the feed and the party follow.
  const sent = Date.now();
  const outside = await request.post(`/characters/${nuru}/events`, {
    data: { events: [{ character_name: "Nuru", hp_change: -3, note: "Trap, from outside" }] },
  });
  expect(outside.status()).toBe(201);
  await expect(page.locator("#feed li").first()).toContainText("Trap, from outside", { timeout: 5000 });
  const feedToScreen = Date.now() - sent;
  state = await consistent(nuru);
  await expect(page.locator(`tr[data-character="${nuru}"] .hp`)).toHaveText(String(state.hp));
  await expect(page.locator("#party tbody tr").first()).toHaveAttribute("data-character", nuru);
  await page.screenshot({ path: path.join(SHOTS, "party.png"), fullPage: true });
  // The README's picture: the same view, small.
  await page.screenshot({ path: path.join(SHOTS, "party-small.jpg"), type: "jpeg", quality: 60 });
  await noSeriousViolations(page, "party");

  // Another player gets there first (409): the page says so, shows the new state, and records
  // again in one click.
  await page.click(`tr[data-character="${nuru}"] .name`);
  await expect(page.locator("#character-heading")).toHaveText("Nuru");
  const before = await consistent(nuru);
  const race = await request.post(`/characters/${nuru}/events`, {
    data: { expected_version: before.version, events: [{ character_name: "Nuru", hp_change: -1, note: "Outside, while the DM typed" }] },
  });
  expect(race.status()).toBe(201);
  await page.check("input[name=kind][value=damage]");
  await page.fill("#amount", "2");
  await page.fill("#note", "Bugbear");
  await page.click("#record-button");
  await expect(page.locator("#conflict")).toContainText("Another player recorded first");
  state = await consistent(nuru);
  await expect(page.locator("#hp")).toHaveText(String(state.hp));
  await expect(page.locator("#conflict")).toContainText(`HP ${state.hp} (version ${state.version})`);
  await page.click("#record-again");
  // The version says it is this record, not the earlier one of the same amount.
  await expect(page.locator("#status")).toContainText(`Recorded damage 2 for Nuru at version ${state.version + 1}`);
  const after = await consistent(nuru);
  expect([after.hp, after.version]).toEqual([state.hp - 2, state.version + 1]);
  await expect(page.locator("#hp")).toHaveText(String(after.hp));

  // Time travel: version 1 by keyboard, as the API has it.
  await page.focus("#travel");
  await page.keyboard.press("Home");
  await page.keyboard.press("ArrowRight");
  const then = await api(`/characters/${nuru}?at_version=1`);
  await expect(page.locator("#travel-result")).toHaveText(`As of version 1: Nuru had HP ${then.hp}.`);

  // Errors the API returns are shown in words.
  await page.fill("#amount", "5");
  await page.fill("#note", "x".repeat(1));
  await page.evaluate(() => { document.querySelector("#amount").value = "3000000000"; });
  await page.click("#record-button");
  await expect(page.locator("#error")).toContainText("hp_change is outside the 32-bit signed range");

  // Chromium notes every failed request in the console; the three this test provoked (the
  // lost answer, the 409 of the race, the 422 of the bad amount) are expected, nothing else.
  const provoked =
    /^Failed to load resource: (the server responded with a status of (409|422) |net::ERR_CONNECTION_RESET)/;
  expect(problems.filter((p) => !provoked.test(p))).toEqual([]);
  expect(problems.filter((p) => provoked.test(p))).toHaveLength(3);

  // The page's files come with the security headers, and no CSP violation happened. Then one,
  // provoked (an inline script), is caught: the watch would fail a test on any other.
  for (const file of ["/", "/app.js", "/app.css"]) {
    const headers = (await request.get(file)).headers();
    expect(headers["content-security-policy"], file).toContain("script-src 'self'");
    expect(headers["content-security-policy"], file).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"], file).not.toContain("unsafe-inline");
    expect(headers["x-content-type-options"], file).toBe("nosniff");
    expect(headers["referrer-policy"], file).toBe("no-referrer");
  }
  expect(cspViolations).toEqual([]);
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "window.inlineRan = true";
    document.body.append(script);
  });
  await expect.poll(() => cspViolations.length).toBe(1);
  expect(cspViolations[0]).toMatch(/^script-src(-elem)? blocked inline$/);
  expect(await page.evaluate(() => window.inlineRan)).toBeUndefined();
  console.log(
    `page weight ${weight} bytes (HTML, script and style, uncompressed); ` +
      `party view rendered ${firstRender?.toFixed(0)} ms after navigation started; ` +
      `feed to screen ${feedToScreen} ms`,
  );
});
