// Sign-in and roles on the screen, in headless Chromium against a local run with the
// development issuer (`--auth dev`): a DM, a player and a stranger, each in a browser of their
// own, sign in through the issuer's page (the authorization-code flow with PKCE, as with
// Cognito) and see and may do what their role in the campaign allows.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { watchCsp } = require("./csp");
const { overflowing, noSeriousViolations, unfilled } = require("./layout");

const BASE = `http://127.0.0.1:${Number(process.env.HITPOINTS_WEB_TEST_PORT ?? 3917) + 1}`;
const SHOTS = path.join(__dirname, "..", "..", "target", "screenshots");

async function person(browser, viewport) {
  const context = await browser.newContext({ baseURL: BASE, ...(viewport ? { viewport } : {}) });
  const page = await context.newPage();
  const csp = await watchCsp(page);
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("console", (m) => {
    // A refused request is logged by the browser; the tests assert the refusals themselves.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(m.text());
  });
  return { context, page, csp, problems };
}

// From the screen's sign-in button through the issuer's page, back to the screen.
async function signIn(page, name) {
  await page.locator("#sign-in-main").click();
  await expect(page.locator("h1")).toHaveText("Sign in to hitpoints");
  await page.locator("#username").fill(name);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#signed-in-as")).toHaveText(`Signed in as ${name}`);
}

test("a DM, a player and a stranger each see and do what their role allows", async ({ browser, request }) => {
  test.setTimeout(120_000);
  fs.mkdirSync(SHOTS, { recursive: true });

  // Nobody signed in: the API answers 401, and the screen asks to sign in.
  const anonymous = await request.get(`${BASE}/campaigns`);
  expect(anonymous.status()).toBe(401);
  expect((await anonymous.json()).error).toBe("unauthenticated");
  expect(anonymous.headers()["www-authenticate"]).toBe("Bearer");

  // The DM signs in, creates a campaign, two characters (one under the rules) and an invite.
  const dm = await person(browser);
  await dm.page.goto("/");
  await expect(dm.page.locator("#sign-in-heading")).toBeVisible();
  await noSeriousViolations(dm.page, "the sign-in view");
  await dm.page.screenshot({ path: path.join(SHOTS, "sign-in.png") });
  // No token anywhere the page keeps across tabs: the verifier only lives in sessionStorage.
  await signIn(dm.page, "Ana");
  expect(await dm.page.evaluate(() => Object.keys(localStorage))).toEqual([]);
  await expect(dm.page.locator("#campaigns tbody")).toContainText("No campaigns yet");
  await dm.page.locator("#new-campaign-name").fill("Curse of Strahd");
  await dm.page.locator("#new-campaign-dm").fill("Ana");
  await dm.page.getByRole("button", { name: "Create the campaign" }).click();
  await expect(dm.page.locator("#campaign-name")).toHaveText("Curse of Strahd");
  const campaign = dm.page.url().match(/#\/campaigns\/([0-9a-f-]{36})/)[1];
  const create = async (name, hp, rules) => {
    await dm.page.goto(`/#/campaigns/${campaign}`);
    await dm.page.locator("#create-name").fill(name);
    await dm.page.locator("#create-hp").fill(String(hp));
    if (rules) await dm.page.locator("#create-rules").check();
    await dm.page.getByRole("button", { name: "Create", exact: true }).click();
    await expect(dm.page.locator("#character-heading")).toHaveText(name);
    return dm.page.url().match(/characters\/([0-9a-f-]{36})/)[1];
  };
  const bo = await create("Bo", 20, true);
  const cato = await create("Cato", 12, false);
  await dm.page.goto(`/#/campaigns/${campaign}`);
  await expect(dm.page.locator("#members")).toContainText("No players yet.");
  await dm.page.locator("#invite").click();
  const invite = await dm.page.locator("#invite-url").inputValue();
  expect(invite).toMatch(new RegExp(`^${BASE}/#/join/${campaign}/[0-9a-f]{32}$`));
  await noSeriousViolations(dm.page, "the DM's party");
  await dm.page.screenshot({ path: path.join(SHOTS, "dm-party.png"), fullPage: true });

  // The player opens the link, signs in, and joins: the party, read-only for now.
  // The player is on a phone.
  const player = await person(browser, { width: 360, height: 760 });
  await player.page.goto(invite);
  await expect(player.page.locator("#sign-in-heading + p")).toHaveText("Sign in to join the campaign you were invited to.");
  await signIn(player.page, "Bo's player");
  await expect(player.page.locator("#campaign-name")).toHaveText("Curse of Strahd");
  await expect(player.page.locator("#party tbody tr")).toHaveCount(2);
  await expect(player.page.locator("#create")).toHaveCount(0);
  await expect(player.page.locator("#members")).toHaveCount(0);
  expect(await overflowing(player.page)).toEqual([]);
  await player.page.goto("/#/");
  await expect(player.page.locator(`#campaigns tr[data-campaign="${campaign}"] .role`)).toHaveText("Player");

  // The DM sees the player and assigns them Bo.
  await dm.page.reload();
  const assign = dm.page.locator("#players form.assign");
  await expect(assign).toHaveCount(1);
  await expect(assign.locator("legend")).toHaveText("Characters of Bo's player");
  await assign.getByLabel("Bo", { exact: true }).check();
  await assign.getByRole("button", { name: "Assign" }).click();
  await expect(dm.page.locator("#status")).toHaveText("Bo's player now plays 1 character(s).");

  // The player's party on the phone, after a reload: their own character first, with its state and a link to
  // its commands; the party's status read-only (nothing to tick, no hit form, no create form).
  await player.page.goto(`/#/campaigns/${campaign}`);
  await player.page.reload();
  await expect(player.page.locator("#yours li")).toHaveCount(1);
  expect(await unfilled(player.page)).toEqual([]);
  await expect(player.page.locator(`#yours li[data-character="${bo}"]`)).toHaveText("Bo: ● Up · HP 20 of 20");
  await expect(player.page.locator(`#party tr[data-character="${bo}"] .status`)).toContainText("Up");
  await expect(player.page.locator(`#party tr[data-character="${cato}"] .hp`)).toHaveText("12");
  await expect(player.page.locator("#party input, #hit, #create")).toHaveCount(0);
  expect(await overflowing(player.page)).toEqual([]);
  await noSeriousViolations(player.page, "the player's party");
  await player.page.screenshot({ path: path.join(SHOTS, "player-party-360.png"), fullPage: true });

  // The player, signed in again by the reload without the issuer's page (its session), opens Bo
  // from their list and runs damage under the rules; Cato stays read-only to them.
  await player.page.locator(`#yours a`).click();
  await expect(player.page.locator("#character-heading")).toHaveText("Bo");
  await expect(player.page.locator("#signed-in-as")).toHaveText("Signed in as Bo's player");
  // A player's commands only: no stabilise, revive, maximum or undo.
  await expect(player.page.locator("#command-kind option")).toHaveText(
    ["Damage", "Healing", "Temporary HP", "Death save", "Short rest", "Long rest"]);
  await expect(player.page.locator("#undo")).toHaveCount(0);
  await player.page.locator("#command-amount").fill("5");
  await player.page.locator("#command-type").selectOption("fire");
  await player.page.locator("#command-note").fill("Fire bolt");
  await player.page.locator("#command-send").click();
  await expect(player.page.locator("#hp")).toHaveText("15");
  await player.page.screenshot({ path: path.join(SHOTS, "player-character.png"), fullPage: true });
  expect(await overflowing(player.page)).toEqual([]);
  expect(await unfilled(player.page)).toEqual([]);
  await noSeriousViolations(player.page, "the player's character");
  await player.page.goto(`/#/campaigns/${campaign}/characters/${cato}`);
  await expect(player.page.locator("#character-heading")).toHaveText("Cato");
  await expect(player.page.locator("#read-only")).toBeVisible();
  await expect(player.page.locator("#record")).toHaveCount(0);
  // The API refuses what the page hides: a plain event on Cato is the DM's.
  const refused = await player.page.evaluate(async ({ cato }) => {
    const { authorization } = await import("/signin.js");
    const response = await fetch(`/characters/${cato}/events`, {
      method: "POST",
      headers: { ...authorization(), "content-type": "application/json" },
      body: JSON.stringify({ events: [{ character_name: "Cato", hp_change: -1, note: "sneaky" }] }),
    });
    return [response.status, (await response.json()).error];
  }, { cato });
  expect(refused).toEqual([403, "forbidden"]);

  // The DM's party shows the player's hit, live.
  await dm.page.goto(`/#/campaigns/${campaign}`);
  await expect(dm.page.locator(`#party tr[data-character="${bo}"] .hp-value`)).toHaveText("15");

  // A stranger sees no campaign, and the campaign's address answers as if it did not exist.
  const stranger = await person(browser);
  await stranger.page.goto("/");
  await signIn(stranger.page, "Mallory");
  await expect(stranger.page.locator("#campaigns tbody")).toContainText("No campaigns yet");
  await noSeriousViolations(stranger.page, "a stranger's campaigns");
  await stranger.page.goto(`/#/campaigns/${campaign}`);
  await expect(stranger.page.locator("#error")).toContainText("campaign_not_found");
  await expect(stranger.page.locator("#party")).toHaveCount(0);

  // Removed, the player loses the campaign at once.
  await dm.page.locator("#players .remove").click();
  await expect(dm.page.locator("#members")).toContainText("No players yet.");
  await player.page.goto("/#/");
  await expect(player.page.locator("#campaigns tbody")).toContainText("No campaigns yet");

  // Signing out ends the issuer's session too: the next visit asks again.
  await dm.page.locator("#sign-out").click();
  await expect(dm.page.locator("#sign-in-heading")).toBeVisible();
  await dm.page.reload();
  await expect(dm.page.locator("#sign-in-heading")).toBeVisible();

  for (const who of [dm, player, stranger]) {
    expect(who.csp).toEqual([]);
    expect(who.problems).toEqual([]);
    await who.context.close();
  }
});
