// Acceptance scenario for Cesivi's document libraries: @pnp/sp 4.21.0,
// unmodified, through an edge with a signed-in session or a bearer token.
// Run it with Node's own test runner; tests/pnpjs_files_test.go does so
// against a fresh farm, and README.md says how to run it by hand.
//
// Configuration (environment), as sharepoint.test.mjs:
//   CESIVI_BASE          absolute URL of a web through the edge (a new site
//                        collection is created under <origin>/sites/ per run)
//   CESIVI_COOKIE        Cookie header of a signed-in session, or
//   CESIVI_BEARER        an access token the edge accepts; exactly one
//   CESIVI_TRACE=1       print every HTTP request and its status to stderr
//   CESIVI_FILES_GROUPS  optional: "all" or a comma-separated list of groups
//                        to run instead of BUILT (to try a group that is
//                        being built)
//   CESIVI_CHUNKED_MIB   size of the addChunked file (default 30)
//
// The steps are grouped by what the server must support. BUILT says which
// groups the server has; the steps of the other groups are reported as
// todo, not run. Every step is its own test, in order; a step whose
// prerequisite failed fails naming it, so the first failure is the one to
// read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";

import { spfi, SPBrowser } from "@pnp/sp";
import { InjectHeaders, HttpRequestError } from "@pnp/queryable";
import "@pnp/sp/webs/index.js";
import "@pnp/sp/lists/index.js";
import "@pnp/sp/items/index.js";
import "@pnp/sp/fields/index.js";
import "@pnp/sp/folders/index.js";
import "@pnp/sp/files/index.js";
import { CheckinType } from "@pnp/sp/files/index.js";
import "@pnp/sp/attachments/index.js";
import "@pnp/sp/recycle-bin/index.js";

// ---------------------------------------------------------------------------
// Groups the server supports. The lead adds a group here when its server
// side is merged; a group's steps rely only on the groups listed before it
// in GROUPS (and on "libraries", "folders", "files").

const GROUPS = [
  "libraries", // lists.add(…, 101), rootFolder, the default Documents library
  "folders", // folders.addUsingPath, getFolderByServerRelativePath, folders(), 404
  "files", // addUsingPath (string, bytes), $value as text/bytes/blob, file(), files(), exists, getFileById
  "names", // a space, %, #, ', &, + in file and folder names
  "overwrite", // Overwrite: true replaces, without it 400; setContent
  "chunked", // addChunked of a large file (startUpload/continueUpload/finishUpload)
  "checkout", // checkout, checkin(comment, type), undoCheckout, CheckOutType
  "versions", // versions(), an older version's content, restoreByLabel
  "recycle", // file.recycle(), web.recycleBin(), restore
  "copymove", // copyByPath / moveByPath of files and folders
  "attachments", // attachmentFiles on a list item: add, list, read, delete
  "items", // file.getItem(), item.file(), a custom field, $filter on a library
  "delete", // file.delete(), folder.delete() with what it holds
];
const BUILT = new Set(["libraries", "folders", "files", "names", "overwrite", "chunked", "checkout", "versions", "recycle", "copymove", "attachments", "items", "delete"]);

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
  let groups = BUILT;
  const asked = (env.CESIVI_FILES_GROUPS ?? "").trim();
  if (asked === "all") {
    groups = new Set(GROUPS);
  } else if (asked !== "") {
    groups = new Set(asked.split(",").map((g) => g.trim()));
    for (const g of groups) {
      if (!GROUPS.includes(g)) {
        problems.push(`CESIVI_FILES_GROUPS names an unknown group ${JSON.stringify(g)}; groups: ${GROUPS.join(", ")}`);
      }
    }
  }
  const chunkedMiB = Number(env.CESIVI_CHUNKED_MIB ?? "30");
  if (!Number.isInteger(chunkedMiB) || chunkedMiB < 1 || chunkedMiB > 1024) {
    problems.push(`CESIVI_CHUNKED_MIB must be an integer from 1 to 1024 (got ${JSON.stringify(env.CESIVI_CHUNKED_MIB)})`);
  }
  return {
    problems,
    baseUrl: base ? base.href.replace(/\/+$/, "") : "",
    origin: base ? base.origin : "",
    mode: bearer !== "" ? "bearer" : "cookie",
    // Only the header name goes into messages, never the credential.
    authHeaders: bearer !== "" ? { Authorization: `Bearer ${bearer}` } : { Cookie: cookie },
    groups,
    chunkedBytes: chunkedMiB * 1024 * 1024,
    trace: env.CESIVI_TRACE === "1",
  };
})();

// ---------------------------------------------------------------------------
// Wire log: every request PnPjs sends (its SPBrowser behaviour calls the
// global fetch, wrapped here; PnPjs itself is not touched), so steps can
// check what went over the wire and a failure can show the last requests.

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

function describeWire(entries) {
  return entries.slice(-15).map((e) => `  ${e.method} ${e.url} -> ${e.status}`).join("\n");
}

// ---------------------------------------------------------------------------
// Helpers

// State shared by the steps, filled as they pass.
const state = {};

// need returns state[key] (or several) or fails the step, naming what is
// missing.
function need(...keys) {
  for (const k of keys) {
    if (state[k] === undefined) {
      const e = new Error(`prerequisite missing: ${k} (an earlier step failed or its group is not built; read the first failure)`);
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
  assert.match(e.code, /^-?\d+, [A-Za-z.]+$/, "code is \"<HRESULT>, <.NET type>\"");
  assert.equal(typeof e.message?.value, "string", "message is {lang, value}");
  if (messagePattern) {
    assert.match(e.message.value, messagePattern);
  }
  return e;
}

// plain sends a request with fetch, outside PnPjs (SPSiteManager, which
// PnPjs 4 has no helper for, and the root's contextinfo).
async function plain(method, url, { body, digest } = {}) {
  const headers = { Accept: "application/json;odata=nometadata", "Content-Type": "application/json", ...config.authHeaders };
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
  return { status: res.status, text, json };
}

// step is a top-level test with a time limit, so a server that never
// answers fails the step instead of hanging the run. A step of a group the
// server does not have yet is a todo.
function step(group, name, options, fn) {
  if (typeof options === "function") {
    [options, fn] = [{}, options];
  }
  if (group !== "setup" && !GROUPS.includes(group)) {
    throw new Error(`step ${JSON.stringify(name)}: unknown group ${group}`);
  }
  if (group !== "setup" && !config.groups.has(group)) {
    return test.todo(`[${group}] ${name}`);
  }
  return test(`[${group}] ${name}`, { timeout: 2 * 60 * 1000, ...options }, fn);
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const bytesOf = (arrayBuffer) => Buffer.from(arrayBuffer);

// pattern returns n deterministic bytes that differ from chunk to chunk
// (a xorshift stream), so a chunk stored twice or out of order changes the
// hash.
function pattern(n, seed) {
  const out = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out.writeUInt32LE(x, Math.min(i, n - 4));
  }
  return out;
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// SP.File.ETag: "{GUID},n" with the quotes.
const fileETagPattern = /^"\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\},\d+"$/i;
const run = randomUUID().slice(0, 8);

// The names the "names" group uploads: one per character that needs care
// in SharePoint URLs (PnPjs encodes them differently in each URL form).
const specialNames = ["with space.txt", "100%.txt", "C#.txt", "it's.txt", "R&D.txt", "a+b.txt", "all of %#'&+ .txt"];
const specialFolder = "Q&A #1 + it's 100%";

// ---------------------------------------------------------------------------
// Set-up: a fresh site collection for every run

step("setup", "configuration names a web through the edge and one credential", () => {
  assert.deepEqual(config.problems, []);
  const groups = GROUPS.filter((g) => config.groups.has(g));
  process.stderr.write(`pnpjs files scenario: ${config.mode} mode against ${config.baseUrl}, run ${run}, groups: ${groups.join(", ") || "(none built)"}\n`);
});

step("setup", "SPSiteManager/create makes a fresh site collection", async () => {
  assert.deepEqual(config.problems, []);
  const ctx = await plain("POST", `${config.origin}/_api/contextinfo`);
  assert.equal(ctx.status, 200, `contextinfo: ${ctx.text.slice(0, 300)}`);
  const siteUrl = `${config.origin}/sites/files-${run}`;
  const res = await plain("POST", `${config.origin}/_api/SPSiteManager/create`, {
    digest: ctx.json.FormDigestValue,
    body: { request: { Title: `Files ${run}`, Url: siteUrl, Lcid: 1033, WebTemplate: "STS#3" } },
  });
  assert.equal(res.status, 200, `create: ${res.text.slice(0, 300)}`);
  assert.equal(res.json.SiteStatus, 2, "SiteStatus 2 (ready)");
  state.siteUrl = siteUrl;
  state.sitePath = new URL(siteUrl).pathname;
  state.sp = pnp(siteUrl);
});

// ---------------------------------------------------------------------------
// libraries

step("libraries", "lists.add(…, 101) creates a document library with a root folder", async () => {
  const [sp, sitePath] = need("sp", "sitePath");
  const lib = await sp.web.lists.add("Specs", "Specifications", 101, false);
  assert.equal(lib.Title, "Specs");
  assert.equal(lib.BaseTemplate, 101);
  assert.equal(lib.BaseType, 1, "BaseType 1 (document library)");
  assert.equal(lib.ListItemEntityTypeFullName, "SP.Data.SpecsItem", "libraries' items are SP.Data.<Name>Item");
  const root = await sp.web.lists.getByTitle("Specs").rootFolder();
  assert.equal(root.ServerRelativeUrl, `${sitePath}/Specs`);
  assert.equal(root.Name, "Specs");
  assert.match(root.UniqueId, guidPattern);
  state.lib = `${sitePath}/Specs`;
});

step("libraries", "every new web has the Documents library at Shared Documents", async () => {
  const [sp, sitePath] = need("sp", "sitePath");
  const docs = await sp.web.lists.getByTitle("Documents").select("Title", "BaseTemplate", "EntityTypeName")();
  assert.equal(docs.BaseTemplate, 101);
  assert.equal(docs.EntityTypeName, "Shared_x0020_Documents");
  const root = await sp.web.lists.getByTitle("Documents").rootFolder();
  assert.equal(root.ServerRelativeUrl, `${sitePath}/Shared Documents`);
});

// ---------------------------------------------------------------------------
// folders

step("folders", "folders.addUsingPath creates nested folders (server-relative and relative names)", async () => {
  const [sp, lib] = need("sp", "lib");
  const nested = await sp.web.folders.addUsingPath(`${lib}/Nested`);
  assert.equal(nested.ServerRelativeUrl, `${lib}/Nested`);
  assert.equal(nested.Name, "Nested");
  const deeper = await sp.web.getFolderByServerRelativePath(`${lib}/Nested`).folders.addUsingPath("Deeper");
  assert.equal(deeper.ServerRelativeUrl, `${lib}/Nested/Deeper`);
  const deepest = await sp.web.folders.addUsingPath(`${lib}/Nested/Deeper/Deepest`);
  assert.equal(deepest.ServerRelativeUrl, `${lib}/Nested/Deeper/Deepest`);
  await sp.web.folders.addUsingPath(`${lib}/Archive`);
  state.nested = `${lib}/Nested`;
  state.nestedId = nested.UniqueId;
});

step("folders", "getFolderByServerRelativePath reads a folder, server- or web-relative", async () => {
  const [sp, nested, nestedId] = need("sp", "nested", "nestedId");
  const f = await sp.web.getFolderByServerRelativePath(nested)();
  assert.equal(f.Name, "Nested");
  assert.equal(f.ServerRelativeUrl, nested);
  assert.equal(f.Exists, true);
  assert.equal(f.UniqueId, nestedId);
  assert.equal(f.ItemCount, 1, "Nested holds Deeper");
  const webRelative = await sp.web.getFolderByServerRelativePath("Specs/Nested").select("UniqueId")();
  assert.equal(webRelative.UniqueId, nestedId, "decodedUrl may be web-relative");
});

step("folders", "folder.folders() lists sub-folders", async () => {
  const [sp, lib] = need("sp", "lib");
  const top = await sp.web.getFolderByServerRelativePath(lib).folders();
  const names = top.map((f) => f.Name);
  assert.ok(names.includes("Nested") && names.includes("Archive"), `root folders: ${names}`);
  const sub = await sp.web.getFolderByServerRelativePath(`${lib}/Nested`).folders.select("Name", "ServerRelativeUrl")();
  assert.deepEqual(sub.map((f) => f.ServerRelativeUrl), [`${lib}/Nested/Deeper`]);
});

step("folders", "a missing folder answers 404 in SharePoint's error shape", async () => {
  const [sp, lib] = need("sp", "lib");
  const body = await rejectsWith(sp.web.getFolderByServerRelativePath(`${lib}/No such folder`)(), 404);
  // SharePoint's answer for a missing folder, not the generic 404 of an
  // unknown route (ResourceNotFoundException "Cannot find resource…").
  const e = assertODataError(body, /^File Not Found\.$/);
  assert.equal(e.code, "-2147024894, System.IO.FileNotFoundException");
});

// ---------------------------------------------------------------------------
// files

step("files", "files.addUsingPath uploads a string and bytes; the answer is the SP.File", async () => {
  const [sp, nested] = need("sp", "nested");
  const folder = sp.web.getFolderByServerRelativePath(nested);
  const text = `hello from PnPjs, run ${run}\n`;
  const added = await folder.files.addUsingPath("hello.txt", text, { Overwrite: false });
  assert.equal(added.Name, "hello.txt");
  assert.equal(added.ServerRelativeUrl, `${nested}/hello.txt`);
  assert.equal(added.Length, String(Buffer.byteLength(text)), "Length is a string");
  assert.match(added.UniqueId, guidPattern);
  assert.match(added.ETag, fileETagPattern);
  assert.equal(added.Exists, true);

  const bytes = pattern(64 * 1024 + 7, 7);
  bytes[0] = 0; bytes[1] = 0xff; // not text, not UTF-8
  const bin = await folder.files.addUsingPath("data.bin", bytes);
  assert.equal(bin.Length, String(bytes.length));
  state.helloText = text;
  state.helloId = added.UniqueId;
  state.dataBytes = bytes;
});

step("files", "download as text, as bytes (same SHA-256), as a Blob with the name's Content-Type, and as a stream", async () => {
  const [sp, nested, helloText, dataBytes] = need("sp", "nested", "helloText", "dataBytes");
  const hello = sp.web.getFileByServerRelativePath(`${nested}/hello.txt`);
  assert.equal(await hello.getText(), helloText);
  const buf = bytesOf(await sp.web.getFileByServerRelativePath(`${nested}/data.bin`).getBuffer());
  assert.equal(buf.length, dataBytes.length);
  assert.equal(sha256(buf), sha256(dataBytes), "SHA-256 of the download");
  const blob = await hello.getBlob();
  assert.equal(blob.size, Buffer.byteLength(helloText));
  assert.match(blob.type, /^text\/plain/, "Content-Type from the name");
  const { body, knownLength } = await sp.web.getFileByServerRelativePath(`${nested}/data.bin`).getStream();
  assert.equal(knownLength, dataBytes.length, "Content-Length on the download");
  const streamed = [];
  for await (const chunk of body) {
    streamed.push(chunk);
  }
  assert.equal(sha256(Buffer.concat(streamed)), sha256(dataBytes));
});

step("files", "file() has SharePoint's properties; getFileById and files('name') find it", async () => {
  const [sp, nested, helloId, helloText] = need("sp", "nested", "helloId", "helloText");
  const f = await sp.web.getFileByServerRelativePath(`${nested}/hello.txt`)();
  assert.equal(f.Name, "hello.txt");
  assert.equal(f.ServerRelativeUrl, `${nested}/hello.txt`);
  assert.equal(f.Length, String(Buffer.byteLength(helloText)));
  assert.equal(f.UniqueId, helloId);
  assert.match(f.ETag, fileETagPattern);
  assert.equal(f.MajorVersion, 1);
  assert.equal(f.UIVersionLabel, "1.0");
  assert.equal(f.CheckOutType, 2, "CheckOutType 2 (none)");
  assert.ok(!Number.isNaN(Date.parse(f.TimeCreated)) && !Number.isNaN(Date.parse(f.TimeLastModified)), "TimeCreated, TimeLastModified");
  const byId = await sp.web.getFileById(helloId).select("ServerRelativeUrl")();
  assert.equal(byId.ServerRelativeUrl, `${nested}/hello.txt`);
  assert.equal(await sp.web.getFileById(helloId).getText(), helloText);
  const byName = await sp.web.getFolderByServerRelativePath(nested).files.getByUrl("hello.txt").select("UniqueId")();
  assert.equal(byName.UniqueId, helloId);
});

step("files", "folder.files() lists the files; ItemCount counts files and folders", async () => {
  const [sp, nested] = need("sp", "nested");
  const files = await sp.web.getFolderByServerRelativePath(nested).files();
  assert.deepEqual(files.map((f) => f.Name).sort(), ["data.bin", "hello.txt"]);
  const folder = await sp.web.getFolderByServerRelativePath(nested).select("ItemCount")();
  assert.equal(folder.ItemCount, 3, "two files and Deeper");
});

step("files", "exists() is true for a file and false for a missing one; a missing file is 404", async () => {
  const [sp, nested] = need("sp", "nested");
  assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/hello.txt`).exists(), true);
  assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/nope.txt`).exists(), false);
  const body = await rejectsWith(sp.web.getFileByServerRelativePath(`${nested}/nope.txt`)(), 404);
  assertODataError(body, /does not exist/);
  await rejectsWith(sp.web.getFileByServerRelativePath(`${nested}/nope.txt`).getText(), 404);
});

// ---------------------------------------------------------------------------
// names

step("names", "file names with a space, %, #, ', &, + upload, list and read back", async () => {
  const [sp, nested] = need("sp", "nested");
  const folder = sp.web.getFolderByServerRelativePath(nested);
  for (const name of specialNames) {
    const added = await folder.files.addUsingPath(name, `content of ${name}`);
    assert.equal(added.Name, name, `Name of ${name}`);
    assert.equal(added.ServerRelativeUrl, `${nested}/${name}`, `ServerRelativeUrl of ${name}`);
  }
  for (const name of specialNames) {
    assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/${name}`).getText(), `content of ${name}`, `content of ${name}`);
    const f = await sp.web.getFileByServerRelativePath(`${nested}/${name}`).select("Name")();
    assert.equal(f.Name, name);
  }
  const listed = (await folder.files.select("Name")()).map((f) => f.Name);
  for (const name of specialNames) {
    assert.ok(listed.includes(name), `folder.files() lists ${JSON.stringify(name)}: ${JSON.stringify(listed)}`);
  }
  state.namesDone = true;
});

step("names", "a folder whose name has &, #, +, ' and % holds a file", async () => {
  const [sp, lib] = need("sp", "lib");
  const path = `${lib}/${specialFolder}`;
  const f = await sp.web.folders.addUsingPath(path);
  assert.equal(f.Name, specialFolder);
  assert.equal(f.ServerRelativeUrl, path);
  const file = await sp.web.getFolderByServerRelativePath(path).files.addUsingPath("inner 50%.txt", "inner");
  assert.equal(file.ServerRelativeUrl, `${path}/inner 50%.txt`);
  assert.equal(await sp.web.getFileByServerRelativePath(`${path}/inner 50%.txt`).getText(), "inner");
  const read = await sp.web.getFolderByServerRelativePath(path)();
  assert.equal(read.Name, specialFolder);
});

// ---------------------------------------------------------------------------
// overwrite

step("overwrite", "without Overwrite an existing name is 400 \"already exists\" and the file is unchanged", async () => {
  const [sp, nested, helloText] = need("sp", "nested", "helloText");
  const folder = sp.web.getFolderByServerRelativePath(nested);
  const body = await rejectsWith(folder.files.addUsingPath("hello.txt", "must not land"), 400);
  assertODataError(body, /already exists/);
  assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/hello.txt`).getText(), helloText);
});

step("overwrite", "Overwrite: true replaces the content and raises the version; setContent replaces it again", async () => {
  const [sp, nested, helloId] = need("sp", "nested", "helloId");
  const folder = sp.web.getFolderByServerRelativePath(nested);
  const replaced = await folder.files.addUsingPath("hello.txt", "second version\n", { Overwrite: true });
  assert.equal(replaced.UniqueId, helloId, "the same file, not a new one");
  assert.equal(replaced.MajorVersion, 2);
  const file = sp.web.getFileByServerRelativePath(`${nested}/hello.txt`);
  assert.equal(await file.getText(), "second version\n");
  await file.setContent(Buffer.from("third version\n"));
  assert.equal(await file.getText(), "third version\n");
  const props = await file.select("Length", "MajorVersion")();
  assert.equal(props.Length, String("third version\n".length));
  assert.equal(props.MajorVersion, 3);
});

// ---------------------------------------------------------------------------
// chunked

step("chunked", `addChunked uploads a ${config.chunkedBytes / 1048576} MiB file in 10 MiB chunks; the download has the same SHA-256`, { timeout: 10 * 60 * 1000 }, async () => {
  const [sp, nested] = need("sp", "nested");
  const content = pattern(config.chunkedBytes, 30);
  const mark = wire.length;
  const stages = [];
  const started = performance.now();
  const result = await sp.web.getFolderByServerRelativePath(nested).files.addChunked("big.bin", new Blob([content]), {
    progress: (p) => stages.push([p.stage, Number(p.offset)]),
  });
  const uploadMs = performance.now() - started;
  assert.equal(result.Name, "big.bin");
  assert.equal(result.Length, String(content.length), "finishUpload answers the whole file");

  // PnPjs: a stub via AddUsingPath, then startUpload and continueUpload
  // with every full chunk (each answer's value is the next fileOffset),
  // then finishUpload with the rest, which is empty when the size is a
  // multiple of the chunk; a file smaller than a chunk goes in startUpload.
  const chunk = 10 * 1024 * 1024;
  const sent = Math.max(Math.floor(content.length / chunk), 1);
  const expected = [["starting", 0]];
  for (let i = 1; i < sent; i++) {
    expected.push(["continue", i * chunk]);
  }
  expected.push(["finishing", Math.min(sent * chunk, content.length)]);
  assert.deepEqual(stages, expected, "progress stages and offsets (the offsets the server answered)");
  const calls = wire.slice(mark).filter((e) => /\/(startUpload|continueUpload|finishUpload)\(/i.test(e.url));
  assert.ok(calls.every((e) => e.status === 200), `chunk statuses:\n${describeWire(calls)}`);

  const t0 = performance.now();
  const down = bytesOf(await sp.web.getFileByServerRelativePath(`${nested}/big.bin`).getBuffer());
  const downloadMs = performance.now() - t0;
  assert.equal(down.length, content.length);
  assert.equal(sha256(down), sha256(content), "SHA-256 of the download");
  const mib = content.length / 1048576;
  process.stderr.write(`addChunked ${mib} MiB: ${Math.round(uploadMs)} ms (${(mib / (uploadMs / 1000)).toFixed(1)} MiB/s); download ${Math.round(downloadMs)} ms (${(mib / (downloadMs / 1000)).toFixed(1)} MiB/s)\n`);
});

// ---------------------------------------------------------------------------
// checkout

step("checkout", "checkout, setContent while checked out, checkin(comment, Major)", async () => {
  const [sp, nested] = need("sp", "nested");
  const folder = sp.web.getFolderByServerRelativePath(nested);
  await folder.files.addUsingPath("draft.txt", "draft 1");
  const file = sp.web.getFileByServerRelativePath(`${nested}/draft.txt`);
  await file.checkout();
  const out = await file.select("CheckOutType", "MajorVersion")();
  assert.equal(out.CheckOutType, 0, "CheckOutType 0 (online) after checkout");
  await file.setContent("draft 2");
  await file.checkin("it's 50% done & more+", CheckinType.Major);
  const checkedIn = await file.select("CheckOutType", "CheckInComment", "MajorVersion")();
  assert.equal(checkedIn.CheckOutType, 2, "CheckOutType 2 (none) after checkin");
  assert.equal(checkedIn.CheckInComment, "it's 50% done & more+");
  assert.ok(checkedIn.MajorVersion > out.MajorVersion, `MajorVersion ${out.MajorVersion} -> ${checkedIn.MajorVersion}`);
  assert.equal(await file.getText(), "draft 2");
});

step("checkout", "undoCheckout discards the checked-out change", async () => {
  const [sp, nested] = need("sp", "nested");
  const file = sp.web.getFileByServerRelativePath(`${nested}/draft.txt`);
  await file.checkout();
  await file.setContent("discarded");
  await file.undoCheckout();
  const f = await file.select("CheckOutType")();
  assert.equal(f.CheckOutType, 2);
  assert.equal(await file.getText(), "draft 2");
});

// ---------------------------------------------------------------------------
// versions

step("versions", "versions() lists the older versions; an older version's content reads back", async () => {
  const [sp, nested] = need("sp", "nested");
  const folder = sp.web.getFolderByServerRelativePath(nested);
  await folder.files.addUsingPath("versioned.txt", "v1 content");
  await folder.files.addUsingPath("versioned.txt", "v2 content", { Overwrite: true });
  const file = sp.web.getFileByServerRelativePath(`${nested}/versioned.txt`);
  const versions = await file.versions();
  const v1 = versions.find((v) => v.VersionLabel === "1.0");
  assert.ok(v1, `versions: ${JSON.stringify(versions.map((v) => v.VersionLabel))}`);
  assert.equal(v1.ID, 512, "version ID 512 for 1.0");
  const one = await file.versions.getById(v1.ID)();
  assert.equal(one.VersionLabel, "1.0");
  assert.equal(await file.versions.getById(v1.ID).getText(), "v1 content");
  assert.equal(await file.getText(), "v2 content");
});

step("versions", "restoreByLabel makes an older version current again", async () => {
  const [sp, nested] = need("sp", "nested");
  const file = sp.web.getFileByServerRelativePath(`${nested}/versioned.txt`);
  await file.versions.restoreByLabel("1.0");
  assert.equal(await file.getText(), "v1 content");
  const f = await file.select("MajorVersion")();
  assert.equal(f.MajorVersion, 3, "a restore is a new version");
});

// ---------------------------------------------------------------------------
// recycle

step("recycle", "file.recycle() returns the recycle bin id; the file is gone and in web.recycleBin()", async () => {
  const [sp, nested] = need("sp", "nested");
  await sp.web.getFolderByServerRelativePath(nested).files.addUsingPath("recycle-me.txt", "recycled content");
  const id = await sp.web.getFileByServerRelativePath(`${nested}/recycle-me.txt`).recycle();
  assert.match(id, guidPattern, "recycle() yields the recycle bin item's id");
  assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/recycle-me.txt`).exists(), false);
  const bin = await sp.web.recycleBin();
  const entry = bin.find((r) => r.Id.toLowerCase() === id.toLowerCase());
  assert.ok(entry, `recycle bin ids: ${bin.map((r) => r.Id)}`);
  assert.equal(entry.LeafName, "recycle-me.txt");
  const one = await sp.web.recycleBin.getById(id)();
  assert.equal(one.LeafName, "recycle-me.txt");
  state.recycledId = id;
});

step("recycle", "recycleBin.getById(id).restore() brings the file back with its content", async () => {
  const [sp, nested, id] = need("sp", "nested", "recycledId");
  await sp.web.recycleBin.getById(id).restore();
  assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/recycle-me.txt`).getText(), "recycled content");
  const bin = await sp.web.recycleBin();
  assert.ok(!bin.some((r) => r.Id.toLowerCase() === id.toLowerCase()), "the restored entry left the recycle bin");
});

// ---------------------------------------------------------------------------
// copymove

step("copymove", "file.copyByPath copies into another folder; the source stays", async () => {
  const [sp, nested, lib, dataBytes] = need("sp", "nested", "lib", "dataBytes");
  await sp.web.getFileByServerRelativePath(`${nested}/data.bin`).copyByPath(`${lib}/Archive/data copy.bin`, false);
  const copy = bytesOf(await sp.web.getFileByServerRelativePath(`${lib}/Archive/data copy.bin`).getBuffer());
  assert.equal(sha256(copy), sha256(dataBytes));
  assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/data.bin`).exists(), true);
  const [a, b] = await Promise.all([
    sp.web.getFileByServerRelativePath(`${nested}/data.bin`).select("UniqueId")(),
    sp.web.getFileByServerRelativePath(`${lib}/Archive/data copy.bin`).select("UniqueId")(),
  ]);
  assert.notEqual(a.UniqueId, b.UniqueId, "a copy is a new file");
});

step("copymove", "file.moveByPath moves (and renames) a file; the source is gone", async () => {
  const [sp, lib] = need("sp", "lib");
  const src = `${lib}/Archive/data copy.bin`;
  const before = await sp.web.getFileByServerRelativePath(src).select("UniqueId")();
  await sp.web.getFileByServerRelativePath(src).moveByPath(`${lib}/Archive/moved & renamed #1.bin`, false);
  assert.equal(await sp.web.getFileByServerRelativePath(src).exists(), false);
  const after = await sp.web.getFileByServerRelativePath(`${lib}/Archive/moved & renamed #1.bin`).select("UniqueId")();
  assert.equal(after.UniqueId, before.UniqueId, "a move keeps the file's identity");
});

step("copymove", "folder.copyByPath and moveByPath carry what the folder holds", async () => {
  const [sp, lib, nested] = need("sp", "lib", "nested");
  await sp.web.getFolderByServerRelativePath(`${nested}/Deeper`).files.addUsingPath("deep.txt", "deep");
  await sp.web.getFolderByServerRelativePath(`${nested}/Deeper`).copyByPath(`${lib}/Archive/Deeper copy`);
  assert.equal(await sp.web.getFileByServerRelativePath(`${lib}/Archive/Deeper copy/deep.txt`).getText(), "deep");
  assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/Deeper/deep.txt`).getText(), "deep", "the source stays");
  await sp.web.getFolderByServerRelativePath(`${lib}/Archive/Deeper copy`).moveByPath(`${lib}/Moved folder`);
  assert.equal(await sp.web.getFileByServerRelativePath(`${lib}/Moved folder/deep.txt`).getText(), "deep");
  await rejectsWith(sp.web.getFolderByServerRelativePath(`${lib}/Archive/Deeper copy`)(), 404);
  const moved = await sp.web.getFolderByServerRelativePath(`${lib}/Moved folder`).folders();
  assert.deepEqual(moved.map((f) => f.Name), ["Deepest"], "sub-folders move too");
});

// ---------------------------------------------------------------------------
// attachments (SharePoint has them on list items, not in libraries)

step("attachments", "attachmentFiles.add, list, read back and delete on a list item", async () => {
  const sp = need("sp");
  await sp.web.lists.add("Notes", "Items with attachments", 100, false);
  const item = await sp.web.lists.getByTitle("Notes").items.add({ Title: "With an attachment" });
  const files = sp.web.lists.getByTitle("Notes").items.getById(item.Id).attachmentFiles;
  const added = await files.add("minutes & notes #1.txt", "attached text");
  assert.equal(added.data.FileName, "minutes & notes #1.txt");
  await files.add("image.bin", pattern(1000, 3));
  const listed = await files();
  assert.deepEqual(listed.map((a) => a.FileName).sort(), ["image.bin", "minutes & notes #1.txt"]);
  assert.equal(await files.getByName("minutes & notes #1.txt").getText(), "attached text");
  assert.equal(sha256(bytesOf(await files.getByName("image.bin").getBuffer())), sha256(pattern(1000, 3)));
  const withFlag = await sp.web.lists.getByTitle("Notes").items.getById(item.Id).select("Attachments")();
  assert.equal(withFlag.Attachments, true);
  await files.getByName("image.bin").delete();
  assert.deepEqual((await files()).map((a) => a.FileName), ["minutes & notes #1.txt"]);
});

// ---------------------------------------------------------------------------
// items

step("items", "file.getItem() is the file's list item; item.file() leads back", async () => {
  const [sp, nested, helloId] = need("sp", "nested", "helloId");
  const item = await sp.web.getFileByServerRelativePath(`${nested}/hello.txt`).getItem("Id", "FileLeafRef", "FileRef", "FileSystemObjectType");
  assert.equal(item.FileSystemObjectType, 0, "a file's item has FileSystemObjectType 0");
  assert.equal(item.FileLeafRef, "hello.txt");
  assert.equal(item.FileRef, `${nested}/hello.txt`);
  const file = await sp.web.lists.getByTitle("Specs").items.getById(item.Id).file.select("UniqueId")();
  assert.equal(file.UniqueId, helloId);
  const folderItem = await sp.web.getFolderByServerRelativePath(nested).listItemAllFields.select("FileSystemObjectType", "FileLeafRef")();
  assert.equal(folderItem.FileSystemObjectType, 1, "a folder's item has FileSystemObjectType 1");
  assert.equal(folderItem.FileLeafRef, "Nested");
  state.helloItemId = item.Id;
});

step("items", "a custom field on the library: set it through getItem().update, filter the library by it and by FileLeafRef", async () => {
  const [sp, nested, helloItemId] = need("sp", "nested", "helloItemId");
  await sp.web.lists.getByTitle("Specs").fields.addText("Category");
  const item = await sp.web.getFileByServerRelativePath(`${nested}/hello.txt`).getItem();
  await item.update({ Category: "greeting" });
  const items = sp.web.lists.getByTitle("Specs").items;
  const byCategory = await items.filter("Category eq 'greeting'").select("Id", "FileLeafRef", "Category")();
  assert.deepEqual(byCategory.map((i) => i.Id), [helloItemId]);
  assert.equal(byCategory[0].Category, "greeting");
  const byName = await items.filter("FileLeafRef eq 'hello.txt'").select("Id")();
  assert.deepEqual(byName.map((i) => i.Id), [helloItemId]);
  const files = await items.filter("FileSystemObjectType eq 0").select("FileLeafRef")();
  assert.ok(files.some((i) => i.FileLeafRef === "hello.txt") && !files.some((i) => i.FileLeafRef === "Nested"), "FileSystemObjectType filters files from folders");
  if (state.namesDone) {
    const quoted = await items.filter("FileLeafRef eq 'it''s.txt'").select("FileLeafRef")();
    assert.deepEqual(quoted.map((i) => i.FileLeafRef), ["it's.txt"]);
  }
});

// ---------------------------------------------------------------------------
// delete

step("delete", "file.delete() removes a file: exists() is false, reads are 404", async () => {
  const [sp, nested] = need("sp", "nested");
  await sp.web.getFolderByServerRelativePath(nested).files.addUsingPath("delete-me.txt", "bye");
  await sp.web.getFileByServerRelativePath(`${nested}/delete-me.txt`).delete();
  assert.equal(await sp.web.getFileByServerRelativePath(`${nested}/delete-me.txt`).exists(), false);
  await rejectsWith(sp.web.getFileByServerRelativePath(`${nested}/delete-me.txt`).getText(), 404);
});

step("delete", "folder.delete() removes the folder and everything in it", async () => {
  const [sp, lib] = need("sp", "lib");
  await sp.web.folders.addUsingPath(`${lib}/Doomed/Inner`);
  await sp.web.getFolderByServerRelativePath(`${lib}/Doomed/Inner`).files.addUsingPath("inside.txt", "inside");
  await sp.web.getFolderByServerRelativePath(`${lib}/Doomed`).delete();
  await rejectsWith(sp.web.getFolderByServerRelativePath(`${lib}/Doomed`)(), 404);
  await rejectsWith(sp.web.getFolderByServerRelativePath(`${lib}/Doomed/Inner`)(), 404);
  assert.equal(await sp.web.getFileByServerRelativePath(`${lib}/Doomed/Inner/inside.txt`).exists(), false);
  if (config.groups.has("items")) {
    const left = await sp.web.lists.getByTitle("Specs").items.filter("FileLeafRef eq 'inside.txt'").select("Id")();
    assert.deepEqual(left, [], "the deleted file's list item is gone too");
  }
});
