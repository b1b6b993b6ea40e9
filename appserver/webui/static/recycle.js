// The recycle bin of the web: what was deleted, by whom and when;
// restore an entry, or delete it for good.

import { el, call, say, setTitle, show } from "./api.js";
import { confirmDialog } from "./form.js";

const kinds = { 1: "File", 3: "Item", 4: "List", 5: "Folder", 6: "Folder", 7: "Attachment" };

export async function recycleBinPage() {
  setTitle("Recycle bin");
  const r = await call("GET", "/_api/web/recycleBin?$select=Id,Title,LeafName,DirName,ItemType,DeletedDate,DeletedByName");
  const entries = r.value || [];
  const tbody = el("tbody");
  const count = el("p", { id: "bin-count", "aria-live": "polite" });
  const showCount = () => {
    count.textContent = tbody.rows.length === 0 ? "The recycle bin is empty." : tbody.rows.length === 1 ? "1 deleted item." : `${tbody.rows.length} deleted items.`;
  };
  const act = async (e, tr, how) => {
    const name = e.Title || e.LeafName;
    if (how === "deleteObject" && !await confirmDialog(`Delete “${name}” for good?`, "This cannot be undone.", "Delete for good", true)) return;
    try {
      await call("POST", `/_api/web/recycleBin('${e.Id}')/${how}`);
      const next = tr.nextElementSibling || tr.previousElementSibling;
      tr.remove();
      showCount();
      say(how === "restore" ? `Restored “${name}”.` : `Deleted “${name}” for good.`);
      (next?.querySelector("button") || document.getElementById("main")).focus();
    } catch (err) { say(err.message, true); }
  };
  for (const e of entries) {
    const name = e.Title || e.LeafName;
    const tr = el("tr", { "data-id": e.Id });
    tr.append(
      el("td", {}, name),
      el("td", {}, kinds[e.ItemType] || "Item"),
      el("td", {}, e.DirName || ""),
      el("td", {}, e.DeletedByName || ""),
      el("td", {}, e.DeletedDate ? new Date(e.DeletedDate).toLocaleString() : ""),
      el("td", { class: "row-actions" },
        el("button", { type: "button", "aria-label": `Restore ${name}`, onclick: () => act(e, tr, "restore") }, "Restore"),
        el("button", { type: "button", "aria-label": `Delete for good ${name}`, onclick: () => act(e, tr, "deleteObject") }, "Delete for good")));
    tbody.append(tr);
  }
  const th = (t) => el("th", { scope: "col" }, t);
  show(
    el("table", { id: "bin", class: "items" },
      el("caption", {}, "Deleted items"),
      el("thead", {}, el("tr", {}, th("Name"), th("Type"), th("Was in"), th("Deleted by"), th("Deleted"), th("Actions"))),
      tbody),
    count);
  showCount();
}
