// The item form: one control per editable field, generated from the
// field's type; add and edit (with the item's ETag in If-Match), and an
// ETag conflict shown with the other person's current values. Also the
// list view's other dialogs: confirm, and add a column.

import { el, call, say, odataString, APIError } from "./api.js";
import { kind, isRef, refShows, wireName, editable, selectAndExpand, displayText, toLocalInput } from "./fields.js";

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

// peoplePicker finds people among the site's users (siteUsers, by name
// or e-mail) and adds one by login or e-mail (ensureUser) when the site
// does not know them yet. value() is the chosen user's id or null.
function peoplePicker(f, initial) {
  const id = nextId("pp");
  let chosen = initial && initial.id ? initial : null;
  const input = el("input", { id, type: "search", autocomplete: "off", "aria-describedby": `${id}-hint` });
  const hint = el("span", { id: `${id}-hint`, class: "hint" }, "Type a name or e-mail address, then choose a person.");
  const results = el("ul", { class: "picks", "aria-label": `People matching, for ${f.Title}` });
  const current = el("p", { class: "chosen" });
  const showChosen = () => {
    if (!chosen) { current.replaceChildren(`${f.Title}: nobody chosen.`); return; }
    current.replaceChildren(`${f.Title}: ${chosen.title} `,
      el("button", { type: "button", "aria-label": `Remove ${chosen.title} from ${f.Title}`, onclick: () => { chosen = null; showChosen(); input.focus(); } }, "Remove"));
  };
  const choose = (u) => {
    chosen = { id: u.Id, title: u.Title || u.Email || u.LoginName };
    results.replaceChildren();
    input.value = "";
    showChosen();
    input.focus();
  };
  let timer = 0;
  let asked = 0;
  const search = async () => {
    const q = input.value.trim();
    const mine = ++asked;
    if (q.length < 2) { results.replaceChildren(); return; }
    try {
      const lit = odataString(q);
      const filter = `substringof(${lit},Title) or substringof(${lit},Email) or substringof(${lit},LoginName)`;
      const r = await call("GET", `/_api/web/siteUsers?$select=Id,Title,Email,LoginName&$filter=${encodeURIComponent(filter)}&$top=10`);
      if (mine !== asked) return; // a newer search is under way
      const people = (r.value || []).filter((u) => u.PrincipalType === undefined || u.PrincipalType === 1);
      const items = people.map((u) => el("li", {}, el("button", { type: "button", onclick: () => choose(u) },
        `Choose ${u.Title || u.LoginName}${u.Email ? ` (${u.Email})` : ""}`)));
      if (people.length === 0 && /@|\|/.test(q)) {
        items.push(el("li", {}, el("button", {
          type: "button",
          onclick: async () => {
            try { choose(await call("POST", "/_api/web/ensureUser", { logonName: q })); } catch (e) { say(e.message, true); }
          },
        }, `Add ${q}`)));
      }
      if (items.length === 0) items.push(el("li", {}, `No one matches “${q}”.`));
      results.replaceChildren(...items);
    } catch (e) { results.replaceChildren(el("li", { class: "error" }, e.message)); }
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 250); });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); clearTimeout(timer); search(); }
  });
  showChosen();
  const node = el("div", { class: "field picker" },
    el("label", { for: id }, `${f.Title}${f.Required ? " (required)" : ""}`), hint, input, results, current);
  return { node, value: () => (chosen ? chosen.id : null), focusable: input };
}

// lookupSelect offers the target list's items (the first 500).
function lookupSelect(f, id) {
  const sel = el("select", { id }, el("option", { value: "" }, "(none)"));
  const list = String(f.LookupList || "").replace(/[{}]/g, "");
  const shows = refShows(f);
  const ready = call("GET", `/_api/web/lists(guid'${list}')/items?$select=Id,${shows}&$top=500`)
    .then((r) => {
      for (const it of r.value || []) sel.append(el("option", { value: String(it.Id) }, String(it[shows] ?? it.Id)));
    });
  return { sel, ready };
}

// control makes the form control of one field; get() reads its value as
// the item body carries it (a user or lookup as <Name>Id).
function control(f, item) {
  const id = nextId("f");
  const v = item ? item[wireName(f)] : undefined;
  const label = `${f.Title}${f.Required ? " (required)" : ""}`;
  const plain = (input, get) => ({
    node: el("div", { class: "field" }, el("label", { for: id }, label), input),
    get, focusable: input,
  });
  switch (kind(f)) {
    case "Note": {
      const t = el("textarea", { id, rows: 4, required: f.Required }, "");
      t.value = v ?? "";
      return plain(t, () => t.value);
    }
    case "Number": case "Currency": case "Integer": {
      const i = el("input", { id, type: "number", step: kind(f) === "Integer" ? "1" : "any", required: f.Required });
      i.value = v ?? "";
      return plain(i, () => (i.value === "" ? null : Number(i.value)));
    }
    case "Boolean": {
      const c = el("input", { id, type: "checkbox" });
      c.checked = !!v;
      return {
        node: el("div", { class: "field check" }, c, el("label", { for: id }, f.Title)),
        get: () => c.checked, focusable: c,
      };
    }
    case "DateTime": {
      const i = el("input", { id, type: "datetime-local", required: f.Required });
      i.value = toLocalInput(v);
      return plain(i, () => (i.value ? new Date(i.value).toISOString() : null));
    }
    case "Choice": {
      const s = el("select", { id, required: f.Required }, el("option", { value: "" }, "(none)"),
        ...(f.Choices || []).map((c) => el("option", { value: c }, c)));
      s.value = v ?? "";
      return plain(s, () => s.value || null);
    }
    case "MultiChoice": {
      const have = new Set(Array.isArray(v) ? v : (v && v.results) || []);
      const boxes = (f.Choices || []).map((c) => {
        const bid = nextId("mc");
        const b = el("input", { id: bid, type: "checkbox", value: c });
        b.checked = have.has(c);
        return { b, node: el("div", { class: "check" }, b, el("label", { for: bid }, c)) };
      });
      return {
        node: el("fieldset", { class: "field" }, el("legend", {}, label), ...boxes.map((x) => x.node)),
        get: () => boxes.filter((x) => x.b.checked).map((x) => x.b.value),
        focusable: boxes[0]?.b,
      };
    }
    case "URL": {
      const uid2 = nextId("url");
      const u = el("input", { id, type: "url", required: f.Required });
      const d = el("input", { id: uid2, type: "text" });
      u.value = v?.Url ?? "";
      d.value = v?.Description ?? "";
      return {
        node: el("fieldset", { class: "field" }, el("legend", {}, label),
          el("label", { for: id }, "Address"), u, el("label", { for: uid2 }, "Description"), d),
        get: () => (u.value ? { Url: u.value, Description: d.value } : null),
        focusable: u,
      };
    }
    case "User": {
      const p = peoplePicker(f, item ? { id: item[`${f.InternalName}Id`], title: v?.[refShows(f)] ?? "" } : null);
      return { node: p.node, get: p.value, focusable: p.focusable, ref: true };
    }
    case "Lookup": {
      const { sel, ready } = lookupSelect(f, id);
      const want = item ? item[`${f.InternalName}Id`] : null;
      ready.then(() => { sel.value = want != null ? String(want) : ""; }).catch((e) => say(e.message, true));
      return { ...plain(sel, () => (sel.value ? Number(sel.value) : null)), ref: true, ready };
    }
    default: {
      const i = el("input", { id, type: "text", maxlength: f.MaxLength || 255, required: f.Required, autocomplete: "off" });
      i.value = v ?? "";
      return plain(i, () => i.value);
    }
  }
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

// itemFormDialog opens the form for a new item (item null) or an
// existing one, and resolves when it closes; onSaved runs after a save.
export async function itemFormDialog(ctx, itemId, onSaved) {
  const fields = ctx.fields.filter(editable);
  // Editor and Modified too: a conflict says who saved last.
  const extra = ctx.fields.filter((f) => f.InternalName === "Editor" || f.InternalName === "Modified");
  const { select, expand } = selectAndExpand([...fields, ...extra]);
  const q = `$select=${encodeURIComponent(select.join(","))}${expand.length ? `&$expand=${encodeURIComponent(expand.join(","))}` : ""}`;
  const itemPath = (n) => `${ctx.path}/items(${n})?${q}`;
  let item = null;
  let etag = null;
  if (itemId != null) {
    const r = await call("GET", itemPath(itemId), undefined, { full: true });
    item = r.body;
    etag = r.etag;
  }
  const name = item ? (item.Title || `item ${item.Id}`) : "";
  const headingId = nextId("form-h");
  const dlg = el("dialog", { "aria-labelledby": headingId, class: "item-form" });
  const err = el("div", { class: "error", role: "alert" });
  const conflict = el("div", { class: "conflict", role: "alert", hidden: true });
  const controls = fields.map((f) => ({ f, c: control(f, item) }));
  const wireKey = (f) => (isRef(f) ? `${f.InternalName}Id` : wireName(f));
  const original = (f, it) => {
    if (!it) return undefined;
    return isRef(f) ? it[`${f.InternalName}Id`] ?? null : it[wireName(f)] ?? null;
  };
  // base is the version the form was filled from: what "changed" means,
  // also after a conflict (saving over theirs sends only the person's own
  // changes, so theirs to other fields stay).
  const base = item;
  const body = () => {
    const b = {};
    for (const { f, c } of controls) {
      const val = c.get();
      if (!item && (val === null || val === "" || (Array.isArray(val) && !val.length) || val === false)) continue;
      if (item && same(val, original(f, base))) continue;
      b[wireKey(f)] = val;
    }
    return b;
  };
  const save = el("button", { type: "submit" }, "Save");
  const cancel = el("button", { type: "button", onclick: () => dlg.close() }, "Cancel");
  const form = el("form", { method: "dialog", novalidate: false },
    el("h2", { id: headingId }, item ? `Edit item “${name}”` : "New item"),
    ...controls.map((x) => x.c.node),
    conflict, err,
    el("div", { class: "actions" }, save, cancel));

  // While a save is in flight the form stays open (Cancel disabled,
  // Escape ignored): closed, it would look cancelled while the server
  // may still store the item, and a second save could add it twice.
  let saving = false;
  dlg.addEventListener("cancel", (ev) => { if (saving) ev.preventDefault(); });
  const submit = async () => {
    if (saving) return;
    err.textContent = "";
    const b = body();
    if (item && Object.keys(b).length === 0) { dlg.close(); say("Nothing changed."); return; }
    saving = save.disabled = cancel.disabled = true;
    try {
      if (item) {
        await call("POST", `${ctx.path}/items(${item.Id})`, b,
          { headers: { "X-HTTP-Method": "MERGE", "IF-MATCH": etag || "*" } });
      } else {
        await call("POST", `${ctx.path}/items`, b);
      }
      dlg.close();
      await onSaved();
      say(item ? `Saved “${b.Title ?? name}”.` : `Added “${b.Title ?? "the item"}”.`);
    } catch (e) {
      if (e instanceof APIError && e.status === 412 && item) await showConflict();
      else err.textContent = e.message;
    } finally { saving = save.disabled = cancel.disabled = false; }
  };

  // showConflict reads the item as it is now and shows what the other
  // person changed; the person's own changes stay in the form.
  const showConflict = async () => {
    let now;
    try {
      now = await call("GET", itemPath(item.Id), undefined, { full: true });
    } catch (e) {
      err.textContent = e.status === 404 ? "Someone else deleted this item meanwhile." : e.message;
      return;
    }
    const theirs = now.body;
    const rows = [];
    for (const { f } of controls) {
      if (same(original(f, theirs), original(f, base))) continue;
      rows.push(el("dt", {}, f.Title), el("dd", {}, displayText(f, theirs) || "(empty)"));
    }
    const by = theirs.Editor?.Title;
    conflict.hidden = false;
    conflict.replaceChildren(
      el("h3", {}, "Someone else changed this item"),
      el("p", {}, `${by ? `${by} saved` : "Someone saved"} this item after you opened it. Your changes are still in the form; their values are:`),
      rows.length ? el("dl", {}, ...rows) : el("p", {}, "(They changed no field shown here.)"),
      el("div", { class: "actions" },
        el("button", {
          type: "button",
          onclick: () => { etag = now.etag; conflict.hidden = true; submit(); },
        }, "Save mine over theirs"),
        el("button", {
          type: "button",
          onclick: async () => { dlg.close(); await itemFormDialog(ctx, item.Id, onSaved); },
        }, "Discard mine and show theirs")));
    conflict.querySelector("button").focus();
  };

  form.addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
  dlg.append(form);
  const closed = new Promise((ok) => dlg.addEventListener("close", () => { dlg.remove(); ok(); }));
  document.body.append(dlg);
  dlg.showModal();
  controls[0]?.c.focusable?.focus();
  return closed;
}

// confirmDialog asks a yes/no question in a modal; true when confirmed.
// For what cannot be undone (final) the focus starts on Cancel.
export function confirmDialog(question, detail, yes, final = false) {
  const hid = nextId("cf-h");
  const dlg = el("dialog", { "aria-labelledby": hid, role: "alertdialog" });
  let ok = false;
  const yesButton = el("button", { type: "button", onclick: () => { ok = true; dlg.close(); } }, yes);
  const cancel = el("button", { type: "button", onclick: () => dlg.close() }, "Cancel");
  dlg.append(el("h2", { id: hid }, question), el("p", {}, detail),
    el("div", { class: "actions" }, yesButton, cancel));
  document.body.append(dlg);
  dlg.showModal();
  (final ? cancel : yesButton).focus();
  return new Promise((res) => dlg.addEventListener("close", () => { dlg.remove(); res(ok); }));
}

// The column types the Add column dialog offers, as SP.FieldType
// (FieldTypeKind) numbers.
const columnTypes = [
  [2, "Single line of text"], [3, "Multiple lines of text"], [9, "Number"],
  [6, "Choice"], [8, "Yes/No"], [4, "Date and time"],
];
const choiceKind = 6;

// addColumnDialog asks for a new column of the list at listPath (its
// name, type and, for a choice, the choices) and adds it with POST
// …/fields. It resolves to the new column's name, or null when
// cancelled; a refusal (a name the list has already) is shown in the
// dialog, which stays open with the values.
export function addColumnDialog(listPath) {
  const hid = nextId("ac-h");
  const nameId = nextId("ac-name");
  const typeId = nextId("ac-type");
  const choicesId = nextId("ac-choices");
  const name = el("input", { id: nameId, name: "name", required: true, maxlength: 255, autocomplete: "off" });
  const type = el("select", { id: typeId, name: "type" },
    ...columnTypes.map(([k, label]) => el("option", { value: String(k) }, label)));
  // Shown, and validated, only for a choice column: a hidden required
  // field would still block the form, so it is disabled while hidden.
  const choices = el("textarea", { id: choicesId, name: "choices", rows: 4, required: true });
  const choicesBox = el("div", { class: "field" }, el("label", { for: choicesId }, "Choices (one per line)"), choices);
  const showChoices = () => {
    const on = Number(type.value) === choiceKind;
    choicesBox.hidden = !on;
    choices.disabled = !on;
  };
  type.addEventListener("change", showChoices);
  showChoices();
  const err = el("p", { class: "error", role: "alert" });
  const dlg = el("dialog", { "aria-labelledby": hid });
  const save = el("button", { type: "submit" }, "Save");
  const cancel = el("button", { type: "button", onclick: () => dlg.close() }, "Cancel");
  const form = el("form", { method: "dialog" },
    el("h2", { id: hid }, "Add column"),
    el("div", { class: "field" }, el("label", { for: nameId }, "Name"), name),
    el("div", { class: "field" }, el("label", { for: typeId }, "Type"), type),
    choicesBox,
    err,
    el("div", { class: "actions" }, save, cancel));
  let added = null;
  // While the column is being added the dialog stays: closed meanwhile,
  // it would say "cancelled" for a column the list then has.
  let saving = false;
  dlg.addEventListener("cancel", (ev) => { if (saving) ev.preventDefault(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    const title = name.value.trim();
    if (!title) { err.textContent = "Type a name for the column."; name.focus(); return; }
    const body = { Title: title, FieldTypeKind: Number(type.value) };
    if (body.FieldTypeKind === choiceKind) {
      body.Choices = choices.value.split("\n").map((c) => c.trim()).filter(Boolean);
      if (body.Choices.length === 0) { err.textContent = "Type at least one choice, one per line."; choices.focus(); return; }
    }
    saving = save.disabled = cancel.disabled = true;
    try {
      await call("POST", `${listPath}/fields`, body);
      added = title;
      dlg.close();
    } catch (e) { err.textContent = e.message; } finally { saving = save.disabled = cancel.disabled = false; }
  });
  dlg.append(form);
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
  return new Promise((res) => dlg.addEventListener("close", () => { dlg.remove(); res(added); }));
}
