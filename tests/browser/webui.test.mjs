// Browser tests of Cesivi's web UI: Debian's Chromium driven by
// playwright-core (executablePath: never a browser download of Playwright's
// own), axe-core for accessibility, through a farm's edges and its real
// OpenID provider. tests/browser_test.go runs it against a fresh farm;
// README.md says how to run it by hand.
//
// Configuration (environment):
//   CESIVI_EDGES        comma-separated edge origins; the first is where a
//                       person signs in, the second (optional) must show the
//                       same session and the same lists
//   CESIVI_USER, CESIVI_PASSWORD     the development administrator
//   CESIVI_USER_NAME    optional: the name the banner must show for them
//   CESIVI_USER2, CESIVI_PASSWORD2   optional: a second user, who starts
//                       with no rights on the site
//   CESIVI_CHROMIUM     the browser (default /usr/bin/chromium)
//   CESIVI_ARTIFACTS    where screenshots go (default ./artifacts)
//
// Every step is its own test, in order, sharing one browser; a step whose
// prerequisite failed says so, so read the first failure. Steps wait for
// conditions (Playwright's auto-waiting locators); the timeouts only bound
// how long a broken page is waited for.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { randomUUID } from "node:crypto";

import { chromium } from "playwright-core";

const env = process.env;
const config = (() => {
  const problems = [];
  const edges = (env.CESIVI_EDGES ?? "").split(",").map((s) => s.trim().replace(/\/+$/, "")).filter(Boolean);
  if (edges.length === 0) problems.push("CESIVI_EDGES must name at least one edge origin, e.g. http://127.0.0.1:8080");
  for (const e of edges) {
    try {
      new URL(e);
    } catch {
      problems.push(`CESIVI_EDGES: ${JSON.stringify(e)} is not an absolute URL`);
    }
  }
  if (!env.CESIVI_USER || !env.CESIVI_PASSWORD) problems.push("CESIVI_USER and CESIVI_PASSWORD must name the development user");
  return {
    problems,
    edges,
    user: { username: env.CESIVI_USER ?? "", password: env.CESIVI_PASSWORD ?? "", name: env.CESIVI_USER_NAME ?? "" },
    user2: env.CESIVI_USER2 ? { username: env.CESIVI_USER2, password: env.CESIVI_PASSWORD2 ?? "" } : null,
    chromium: env.CESIVI_CHROMIUM || "/usr/bin/chromium",
    artifacts: resolve(env.CESIVI_ARTIFACTS || "artifacts"),
  };
})();

// How long one condition is waited for before the step fails. Generous:
// the machine may be loaded; a passing run never waits this long.
const WAIT = 20_000;

// ---------------------------------------------------------------------------
// Steps: each one is a node:test test; after a failure the later steps
// fail at once naming the first failed one, instead of timing out on a
// page that never got into the state they need.

let firstFailure = null;
function step(name, fn, { optional = false, always = false } = {}) {
  test(name, async (t) => {
    if (firstFailure && !always) assert.fail(`not run: the earlier step "${firstFailure}" failed`);
    try {
      await fn(t);
    } catch (e) {
      if (!optional) firstFailure = name;
      await failureShots(name);
      // A refused script, style or form target is often the cause.
      if (cspViolations.length) console.log(`CSP violations and page errors so far:\n  ${cspViolations.join("\n  ")}`);
      throw e;
    }
  });
}

// ---------------------------------------------------------------------------
// The browser. The flags keep Chromium off the network (no background
// requests, no component or sync updates, no QUIC): the machine has no
// network but loopback, and every refused connection would only be noise.
// Playwright's launch() gives every run a fresh, empty user data directory
// of its own (it refuses --user-data-dir in args) and removes it on close.

let browser;
const shots = [];
const cspViolations = [];

async function launch() {
  mkdirSync(config.artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: config.chromium,
    headless: true,
    chromiumSandbox: false, // --no-sandbox: the tests run as root
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

after(async () => {
  if (browser) await browser.close();
  if (shots.length) console.log(`screenshots in ${config.artifacts}: ${shots.join(", ")}`);
});

// newContext opens a browser context (a fresh cookie jar) whose pages
// report Content-Security-Policy violations: the main flow runs under the
// page's real CSP, and a page that only works without it must fail.
async function newContext(options = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 }, ...options });
  ctx.setDefaultTimeout(WAIT);
  ctx.on("page", watch);
  return ctx;
}

function watch(page) {
  page.on("console", (msg) => {
    const text = msg.text();
    if (msg.type() === "error" && /Content Security Policy|Trusted Type/i.test(text)) {
      cspViolations.push(`${page.url()}: ${text}`);
    }
  });
  page.on("pageerror", (err) => cspViolations.push(`${page.url()}: uncaught ${err.message}`));
}

async function shot(page, name) {
  const file = `${String(shots.length + 1).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path: join(config.artifacts, file), fullPage: true });
  shots.push(file);
}

// failureShots saves what every open page shows when a step fails.
async function failureShots(stepName) {
  const slug = stepName.replace(/[^a-z0-9]+/gi, "-").slice(0, 40);
  for (const [i, p] of (browser?.contexts() ?? []).flatMap((c) => c.pages()).entries()) {
    await shot(p, `FAILED-${slug}-${i + 1}`).catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// Page helpers. They find things the way a person (and a screen reader)
// does: by role and accessible name, not by CSS classes.

// signIn signs in on the provider's own login page, which the edge sends
// an unauthenticated browser to, and waits for the site home.
async function signIn(page, edge, user) {
  await page.goto(edge + "/");
  await submitLogin(page, edge, user);
}

async function submitLogin(page, edge, user) {
  await loginForm(page).username.fill(user.username);
  await loginForm(page).password.fill(user.password);
  await page.getByRole("button", { name: "Login" }).click();
  await page.waitForURL((u) => u.origin === new URL(edge).origin);
}

// loginForm is the development provider's login page (zitadel/oidc's
// example OP): labelled Username and Password fields and a Login button.
function loginForm(page) {
  return {
    username: page.getByLabel("Username:"),
    password: page.getByLabel("Password:"),
  };
}

// onLoginPage waits until page shows the provider's login form, which is
// where a signed-out person who opens the site lands.
async function onLoginPage(page, edge) {
  await loginForm(page).username.waitFor();
  assert.notEqual(new URL(page.url()).origin, new URL(edge).origin,
    `expected the provider's login page, not a page of ${edge}: ${page.url()}`);
}

function banner(page) {
  return page.getByRole("banner");
}

// home waits for the site home to be rendered: the user in the banner and
// the "New list or library" button (shown once the lists have loaded).
async function home(page) {
  await banner(page).getByRole("button", { name: "Sign out" }).waitFor();
  await page.getByRole("button", { name: "New list or library" }).waitFor();
}

function listsTable(page) {
  return page.getByRole("table", { name: "Lists" });
}

// audit runs axe-core on what prepare(page) shows and fails on serious or
// critical violations, listing them. The page's CSP allows only its own
// scripts ('self', with Trusted Types required), so an injected axe is
// refused: the audit opens the same URL in a second context of the same
// session created with bypassCSP, while the main flow keeps the real CSP.
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

async function audit(ctx, url, prepare) {
  const auditCtx = await newContext({ bypassCSP: true, storageState: await ctx.storageState() });
  try {
    const page = await auditCtx.newPage();
    await page.goto(url);
    await prepare(page);
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(() =>
      // eslint-disable-next-line no-undef
      axe.run(document, { resultTypes: ["violations"] }));
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    const minor = result.violations.filter((v) => !bad.includes(v));
    if (minor.length) {
      console.log(`axe on ${url}: minor: ${minor.map((v) => `${v.id} (${v.impact}, ${v.nodes.length})`).join(", ")}`);
    }
    assert.deepEqual(bad.map(describe), [], `axe found serious or critical violations on ${url}`);
    return result;
  } finally {
    // Should the edge ever renew the cookie during the audit, the main
    // flow keeps the renewed one, as two tabs of one browser would.
    await ctx.addCookies(await auditCtx.cookies());
    await auditCtx.close();
  }
}

function describe(v) {
  const where = v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join("; ");
  return `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes: ${where}) ${v.helpUrl}`;
}

// fetchStatus asks edge for the current user with cookie, as an API
// client would, without following redirects.
async function fetchStatus(edge, cookie) {
  const res = await fetch(edge + "/_api/web/currentUser", {
    headers: { Accept: "application/json;odata=nometadata", Cookie: cookie },
    redirect: "manual",
  });
  await res.arrayBuffer();
  return res.status;
}

// eventually polls check until it returns true or WAIT passes: a logout
// reaches the other edges' session caches through Redis, a moment later.
async function eventually(what, check) {
  const deadline = Date.now() + WAIT;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${WAIT / 1000} s`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

// ---------------------------------------------------------------------------
// The scenario. State shared by the steps:

const [edge1, edge2] = config.edges;
const run = randomUUID().slice(0, 8);
const listTitle = `Browser test ${run}`;
const libraryTitle = `Browser library ${run}`;
let ctx; // alice's browser context: one cookie jar for both edges
let page; // alice on edge 1
let page2; // alice on edge 2
let sessionCookie; // alice's session cookie, to replay after sign-out

step("configuration", () => {
  assert.deepEqual(config.problems, [], "the environment does not configure the test");
});

step("launch Chromium", async () => {
  await launch();
  console.log(`Chromium ${browser.version()} at ${config.chromium}`);
});

step("sign in on the provider's login page via edge 1", async () => {
  ctx = await newContext();
  page = await ctx.newPage();
  await page.goto(edge1 + "/");
  await onLoginPage(page, edge1);
  await shot(page, "provider-login");
  await submitLogin(page, edge1, config.user);
  await home(page);
  if (config.user.name) {
    await banner(page).getByText(config.user.name, { exact: true }).waitFor();
  }
  sessionCookie = (await ctx.cookies(edge1)).filter((c) => /cesivi_session$/.test(c.name)).map((c) => `${c.name}=${c.value}`)[0];
  assert.ok(sessionCookie, "no session cookie after sign-in");
  await shot(page, "home");
});

step("home page: no serious or critical accessibility violation", async () => {
  await audit(ctx, edge1 + "/", home);
});

step("new list dialog", async () => {
  await page.getByRole("button", { name: "New list or library" }).click();
  const dialog = page.getByRole("dialog", { name: "New list or library" });
  await dialog.waitFor();
  // The dialog takes the focus to its first field, for keyboard users.
  await page.waitForFunction(() => document.activeElement?.id === "nl-title");
  await shot(page, "new-list-dialog");
});

step("new list dialog: no serious or critical accessibility violation", async () => {
  await audit(ctx, edge1 + "/", async (p) => {
    await home(p);
    await p.getByRole("button", { name: "New list or library" }).click();
    await p.getByRole("dialog", { name: "New list or library" }).waitFor();
  });
});

step("create a list through the dialog and see it in the lists", async () => {
  const dialog = page.getByRole("dialog", { name: "New list or library" });
  await dialog.getByLabel("Name").fill(listTitle);
  await dialog.getByLabel("Kind").selectOption({ label: "List" });
  await dialog.getByRole("button", { name: "Create" }).click();
  await dialog.waitFor({ state: "detached" });
  await listsTable(page).getByText(listTitle, { exact: true }).waitFor();
  // Not among the libraries.
  assert.equal(await page.getByRole("table", { name: "Libraries" }).getByText(listTitle, { exact: true }).count(), 0);
  await shot(page, "list-created");
});

step("home page with the new list: no serious or critical accessibility violation", async () => {
  await audit(ctx, edge1 + "/", async (p) => {
    await home(p);
    await listsTable(p).getByText(listTitle, { exact: true }).waitFor();
  });
});

step("create a library by keyboard only, with visible focus", async () => {
  // Tab from the top of the page to the button, as a keyboard user would;
  // bounded, so a button out of the tab order fails instead of looping.
  await page.reload();
  await home(page);
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    const st = e ? getComputedStyle(e) : null;
    return e && { id: e.id, text: e.textContent?.trim(), outline: st.outlineStyle, width: parseFloat(st.outlineWidth) };
  });
  let f = null;
  for (let i = 0; i < 15 && f?.text !== "New list or library"; i++) {
    await page.keyboard.press("Tab");
    f = await focused();
  }
  assert.equal(f?.text, "New list or library", "Tab never reached the New list or library button");
  assert.ok(f.outline !== "none" && f.width > 0, `the focused button shows no focus outline: ${JSON.stringify(f)}`);
  await shot(page, "keyboard-focus");

  // Escape closes the dialog; Enter opens it again.
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "New list or library" });
  await dialog.waitFor();
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  // Closing the dialog gives the focus back to the button that opened it.
  await page.waitForFunction(() => document.activeElement?.textContent?.trim() === "New list or library");
  await page.keyboard.press("Enter");
  await dialog.waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "nl-title");
  await page.keyboard.type(libraryTitle);
  await page.keyboard.press("Tab"); // Kind
  await page.keyboard.press("ArrowDown"); // Document library
  assert.equal(await dialog.getByLabel("Kind").inputValue(), "101", "ArrowDown on Kind did not choose Document library");
  await page.keyboard.press("Tab"); // Create
  f = await focused();
  assert.equal(f?.text, "Create");
  assert.ok(f.outline !== "none" && f.width > 0, `the focused Create button shows no focus outline: ${JSON.stringify(f)}`);
  await page.keyboard.press("Enter");
  await dialog.waitFor({ state: "detached" });
  await page.getByRole("table", { name: "Libraries" }).getByText(libraryTitle, { exact: true }).waitFor();
  await shot(page, "library-created");
});

step("edge 2 shows the same session and the same list", async (t) => {
  if (!edge2) return t.skip("CESIVI_EDGES names one edge");
  // Cookies belong to a host, not a port: both edges on the same host get
  // the session cookie, and the session lives in the farm's Redis.
  page2 = await ctx.newPage();
  await page2.goto(edge2 + "/");
  await home(page2);
  assert.equal(new URL(page2.url()).origin, new URL(edge2).origin, "edge 2 sent the browser elsewhere");
  await listsTable(page2).getByText(listTitle, { exact: true }).waitFor();
  await page2.getByRole("table", { name: "Libraries" }).getByText(libraryTitle, { exact: true }).waitFor();
  await shot(page2, "edge2-home");
});

step("sign out on edge 2: signed out on both edges", async () => {
  const out = page2 ?? page;
  const outEdge = page2 ? edge2 : edge1;
  await banner(out).getByRole("button", { name: "Sign out" }).click();
  // The edge ends the session, then the provider's end_session sends the
  // browser back to the site, which sends it to sign in.
  await onLoginPage(out, outEdge);
  await shot(out, "signed-out");
  for (const edge of config.edges) {
    await page.goto(edge + "/");
    await onLoginPage(page, edge);
    // Not only is the cookie gone from the browser: the session itself is
    // over, so the old cookie is refused by every edge.
    await eventually(`the old session cookie refused by ${edge}`, async () => (await fetchStatus(edge, sessionCookie)) === 401);
  }
  await ctx.close();
});

step("a second user signs in and sees the site with the default rights", async (t) => {
  if (!config.user2) return t.skip("no CESIVI_USER2");
  const bob = await newContext();
  try {
    const p = await bob.newPage();
    const edge = edge2 ?? edge1;
    await signIn(p, edge, config.user2);
    // A new user has no rights on the site until an owner grants some: the
    // page says so in a sentence, not raw JSON.
    await p.getByRole("heading", { level: 1, name: "Something went wrong" }).waitFor();
    await p.getByRole("status").getByText(/^You do not have permission for this/).waitFor();
    await shot(p, "second-user");
    await audit(bob, edge + "/", (q) => q.getByRole("status").getByText(/^You do not have permission for this/).waitFor());
  } finally {
    await bob.close();
  }
});

step("no Content-Security-Policy violation or uncaught error on any page", () => {
  assert.deepEqual(cspViolations, []);
}, { always: true });
