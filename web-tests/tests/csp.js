// Every Content-Security-Policy violation on a test's pages, reported from the page as it
// happens (across navigations): a test expects none but those it provokes.
async function watchCsp(page) {
  const violations = [];
  await page.exposeBinding("__cspViolation", (_source, text) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
    });
  });
  return violations;
}

module.exports = { watchCsp };
