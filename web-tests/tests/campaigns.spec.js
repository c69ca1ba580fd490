// Campaigns on the Dungeon Master's screen, in headless Chromium against a local run in memory:
// the screen opens on the list of campaigns, and two campaigns' parties and feeds never mix,
// on the page or in the API.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { watchCsp } = require("./csp");
const { noSeriousViolations, watch } = require("./layout");

const SHOTS = path.join(__dirname, "..", "..", "target", "screenshots");
const DEFAULT = "00000000-0000-0000-0000-000000000000";

function client(request) {
  const get = async (url) => {
    const response = await request.get(url);
    expect(response.ok(), url).toBeTruthy();
    return response.json();
  };
  const post = async (url, data) => {
    const response = await request.post(url, { data });
    expect(response.ok(), `${url}: ${response.status()} ${await response.text()}`).toBeTruthy();
    return response.json();
  };
  // Every character of a campaign, through its pages.
  const party = async (cid) => {
    const all = [];
    let cursor = null;
    do {
      const page = await get(`/campaigns/${cid}/characters?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      all.push(...page.characters);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  };
  return { get, post, party };
}

const rowIds = (page, selector) =>
  page.locator(selector).evaluateAll((rows) => rows.map((r) => r.dataset.character ?? r.dataset.campaign));

test("two campaigns whose parties and feeds never mix", async ({ page, request }) => {
  const cspViolations = await watchCsp(page);
  test.setTimeout(120_000);
  const problems = watch(page);
  const { get, post, party } = client(request);

  // The screen opens on the list of campaigns.
  await page.goto("/");
  await expect(page.locator("#campaigns-heading")).toBeVisible();
  await expect(page.locator("body")).toHaveAttribute("data-ready", "true");
  await expect(page.locator("#campaigns-heading")).toBeFocused();

  // A campaign in a click: the form, then its one button (the rules chosen here).
  async function createCampaign(name, dm, ruleset) {
    await page.goto("/#/");
    await expect(page.locator("#campaigns-heading")).toBeVisible();
    await expect(page.locator("#new-campaign-ruleset")).toHaveValue("5e-2024");
    await page.fill("#new-campaign-name", name);
    await page.fill("#new-campaign-dm", dm);
    if (ruleset) await page.selectOption("#new-campaign-ruleset", ruleset);
    await page.click("#new-campaign button");
    await expect(page.locator("#campaign-name")).toHaveText(name);
    await expect(page.locator("#party-heading")).toBeFocused();
    const id = new URL(page.url()).hash.match(/^#\/campaigns\/([0-9a-f-]{36})$/)[1];
    expect(await get(`/campaigns/${id}`)).toEqual({ id, name, dm_name: dm, ruleset: ruleset ?? "5e-2024" });
    await expect(page.locator(".campaign-bar")).toContainText(`Dungeon Master: ${dm} · Rules: ${ruleset ?? "5e-2024"}`);
    await expect(page.locator("#party tbody tr")).toHaveText(["No characters yet: create one below."]);
    await expect(page.locator("#feed li")).toHaveText(["Nothing has happened yet."]);
    return id;
  }
  const a = await createCampaign("The Sunless Citadel", "Alice", "5e-2014");
  const b = await createCampaign("Curse of Strahd", "Bob");
  expect(a).not.toEqual(b);

  // The list: both, with their Dungeon Masters and rules, each linking to its screen.
  await page.click("#to-campaigns");
  await expect(page.locator("#campaigns-heading")).toBeFocused();
  for (const [id, name, dm, rules] of [[a, "The Sunless Citadel", "Alice", "5e-2014"], [b, "Curse of Strahd", "Bob", "5e-2024"]]) {
    const row = page.locator(`tr[data-campaign="${id}"]`);
    await expect(row.locator(".name")).toHaveText(name);
    await expect(row.locator(".name")).toHaveAttribute("href", `#/campaigns/${id}`);
    await expect(row.locator(".dm")).toHaveText(dm);
    await expect(row.locator(".ruleset")).toHaveText(rules);
  }

  // Characters made through each campaign's screen, and damage and healing recorded on them.
  async function createCharacter(cid, name, hp) {
    await page.goto(`/#/campaigns/${cid}`);
    await expect(page.locator("#party-heading")).toBeVisible();
    await page.fill("#create-name", name);
    await page.fill("#create-hp", String(hp));
    await page.fill("#create-note", `Rolled for ${name}`);
    await page.click("#create button");
    await expect(page.locator("#character-heading")).toHaveText(name);
    const [, inCampaign, id] = new URL(page.url()).hash.match(/^#\/campaigns\/([0-9a-f-]{36})\/characters\/([0-9a-f-]{36})$/);
    expect(inCampaign).toEqual(cid);
    const state = await get(`/characters/${id}?consistent=true`);
    expect([state.character_name, state.hp, state.version, state.campaign_id]).toEqual([name, hp, 0, cid]);
    return id;
  }
  async function record(kind, amount, note) {
    await page.check(`input[name=kind][value=${kind}]`);
    await page.fill("#amount", String(amount));
    await page.fill("#note", note);
    await page.click("#record-button");
    await expect(page.locator("#status")).toContainText(`Recorded ${kind} ${amount}`);
  }
  const ayla = await createCharacter(a, "Ayla", 12);
  await record("damage", 3, "Goblin in the citadel");
  const brom = await createCharacter(a, "Brom", 10);
  await record("healing", 1, "Cure wounds in the citadel");
  const cyra = await createCharacter(b, "Cyra", 8);
  await record("damage", 2, "Vampire spawn in Barovia");
  await record("healing", 1, "Potion in Barovia");
  const mine = { [a]: [ayla, brom].sort(), [b]: [cyra] };
  const notes = { [a]: "citadel", [b]: "Barovia" };

  // The API: each campaign's characters are its own, and so are its events. (The list is read
  // from snapshots, which may lag the append a moment.)
  for (const [cid, other] of [[a, b], [b, a]]) {
    await expect.poll(async () => (await party(cid)).map((c) => c.id).sort()).toEqual(mine[cid]);
    const characters = await party(cid);
    expect(characters.every((c) => c.campaign_id === cid)).toBe(true);
    for (const id of mine[other]) expect(characters.map((c) => c.id)).not.toContain(id);
  }

  // Each campaign's screen: its party and its feed, as the API has them, and nothing else.
  async function checkScreen(cid, other) {
    await page.goto(`/#/campaigns/${cid}`);
    await expect(page.locator("#party-heading")).toBeVisible();
    const characters = await party(cid);
    await expect(page.locator("#party tbody tr")).toHaveCount(characters.length);
    expect((await rowIds(page, "#party tbody tr")).sort()).toEqual(mine[cid]);
    for (const c of characters) {
      await expect(page.locator(`tr[data-character="${c.id}"] .hp`)).toHaveText(String(c.hp));
      await expect(page.locator(`tr[data-character="${c.id}"] .name`)).toHaveAttribute("href", `#/campaigns/${cid}/characters/${c.id}`);
    }
    const feed = await get(`/campaigns/${cid}/events?direction=backward&limit=20`);
    expect(feed.events.length).toBeGreaterThan(0);
    expect(feed.events.every((e) => mine[cid].includes(e.id))).toBe(true);
    const items = page.locator("#feed li");
    await expect(items).toHaveCount(feed.events.length);
    expect(await items.evaluateAll((li) => li.map((l) => l.dataset.position))).toEqual(feed.events.map((e) => e.position));
    await expect(page.locator("#feed")).toContainText(notes[cid]);
    await expect(page.locator("#feed")).not.toContainText(notes[other]);
    for (const id of mine[other]) await expect(page.locator(`#main [href*="${id}"]`)).toHaveCount(0);
  }
  await checkScreen(a, b);
  await checkScreen(b, a);
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, "campaign.png"), fullPage: true });
  await noSeriousViolations(page, "campaign");

  // Live: an append in the other campaign first, then one in this one. The page shows this
  // one's, and never the other's (which came first, so it would have been seen).
  await page.goto(`/#/campaigns/${a}`);
  await expect(page.locator("#party-heading")).toBeVisible();
  await post(`/characters/${cyra}/events`, { events: [{ character_name: "Cyra", hp_change: -1, note: "Outside, in Barovia" }] });
  await post(`/characters/${brom}/events`, { events: [{ character_name: "Brom", hp_change: -2, note: "Outside, in the citadel" }] });
  await expect(page.locator("#feed li").first()).toContainText("Outside, in the citadel", { timeout: 15_000 });
  await expect(page.locator("#feed")).not.toContainText("Barovia");
  await expect(page.locator("#party tbody tr").first()).toHaveAttribute("data-character", brom);
  await expect(page.locator("#party tbody tr")).toHaveCount(2);
  // The other campaign's screen has its own, and not this one's.
  await page.click("#to-campaigns");
  await page.click(`tr[data-campaign="${b}"] .name`);
  await expect(page.locator("#campaign-name")).toHaveText("Curse of Strahd");
  await expect(page.locator("#feed li").first()).toContainText("Outside, in Barovia");
  await expect(page.locator("#feed")).not.toContainText("citadel");
  await expect(page.locator(`tr[data-character="${cyra}"] .hp`)).toHaveText(String(8 - 2 + 1 - 1));
  // Live on a character's page too: another campaign's append does not touch it.
  await page.click(`tr[data-character="${cyra}"] .name`);
  await expect(page.locator("#character-heading")).toHaveText("Cyra");
  await post(`/characters/${ayla}/events`, { events: [{ character_name: "Ayla", hp_change: 5, note: "Rest in the citadel" }] });
  await post(`/characters/${cyra}/events`, { events: [{ character_name: "Cyra", hp_change: 2, note: "Rest in Barovia" }] });
  await expect(page.locator("#feed li").first()).toContainText("Rest in Barovia", { timeout: 15_000 });
  await expect(page.locator("#hp")).toHaveText(String(8 - 2 + 1 - 1 + 2));
  await expect(page.locator("#feed")).not.toContainText("citadel");

  // The campaign stays in the address: a reload and the back button come back to it.
  await page.reload();
  await expect(page.locator("#character-heading")).toHaveText("Cyra");
  await expect(page.locator("#campaign-name")).toHaveText("Curse of Strahd");
  await page.click("text=← The party");
  await expect(page.locator("#party-heading")).toBeFocused();
  await page.click("#to-campaigns");
  await expect(page.locator("#campaigns-heading")).toBeVisible();
  await page.goBack();
  await expect(page.locator("#campaign-name")).toHaveText("Curse of Strahd");
  expect((await rowIds(page, "#party tbody tr")).sort()).toEqual(mine[b]);
  await page.goBack();
  await expect(page.locator("#character-heading")).toHaveText("Cyra");

  // A character moved to the other campaign leaves one party and joins the other.
  await page.goto(`/#/campaigns/${a}/characters/${brom}`);
  await expect(page.locator("#character-heading")).toHaveText("Brom");
  await page.selectOption("#move-campaign", b);
  await page.click("#move button");
  await expect(page.locator("#status")).toContainText("Brom moved to Curse of Strahd");
  await expect(page).toHaveURL(new RegExp(`#/campaigns/${b}/characters/${brom}$`));
  await expect(page.locator("#campaign-name")).toHaveText("Curse of Strahd");
  expect((await get(`/characters/${brom}?consistent=true`)).campaign_id).toEqual(b);
  mine[a] = [ayla];
  mine[b] = [brom, cyra].sort();
  await expect.poll(async () => (await party(a)).map((c) => c.id)).toEqual(mine[a]);
  await expect.poll(async () => (await party(b)).map((c) => c.id).sort()).toEqual(mine[b]);
  await page.click("text=← The party");
  await expect(page.locator("#party-heading")).toBeVisible();
  await expect(page.locator("#party tbody tr")).toHaveCount(2);
  expect((await rowIds(page, "#party tbody tr")).sort()).toEqual(mine[b]);
  await page.goto(`/#/campaigns/${a}`);
  await expect(page.locator("#campaign-name")).toHaveText("The Sunless Citadel");
  await expect(page.locator("#party tbody tr")).toHaveCount(1);
  expect(await rowIds(page, "#party tbody tr")).toEqual(mine[a]);

  expect(problems).toEqual([]);
  expect(cspViolations).toEqual([]);
});

test("the list of campaigns: the default one once it has characters, old links, a missing campaign, keyboard, 360 px", async ({ page, request }) => {
  const cspViolations = await watchCsp(page);
  test.setTimeout(120_000);
  const problems = watch(page);
  const { get, post, party } = client(request);

  // The default campaign is always the first of the API's list, and on the page only when it
  // has characters (other tests may have made some: the page follows the API).
  const listed = await get("/campaigns");
  expect(listed.campaigns[0]).toEqual({ id: DEFAULT, name: "Default campaign", dm_name: "", ruleset: "5e-2024" });
  const hadCharacters = (await party(DEFAULT)).length > 0;
  await page.goto("/");
  await expect(page.locator("#campaigns-heading")).toBeVisible();
  await expect(page.locator(`tr[data-campaign="${DEFAULT}"]`)).toHaveCount(hadCharacters ? 1 : 0);
  // A character made without a campaign is the default campaign's: now it is listed, first.
  const plain = await post("/characters", { character_name: "Plain", hp_change: 7, note: "No campaign named" });
  expect((await get(`/characters/${plain.id}?consistent=true`)).campaign_id).toEqual(DEFAULT);
  // The list of characters is read from snapshots, which may lag the append a moment.
  await expect.poll(async () => (await party(DEFAULT)).map((c) => c.id)).toContain(plain.id);
  await page.reload();
  await expect(page.locator("#campaigns tbody tr").first()).toHaveAttribute("data-campaign", DEFAULT);
  await expect(page.locator(`tr[data-campaign="${DEFAULT}"] .name`)).toHaveText("Default campaign");
  // Its screen: the plain character, and the default feed (GET /events) is its feed.
  await page.click(`tr[data-campaign="${DEFAULT}"] .name`);
  await expect(page.locator(`tr[data-character="${plain.id}"] .hp`)).toHaveText("7");
  const feed = await get("/events?direction=backward&limit=20");
  expect(await page.locator("#feed li").evaluateAll((li) => li.map((l) => l.dataset.position))).toEqual(feed.events.map((e) => e.position));

  // By keyboard alone: a campaign made, then opened from the list.
  await page.goto("/#/");
  await expect(page.locator("#campaigns-heading")).toBeFocused();
  await page.locator("#new-campaign-name").focus();
  await page.keyboard.type("Tomb of Annihilation");
  await page.keyboard.press("Tab");
  await expect(page.locator("#new-campaign-dm")).toBeFocused();
  await page.keyboard.type("Dana");
  await page.keyboard.press("Tab");
  await expect(page.locator("#new-campaign-ruleset")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.locator("#new-campaign button")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("#campaign-name")).toHaveText("Tomb of Annihilation");
  const tomb = new URL(page.url()).hash.split("/").pop();
  expect((await get(`/campaigns/${tomb}`)).dm_name).toEqual("Dana");
  await page.locator("#to-campaigns").focus();
  await page.keyboard.press("Enter");
  await expect(page.locator("#campaigns-heading")).toBeFocused();
  await page.locator(`tr[data-campaign="${tomb}"] .name`).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`#/campaigns/${tomb}$`));
  await expect(page.locator("#party-heading")).toBeFocused();

  // A campaign refused: the API's words on the page, and nothing created.
  const before = (await get("/campaigns")).campaigns.length;
  await page.goto("/#/");
  await expect(page.locator("#campaigns-heading")).toBeVisible();
  await page.fill("#new-campaign-name", "Out of Print");
  await page.fill("#new-campaign-dm", "Eve");
  // Rules the API does not know (the page offers only the two it does).
  await page.evaluate(() => document.querySelector("#new-campaign-ruleset").append(new Option("1974", "od&d-1974", true, true)));
  await page.click("#new-campaign button");
  await expect(page.locator("#error")).toContainText("Could not create the campaign");
  await expect(page.locator("#campaigns-heading")).toBeVisible();
  expect((await get("/campaigns")).campaigns.length).toEqual(before);

  // A link from before campaigns (#/characters/<id>) finds the character's campaign.
  const tombCharacter = await post("/characters", { character_name: "Kess", hp_change: 6, note: "In the jungle", campaign_id: tomb });
  await page.goto(`/#/characters/${tombCharacter.id}`);
  await expect(page).toHaveURL(new RegExp(`#/campaigns/${tomb}/characters/${tombCharacter.id}$`));
  await expect(page.locator("#character-heading")).toHaveText("Kess");
  await expect(page.locator("#campaign-name")).toHaveText("Tomb of Annihilation");
  // A character under the wrong campaign's address: its own campaign.
  await page.goto(`/#/campaigns/${DEFAULT}/characters/${tombCharacter.id}`);
  await expect(page).toHaveURL(new RegExp(`#/campaigns/${tomb}/characters/${tombCharacter.id}$`));
  await expect(page.locator("#feed li").first()).toContainText("In the jungle");
  await expect(page.locator("#feed")).not.toContainText("No campaign named");

  // A campaign that does not exist: said in words, with the way back.
  await page.goto("/#/campaigns/0badbeef-0000-4000-8000-000000000000");
  await expect(page.locator("#error")).toContainText("campaign_not_found");
  await page.click("#main >> text=All campaigns");
  await expect(page.locator("#campaigns-heading")).toBeVisible();
  await expect(page.locator("#error")).toBeEmpty();

  // 360 px wide: nothing wider than the screen, on the list and on a campaign.
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await expect(page.locator("#new-campaign button")).toBeVisible();
  expect(await overflow()).toBeLessThanOrEqual(0);
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, "campaigns-360.png"), fullPage: true });
  await noSeriousViolations(page, "campaigns");
  await page.goto(`/#/campaigns/${tomb}`);
  await expect(page.locator(`tr[data-character="${tombCharacter.id}"]`)).toBeVisible();
  expect(await overflow()).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(SHOTS, "campaign-360.png"), fullPage: true });

  // The refused campaign and the missing one are the only failed requests.
  const provoked = /^Failed to load resource: the server responded with a status of (400|404|422) /;
  expect(problems.filter((p) => !provoked.test(p))).toEqual([]);
  expect(problems.filter((p) => provoked.test(p))).toHaveLength(2);
  expect(cspViolations).toEqual([]);
});
