// People and groups: who holds which permission level on the site, a
// list or an item; for those who may manage permissions, granting and
// removing levels, breaking and restoring inheritance, and the site's
// groups with their members. Everything goes through the public /_api
// REST, so a person sees and changes only what the server lets them.

import { el, say, call, setTitle, show } from "./api.js";
import { confirmDialog } from "./form.js";

// SP.BasePermissions: ManagePermissions (kind 26) is bit 25 of Low;
// EnumeratePermissions (kind 63) is bit 30 of High.
const managePermissions = 1 << 25;
const enumeratePermissions = 1 << 30;
const mayManage = (ebp) => !!ebp && ((Number(ebp.Low) & managePermissions) !== 0 || (Number(ebp.High) & enumeratePermissions) !== 0);

// The people-and-groups routes: #/permissions (the site),
// #/permissions/list/<id>, #/permissions/list/<id>/<item id>, #/groups.
export const permissionsHref = (listId, itemId) =>
  "#/permissions" + (listId ? `/list/${encodeURIComponent(listId)}` : "") + (itemId ? `/${itemId}` : "");

const loginOf = (emailOrLogin) => emailOrLogin.includes("|") ? emailOrLogin : `i:0#.f|membership|${emailOrLogin}`;

// scopeOf is the API path and a readable name of the securable a route names.
async function scopeOf(listId, itemId) {
  if (!listId) {
    const w = await call("GET", "/_api/web?$select=Title,HasUniqueRoleAssignments,EffectiveBasePermissions");
    return { api: "/_api/web", name: w.Title || "the site", kind: "site", unique: true, rights: w.EffectiveBasePermissions, isWeb: true };
  }
  const listAPI = `/_api/web/lists(guid'${listId}')`;
  if (!itemId) {
    const l = await call("GET", `${listAPI}?$select=Title,HasUniqueRoleAssignments,EffectiveBasePermissions`);
    return { api: listAPI, name: l.Title, kind: "list", unique: l.HasUniqueRoleAssignments, rights: l.EffectiveBasePermissions };
  }
  const api = `${listAPI}/items(${Number(itemId)})`;
  const [it, ebp] = await Promise.all([
    call("GET", `${api}?$select=Id,Title,HasUniqueRoleAssignments`),
    call("GET", `${api}/effectiveBasePermissions`),
  ]);
  return { api, name: it.Title || `item ${it.Id}`, kind: "item", unique: it.HasUniqueRoleAssignments, rights: ebp };
}

export async function permissionsPage(listId, itemId) {
  const scope = await scopeOf(listId, itemId);
  setTitle(`Permissions: ${scope.name}`);
  const manage = mayManage(scope.rights);
  const r = await call("GET", `${scope.api}/roleAssignments?$expand=Member,RoleDefinitionBindings`);
  const reload = () => permissionsPage(listId, itemId);
  const act = async (fn, done) => {
    try { await fn(); say(done); await reload(); } catch (e) { say(e.message, true); }
  };

  const tbody = el("tbody");
  for (const a of r.value || []) {
    const who = a.Member?.Title || a.Member?.LoginName || `principal ${a.PrincipalId}`;
    const kind = a.Member?.PrincipalType === 8 ? "Group" : "Person";
    const levels = el("td", {});
    for (const d of a.RoleDefinitionBindings || []) {
      if (d.Hidden) continue; // Limited Access: the server grants and takes it by itself
      levels.append(el("span", { class: "level" }, d.Name,
        manage && scope.unique && el("button", { type: "button", class: "link", "aria-label": `Remove ${d.Name} from ${who}`,
          onclick: async () => {
            if (await confirmDialog(`Remove ${d.Name} from ${who}?`, `On ${scope.name}.`, "Remove")) {
              await act(() => call("POST", `${scope.api}/roleAssignments/removeRoleAssignment(principalid=${a.PrincipalId},roledefid=${d.Id})`),
                `Removed ${d.Name} from ${who}.`);
            }
          } }, "×")), " ");
    }
    tbody.append(el("tr", { "data-principal": String(a.PrincipalId) },
      el("td", {}, kind === "Group" ? el("a", { href: `#/groups/${a.PrincipalId}` }, who) : who),
      el("td", {}, kind), levels));
  }
  const th = (t) => el("th", { scope: "col" }, t);
  const inherit = scope.isWeb ? null : el("p", { id: "inheritance" },
    scope.unique ? `${scope.name} has its own permissions. ` : `${scope.name} inherits its permissions from its parent. `,
    manage && (scope.unique
      ? el("button", { type: "button", id: "reset-inheritance", onclick: async () => {
        if (await confirmDialog("Inherit permissions again?", `The permissions given on ${scope.name} itself are removed.`, "Inherit")) {
          await act(() => call("POST", `${scope.api}/resetRoleInheritance`), `${scope.name} inherits its permissions again.`);
        }
      } }, "Inherit from the parent")
      : el("button", { type: "button", id: "break-inheritance",
        onclick: () => act(() => call("POST", `${scope.api}/breakRoleInheritance(copyRoleAssignments=true,clearSubscopes=false)`),
          `${scope.name} now has its own permissions, copied from its parent.`) }, "Stop inheriting")));
  show(
    el("p", {}, el("a", { href: "#/groups" }, "Site groups")),
    inherit,
    manage && scope.unique && el("div", { class: "toolbar" },
      el("button", { type: "button", id: "grant", onclick: () => grantDialog(scope, reload) }, "Grant permissions")),
    el("table", { id: "assignments", class: "items" },
      el("caption", {}, `Who has access to ${scope.name}`),
      el("thead", {}, el("tr", {}, th("Name"), th("Type"), th("Permission levels"))),
      tbody));
}

// grantDialog gives a person (by e-mail or login name) or a site group a
// permission level on scope.
async function grantDialog(scope, reload) {
  let defs, groups;
  try {
    [defs, groups] = await Promise.all([
      call("GET", "/_api/web/roleDefinitions?$select=Id,Name,Hidden,Order"),
      call("GET", "/_api/web/siteGroups?$select=Id,Title"),
    ]);
  } catch (e) { say(e.message, true); return; }
  const who = el("input", { id: "gr-who", name: "who", list: "gr-groups", autocomplete: "off", required: true });
  const datalist = el("datalist", { id: "gr-groups" }, ...(groups.value || []).map((g) => el("option", { value: g.Title })));
  const level = el("select", { id: "gr-level", name: "level" },
    ...(defs.value || []).filter((d) => !d.Hidden).sort((a, b) => a.Order - b.Order).map((d) => el("option", { value: String(d.Id) }, d.Name)));
  const err = el("p", { class: "error", role: "alert" });
  const dlg = el("dialog", { "aria-labelledby": "gr-h" });
  const form = el("form", { method: "dialog" },
    el("h2", { id: "gr-h" }, `Grant permissions on ${scope.name}`),
    el("label", { for: "gr-who" }, "Person (e-mail) or site group"), who, datalist,
    el("label", { for: "gr-level" }, "Permission level"), level,
    err,
    el("div", { class: "actions" },
      el("button", { type: "submit" }, "Grant"),
      el("button", { type: "button", onclick: () => dlg.close() }, "Cancel")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = who.value.trim();
    try {
      const g = (groups.value || []).find((x) => x.Title.toLowerCase() === name.toLowerCase());
      const principal = g ? g.Id : (await call("POST", "/_api/web/ensureUser", { logonName: loginOf(name) })).Id;
      await call("POST", `${scope.api}/roleAssignments/addRoleAssignment(principalid=${principal},roledefid=${Number(level.value)})`);
      dlg.close();
      say(`Granted ${level.selectedOptions[0].textContent} to ${name}.`);
      await reload();
    } catch (e) { err.textContent = e.message; }
  });
  dlg.append(form);
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  who.focus();
}

// groupsPage lists the site's groups; with a group id, that group's members,
// whom someone who may manage permissions can add and remove.
export async function groupsPage(groupId) {
  if (!groupId) {
    setTitle("Site groups");
    const r = await call("GET", "/_api/web/siteGroups?$select=Id,Title,Description");
    const tbody = el("tbody");
    for (const g of r.value || []) {
      tbody.append(el("tr", {}, el("td", {}, el("a", { href: `#/groups/${g.Id}` }, g.Title)), el("td", {}, g.Description || "")));
    }
    show(
      el("p", {}, el("a", { href: permissionsHref() }, "Site permissions")),
      el("table", { id: "groups", class: "items" },
        el("caption", {}, "Site groups"),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Group"), el("th", { scope: "col" }, "Description"))),
        tbody));
    return;
  }
  const id = Number(groupId);
  const [g, members, web] = await Promise.all([
    call("GET", `/_api/web/siteGroups/getById(${id})?$select=Id,Title`),
    call("GET", `/_api/web/siteGroups/getById(${id})/users?$select=Id,Title,Email,LoginName`),
    call("GET", "/_api/web?$select=EffectiveBasePermissions"),
  ]);
  setTitle(g.Title);
  const manage = mayManage(web.EffectiveBasePermissions);
  const reload = () => groupsPage(groupId);
  const tbody = el("tbody");
  for (const u of members.value || []) {
    const name = u.Title || u.Email || u.LoginName;
    tbody.append(el("tr", {},
      el("td", {}, name), el("td", {}, u.Email || ""),
      el("td", {}, manage && el("button", { type: "button", "aria-label": `Remove ${name} from ${g.Title}`, onclick: async () => {
        if (!await confirmDialog(`Remove ${name} from ${g.Title}?`, "", "Remove")) return;
        try {
          await call("POST", `/_api/web/siteGroups/getById(${id})/users/removeById(${u.Id})`);
          say(`Removed ${name} from ${g.Title}.`);
          await reload();
        } catch (e) { say(e.message, true); }
      } }, "Remove"))));
  }
  const add = el("input", { id: "add-member", name: "member", type: "text", autocomplete: "off", required: true });
  const addForm = el("form", { class: "toolbar" },
    el("label", { for: "add-member" }, "Add a person (e-mail) "), add, " ",
    el("button", { type: "submit" }, "Add to group"));
  addForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const who = add.value.trim();
    if (!who) return;
    try {
      await call("POST", `/_api/web/siteGroups/getById(${id})/users`, { LoginName: loginOf(who) });
      say(`Added ${who} to ${g.Title}.`);
      await reload();
    } catch (e) { say(e.message, true); }
  });
  show(
    el("p", {}, el("a", { href: "#/groups" }, "All site groups")),
    manage && addForm,
    el("table", { id: "members", class: "items" },
      el("caption", {}, `Members of ${g.Title}`),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "E-mail"), el("th", { scope: "col" }, "Actions"))),
      tbody),
    members.value?.length ? null : el("p", {}, "This group has no members."));
}
