// Cesivi's pages: every read and write goes through the public /_api
// REST with the signed-in person's own rights. No markup from strings: the
// page's Trusted Types policy forbids turning strings into markup.

const layouts = "/_layouts/cesivi";
// The web the page belongs to: the path before /_layouts/cesivi, or the root web.
const web = (() => {
  const i = location.pathname.indexOf(layouts);
  return i > 0 ? location.pathname.slice(0, i) : "";
})();

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) e.append(c);
  return e;
}

function say(text, isError = false) {
  const s = $("status");
  s.textContent = text;
  s.className = isError ? "status error" : "status";
}

// A readable sentence from an API failure: the odata.error message, and
// for a 403 the permission the server says is missing.
async function failure(res) {
  let msg = "";
  try {
    const body = await res.json();
    const e = body["odata.error"] || body.error;
    msg = (e && (e.message?.value ?? e.message)) || "";
  } catch { /* not JSON: fall back to the status */ }
  if (res.status === 403) return `You do not have permission for this. ${msg}`.trim();
  if (res.status === 401) return "You are signed out. Reload the page to sign in again.";
  return msg || `The server answered ${res.status} ${res.statusText}.`;
}

class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

let digest = null;
async function formDigest() {
  if (digest && digest.until > Date.now()) return digest.value;
  const r = await call("POST", "/_api/contextinfo", undefined, { noDigest: true });
  digest = { value: r.FormDigestValue, until: Date.now() + (r.FormDigestTimeoutSeconds - 60) * 1000 };
  return digest.value;
}

// call sends one REST request; a 503 with Retry-After waits and retries
// by itself (up to 5 times), saying so. Writes carry the form digest and
// one Idempotency-Key for all their retries, so a retry is stored once.
async function call(method, path, body, opts = {}) {
  const headers = { Accept: "application/json;odata=nometadata", ...(opts.headers || {}) };
  if (method !== "GET") {
    if (!opts.noDigest) headers["X-RequestDigest"] = await formDigest();
    headers["Idempotency-Key"] = crypto.randomUUID();
  }
  if (body !== undefined) headers["Content-Type"] = "application/json;odata=nometadata";
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(web + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 503 && attempt < 5) {
      const wait = Math.min(30, Number(res.headers.get("Retry-After")) || 2);
      say(`The server is busy; trying again in ${wait} s…`);
      await new Promise((ok) => setTimeout(ok, wait * 1000));
      continue;
    }
    if (!res.ok) throw new APIError(res.status, await failure(res));
    say("");
    if (res.status === 204) return null;
    const t = await res.text();
    return t ? JSON.parse(t) : null;
  }
}

function showUser(u) {
  const box = $("user");
  box.replaceChildren(
    el("span", {}, u.Title || u.Email || u.LoginName),
    // The edge signs out on POST only, so another site cannot sign people out.
    el("form", { method: "post", action: "/oauth2/logout" },
      el("button", { type: "submit" }, "Sign out")),
  );
}

function newListDialog() {
  const title = el("input", { id: "nl-title", name: "title", required: true, autocomplete: "off" });
  const kind = el("select", { id: "nl-kind", name: "kind" },
    el("option", { value: "100" }, "List"), el("option", { value: "101" }, "Document library"));
  const err = el("p", { class: "error", role: "alert" });
  const dlg = el("dialog", { "aria-labelledby": "nl-h" });
  const form = el("form", { method: "dialog" },
    el("h2", { id: "nl-h" }, "New list or library"),
    el("label", { for: "nl-title" }, "Name", title),
    el("label", { for: "nl-kind" }, "Kind", kind),
    err,
    el("button", { type: "submit" }, "Create"), " ",
    el("button", { type: "button", onclick: () => dlg.close() }, "Cancel"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await call("POST", "/_api/web/lists", { Title: title.value.trim(), BaseTemplate: Number(kind.value) });
      dlg.close();
      say(`Created “${title.value.trim()}”.`);
      await home();
    } catch (e) { err.textContent = e.message; }
  });
  dlg.append(form);
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  title.focus();
}

function listTable(caption, lists) {
  if (lists.length === 0) return el("p", {}, `No ${caption.toLowerCase()} yet.`);
  const body = el("tbody");
  for (const l of lists) {
    body.append(el("tr", {},
      el("td", {}, l.Title),
      el("td", {}, String(l.ItemCount ?? ""))));
  }
  return el("table", {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Items"))),
    body);
}

// home: the site's lists and libraries in one round trip (plus the user).
async function home() {
  const [webInfo, lists] = await Promise.all([
    call("GET", "/_api/web?$select=Title"),
    call("GET", "/_api/web/lists?$select=Id,Title,BaseTemplate,ItemCount,Hidden"),
  ]);
  $("title").textContent = webInfo.Title || "Site";
  document.title = `${webInfo.Title || "Site"} – Cesivi`;
  const visible = (lists.value || []).filter((l) => !l.Hidden);
  $("content").replaceChildren(
    el("button", { type: "button", id: "new-list", onclick: newListDialog }, "New list or library"),
    el("h2", {}, "Lists"),
    listTable("Lists", visible.filter((l) => l.BaseTemplate !== 101)),
    el("h2", {}, "Libraries"),
    listTable("Libraries", visible.filter((l) => l.BaseTemplate === 101)),
  );
}

async function start() {
  try {
    showUser(await call("GET", "/_api/web/currentUser"));
    await home();
  } catch (e) {
    $("title").textContent = "Something went wrong";
    say(e.message, true);
  }
}

start();
