// The pages' one door to the server: the public /_api REST, called as
// PnPjs calls it, with the signed-in person's own rights. No markup from
// strings anywhere: the page's Trusted Types policy forbids turning
// strings into markup, so pages are built with el().

const layouts = "/_layouts/cesivi";
// The web the page belongs to: the path before /_layouts/cesivi, or the root web.
export const web = (() => {
  const i = location.pathname.indexOf(layouts);
  return i > 0 ? location.pathname.slice(0, i) : "";
})();

export const $ = (id) => document.getElementById(id);

// el builds an element: attributes (on* become listeners), then children
// (strings become text nodes, never markup).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v != null) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c != null && c !== false) e.append(c);
  return e;
}

// show makes nodes the page's content; null and false (a part the person
// may not see) are left out, where replaceChildren would write "null".
export function show(...nodes) {
  $("content").replaceChildren(...nodes.filter((n) => n != null && n !== false));
}

// say puts a sentence in the page's status line (a live region).
export function say(text, isError = false) {
  const s = $("status");
  s.textContent = text;
  s.className = isError ? "status error" : "status";
}

// setTitle names the page in its heading and in the browser's title.
export function setTitle(text) {
  $("title").textContent = text;
  document.title = `${text} – Cesivi`;
}

// odataString quotes a value as an OData string literal ('' for ').
export const odataString = (s) => `'${String(s).replaceAll("'", "''")}'`;

// A readable sentence from an API failure: the odata.error message, and
// for a 403 the permission the server says is missing.
async function failure(res) {
  let msg = "";
  try {
    const body = await res.json();
    const e = body["odata.error"] || body.error;
    msg = (e && (e.message?.value ?? e.message)) || "";
  } catch { /* not JSON: fall back to the status */ }
  if (msg && !/[.!?]$/.test(msg)) msg += ".";
  if (res.status === 403) {
    // The server names the permission a refusal is for ("… (it needs the
    // AddListItems permission)"): say that, not the generic text before it.
    const needs = /needs the (\w+) permission/.exec(msg);
    if (needs) return `You do not have permission for this: it needs the ${needs[1]} permission.`;
    return msg ? `You do not have permission for this: ${msg}` : "You do not have permission for this.";
  }
  if (res.status === 401) return "You are signed out. Reload the page to sign in again.";
  if (res.status === 412 && !msg) return "Someone else changed this meanwhile.";
  return msg || `The server answered ${res.status} ${res.statusText}.`;
}

export class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

let digest = null;
// formDigest is the X-RequestDigest every write carries (library.js's
// uploads send it themselves, for their progress).
export async function formDigest() {
  if (digest && digest.until > Date.now()) return digest.value;
  const r = await call("POST", "/_api/contextinfo", undefined, { noDigest: true });
  digest = { value: r.FormDigestValue, until: Date.now() + (r.FormDigestTimeoutSeconds - 60) * 1000 };
  return digest.value;
}

// localPath turns an absolute link the server wrote (odata.nextLink) into
// a path on this origin, so a page never follows a link elsewhere.
export function localPath(link) {
  const u = new URL(link, location.href);
  return u.pathname + u.search;
}

// generation numbers the pages shown: app.js's route starts each one
// with newPage. An answer that comes back after its page was left (the
// hash changed meanwhile) is dropped, a success as well as a failure, so
// a slow page can never replace the page shown now: the code that
// awaited it simply stops there (dropped never settles).
let generation = 0;
export const newPage = () => ++generation;
export const currentPage = () => generation;
const dropped = () => new Promise(() => {});

// call sends one REST request; a 503 with Retry-After waits and retries
// by itself (up to 5 times), saying so. Writes carry the form digest and
// one Idempotency-Key for all their retries, so a retry is stored once.
// path is relative to the page's web, or absolute when opts.absolute.
// With opts.full the answer is {body, etag}. An answer for a page left
// meanwhile is dropped, unless opts.anyPage (the banner's user).
export async function call(method, path, body, opts = {}) {
  const gen = opts.anyPage ? null : generation;
  const current = () => gen === null || gen === generation;
  const headers = { Accept: "application/json;odata=nometadata", ...(opts.headers || {}) };
  if (method !== "GET") {
    if (!opts.noDigest) headers["X-RequestDigest"] = await formDigest();
    headers["Idempotency-Key"] = crypto.randomUUID();
  }
  if (body !== undefined) headers["Content-Type"] = "application/json;odata=nometadata";
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(opts.absolute ? path : web + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!current()) return dropped();
    if (res.status === 503 && attempt < 5) {
      const wait = Math.min(30, Number(res.headers.get("Retry-After")) || 2);
      say(`The server is busy; trying again in ${wait} s…`);
      await new Promise((ok) => setTimeout(ok, wait * 1000));
      if (!current()) return dropped();
      continue;
    }
    if (!res.ok) {
      const msg = await failure(res);
      if (!current()) return dropped();
      throw new APIError(res.status, msg);
    }
    let parsed = null;
    if (res.status !== 204) {
      const t = await res.text();
      parsed = t ? JSON.parse(t) : null;
    }
    if (!current()) return dropped();
    if (attempt > 0) say("");
    return opts.full ? { body: parsed, etag: res.headers.get("ETag") } : parsed;
  }
}

// Permission bits of SP.BasePermissions.Low the pages look at.
export const perm = { addItems: 0x2, editItems: 0x4, deleteItems: 0x8, manageLists: 0x800 };

// can reports whether an EffectiveBasePermissions value has a bit of Low.
export function can(ebp, bit) {
  if (!ebp) return false;
  return (Number(ebp.Low) & bit) === bit;
}
