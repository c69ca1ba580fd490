// The API's documentation page (/docs) in headless Chromium, against the local run's own
// /openapi.json: every operation of the document is on the page, with what a client needs.
const fs = require("node:fs");
const path = require("node:path");
const { test, expect } = require("@playwright/test");
const { watchCsp } = require("./csp");
const { noSeriousViolations, watch } = require("./layout");

const SHOTS = path.join(__dirname, "..", "..", "target", "screenshots");
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

// "#/components/responses/NotFound" → the object there; followed until it is not a $ref.
function deref(doc, o) {
  for (let i = 0; o && o.$ref && i < 20; i++) {
    o = o.$ref.slice(2).split("/").reduce((v, p) => v?.[decodeURIComponent(p).replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  }
  return o;
}

test("every operation of /openapi.json, with its bodies, responses, examples and links", async ({ page, request, baseURL }) => {
  const cspViolations = await watchCsp(page);
  // 26 operations with their schemas: axe-core alone takes tens of seconds on two cores, and
  // the whole test about 3.6 minutes on a quiet two-core machine.
  test.setTimeout(480_000);
  const problems = watch(page);
  const elsewhere = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (!["data:", "blob:", "about:"].includes(url.protocol) && url.origin !== new URL(baseURL).origin) elsewhere.push(r.url());
  });

  const response = await request.get("/openapi.json");
  expect(response.ok()).toBeTruthy();
  expect(response.headers()["content-type"]).toContain("application/json");
  const doc = await response.json();
  expect(doc.openapi).toMatch(/^3\.1\./);

  await page.goto("/docs");
  await expect(page.locator("body")).toHaveAttribute("data-ready", "true");
  await expect(page.locator("h1")).toHaveText(doc.info.title);
  await expect(page.locator("main")).toContainText(doc.info.version);
  await expect(page.locator("#error")).toBeEmpty();
  await expect(page.locator('a[href="/"]').first()).toBeVisible();
  await expect(page.locator('a[href="/openapi.json"]')).toBeVisible();

  // Every (method, path) of the document: an operation on the page, and in the contents.
  const operations = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) if (item[m]) operations.push([m, p, item[m]]);
  }
  expect(operations.length).toBeGreaterThan(0);
  const op = (m, p) => page.locator(`section.op[data-operation="${m.toUpperCase()} ${p}"]`);
  for (const [m, p, o] of operations) {
    await expect(op(m, p), `${m} ${p}`).toHaveCount(1);
    await expect(op(m, p).locator("h3")).toHaveText(`${m.toUpperCase()} ${p}`);
    if (o.summary) await expect(op(m, p).locator(".summary")).toHaveText(o.summary);
    const id = await op(m, p).getAttribute("id");
    await expect(page.locator(`nav.toc a[href="#${id}"]`)).toContainText(`${m.toUpperCase()} ${p}`);
  }
  // Every response status of every operation, and the links the document gives.
  for (const [m, p, o] of operations) {
    for (const [status, r] of Object.entries(o.responses)) {
      const shown = op(m, p).locator(`.response[data-status="${status}"]`);
      await expect(shown, `${m} ${p} ${status}`).toHaveCount(1);
      await expect(shown.locator("h5")).toContainText(status);
      for (const name of Object.keys(deref(doc, r).links ?? {})) {
        await expect(shown.locator(`[data-link="${name}"]`)).toContainText(deref(doc, deref(doc, r).links[name]).operationId ?? "");
      }
    }
  }
  const events = op("get", "/characters/{id}/events");
  const statuses = Object.keys(doc.paths["/characters/{id}/events"].get.responses);
  expect(statuses).toEqual(expect.arrayContaining(["200"]));
  await expect(events.locator(".response h5 .status")).toHaveText(statuses);

  // Creating a character: the body's fields, marked as the schema marks them, and an example.
  const create = op("post", "/characters");
  const body = create.locator(".body");
  for (const name of ["character_name", "hp_change", "note", "event_id"]) {
    await expect(body.locator(`[data-property="${name}"]`).first(), name).toBeVisible();
  }
  for (const name of ["character_name", "hp_change", "note"]) {
    await expect(body.locator(`[data-property="${name}"] .req`).first(), name).toHaveText("required");
  }
  await expect(body.locator('[data-property="event_id"] > .schema > .type .req')).toHaveCount(0);
  const examples = create.locator(".response figure pre");
  expect(await examples.count()).toBeGreaterThan(0);
  // The first example the document gives for a response is shown as it is, as JSON.
  const first = Object.values(doc.paths["/characters"].post.responses)
    .flatMap((r) => Object.values(deref(doc, r).content ?? {}))
    .flatMap((c) => [c.example, ...Object.values(c.examples ?? {}).map((e) => deref(doc, e).value)])
    .find((v) => v !== undefined);
  expect(first).toBeDefined();
  await expect(create.locator(".response figure pre", { hasText: JSON.stringify(first, null, 2) }).first()).toBeVisible();

  // Keyboard: the skip link comes first and lands in the main content; contents links work.
  await page.keyboard.press("Tab");
  await expect(page.locator(".skip")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();
  const target = await op("get", "/characters/{id}/events").getAttribute("id");
  await page.locator(`nav.toc a[href="#${target}"]`).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`#${target}$`));
  await expect(events).toBeInViewport();

  fs.mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SHOTS, "docs.png"), fullPage: true });
  await noSeriousViolations(page, "docs");

  // A phone, 360 px wide: nothing wider than the screen.
  await page.setViewportSize({ width: 360, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await page.screenshot({ path: path.join(SHOTS, "docs-360.png") });
  // High contrast asked for: still no serious violations.
  await page.emulateMedia({ contrast: "more" });
  await noSeriousViolations(page, "docs, more contrast");

  expect(elsewhere).toEqual([]);
  expect(problems).toEqual([]);
  expect(cspViolations).toEqual([]);
});

test("a document that cannot be fetched is said so", async ({ page }) => {
  const cspViolations = await watchCsp(page);
  await page.route("**/openapi.json", (route) => route.fulfill({ status: 503, contentType: "application/json", body: "{}" }));
  await page.goto("/docs");
  await expect(page.locator("#error")).toContainText("could not be shown");
  await expect(page.locator("#error")).toContainText("503");
  await expect(page.locator("body")).toHaveAttribute("data-ready", "error");
  expect(cspViolations).toEqual([]);
});
