// Acceptance scenario for Cesivi's SharePoint REST API: @pnp/sp 4.21.0,
// unmodified, through an edge with a signed-in session. Run it with Node's
// own test runner; tests/pnpjs_test.go does so against a fresh farm, and
// README.md says how to run it by hand against `make run`.
//
// Configuration (environment):
//   CESIVI_BASE          absolute URL of a web through the edge (the origin
//                        is taken from it; a new site collection is created
//                        under <origin>/sites/ for every run)
//   CESIVI_COOKIE        Cookie header of a signed-in session (cookie mode:
//                        PnPjs runs the form digest flow), or
//   CESIVI_BEARER        an access token the edge accepts (bearer mode: no
//                        digest traffic at all); exactly one of the two
//   CESIVI_USER_EMAIL    optional: the signed-in user's e-mail, checked
//                        against currentUser
//   CESIVI_PAGING_ITEMS  items added to the paging list (default 5100, past
//                        SharePoint's 5,000-item list view threshold)
//   CESIVI_TRACE=1       print every HTTP request and its status to stderr
//
// Every step is its own test, in order; a step whose prerequisite failed
// fails naming it, so the first failure is the one to read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { spfi, SPBrowser } from "@pnp/sp";
import { InjectHeaders, HttpRequestError, JSONHeaderParse } from "@pnp/queryable";
import { Web } from "@pnp/sp/webs/index.js";
import "@pnp/sp/lists/index.js";
import "@pnp/sp/items/index.js";
import { DateTimeFieldFormatType } from "@pnp/sp/fields/index.js";
import "@pnp/sp/views/index.js";
import "@pnp/sp/site-users/web.js";
import "@pnp/sp/context-info/index.js";
import "@pnp/sp/batching.js";
import { PermissionKind } from "@pnp/sp/security/index.js";
import "@pnp/sp/site-groups/index.js";

// ---------------------------------------------------------------------------
// Configuration

const env = process.env;
const config = (() => {
  const problems = [];
  let base;
  try {
    base = new URL(env.CESIVI_BASE ?? "");
  } catch {
    problems.push(`CESIVI_BASE must be an absolute URL through the edge, e.g. http://localhost:8080/ (got ${JSON.stringify(env.CESIVI_BASE ?? "")})`);
  }
  const cookie = env.CESIVI_COOKIE ?? "";
  const bearer = env.CESIVI_BEARER ?? "";
  if ((cookie === "") === (bearer === "")) {
    problems.push("set exactly one of CESIVI_COOKIE (the Cookie header of a signed-in session) and CESIVI_BEARER (an access token)");
  }
  const pagingItems = Number(env.CESIVI_PAGING_ITEMS ?? "5100");
  if (!Number.isInteger(pagingItems) || pagingItems < 1 || pagingItems > 100000) {
    problems.push(`CESIVI_PAGING_ITEMS must be an integer from 1 to 100000 (got ${JSON.stringify(env.CESIVI_PAGING_ITEMS)})`);
  }
  return {
    problems,
    baseUrl: base ? base.href.replace(/\/+$/, "") : "",
    origin: base ? base.origin : "",
    mode: bearer !== "" ? "bearer" : "cookie",
    // Only the header name goes into messages, never the credential.
    authHeaders: bearer !== "" ? { Authorization: `Bearer ${bearer}` } : { Cookie: cookie },
    userEmail: env.CESIVI_USER_EMAIL ?? "",
    pagingItems,
    trace: env.CESIVI_TRACE === "1",
  };
})();

// ---------------------------------------------------------------------------
// Wire log: every request PnPjs (and this file) sends, so steps can check
// what went over the wire (the digest flow, absolute nextLinks) and a
// failure can show the last requests. PnPjs itself is not touched: its
// SPBrowser behaviour calls the global fetch, which is wrapped here.

const wire = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async function recordingFetch(input, init = {}) {
  const headers = {};
  new Headers(init.headers ?? {}).forEach((v, k) => { headers[k] = v; });
  const entry = { method: (init.method ?? "GET").toUpperCase(), url: String(input), headers, status: 0 };
  wire.push(entry);
  const started = performance.now();
  try {
    const res = await realFetch(input, init);
    entry.status = res.status;
    return res;
  } finally {
    if (config.trace) {
      process.stderr.write(`${entry.method} ${entry.url} -> ${entry.status || "network error"} (${Math.round(performance.now() - started)} ms)\n`);
    }
  }
};

function wireSince(mark) {
  return wire.slice(mark);
}

function describeWire(entries) {
  return entries.slice(-15).map((e) => `  ${e.method} ${e.url} -> ${e.status}`).join("\n");
}

// ---------------------------------------------------------------------------
// Helpers

// State shared by the steps, filled as they pass.
const state = {};

// need returns state[key] or fails the step, naming what is missing.
function need(...keys) {
  for (const k of keys) {
    if (state[k] === undefined) {
      const e = new Error(`prerequisite missing: ${k} (an earlier step failed; read its failure first)`);
      e.stack = e.message; // the stack of a cascade says nothing
      throw e;
    }
  }
  return keys.length === 1 ? state[keys[0]] : keys.map((k) => state[k]);
}

function pnp(webUrl) {
  return spfi(webUrl).using(SPBrowser({ baseUrl: webUrl }), InjectHeaders(config.authHeaders));
}

// rejectsWith awaits p, expects an HttpRequestError with status, and
// returns the parsed JSON error body PnPjs puts after "::>" in the message.
async function rejectsWith(p, status) {
  let err;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected the request to fail with ${status}, it succeeded`);
  assert.ok(err instanceof HttpRequestError || err.isHttpRequestError, `expected an HttpRequestError, got ${err}`);
  assert.equal(err.status, status, `status (message: ${err.message})`);
  const raw = err.message.split("::>")[1]?.trim() ?? "";
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    assert.fail(`the ${status} body is not JSON: ${JSON.stringify(raw.slice(0, 300))}`);
  }
  return body;
}

// assertODataError checks SharePoint's JSON light error shape:
// {"odata.error":{"code":"<n>, <Type>","message":{"lang":"en-US","value":"…"}}}
function assertODataError(body, messagePattern) {
  const e = body["odata.error"];
  assert.ok(e, `no "odata.error" in ${JSON.stringify(body)}`);
  assert.equal(typeof e.code, "string");
  assert.match(e.code, /^-?\d+, [A-Za-z.]+$/, "code is \"<HRESULT>, <.NET type>\"");
  assert.equal(typeof e.message, "object", "message is {lang, value}");
  assert.equal(typeof e.message.lang, "string");
  assert.equal(typeof e.message.value, "string");
  if (messagePattern) {
    assert.match(e.message.value, messagePattern);
  }
  return e;
}

// plain sends a request with fetch, outside PnPjs (SPSiteManager, which
// PnPjs 4 has no helper for, and the root's contextinfo).
async function plain(method, url, { body, digest } = {}) {
  const headers = {
    Accept: "application/json;odata=nometadata",
    "Content-Type": "application/json",
    ...config.authHeaders,
  };
  if (digest) {
    headers["X-RequestDigest"] = digest;
  }
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// collection values come as arrays in JSON light and {results: [...]} in
// verbose (fields.add asks for verbose, so its answer may nest them).
function values(v) {
  if (Array.isArray(v)) {
    return v;
  }
  if (v && Array.isArray(v.results)) {
    return v.results;
  }
  return v;
}

// step is a top-level test with a time limit, so a server that never
// answers fails the step instead of hanging the run.
function step(name, options, fn) {
  if (typeof options === "function") {
    [options, fn] = [{}, options];
  }
  return test(name, { timeout: 2 * 60 * 1000, ...options }, fn);
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const run = randomUUID().slice(0, 8);

// ---------------------------------------------------------------------------
// Steps

step("configuration names a web through the edge and one credential", () => {
  assert.deepEqual(config.problems, []);
  process.stderr.write(`pnpjs scenario: ${config.mode} mode against ${config.baseUrl}, run ${run}, ${config.pagingItems} paging items\n`);
});

step("the web at CESIVI_BASE answers through the edge", async () => {
  assert.deepEqual(config.problems, []);
  const mark = wire.length;
  const web = await pnp(config.baseUrl).web.select("Title", "Url")();
  assert.equal(typeof web.Title, "string");
  assert.equal(web.Url.replace(/\/+$/, ""), config.baseUrl, "the web's Url is its public URL");
  const path = new URL(config.baseUrl).pathname.replace(/\/+$/, "");
  assert.deepEqual(wireSince(mark).map((e) => `${e.method} ${new URL(e.url).pathname}`), [`GET ${path}/_api/web`]);
});

step("SPSiteManager/create makes a fresh site collection", async () => {
  const ctx = await plain("POST", `${config.origin}/_api/contextinfo`);
  assert.equal(ctx.status, 200, `contextinfo: ${ctx.text.slice(0, 300)}`);
  assert.equal(typeof ctx.json.FormDigestValue, "string", "FormDigestValue at the top level");
  assert.match(ctx.json.FormDigestValue, /^0x[0-9A-F]+,.+/i, "SharePoint's digest format 0x<hex>,<date>");
  assert.ok(ctx.json.FormDigestTimeoutSeconds > 0, "FormDigestTimeoutSeconds");

  const siteUrl = `${config.origin}/sites/pnp-${run}`;
  const res = await plain("POST", `${config.origin}/_api/SPSiteManager/create`, {
    digest: ctx.json.FormDigestValue,
    body: { request: { Title: `PnP ${run}`, Url: siteUrl, Lcid: 1033, WebTemplate: "STS#3" } },
  });
  assert.equal(res.status, 200, `create: ${res.text.slice(0, 300)}`);
  assert.match(res.json.SiteId, guidPattern, "SiteId");
  assert.equal(res.json.SiteStatus, 2, "SiteStatus 2 (ready)");
  assert.equal(res.json.SiteUrl, siteUrl);
  state.siteUrl = siteUrl;
  state.sp = pnp(siteUrl);
});

step("sp.web() reads the new site's root web, and select() narrows it", async () => {
  const [sp, siteUrl] = need("sp", "siteUrl");
  const web = await sp.web();
  assert.equal(web.Title, `PnP ${run}`);
  assert.equal(web.Url, siteUrl);
  assert.equal(web.ServerRelativeUrl, `/sites/pnp-${run}`);
  assert.match(web.Id, guidPattern);
  const narrow = await sp.web.select("Title", "Url")();
  assert.equal(narrow.Title, `PnP ${run}`);
  assert.equal(narrow.Url, siteUrl);
  assert.ok(!("ServerRelativeUrl" in narrow), "$select=Title,Url leaves ServerRelativeUrl out");
  assert.ok(!("Description" in narrow), "$select=Title,Url leaves Description out");
});

step("lists.add creates generic lists (BaseTemplate 100), with the digest flow in cookie mode", async () => {
  const [sp, siteUrl] = need("sp", "siteUrl");
  const mark = wire.length;
  const tasks = await sp.web.lists.add("Tasks", "Task list", 100, false);
  assert.equal(tasks.Title, "Tasks");
  assert.equal(tasks.BaseTemplate, 100);
  assert.equal(tasks.Description, "Task list");
  assert.match(tasks.Id, guidPattern);
  assert.equal(tasks.EntityTypeName, "TasksList");
  assert.equal(tasks.ListItemEntityTypeFullName, "SP.Data.TasksListItem");

  const sent = wireSince(mark);
  const contextinfo = sent.filter((e) => e.url === `${siteUrl}/_api/contextinfo`);
  const add = sent.find((e) => e.method === "POST" && e.url === `${siteUrl}/_api/web/lists`);
  assert.ok(add, `no POST ${siteUrl}/_api/web/lists on the wire:\n${describeWire(sent)}`);
  if (config.mode === "cookie") {
    assert.equal(contextinfo.length, 1, `one automatic contextinfo before the first write:\n${describeWire(sent)}`);
    assert.equal(contextinfo[0].status, 200);
    const digest = add.headers["x-requestdigest"];
    assert.ok(digest && digest !== "undefined", `the write carried X-RequestDigest (got ${JSON.stringify(digest)})`);
  } else {
    assert.equal(contextinfo.length, 0, "bearer mode sends no contextinfo");
    assert.ok(!("x-requestdigest" in add.headers), "bearer mode sends no X-RequestDigest");
  }

  const projects = await sp.web.lists.add("Projects", "Lookup target", 100);
  assert.equal(projects.Title, "Projects");
  assert.notEqual(projects.Id, tasks.Id);
  state.tasksId = tasks.Id;
  state.projectsId = projects.Id;
});

step("lists.getByTitle reads a list; the web's lists collection lists it", async () => {
  const [sp, tasksId] = need("sp", "tasksId");
  const list = await sp.web.lists.getByTitle("Tasks")();
  assert.equal(list.Id, tasksId);
  assert.equal(list.ItemCount, 0);
  const typeName = await sp.web.lists.getByTitle("Tasks").select("ListItemEntityTypeFullName")();
  assert.equal(typeName.ListItemEntityTypeFullName, "SP.Data.TasksListItem");
  const byId = await sp.web.lists.getById(tasksId).select("Title")();
  assert.equal(byId.Title, "Tasks");
  const all = await sp.web.lists.select("Title", "Id", "BaseTemplate").filter("Hidden eq false")();
  const titles = all.map((l) => l.Title);
  assert.ok(titles.includes("Tasks") && titles.includes("Projects"), `lists: ${titles}`);
});

step("list.update (MERGE) changes the description", async () => {
  const sp = need("sp");
  const list = sp.web.lists.getByTitle("Tasks");
  await list.update({ Description: "Updated by PnPjs" });
  const read = await list.select("Description")();
  assert.equal(read.Description, "Updated by PnPjs");
});

step("lists.ensure finds an existing list and creates a missing one", async () => {
  const [sp, tasksId] = need("sp", "tasksId");
  const existing = await sp.web.lists.ensure("Tasks", "Updated by PnPjs");
  assert.equal(existing.created, false);
  const again = await existing.list.select("Id")();
  assert.equal(again.Id, tasksId);
  const fresh = await sp.web.lists.ensure("Ensured", "Made by ensure", 100);
  assert.equal(fresh.created, true);
  assert.equal(fresh.data.Title, "Ensured");
  const read = await fresh.list.select("Title", "Description")();
  assert.equal(read.Description, "Made by ensure");
});

step("a missing list answers 404 with SharePoint's message", async () => {
  const [sp, siteUrl] = need("sp", "siteUrl");
  const body = await rejectsWith(sp.web.lists.getByTitle("Nope")(), 404);
  const e = assertODataError(body);
  assert.equal(e.code, "-1, System.ArgumentException");
  assert.equal(e.message.value, `List 'Nope' does not exist at site with URL '${siteUrl}'.`);
});

step("fields: every add* helper and createFieldAsXml", async (t) => {
  const [sp, projectsId] = need("sp", "projectsId");
  const fields = () => sp.web.lists.getByTitle("Tasks").fields;
  const created = {};
  const check = async (name, kind, add) => {
    await t.test(name, async () => {
      const f = await add();
      assert.equal(f.FieldTypeKind, kind, `FieldTypeKind of ${name}`);
      created[f.InternalName] = f;
      return f;
    });
  };
  await check("addText", 2, async () => {
    const f = await fields().addText("Status", { MaxLength: 100 });
    assert.equal(f.Title, "Status");
    assert.equal(f.InternalName, "Status");
    assert.equal(f.MaxLength, 100);
    return f;
  });
  await check("addNumber", 9, () => fields().addNumber("Priority", { MinimumValue: 0, MaximumValue: 100 }));
  await check("addBoolean", 8, () => fields().addBoolean("Done"));
  await check("addDateTime", 4, () => fields().addDateTime("Due", { DisplayFormat: DateTimeFieldFormatType.DateTime }));
  await check("addChoice", 6, async () => {
    const f = await fields().addChoice("Color", { Choices: ["Red", "Green", "Blue"] });
    assert.deepEqual(values(f.Choices), ["Red", "Green", "Blue"]);
    return f;
  });
  await check("addMultiChoice", 15, async () => {
    const f = await fields().addMultiChoice("Tags", { Choices: ["alpha", "beta", "gamma"] });
    assert.deepEqual(values(f.Choices), ["alpha", "beta", "gamma"]);
    return f;
  });
  await check("addUrl", 11, () => fields().addUrl("Link"));
  await check("addUser", 20, () => fields().addUser("Owner"));
  await check("addLookup (to the Projects list)", 7, async () => {
    const f = await fields().addLookup("Project", { LookupListId: projectsId, LookupFieldName: "Title" });
    assert.equal(f.InternalName, "Project");
    return f;
  });
  await check("createFieldAsXml (Note)", 3, async () => {
    const f = await fields().createFieldAsXml(`<Field Type="Note" DisplayName="Notes" Name="Notes" StaticName="Notes" NumLines="6" RichText="FALSE" />`);
    assert.equal(f.InternalName, "Notes");
    assert.equal(f.Title, "Notes");
    return f;
  });
  await t.test("getByInternalNameOrTitle and getByTitle read them back", async () => {
    const p = await fields().getByInternalNameOrTitle("Priority")();
    assert.equal(p.FieldTypeKind, 9);
    const c = await fields().getByTitle("Color")();
    assert.equal(c.InternalName, "Color");
    const all = await fields().select("InternalName").filter("Hidden eq false")();
    const names = all.map((f) => f.InternalName);
    for (const n of ["Title", "Status", "Priority", "Done", "Due", "Color", "Tags", "Link", "Owner", "Project", "Notes"]) {
      assert.ok(names.includes(n), `${n} in the list's fields (${names})`);
    }
  });
  assert.equal(Object.keys(created).length, 10, "every field was created");
  state.fields = created;
});

step("users: currentUser, siteUsers.getById/getByEmail/getByLoginName, ensureUser", async (t) => {
  const sp = need("sp");
  const me = await sp.web.currentUser();
  await t.test("currentUser", () => {
    assert.ok(Number.isInteger(me.Id) && me.Id > 0, `Id ${me.Id}`);
    assert.match(me.LoginName, /^i:0#\.f\|membership\|.+/, "claims login name");
    assert.equal(typeof me.Title, "string");
    assert.ok(me.Title.length > 0, "Title");
    assert.equal(me.PrincipalType, 1, "PrincipalType 1 (user)");
    if (config.userEmail) {
      assert.equal(me.Email, config.userEmail);
    }
  });
  await t.test("siteUsers lists the signed-in user", async () => {
    const users = await sp.web.siteUsers.select("Id", "LoginName", "Title")();
    assert.ok(users.some((u) => u.Id === me.Id && u.LoginName === me.LoginName), `siteUsers: ${JSON.stringify(users)}`);
  });
  await t.test("siteUsers.getById", async () => {
    const u = await sp.web.siteUsers.getById(me.Id)();
    assert.equal(u.LoginName, me.LoginName);
  });
  await t.test("siteUsers.getByEmail", async () => {
    assert.ok(me.Email, "currentUser has an Email to look up");
    const u = await sp.web.siteUsers.getByEmail(me.Email)();
    assert.equal(u.Id, me.Id);
  });
  await t.test("siteUsers.getByLoginName", async () => {
    const u = await sp.web.siteUsers.getByLoginName(me.LoginName)();
    assert.equal(u.Id, me.Id);
  });
  await t.test("ensureUser of the signed-in user returns the same user", async () => {
    const u = await sp.web.ensureUser(me.LoginName);
    assert.equal(u.Id, me.Id);
  });
  await t.test("ensureUser adds a new user once", async () => {
    const login = `i:0#.f|membership|carol-${run}@example.com`;
    const carol = await sp.web.ensureUser(login);
    assert.ok(carol.Id > 0 && carol.Id !== me.Id, `a new Id (${carol.Id})`);
    assert.equal(carol.LoginName, login);
    const again = await sp.web.ensureUser(login);
    assert.equal(again.Id, carol.Id, "ensureUser is idempotent");
    const found = await sp.web.siteUsers.getByLoginName(login)();
    assert.equal(found.Id, carol.Id);
    state.carolId = carol.Id;
  });
  state.me = me;
});

step("items.add with every field type", async () => {
  const [sp, me] = need("sp", "me");
  need("fields");
  const projects = sp.web.lists.getByTitle("Projects").items;
  const apollo = await projects.add({ Title: "Apollo" });
  const gemini = await projects.add({ Title: "Gemini" });
  assert.ok(apollo.Id > 0 && gemini.Id > apollo.Id, `ids ${apollo.Id}, ${gemini.Id}`);

  const tasks = sp.web.lists.getByTitle("Tasks").items;
  const due = "2026-03-01T09:30:00Z";
  const ids = [];
  for (let n = 1; n <= 5; n++) {
    const item = await tasks.add({
      Title: `Task ${n}`,
      Status: n % 2 ? "Open" : "Done",
      Priority: n,
      Done: n % 2 === 0,
      Due: due,
      Color: ["Red", "Green", "Blue"][n % 3],
      Tags: n === 1 ? ["alpha", "gamma"] : ["beta"],
      Link: { Url: `https://example.com/task/${n}`, Description: `Task ${n} link` },
      OwnerId: me.Id,
      ProjectId: n <= 3 ? apollo.Id : gemini.Id,
      Notes: `Notes of task ${n}\nsecond line`,
    });
    assert.equal(item.Title, `Task ${n}`);
    assert.equal(item.Priority, n);
    assert.ok(item.Id > 0, "Id");
    assert.equal(item.ID, item.Id, "ID mirrors Id");
    ids.push(item.Id);
  }
  // A title the startswith filter must leave out, with a priority it
  // would otherwise match.
  const other = await tasks.add({ Title: "Other", Priority: 9 });
  assert.deepEqual(ids, [1, 2, 3, 4, 5], "item ids start at 1 and have no gaps");

  const first = await tasks.getById(ids[0])();
  assert.equal(first.Status, "Open");
  assert.equal(first.Done, false);
  assert.equal(new Date(first.Due).toISOString(), new Date(due).toISOString());
  assert.equal(first.Color, "Green");
  assert.deepEqual(values(first.Tags), ["alpha", "gamma"]);
  assert.equal(first.Link.Url, "https://example.com/task/1");
  assert.equal(first.Link.Description, "Task 1 link");
  assert.equal(first.OwnerId, me.Id);
  assert.equal(first.ProjectId, apollo.Id);
  assert.equal(first.Notes, "Notes of task 1\nsecond line");
  assert.equal(first.AuthorId, me.Id, "AuthorId is the signed-in user");
  assert.equal(first.EditorId, me.Id, "EditorId is the signed-in user");
  for (const f of ["Created", "Modified", "GUID", "ContentTypeId", "Attachments", "FileSystemObjectType", "OData__UIVersionString"]) {
    assert.ok(f in first, `system field ${f} on every item`);
  }
  const second = await tasks.getById(ids[1]).select("Done", "Tags")();
  assert.equal(second.Done, true);
  assert.deepEqual(values(second.Tags), ["beta"]);

  state.taskIds = ids;
  state.otherId = other.Id;
  state.apolloId = apollo.Id;
  state.geminiId = gemini.Id;
});

step("getById answers the item with its ETag header", async () => {
  const [sp, ids] = need("sp", "taskIds");
  const { data, headers } = await sp.web.lists.getByTitle("Tasks").items.getById(ids[0]).using(JSONHeaderParse())();
  const etag = headers.get("etag");
  assert.ok(etag, "an ETag header on GET by id");
  assert.match(etag, /^(W\/)?"[^"]+"$/, "a quoted ETag");
  if ("odata.etag" in data) {
    assert.equal(data["odata.etag"], etag, "odata.etag equals the ETag header");
  }
  assert.equal(data.Id, ids[0]);
  state.etag1 = etag;
});

step("filter, orderBy desc, top and select", async () => {
  const sp = need("sp");
  const items = await sp.web.lists.getByTitle("Tasks").items
    .select("Id", "Title", "Priority")
    .filter("Priority ge 2 and startswith(Title,'Task')")
    .orderBy("Priority", false)
    .top(3)();
  assert.deepEqual(items.map((i) => [i.Title, i.Priority]), [["Task 5", 5], ["Task 4", 4], ["Task 3", 3]]);
  assert.ok(!("Status" in items[0]), "$select leaves Status out");

  const open = await sp.web.lists.getByTitle("Tasks").items
    .select("Id", "Status").filter("Status eq 'Open' and Priority gt 1").orderBy("Id")();
  assert.deepEqual(open.map((i) => i.Id), [3, 5]);
  const done = await sp.web.lists.getByTitle("Tasks").items.select("Id").filter("Done eq 1").orderBy("Id")();
  assert.deepEqual(done.map((i) => i.Id), [2, 4]);
});

step("expand Author/Title, Owner/Title and the lookup's Title", async () => {
  const [sp, me, ids] = need("sp", "me", "taskIds");
  const items = await sp.web.lists.getByTitle("Tasks").items
    .select("Id", "Title", "Author/Title", "Owner/Title", "Owner/Id", "Project/Title", "Project/Id")
    .expand("Author", "Owner", "Project")
    .filter(`Id le ${ids[4]}`)
    .orderBy("Id")();
  assert.equal(items.length, 5);
  assert.equal(items[0].Author.Title, me.Title);
  assert.equal(items[0].Owner.Title, me.Title);
  assert.equal(items[0].Owner.Id, me.Id);
  assert.deepEqual(items.map((i) => i.Project.Title), ["Apollo", "Apollo", "Apollo", "Gemini", "Gemini"]);
  const byLookup = await sp.web.lists.getByTitle("Tasks").items.select("Id").filter(`ProjectId eq ${need("geminiId")}`).orderBy("Id")();
  assert.deepEqual(byLookup.map((i) => i.Id), [4, 5]);
});

step("update with the ETag; a stale ETag gets 412 and changes nothing", async () => {
  const [sp, ids, etag1] = need("sp", "taskIds", "etag1");
  const item = () => sp.web.lists.getByTitle("Tasks").items.getById(ids[0]);
  const { etag: etag2 } = await item().update({ Title: "Task 1 (edited)" }, etag1);
  assert.ok(etag2, "the MERGE answer carries an ETag header");
  assert.notEqual(etag2, etag1, "the ETag changes with the item");

  const body = await rejectsWith(item().update({ Priority: 42 }, etag1), 412);
  assertODataError(body);
  const after = await item().select("Title", "Priority")();
  assert.equal(after.Title, "Task 1 (edited)");
  assert.equal(after.Priority, 1, "the refused MERGE changed nothing");

  const { etag: etag3 } = await item().update({ Priority: 1 }, etag2);
  assert.ok(etag3 && etag3 !== etag2, "the current ETag is accepted");
  const { etag: etag4 } = await item().update({ Status: "Open" });
  assert.ok(etag4 && etag4 !== etag3, "IF-Match: * always applies");
  const { headers } = await item().using(JSONHeaderParse())();
  assert.equal(headers.get("etag"), etag4, "GET by id answers the ETag the last MERGE returned");
});

step("delete; getById of the deleted item is 404; a stale ETag cannot delete", async () => {
  const [sp, otherId] = need("sp", "otherId");
  const items = () => sp.web.lists.getByTitle("Tasks").items;
  const { data, headers } = await items().getById(otherId).using(JSONHeaderParse())();
  assert.equal(data.Title, "Other");
  const stale = headers.get("etag");
  await items().getById(otherId).update({ Priority: 8 });
  const refused = await rejectsWith(items().getById(otherId).delete(stale), 412);
  assertODataError(refused);
  await items().getById(otherId).delete();
  const body = await rejectsWith(items().getById(otherId)(), 404);
  assertODataError(body, /Item does not exist/);
  const left = await items().select("Id").filter("Title eq 'Other'")();
  assert.deepEqual(left, []);
});

step("list.getItemsByCAMLQuery with a simple Where", async () => {
  const sp = need("sp");
  const viewXml = "<View><Query><Where><Geq><FieldRef Name='Priority'/><Value Type='Number'>3</Value></Geq></Where>"
    + "<OrderBy><FieldRef Name='Priority' Ascending='FALSE'/></OrderBy></Query><RowLimit>10</RowLimit></View>";
  const items = await sp.web.lists.getByTitle("Tasks").getItemsByCAMLQuery({ ViewXml: viewXml });
  assert.deepEqual(items.map((i) => i.Title), ["Task 5", "Task 4", "Task 3"]);
  const eq = await sp.web.lists.getByTitle("Tasks").getItemsByCAMLQuery({
    ViewXml: "<View><Query><Where><And><Eq><FieldRef Name='Status'/><Value Type='Text'>Open</Value></Eq>"
      + "<BeginsWith><FieldRef Name='Title'/><Value Type='Text'>Task</Value></BeginsWith></And></Where>"
      + "<OrderBy><FieldRef Name='ID'/></OrderBy></Query></View>",
  });
  assert.deepEqual(eq.map((i) => i.Id), [1, 3, 5]);
});

step("list.getChanges returns the item changes since a change token", async () => {
  const sp = need("sp");
  const list = sp.web.lists.getByTitle("Tasks");
  const query = { Add: true, Update: true, DeleteObject: true, Item: true };
  const all = await list.getChanges(query);
  assert.ok(all.length >= 5, `the Tasks list has ${all.length} changes; the steps before made at least 5`);
  for (const c of all) {
    assert.match(c.ChangeToken.StringValue, /^1;3;[0-9a-f-]{36};\d+;\d+$/);
    assert.ok([1, 2, 3].includes(c.ChangeType), `change type ${c.ChangeType}`);
  }
  const last = all[all.length - 1];
  assert.deepEqual(await list.getChanges({ ...query, ChangeTokenStart: last.ChangeToken }), []);
  const after = await list.getChanges({ ...query, ChangeTokenStart: all[all.length - 2].ChangeToken });
  assert.deepEqual(after.map((c) => c.ChangeToken.StringValue), [last.ChangeToken.StringValue]);
});

step("views: defaultView, views.add, getByTitle, view fields", async () => {
  const sp = need("sp");
  const list = () => sp.web.lists.getByTitle("Tasks");
  const def = await list().defaultView();
  assert.equal(def.Title, "All Items");
  assert.equal(def.DefaultView, true);
  assert.match(def.Id, guidPattern);

  const added = await list().views.add("Top priorities", false, {
    RowLimit: 2,
    ViewQuery: "<OrderBy><FieldRef Name='Priority' Ascending='FALSE'/></OrderBy>",
  });
  assert.equal(added.Title, "Top priorities");
  assert.equal(added.RowLimit, 2);
  assert.match(added.Id, guidPattern);
  const read = await list().views.getByTitle("Top priorities")();
  assert.equal(read.Id, added.Id);
  assert.match(read.ViewQuery, /<FieldRef Name="Priority" Ascending="FALSE"\s*\/>|<FieldRef Name='Priority' Ascending='FALSE'\s*\/>/);
  const byId = await list().views.getById(added.Id).select("Title")();
  assert.equal(byId.Title, "Top priorities");

  await list().views.getById(added.Id).fields.add("Priority");
  const vf = await list().views.getById(added.Id).fields();
  assert.ok(values(vf.Items).includes("Priority"), `view fields: ${JSON.stringify(vf)}`);
  const all = await list().views.select("Title")();
  assert.deepEqual(all.map((v) => v.Title).sort(), ["All Items", "Top priorities"]);
});

step("getContextInfo answers the web's context", async () => {
  const [sp, siteUrl] = need("sp", "siteUrl");
  const info = await sp.web.getContextInfo();
  assert.equal(info.WebFullUrl, siteUrl);
  assert.equal(info.SiteFullUrl, siteUrl);
  assert.match(info.FormDigestValue, /^0x[0-9A-F]+,.+/i);
  assert.ok(info.FormDigestTimeoutSeconds > 0);
  assert.ok(Array.isArray(info.SupportedSchemaVersions), "SupportedSchemaVersions is an array");
  // A digest issued after the cached one must not retire it: PnPjs keeps
  // sending the first (research §5.2).
  const mark = wire.length;
  await sp.web.lists.getByTitle("Tasks").update({ Description: "After getContextInfo" });
  const merge = wireSince(mark).find((e) => e.method === "POST");
  assert.equal(merge.status, 204, `the MERGE after getContextInfo:\n${describeWire(wireSince(mark))}`);
});

step("a batch with a failing request: the others still succeed", async () => {
  const sp = need("sp");
  const [batched, execute] = sp.batched();
  const tasks = batched.web.lists.getByTitle("Tasks");
  const results = Promise.allSettled([
    tasks.items.add({ Title: "Batched A", Priority: 20 }),
    batched.web.lists.getByTitle("Nope")(),
    batched.web.lists.getByTitle("Tasks").items.add({ Title: "Batched B", Priority: 21 }),
    batched.web.lists.getByTitle("Tasks").items.select("Id", "Title").filter("Priority ge 20")(),
  ]);
  const mark = wire.length;
  await execute();
  const [a, nope, b, read] = await results;
  assert.equal(a.status, "fulfilled", `A: ${a.reason}`);
  assert.equal(a.value.Title, "Batched A");
  assert.equal(nope.status, "rejected");
  assert.equal(nope.reason.status, 404, `the failing request: ${nope.reason}`);
  assert.equal(b.status, "fulfilled", `B: ${b.reason}`);
  assert.equal(b.value.Title, "Batched B");
  assert.equal(read.status, "fulfilled", `read: ${read.reason}`);
  // PnPjs queues the four requests in the order their pipelines reach
  // send, which is not guaranteed to be the call order: only check that
  // the read saw nothing but batched items.
  assert.ok(Array.isArray(read.value) && read.value.every((i) => ["Batched A", "Batched B"].includes(i.Title)), `read: ${JSON.stringify(read.value)}`);
  const posts = wireSince(mark).filter((e) => e.method === "POST");
  assert.deepEqual(posts.map((e) => new URL(e.url).pathname), [`/sites/pnp-${run}/_api/$batch`], "one $batch request");
  assert.match(posts[0].headers["content-type"], /^multipart\/mixed; boundary=batch_/);
  const after = await sp.web.lists.getByTitle("Tasks").items.select("Title").filter("Priority ge 20").orderBy("Priority")();
  assert.deepEqual(after.map((i) => i.Title), ["Batched A", "Batched B"]);
});

step(`paging: ${config.pagingItems} items${config.pagingItems > 5000 ? " (past the 5,000-item threshold)" : ""} added with sp.batched(), read with for await … top(1000)`, { timeout: 20 * 60 * 1000 }, async (t) => {
  const [sp, siteUrl] = need("sp", "siteUrl");
  const n = config.pagingItems;
  await sp.web.lists.add("Big", "Paging past the list view threshold", 100);
  await sp.web.lists.getByTitle("Big").fields.addNumber("N");

  // Batches of 100 (SharePoint's own $batch limit), a few in flight at once.
  const started = performance.now();
  const batchSize = 100;
  const inFlight = 3;
  let next = 1;
  const added = [];
  const worker = async () => {
    while (next <= n) {
      const from = next;
      const to = Math.min(n, from + batchSize - 1);
      next = to + 1;
      const [batched, execute] = sp.batched({ maxRequests: batchSize });
      const list = batched.web.lists.getByTitle("Big");
      const adds = [];
      for (let i = from; i <= to; i++) {
        adds.push(list.items.add({ Title: `Big ${i}`, N: i }));
      }
      const settled = Promise.all(adds);
      await execute();
      for (const item of await settled) {
        added.push(item.Id);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const addSeconds = (performance.now() - started) / 1000;
  assert.equal(added.length, n);
  assert.deepEqual([...added].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i + 1), "ids 1..n, each once");
  const count = await sp.web.lists.getByTitle("Big").select("ItemCount")();
  assert.equal(count.ItemCount, n);

  const pageStarted = performance.now();
  const mark = wire.length;
  const seen = [];
  const sizes = [];
  for await (const page of sp.web.lists.getByTitle("Big").items.select("Id", "Title", "N").top(1000)) {
    sizes.push(page.length);
    for (const item of page) {
      assert.equal(item.Title, `Big ${item.N}`);
      seen.push(item.Id);
    }
  }
  const pageSeconds = (performance.now() - pageStarted) / 1000;
  const full = Math.floor(n / 1000);
  const expectSizes = [...Array(full).fill(1000), ...(n % 1000 ? [n % 1000] : [])];
  assert.deepEqual(sizes, expectSizes, "page sizes");
  assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i + 1), "every item once, in Id order");
  const gets = wireSince(mark);
  for (const e of gets.slice(1)) {
    assert.ok(e.url.startsWith(`${siteUrl}/_api/`), `nextLink is absolute on the public origin: ${e.url}`);
  }
  assert.equal(gets.length, expectSizes.length, "one request per page");
  t.diagnostic(`added ${n} items in ${Math.ceil(n / batchSize)} $batch requests in ${addSeconds.toFixed(1)} s; paged them in ${sizes.length} pages in ${pageSeconds.toFixed(1)} s`);
  process.stderr.write(`paging: added ${n} items in ${addSeconds.toFixed(1)} s, read ${sizes.length} pages in ${pageSeconds.toFixed(1)} s\n`);

  // A filtered, ordered query on the big list pages the same way. It
  // filters and orders on Id: on a list past the threshold SharePoint
  // refuses queries on columns that are not indexed.
  const filtered = [];
  for await (const page of sp.web.lists.getByTitle("Big").items.select("Id", "N").filter(`Id gt ${n - 250}`).orderBy("Id", false).top(100)) {
    filtered.push(...page.map((i) => i.Id));
  }
  assert.deepEqual(filtered, Array.from({ length: Math.min(250, n) }, (_, i) => n - i));
});

step("sub-webs: webs.add, then use the sub-web; webinfos lists it", async () => {
  const [sp, siteUrl] = need("sp", "siteUrl");
  const info = await sp.web.webs.add(`Sub ${run}`, "sub", "A sub-web");
  assert.equal(info.Title, `Sub ${run}`);
  assert.equal(info.ServerRelativeUrl, `/sites/pnp-${run}/sub`);
  assert.equal(info.Url, `${siteUrl}/sub`);

  const sub = Web([sp.web, info.Url]);
  const web = await sub.select("Title", "Url", "Description")();
  assert.equal(web.Title, `Sub ${run}`);
  assert.equal(web.Url, `${siteUrl}/sub`);
  assert.equal(web.Description, "A sub-web");

  const mark = wire.length;
  const list = await sub.lists.add("Sub tasks", "", 100);
  assert.equal(list.Title, "Sub tasks");
  if (config.mode === "cookie") {
    const ctx = wireSince(mark).filter((e) => e.url === `${siteUrl}/sub/_api/contextinfo`);
    assert.equal(ctx.length, 1, "the sub-web gets its own digest");
  }
  const item = await sub.lists.getByTitle("Sub tasks").items.add({ Title: "In the sub-web" });
  assert.equal(item.Id, 1);
  const parentHasIt = await rejectsWith(sp.web.lists.getByTitle("Sub tasks")(), 404);
  assertODataError(parentHasIt, /does not exist/);

  const infos = await sp.web.webinfos();
  assert.ok(infos.some((w) => w.ServerRelativeUrl === `/sites/pnp-${run}/sub` && w.Title === `Sub ${run}`), `webinfos: ${JSON.stringify(infos)}`);
  const webs = await sp.web.webs.select("Title", "Url")();
  assert.deepEqual(webs.map((w) => w.Url), [`${siteUrl}/sub`]);
});

// ---------------------------------------------------------------------------
// Permissions: levels, site groups, role assignments and inheritance, as
// PnPjs's security and site-groups modules send them. The signed-in user
// is a site collection administrator of the farm.

step("permissions: roleDefinitions getByName, getByType, getById", async () => {
  const sp = need("sp");
  const contribute = await sp.web.roleDefinitions.getByName("Contribute")();
  assert.equal(contribute.Id, 1073741827);
  assert.equal(contribute.BasePermissions.High, "432");
  assert.equal(contribute.BasePermissions.Low, "1011028719");
  const full = await sp.web.roleDefinitions.getByType(5)();
  assert.equal(full.Name, "Full Control");
  assert.equal((await sp.web.roleDefinitions.getById(1073741826)()).Name, "Read");
  const all = await sp.web.roleDefinitions();
  assert.ok(all.some((r) => r.Name === "Edit"), `roleDefinitions: ${JSON.stringify(all.map((r) => r.Name))}`);
  state.contributeId = contribute.Id;
});

step("permissions: siteGroups.add, getByName, update, users.add, associatedOwnerGroup", async () => {
  const [sp, me] = need("sp", "me");
  const title = `Reviewers ${run}`;
  const g = await sp.web.siteGroups.add({ Title: title, Description: "Added by PnPjs" });
  assert.ok(Number.isInteger(g.Id) && g.Id > 0, `Id ${g.Id}`);
  assert.equal(g.PrincipalType, 8);
  assert.equal(g.LoginName, title);
  const byName = await sp.web.siteGroups.getByName(title)();
  assert.equal(byName.Id, g.Id);
  await sp.web.siteGroups.getById(g.Id).update({ Description: "Updated by PnPjs" });
  assert.equal((await sp.web.siteGroups.getById(g.Id).select("Description")()).Description, "Updated by PnPjs");
  await sp.web.siteGroups.getById(g.Id).users.add(me.LoginName);
  const users = await sp.web.siteGroups.getById(g.Id).users();
  assert.ok(users.some((u) => u.Id === me.Id), `group users: ${JSON.stringify(users)}`);
  const owners = await sp.web.associatedOwnerGroup();
  assert.equal(owners.Title, `PnP ${run} Owners`);
  assert.equal((await sp.web.associatedVisitorGroup()).Title, `PnP ${run} Visitors`);
  const dup = await rejectsWith(sp.web.siteGroups.add({ Title: title }), 409);
  assertODataError(dup, /already in use/);
  state.groupId = g.Id;
});

step("permissions: a list's inheritance broken, roleAssignments add, expand, getById, remove, reset", async () => {
  const [sp, groupId, contributeId] = need("sp", "groupId", "contributeId");
  const list = sp.web.lists.getByTitle("Projects");
  await list.breakRoleInheritance(true, false);
  assert.equal((await list.select("HasUniqueRoleAssignments")()).HasUniqueRoleAssignments, true);
  await list.roleAssignments.add(groupId, contributeId);
  const ras = await list.roleAssignments.expand("Member", "RoleDefinitionBindings")();
  const mine = ras.find((ra) => ra.PrincipalId === groupId);
  assert.ok(mine, `roleAssignments: ${JSON.stringify(ras)}`);
  assert.equal(mine.Member.Title, `Reviewers ${run}`);
  assert.deepEqual(mine.RoleDefinitionBindings.map((r) => r.Name), ["Contribute"]);
  assert.ok(ras.some((ra) => ra.Member.Title === `PnP ${run} Owners`), "the copied assignments are there");
  assert.equal((await list.roleAssignments.getById(groupId)()).PrincipalId, groupId);
  const bindings = await list.roleAssignments.getById(groupId).bindings();
  assert.deepEqual(bindings.map((r) => r.Id), [contributeId]);
  await list.roleAssignments.remove(groupId, contributeId);
  assert.ok(!(await list.roleAssignments()).some((ra) => ra.PrincipalId === groupId), "removed");
  await list.resetRoleInheritance();
  assert.equal((await list.select("HasUniqueRoleAssignments")()).HasUniqueRoleAssignments, false);
});

step("permissions: an item's inheritance broken; getUserEffectivePermissions, userHasPermissions, currentUserHasPermissions", async () => {
  const [sp, me] = need("sp", "me");
  const tasks = sp.web.lists.getByTitle("Tasks");
  const added = await tasks.items.add({ Title: "Secured" });
  const item = tasks.items.getById(added.Id);
  await item.breakRoleInheritance(false, false);
  assert.equal((await item.select("HasUniqueRoleAssignments")()).HasUniqueRoleAssignments, true);
  assert.deepEqual(await item.roleAssignments(), [], "nothing copied");
  const perms = await item.getUserEffectivePermissions(me.LoginName);
  assert.ok(item.hasPermissions(perms, PermissionKind.ManagePermissions), `an administrator's permissions: ${JSON.stringify(perms)}`);
  assert.equal(await item.userHasPermissions(me.LoginName, PermissionKind.EditListItems), true);
  assert.equal(await sp.web.currentUserHasPermissions(PermissionKind.ManageWeb), true);
  assert.equal(await tasks.currentUserHasPermissions(PermissionKind.ViewListItems), true);
  await item.resetRoleInheritance();
  assert.equal((await item.select("HasUniqueRoleAssignments")()).HasUniqueRoleAssignments, false);
});

step("permissions: siteGroups.removeById", async () => {
  const [sp, groupId] = need("sp", "groupId");
  await sp.web.siteGroups.removeById(groupId);
  const gone = await rejectsWith(sp.web.siteGroups.getById(groupId)(), 404);
  assertODataError(gone, /Group cannot be found/);
});
