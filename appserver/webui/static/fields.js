// What the pages know about SP.Field: how a field is named in queries
// and on the wire, how its value is shown, and which form control edits
// it. Pure functions over the field objects the API answers.

// Kinds by TypeAsString, as the API names the field types.
export const kind = (f) => f.TypeAsString;

export const isRef = (f) => kind(f) === "User" || kind(f) === "Lookup";

// The property of the target a user or lookup column shows.
export const refShows = (f) => f.LookupField || "Title";

// The name a query ($orderby, $filter) uses: a user or lookup column
// sorts and filters by the id it holds (AuthorId), the others by their
// internal name.
export const queryName = (f) => (isRef(f) ? `${f.InternalName}Id` : f.InternalName);

// The property an item carries the value in.
export const wireName = (f) => f.EntityPropertyName || f.InternalName;

// View field names that stand for another field or for none.
const viewAliases = {
  LinkTitle: "Title", LinkTitleNoMenu: "Title",
  LinkFilename: "FileLeafRef", LinkFilenameNoMenu: "FileLeafRef",
  DocIcon: null, Edit: null,
};

// columns are the list view's fields: the default view's fields in its
// order, then the list's own (non-system, visible) fields the view does
// not name, so a column added through the API without AddToDefaultView
// is still seen.
export function columns(fields, viewFieldNames) {
  const byName = new Map(fields.map((f) => [f.InternalName.toLowerCase(), f]));
  const out = [];
  const seen = new Set();
  const add = (f) => {
    if (f && !seen.has(f.InternalName)) { seen.add(f.InternalName); out.push(f); }
  };
  for (const n of viewFieldNames || []) {
    const alias = Object.hasOwn(viewAliases, n) ? viewAliases[n] : n;
    if (alias) add(byName.get(alias.toLowerCase()));
  }
  for (const f of fields) if (!f.FromBaseType && !f.Hidden) add(f);
  if (out.length === 0) add(byName.get("title"));
  return out;
}

// selectAndExpand is the $select and $expand that bring the fields'
// values: a user or lookup column as <Name>Id and <Name>/<shown>.
export function selectAndExpand(fields) {
  const select = ["Id"];
  const expand = [];
  for (const f of fields) {
    if (isRef(f)) {
      // SharePoint expands at most 12 lookups per query; beyond, the id.
      select.push(`${f.InternalName}Id`);
      if (expand.length < 12) {
        expand.push(f.InternalName);
        select.push(`${f.InternalName}/${refShows(f)}`);
      }
    } else if (f.InternalName !== "ID") {
      select.push(f.InternalName);
    }
  }
  return { select: [...new Set(select)], expand };
}

function isSafeLink(u) {
  try { return ["http:", "https:"].includes(new URL(u, location.href).protocol); } catch { return false; }
}

// display is a value as text a person reads (or a link for a URL field).
export function display(f, item) {
  const v = item[wireName(f)];
  if (f.InternalName === "ID") return String(item.Id ?? item.ID ?? "");
  if (isRef(f)) return (v && v[refShows(f)]) ?? (item[`${f.InternalName}Id`] ?? "");
  if (v == null) return "";
  switch (kind(f)) {
    case "Boolean": return v ? "Yes" : "No";
    case "DateTime": return new Date(v).toLocaleString();
    case "MultiChoice": return (Array.isArray(v) ? v : v.results || []).join(", ");
    case "URL": {
      if (!v.Url) return "";
      const a = document.createElement("a");
      a.textContent = v.Description || v.Url;
      if (isSafeLink(v.Url)) a.href = v.Url;
      return a;
    }
    default: return String(v);
  }
}

// displayText is display as a string (for messages and names).
export function displayText(f, item) {
  const d = display(f, item);
  return typeof d === "string" ? d : d.textContent;
}

// editable reports whether the item form has a control for f.
export function editable(f) {
  if (f.ReadOnlyField || f.Hidden) return false;
  return ["Text", "Note", "Number", "Currency", "Integer", "Boolean", "DateTime", "Choice",
    "MultiChoice", "URL", "User", "Lookup"].includes(kind(f));
}

// toLocalInput is an ISO date as a datetime-local input's value.
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// Filter conditions per kind: [value, label, build(name, literal)].
const textOps = [
  ["contains", "contains", (n, v) => `substringof(${v},${n})`],
  ["eq", "is", (n, v) => `${n} eq ${v}`],
  ["startswith", "begins with", (n, v) => `startswith(${n},${v})`],
];
const orderedOps = [
  ["eq", "is", (n, v) => `${n} eq ${v}`],
  ["ne", "is not", (n, v) => `${n} ne ${v}`],
  ["gt", "is more than", (n, v) => `${n} gt ${v}`],
  ["lt", "is less than", (n, v) => `${n} lt ${v}`],
];
const dateOps = [
  ["ge", "is on or after", (n, v) => `${n} ge ${v}`],
  ["lt", "is before", (n, v) => `${n} lt ${v}`],
];
export function filterOps(f) {
  switch (kind(f)) {
    case "Number": case "Currency": case "Integer": case "Counter": return orderedOps;
    case "DateTime": return dateOps;
    case "Boolean": return [orderedOps[0]];
    case "User": case "Lookup": return [["eq", "is", null]];
    default: return textOps;
  }
}

export const filterable = (f) => f.Filterable !== false && !["Note", "URL", "MultiChoice", "Guid", "Attachments", "Computed"].includes(kind(f));
