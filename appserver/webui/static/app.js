// Cesivi's pages: a hash router over the site home, the list view and the
// recycle bin. Every read and write goes through the public /_api REST
// (api.js) with the signed-in person's own rights.

import { $, el, say, call, setTitle, can, perm, show, web, newPage, currentPage } from "./api.js";
import { listPage } from "./list.js";
import { recycleBinPage } from "./recycle.js";
import { libraryPage, libraryHref } from "./library.js";
import { permissionsPage, groupsPage, permissionsHref } from "./permissions.js";

function showUser(u) {
  $("user").replaceChildren(
    el("span", { id: "user-name" }, u.Title || u.Email || u.LoginName),
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
    el("label", { for: "nl-title" }, "Name"), title,
    el("label", { for: "nl-kind" }, "Kind"), kind,
    err,
    el("div", { class: "actions" },
      el("button", { type: "submit" }, "Create"),
      el("button", { type: "button", onclick: () => dlg.close() }, "Cancel")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const name = title.value.trim();
      await call("POST", "/_api/web/lists", { Title: name, BaseTemplate: Number(kind.value) });
      dlg.close();
      await home();
      say(`Created “${name}”.`);
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
    const href = l.BaseTemplate === 101 ? libraryHref(l.Id) : `#/list/${l.Id}`;
    body.append(el("tr", {},
      el("td", {}, el("a", { href }, l.Title)),
      el("td", {}, String(l.ItemCount ?? "")),
      el("td", {}, el("a", { href: permissionsHref(l.Id), "aria-label": `Permissions of ${l.Title}` }, "Permissions"))));
  }
  return el("table", {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Items"), el("th", { scope: "col" }, "Access"))),
    body);
}

// home: the site's lists and libraries in one round trip.
async function home() {
  // One round trip: the web, its lists, its sub-webs and (in a sub-web)
  // its parent, asked together.
  const [webInfo, lists, subs, parent] = await Promise.all([
    call("GET", "/_api/web?$select=Title,EffectiveBasePermissions"),
    call("GET", "/_api/web/lists?$select=Id,Title,BaseTemplate,ItemCount,Hidden"),
    call("GET", "/_api/web/webs?$select=Title,ServerRelativeUrl").catch(() => ({ value: [] })),
    web ? call("GET", "/_api/web/parentWeb?$select=Title,ServerRelativeUrl").catch(() => null) : null,
  ]);
  setTitle(webInfo.Title || "Site");
  const visible = (lists.value || []).filter((l) => !l.Hidden);
  const pageOf = (url) => (url === "/" ? "/" : `${url.replace(/\/+$/, "")}/_layouts/cesivi/`);
  const subsites = subs.value || [];
  show(
    parent && parent.ServerRelativeUrl ? el("p", { id: "parent-site" }, "Part of ",
      el("a", { href: pageOf(parent.ServerRelativeUrl) }, parent.Title || parent.ServerRelativeUrl), ".") : null,
    // Only who may manage lists sees the button (the server decides anyway).
    can(webInfo.EffectiveBasePermissions, perm.manageLists)
      ? el("button", { type: "button", id: "new-list", onclick: newListDialog }, "New list or library") : null,
    el("h2", {}, "Lists"),
    listTable("Lists", visible.filter((l) => l.BaseTemplate !== 101)),
    el("h2", {}, "Libraries"),
    listTable("Libraries", visible.filter((l) => l.BaseTemplate === 101)),
    subsites.length ? el("h2", {}, "Subsites") : null,
    subsites.length ? el("ul", { id: "subsites" },
      ...subsites.map((w) => el("li", {}, el("a", { href: pageOf(w.ServerRelativeUrl) }, w.Title || w.ServerRelativeUrl)))) : null,
  );
}

// route shows the page the location's hash names: #/ (home),
// #/list/<id>, #/library/<id>[/<folder url>], #/permissions[/list/<id>[/<item id>]],
// #/groups[/<id>], #/recyclebin.
// Each route is a new page (api.js's newPage): the answers of a page
// left before they came (the hash changed meanwhile) are dropped, so
// neither its content nor its error replaces the page shown now.
async function route() {
  const mine = newPage();
  const hash = location.hash.replace(/^#/, "") || "/";
  const parts = hash.split("/").filter(Boolean);
  say("");
  $("content").replaceChildren();
  setTitle("Loading…");
  try {
    if (parts[0] === "list" && parts[1]) await listPage(decodeURIComponent(parts[1]));
    else if (parts[0] === "library" && parts[1]) await libraryPage(decodeURIComponent(parts[1]), parts[2] ? decodeURIComponent(parts[2]) : "");
    else if (parts[0] === "permissions" && parts[1] === "list" && parts[2]) await permissionsPage(decodeURIComponent(parts[2]), parts[3]);
    else if (parts[0] === "permissions") await permissionsPage();
    else if (parts[0] === "groups") await groupsPage(parts[1]);
    else if (parts[0] === "recyclebin") await recycleBinPage();
    else await home();
  } catch (e) {
    if (mine !== currentPage()) return;
    setTitle("Something went wrong");
    say(e.message, true);
  }
  if (mine !== currentPage()) return;
  // A new page: move focus to its start so a screen reader announces it.
  if (!document.querySelector("dialog[open]")) $("main").focus();
}

// start asks who is signed in alongside the first page's own requests,
// so the user costs no round trip of its own (a list's first view stays
// at two).
async function start() {
  // Only "#/…" names a page; other fragments (the skip link's #main)
  // move within the page as usual.
  window.addEventListener("hashchange", () => { if (location.hash.startsWith("#/") || !location.hash) route(); });
  // Someone the site refuses (no rights yet) can still sign out.
  const user = call("GET", "/_api/web/currentUser", undefined, { anyPage: true }).then(showUser, () => showUser({ Title: "" }));
  await Promise.all([user, route()]);
}

start();
