// The list view: columns from the list's fields and default view, sort
// and filter per column through $orderby and $filter, paging through
// odata.nextLink. The first view costs two REST round trips: the list
// with its fields and default view expanded, then the first page.

import { el, call, say, setTitle, odataString, localPath, can, perm, show } from "./api.js";
import { columns, selectAndExpand, display, queryName, isRef, kind, refShows, filterOps, filterable } from "./fields.js";
import { itemFormDialog, confirmDialog, addColumnDialog } from "./form.js";

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The page shows at most this many rows per request, whatever the view says.
const maxPage = 100;

// The table holds at most this many rows: "More items" past them drops
// the oldest, so paging on through a 1,000,000-item list keeps the DOM,
// and the work of each page, the same size.
export const maxRows = 300;

// SharePoint's list view threshold: from this many items on, filter and
// sort by indexed columns.
const listViewThreshold = 5000;

// listQuery is the list request of the first view (exported for the
// documentation and kept in one place).
export const listQuery = "$select=Id,Title,BaseTemplate,ItemCount,ListItemEntityTypeFullName,EffectiveBasePermissions,Fields,DefaultView" +
  "&$expand=Fields,DefaultView/ViewFields";

// literal is a filter value as OData for the field's kind, or throws a
// sentence when the value cannot be one.
function literal(f, raw) {
  switch (kind(f)) {
    case "Number": case "Currency": case "Integer": case "Counter": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) throw new Error(`“${raw}” is not a number.`);
      return String(n);
    }
    case "Boolean": return raw === "1" ? "1" : "0";
    case "DateTime": {
      const d = new Date(raw);
      if (Number.isNaN(d.getTime())) throw new Error(`“${raw}” is not a date.`);
      return `datetime'${d.toISOString()}'`;
    }
    default: return odataString(raw);
  }
}

// refIds finds the ids a person or lookup filter means: the site users
// or target items whose shown value contains the text.
async function refIds(f, text) {
  const lit = odataString(text);
  if (kind(f) === "User") {
    const filter = `substringof(${lit},Title) or substringof(${lit},Email)`;
    const r = await call("GET", `/_api/web/siteUsers?$select=Id&$filter=${encodeURIComponent(filter)}&$top=50`);
    return (r.value || []).map((u) => u.Id);
  }
  const list = String(f.LookupList || "").replace(/[{}]/g, "");
  const filter = `substringof(${lit},${refShows(f)})`;
  const r = await call("GET", `/_api/web/lists(guid'${list}')/items?$select=Id&$filter=${encodeURIComponent(filter)}&$top=50`);
  return (r.value || []).map((it) => it.Id);
}

// listPage shows the list; keep, when given, is the sort (by internal
// name) and the filters of the view it replaces (a column was added).
export async function listPage(id, keep = null) {
  if (!guid.test(id)) throw new Error("This address names no list.");
  const path = `/_api/web/lists(guid'${id}')`;
  const list = await call("GET", `${path}?${listQuery}`);
  setTitle(list.Title);
  const fields = list.Fields || [];
  const view = list.DefaultView || {};
  const cols = columns(fields, view.ViewFields?.Items);
  const { select, expand } = selectAndExpand(cols);
  const pageSize = Math.min(maxPage, view.RowLimit || 30);
  const ebp = list.EffectiveBasePermissions;
  // A library's items are files: they are added, changed and deleted on
  // the library page, so here a library is shown read-only.
  const isLibrary = list.BaseTemplate === 101;
  const mayAdd = can(ebp, perm.addItems) && !isLibrary;
  const mayEdit = can(ebp, perm.editItems) && !isLibrary;
  const mayDelete = can(ebp, perm.deleteItems) && !isLibrary;
  // Who may manage the list adds columns to it (the server decides anyway).
  const mayAddColumn = can(ebp, perm.manageLists) && !isLibrary;
  const ctx = { path, fields };

  // shown: the items read so far (from the first page); first: how many
  // of them the table has dropped (maxRows).
  const state = { sort: null, filters: [...(keep?.filters || [])], next: null, shown: 0, first: 0 };

  const tbody = el("tbody");
  const count = el("p", { id: "list-count", "aria-live": "polite" });
  const more = el("button", { type: "button", id: "more-items", hidden: true }, "More items");
  const headRow = el("tr");
  const table = el("table", { id: "items", class: "items" },
    el("caption", {}, `Items of ${list.Title}`), el("thead", {}, headRow), tbody);

  const itemsURL = () => {
    let q = `$select=${encodeURIComponent(select.join(","))}&$top=${pageSize}`;
    if (expand.length) q += `&$expand=${encodeURIComponent(expand.join(","))}`;
    if (state.sort) q += `&$orderby=${encodeURIComponent(`${queryName(state.sort.f)} ${state.sort.desc ? "desc" : "asc"}`)}`;
    if (state.filters.length) q += `&$filter=${encodeURIComponent(state.filters.map((x) => `(${x.expr})`).join(" and "))}`;
    return `${path}/items?${q}`;
  };

  const titleOf = (it) => it.Title || it.FileLeafRef || `item ${it.Id}`;

  const row = (it) => {
    const cells = cols.map((f) => el("td", {}, display(f, it)));
    if (mayEdit || mayDelete) {
      const name = titleOf(it);
      cells.push(el("td", { class: "row-actions" },
        mayEdit ? el("button", { type: "button", "aria-label": `Edit ${name}`, onclick: () => itemFormDialog(ctx, it.Id, reload) }, "Edit") : null,
        mayDelete ? el("button", { type: "button", "aria-label": `Delete ${name}`, onclick: () => remove(it, tr) }, "Delete") : null));
    }
    const tr = el("tr", { "data-id": String(it.Id) }, ...cells);
    return tr;
  };

  const countText = () => {
    const filtered = state.filters.length > 0;
    if (state.shown === 0) return filtered ? "No items match the filter." : "This list has no items yet.";
    if (state.first > 0) {
      const range = `${state.first + 1}–${state.shown}`;
      return filtered ? `Showing matching items ${range}.` : `Showing items ${range} of ${list.ItemCount}.`;
    }
    return filtered ? `Showing ${state.shown} matching items.` : `Showing ${state.shown} of ${list.ItemCount} items.`;
  };

  // showPage puts a page of items in the table (after the rows there, or
  // instead of them) and returns its rows.
  const showPage = (r, append) => {
    const rows = (r.value || []).map(row);
    if (append) tbody.append(...rows); else tbody.replaceChildren(...rows);
    state.shown = append ? state.shown + rows.length : rows.length;
    for (let extra = tbody.rows.length - maxRows; extra > 0; extra--) tbody.rows[0].remove();
    state.first = state.shown - tbody.rows.length;
    state.next = r["odata.nextLink"] || null;
    more.hidden = !state.next;
    count.textContent = countText();
    return rows;
  };

  async function reload() {
    showPage(await call("GET", itemsURL()), false);
  }

  async function remove(it, tr) {
    const name = titleOf(it);
    if (!await confirmDialog(`Delete “${name}”?`, "It goes to the recycle bin, where you can restore it.", "Delete")) return;
    try {
      await call("POST", `${path}/items(${it.Id})/recycle`);
      const next = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      state.shown--;
      list.ItemCount--;
      count.textContent = countText();
      say(`Moved “${name}” to the recycle bin.`);
      (next?.querySelector("button") || document.getElementById("main")).focus();
    } catch (e) { say(e.message, true); }
  }

  more.addEventListener("click", async () => {
    if (!state.next) return;
    more.disabled = true;
    try {
      const rows = showPage(await call("GET", localPath(state.next), undefined, { absolute: true }), true);
      // Keyboard users continue where the new rows begin.
      const first = rows[0]?.querySelector("button");
      if (first && document.activeElement === more && more.hidden) first.focus();
    } catch (e) { say(e.message, true); } finally { more.disabled = false; }
  });

  // Column headers: a sort button per sortable column; aria-sort says
  // the order to assistive technology.
  const headers = cols.map((f) => {
    const th = el("th", { scope: "col" });
    if (f.Sortable === false) { th.append(f.Title); return th; }
    const arrow = el("span", { "aria-hidden": "true", class: "arrow" });
    const b = el("button", { type: "button", class: "sort", "aria-label": `Sort by ${f.Title}` }, f.Title, arrow);
    b.addEventListener("click", async () => {
      const desc = state.sort?.f === f ? !state.sort.desc : false;
      state.sort = { f, desc };
      for (const h of headers) { h.removeAttribute("aria-sort"); const a = h.querySelector(".arrow"); if (a) a.textContent = ""; }
      th.setAttribute("aria-sort", desc ? "descending" : "ascending");
      arrow.textContent = desc ? " ▼" : " ▲";
      try { await reload(); say(`Sorted by ${f.Title}, ${desc ? "descending" : "ascending"}.`); } catch (e) { say(e.message, true); }
    });
    th.append(b);
    return th;
  });
  headRow.append(...headers);
  // The sort of the view this one replaces, on its column if it still
  // shows (a column is found by internal name: the objects are new).
  const keptSort = keep?.sort ? cols.findIndex((f) => f.InternalName === keep.sort.name && f.Sortable !== false) : -1;
  if (keptSort >= 0) {
    state.sort = { f: cols[keptSort], desc: keep.sort.desc };
    headers[keptSort].setAttribute("aria-sort", keep.sort.desc ? "descending" : "ascending");
    headers[keptSort].querySelector(".arrow").textContent = keep.sort.desc ? " ▼" : " ▲";
  }
  if (mayEdit || mayDelete) headRow.append(el("th", { scope: "col" }, "Actions"));

  // The filter form: a column, a condition for its kind, a value.
  const fcols = cols.filter(filterable);
  // On a large list only indexed columns filter and sort fast (others
  // meet the server's list view threshold): the page says which they are.
  const large = list.ItemCount >= listViewThreshold;
  const fField = el("select", { id: "filter-field" },
    ...fcols.map((f, i) => el("option", { value: String(i) }, large && f.Indexed ? `${f.Title} (indexed)` : f.Title)));
  const fOp = el("select", { id: "filter-op" });
  const fValueBox = el("span");
  let fValue = null;
  const active = el("ul", { id: "filters", class: "filters", "aria-label": "Filters in use" });
  const setOps = () => {
    const f = fcols[Number(fField.value)];
    if (!f) return;
    fOp.replaceChildren(...filterOps(f).map(([v, label]) => el("option", { value: v }, label)));
    if (kind(f) === "Boolean") {
      fValue = el("select", { id: "filter-value" }, el("option", { value: "1" }, "Yes"), el("option", { value: "0" }, "No"));
    } else if (kind(f) === "Choice") {
      fValue = el("select", { id: "filter-value" }, ...(f.Choices || []).map((c) => el("option", { value: c }, c)));
    } else {
      const type = { DateTime: "date", Number: "number", Currency: "number", Integer: "number", Counter: "number" }[kind(f)] || "text";
      fValue = el("input", { id: "filter-value", type, step: type === "number" ? "any" : null, autocomplete: "off" });
    }
    fValueBox.replaceChildren(fValue);
  };
  fField.addEventListener("change", setOps);
  setOps();
  const showFilters = () => {
    active.replaceChildren(...state.filters.map((x) => el("li", {}, x.label, " ",
      el("button", {
        type: "button", "aria-label": `Remove filter ${x.label}`,
        onclick: async () => {
          state.filters = state.filters.filter((y) => y !== x);
          showFilters();
          try {
            await reload();
            say(state.filters.length ? `Filtered: ${state.filters.map((y) => y.label).join("; ")}.` : "No filter.");
          } catch (e) { say(e.message, true); }
          fField.focus();
        },
      }, "Remove"))));
  };
  showFilters();
  const filterForm = el("form", { class: "filter", "aria-labelledby": "filter-h" },
    el("h2", { id: "filter-h" }, "Filter"),
    el("label", { for: "filter-field" }, "Column"), fField,
    el("label", { for: "filter-op" }, "Condition"), fOp,
    el("label", { for: "filter-value" }, "Value"), fValueBox,
    el("button", { type: "submit" }, "Add filter"));
  filterForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = fcols[Number(fField.value)];
    const raw = fValue.value;
    const [, opLabel, build] = filterOps(f).find(([v]) => v === fOp.value);
    try {
      let expr;
      let shown = raw;
      if (isRef(f)) {
        if (!raw.trim()) throw new Error("Type a name to filter by.");
        const ids = await refIds(f, raw.trim());
        if (ids.length === 0) throw new Error(`No ${kind(f) === "User" ? "person" : "item"} matches “${raw}”.`);
        expr = ids.map((n) => `${queryName(f)} eq ${n}`).join(" or ");
      } else {
        if (kind(f) !== "Boolean" && raw === "") throw new Error("Type a value to filter by.");
        expr = build(queryName(f), literal(f, raw));
        if (kind(f) === "Boolean") shown = raw === "1" ? "Yes" : "No";
      }
      state.filters.push({ expr, label: `${f.Title} ${opLabel} ${shown}` });
      showFilters();
      await reload();
      say(`Filtered: ${state.filters.map((x) => x.label).join("; ")}.`);
    } catch (e) { say(e.message, true); }
  });

  const indexed = cols.filter((f) => f.Indexed).map((f) => f.Title);
  const largeNote = large
    ? el("p", { id: "large-list" }, `This list has ${list.ItemCount} items: filter and sort by an indexed column (${indexed.join(", ") || "none yet"}); others may be refused.`)
    : null;
  // A column added is shown by showing the list anew: its fields, its
  // default view and the first page, with the sort and filters in use
  // kept. The focus goes back to the button, the new page's or, when
  // cancelled, the one that opened the dialog.
  const addColumn = async (ev) => {
    const opener = ev.currentTarget;
    const added = await addColumnDialog(path);
    if (added === null) { opener.focus(); return; }
    try {
      await listPage(id, { sort: state.sort && { name: state.sort.f.InternalName, desc: state.sort.desc }, filters: state.filters });
      say(`Added column “${added}”.`);
    } catch (e) { say(e.message, true); }
    document.getElementById("add-column")?.focus();
  };
  const toolbar = el("div", { class: "toolbar" },
    // The count the list came with grows with each item added here, as
    // delete shrinks it, so "Showing n of m" stays true.
    mayAdd ? el("button", { type: "button", id: "new-item", onclick: () => itemFormDialog(ctx, null, () => { list.ItemCount++; return reload(); }) }, "New item") : null,
    mayAddColumn ? el("button", { type: "button", id: "add-column", onclick: addColumn }, "Add column") : null);

  // The first page, before the page is shown, so it appears whole.
  showPage(await call("GET", itemsURL()), false);
  show(
    toolbar,
    largeNote,
    fcols.length ? filterForm : null,
    fcols.length ? active : null,
    el("h2", { id: "items-h" }, "Items"),
    el("div", { class: "table-wrap" }, table),
    count,
    more,
  );
}
