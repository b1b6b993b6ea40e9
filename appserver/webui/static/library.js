// A document library: its folders as breadcrumbs, files and folders with
// their actions (download, preview, rename, move, delete, check out and
// in, versions with restore), new folders, and uploads by picker or by
// drag and drop with a progress bar, chunked for large files as PnPjs
// sends them. Everything goes through the public /_api REST.

import { el, say, call, setTitle, odataString, can, perm, web, formDigest, show, currentPage } from "./api.js";
import { confirmDialog } from "./form.js";

// Files up to this size go in one request; larger ones in chunks of it,
// so a lost connection costs one chunk and the bar moves per chunk too.
export const chunkSize = 8 * 1024 * 1024;

const fileAPI = (url) => `/_api/web/getFileByServerRelativePath(decodedUrl=${odataString(url)})`;
const folderAPI = (url) => `/_api/web/getFolderByServerRelativePath(decodedUrl=${odataString(url)})`;

// The route of a folder of the library: #/library/<list id>/<folder url>.
export const libraryHref = (listId, folder) =>
  `#/library/${encodeURIComponent(listId)}` + (folder ? `/${encodeURIComponent(folder)}` : "");

// previewable says how a file is previewed, if at all. HTML, SVG and XML
// are shown as text or as an image, never framed: the server sends them
// as sandboxed attachments no page may frame.
const previewable = (name) => {
  const ext = name.slice(name.lastIndexOf(".") + 1).toLowerCase();
  if (["png", "jpg", "jpeg", "gif", "webp", "svg", "bmp"].includes(ext)) return "image";
  if (ext === "pdf") return "pdf";
  if (["txt", "md", "csv", "json", "xml", "log", "yml", "yaml", "ini", "css", "js", "go", "html"].includes(ext)) return "text";
  return null;
};

function sizeText(n) {
  const b = Number(n) || 0;
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KB`;
  return `${(b / 1024 / 1024).toFixed(1)} MB`;
}

// textDialog asks for one line of text; it resolves to the text, or null
// when cancelled.
function textDialog(heading, label, value, yes) {
  return new Promise((resolve) => {
    const input = el("input", { id: "td-text", name: "text", required: true, autocomplete: "off", value });
    const dlg = el("dialog", { "aria-labelledby": "td-h" });
    let answer = null;
    const form = el("form", { method: "dialog" },
      el("h2", { id: "td-h" }, heading),
      el("label", { for: "td-text" }, label), input,
      el("div", { class: "actions" },
        el("button", { type: "submit" }, yes),
        el("button", { type: "button", onclick: () => dlg.close() }, "Cancel")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      answer = input.value.trim();
      if (answer) dlg.close();
    });
    dlg.append(form);
    dlg.addEventListener("close", () => { dlg.remove(); resolve(answer || null); });
    document.body.append(dlg);
    dlg.showModal();
    input.select();
  });
}

// send posts a body with an upload progress callback: fetch reports no
// upload progress, XMLHttpRequest does. A 503 with Retry-After is tried
// again with the same Idempotency-Key, as call does.
async function send(path, body, onProgress) {
  const key = crypto.randomUUID();
  for (let attempt = 0; ; attempt++) {
    const digest = await formDigest();
    const res = await new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open("POST", web + path);
      x.setRequestHeader("Accept", "application/json;odata=nometadata");
      x.setRequestHeader("X-RequestDigest", digest);
      x.setRequestHeader("Idempotency-Key", key);
      x.upload.onprogress = (ev) => onProgress(ev.loaded);
      x.onload = () => resolve(x);
      x.onerror = () => reject(new Error("The connection to the server was lost during the upload."));
      x.send(body);
    });
    if (res.status === 503 && attempt < 5) {
      const wait = Math.min(30, Number(res.getResponseHeader("Retry-After")) || 2);
      say(`The server is busy; trying again in ${wait} s…`);
      await new Promise((ok) => setTimeout(ok, wait * 1000));
      continue;
    }
    if (res.status < 200 || res.status >= 300) {
      let msg = "";
      try {
        const e = JSON.parse(res.responseText)["odata.error"];
        msg = e?.message?.value ?? "";
      } catch { /* not JSON */ }
      throw new Error(msg || `The server answered ${res.status}.`);
    }
    if (attempt > 0) say("");
    return res.responseText ? JSON.parse(res.responseText) : null;
  }
}

// upload puts one file into folder, in one request or in chunks
// (startUpload, continueUpload, finishUpload), moving bar as it goes.
export async function upload(folder, file, bar) {
  const name = file.name;
  const target = `${folder}/${name}`;
  bar.max = file.size || 1;
  if (file.size <= chunkSize) {
    await send(`${folderAPI(folder)}/files/addUsingPath(decodedurl=${odataString(name)},overwrite=true)`, file,
      (n) => { bar.value = n; });
    bar.value = bar.max;
    return;
  }
  // PnPjs's addChunked: the file first, empty, then its chunks; each
  // answer is the offset the next chunk starts at.
  await send(`${folderAPI(folder)}/files/addUsingPath(decodedurl=${odataString(name)},overwrite=true)`, new Blob([]), () => {});
  const id = crypto.randomUUID();
  let offset = 0;
  for (let first = true; ; first = false) {
    const end = Math.min(file.size, offset + chunkSize);
    const last = end >= file.size;
    const fn = first ? `startUpload(uploadId=guid'${id}')`
      : last ? `finishUpload(uploadId=guid'${id}',fileOffset=${offset})`
      : `continueUpload(uploadId=guid'${id}',fileOffset=${offset})`;
    const base = offset;
    const r = await send(`${fileAPI(target)}/${fn}`, file.slice(offset, end), (n) => { bar.value = base + n; });
    if (last) break;
    offset = Number(r?.value ?? end);
  }
  bar.value = bar.max;
}

// A library page: the library's root folder or one of its folders.
export async function libraryPage(listId, folderUrl) {
  // One round trip for the library (its root folder and the caller's
  // rights), one for the folder's contents.
  const lib = await call("GET",
    `/_api/web/lists(guid'${listId}')?$select=Id,Title,EffectiveBasePermissions,RootFolder/ServerRelativeUrl&$expand=RootFolder`);
  const root = lib.RootFolder.ServerRelativeUrl;
  const folder = folderUrl && (folderUrl === root || folderUrl.startsWith(root + "/")) ? folderUrl : root;
  setTitle(lib.Title);
  const rights = lib.EffectiveBasePermissions;
  const mayAdd = can(rights, perm.addItems), mayEdit = can(rights, perm.editItems), mayDelete = can(rights, perm.deleteItems);

  const [folders, files] = await Promise.all([
    call("GET", `${folderAPI(folder)}/folders?$select=Name,ServerRelativeUrl,ItemCount`),
    call("GET", `${folderAPI(folder)}/files?$select=Name,ServerRelativeUrl,Length,TimeLastModified,UIVersionLabel,CheckOutType`),
  ]);
  // Who holds each checked-out file (SP.CheckOutType: 2 is none): asked
  // only for those, all at once.
  const holders = new Map(await Promise.all((files.value || []).filter((f) => f.CheckOutType !== 2).map(async (f) => {
    try {
      const u = await call("GET", `${fileAPI(f.ServerRelativeUrl)}/checkedOutByUser?$select=Title`);
      return [f.ServerRelativeUrl, u?.Title || ""];
    } catch { return [f.ServerRelativeUrl, ""]; }
  })));
  const reload = () => libraryPage(listId, folder);

  // Breadcrumbs: the library, then each folder down to this one.
  const crumbs = el("ol", { class: "crumbs" });
  const rel = folder.slice(root.length).split("/").filter(Boolean);
  crumbs.append(el("li", {}, rel.length ? el("a", { href: libraryHref(listId, "") }, lib.Title) : el("span", { "aria-current": "page" }, lib.Title)));
  rel.forEach((name, i) => {
    const url = root + "/" + rel.slice(0, i + 1).join("/");
    crumbs.append(el("li", {}, i === rel.length - 1 ? el("span", { "aria-current": "page" }, name)
      : el("a", { href: libraryHref(listId, url) }, name)));
  });

  const act = async (what, fn, done) => {
    try { await fn(); say(done); await reload(); } catch (e) { say(`${what}: ${e.message}`, true); }
  };

  const tbody = el("tbody");
  for (const f of (folders.value || []).filter((x) => x.Name !== "Forms")) {
    tbody.append(el("tr", { "data-folder": f.Name },
      el("td", {}, el("a", { href: libraryHref(listId, f.ServerRelativeUrl) }, f.Name)),
      el("td", {}, "Folder"), el("td", {}, String(f.ItemCount ?? "")), el("td", {}), el("td", {}),
      el("td", { class: "row-actions" },
        mayEdit && el("button", { type: "button", "aria-label": `Rename folder ${f.Name}`, onclick: async () => {
          const to = await textDialog(`Rename ${f.Name}`, "New name", f.Name, "Rename");
          if (to) await act("Rename", () => call("POST", `${folderAPI(f.ServerRelativeUrl)}/moveToUsingPath(DecodedUrl=${odataString(`${folder}/${to}`)})`), `Renamed “${f.Name}” to “${to}”.`);
        } }, "Rename"),
        mayDelete && el("button", { type: "button", "aria-label": `Delete folder ${f.Name}`, onclick: async () => {
          if (await confirmDialog(`Delete the folder “${f.Name}”?`, "It goes to the recycle bin with everything in it.", "Delete")) {
            await act("Delete", () => call("POST", `${folderAPI(f.ServerRelativeUrl)}/recycle`), `Moved “${f.Name}” to the recycle bin.`);
          }
        } }, "Delete"))));
  }
  for (const f of files.value || []) {
    const out = f.CheckOutType !== 2 && f.CheckOutType != null;
    const api = fileAPI(f.ServerRelativeUrl);
    const kind = previewable(f.Name);
    tbody.append(el("tr", { "data-file": f.Name },
      el("td", {}, el("a", { href: web + api + "/$value", download: f.Name, "aria-label": `Download ${f.Name}` }, f.Name)),
      el("td", {}, out ? `Checked out${holders.get(f.ServerRelativeUrl) ? ` to ${holders.get(f.ServerRelativeUrl)}` : ""}` : "File"),
      el("td", {}, sizeText(f.Length)),
      el("td", {}, f.UIVersionLabel || ""),
      el("td", {}, f.TimeLastModified ? new Date(f.TimeLastModified).toLocaleString() : ""),
      el("td", { class: "row-actions" },
        kind && el("button", { type: "button", "aria-label": `Preview ${f.Name}`, onclick: () => previewDialog(f, kind) }, "Preview"),
        el("button", { type: "button", "aria-label": `Versions of ${f.Name}`, onclick: () => versionsDialog(f, mayEdit, reload) }, "Versions"),
        mayEdit && !out && el("button", { type: "button", "aria-label": `Check out ${f.Name}`,
          onclick: () => act("Check out", () => call("POST", `${api}/checkOut`), `Checked out “${f.Name}”.`) }, "Check out"),
        mayEdit && out && el("button", { type: "button", "aria-label": `Check in ${f.Name}`, onclick: async () => {
          const comment = await textDialog(`Check in ${f.Name}`, "Comment", "", "Check in");
          if (comment != null) await act("Check in", () => call("POST", `${api}/checkIn(comment=${odataString(comment)},checkInType=1)`), `Checked in “${f.Name}”.`);
        } }, "Check in"),
        mayEdit && out && el("button", { type: "button", "aria-label": `Discard check out of ${f.Name}`,
          onclick: () => act("Discard check out", () => call("POST", `${api}/undoCheckOut`), `Discarded the check out of “${f.Name}”.`) }, "Discard check out"),
        mayEdit && el("button", { type: "button", "aria-label": `Rename ${f.Name}`, onclick: async () => {
          const to = await textDialog(`Rename ${f.Name}`, "New name", f.Name, "Rename");
          if (to && to !== f.Name) await act("Rename", () => call("POST", `${api}/moveTo(newurl=${odataString(`${folder}/${to}`)},flags=0)`), `Renamed “${f.Name}” to “${to}”.`);
        } }, "Rename"),
        mayEdit && el("button", { type: "button", "aria-label": `Move ${f.Name}`, onclick: async () => {
          const to = await textDialog(`Move ${f.Name}`, "To the folder (its address on this site)", folder, "Move");
          if (to) await act("Move", () => call("POST", `${api}/moveTo(newurl=${odataString(`${to.replace(/\/+$/, "")}/${f.Name}`)},flags=0)`), `Moved “${f.Name}” to ${to}.`);
        } }, "Move"),
        mayDelete && el("button", { type: "button", "aria-label": `Delete ${f.Name}`, onclick: async () => {
          if (await confirmDialog(`Delete “${f.Name}”?`, "It goes to the recycle bin.", "Delete")) {
            await act("Delete", () => call("POST", `${api}/recycle`), `Moved “${f.Name}” to the recycle bin.`);
          }
        } }, "Delete"))));
  }
  const th = (t) => el("th", { scope: "col" }, t);
  const empty = tbody.rows.length === 0 ? el("p", { id: "lib-empty" }, "This folder is empty.") : null;

  // Uploads: a picker (the keyboard's way) and a drop zone, each file
  // with its own progress bar.
  const progress = el("ul", { class: "uploads", "aria-live": "polite" });
  const uploadAll = async (list) => {
    // An upload goes on when the person moves to another page, but what
    // it says when it ends belongs to this page only.
    const gen = currentPage();
    for (const file of list) {
      const bar = el("progress", { value: 0, max: 1, "aria-label": `Uploading ${file.name}` });
      const item = el("li", {}, `${file.name} `, bar);
      progress.append(item);
      try {
        await upload(folder, file, bar);
        item.append(" done");
      } catch (e) {
        item.append(el("span", { class: "error" }, ` ${e.message}`));
        if (gen !== currentPage()) return;
        say(`Upload of “${file.name}” failed: ${e.message}`, true);
        return;
      }
    }
    if (gen !== currentPage()) return;
    say(list.length === 1 ? `Uploaded “${list[0].name}”.` : `Uploaded ${list.length} files.`);
    await reload();
  };
  const picker = el("input", { type: "file", id: "upload-files", multiple: true, class: "visually-hidden",
    onchange: () => { if (picker.files.length) uploadAll([...picker.files]); } });
  const drop = el("section", { class: "drop", id: "drop-zone", "aria-label": "Drop files here to upload them" },
    el("p", {}, "Drop files here to upload them, or ", el("label", { for: "upload-files", class: "button" }, "choose files"), "."),
    picker, progress);
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    const list = [...(ev.dataTransfer?.files || [])];
    if (list.length) uploadAll(list);
  });

  show(
    el("nav", { "aria-label": "Folders" }, crumbs),
    el("div", { class: "toolbar" },
      mayAdd && el("button", { type: "button", id: "new-folder", onclick: async () => {
        const name = await textDialog("New folder", "Name", "", "Create");
        if (name) await act("New folder", () => call("POST", `${folderAPI(folder)}/folders/addUsingPath(DecodedUrl=${odataString(name)})`), `Created the folder “${name}”.`);
      } }, "New folder")),
    el("div", { class: "table-wrap" },
      el("table", { id: "library", class: "items" },
        el("caption", {}, rel.length ? `Contents of ${rel[rel.length - 1]}` : `Contents of ${lib.Title}`),
        el("thead", {}, el("tr", {}, th("Name"), th("Type"), th("Size"), th("Version"), th("Modified"), th("Actions"))),
        tbody)),
    empty,
    mayAdd && drop);
}

// previewDialog shows an image, a PDF or a text file in a dialog.
async function previewDialog(f, kind) {
  const src = web + fileAPI(f.ServerRelativeUrl) + "/$value";
  const dlg = el("dialog", { "aria-labelledby": "pv-h", class: "preview" });
  let body;
  if (kind === "image") body = el("img", { src, alt: f.Name });
  else if (kind === "pdf") {
    // The browser's own PDF viewer, in a frame of the site's origin (the
    // server lets only the site's pages frame passive content), with a
    // link for browsers that show no PDF inline.
    body = el("div", { class: "pdf-preview" },
      el("iframe", { src, title: `Preview of ${f.Name}` }),
      el("p", {}, el("a", { href: src, target: "_blank", rel: "noopener" }, `Open ${f.Name}`), " in a new tab."));
  }
  else {
    body = el("pre", { class: "text-preview", tabindex: "0" }, "Loading…");
    fetch(src, { credentials: "same-origin" }).then((r) => r.ok ? r.text() : Promise.reject(new Error(`The server answered ${r.status}.`)))
      .then((t) => { body.textContent = t.length > 200000 ? t.slice(0, 200000) + "\n…" : t; })
      .catch((e) => { body.textContent = e.message; });
  }
  dlg.append(el("h2", { id: "pv-h" }, f.Name), body,
    el("div", { class: "actions" }, el("button", { type: "button", onclick: () => dlg.close() }, "Close")));
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}

// versionsDialog lists a file's earlier versions; each can be downloaded
// or, with the right to edit, restored as the newest.
async function versionsDialog(f, mayEdit, reload) {
  const api = fileAPI(f.ServerRelativeUrl);
  let r;
  try {
    r = await call("GET", `${api}/versions?$select=ID,VersionLabel,Created,Size,CheckInComment,CreatedBy/Title&$expand=CreatedBy`);
  } catch (e) { say(e.message, true); return; }
  const dlg = el("dialog", { "aria-labelledby": "vs-h" });
  const tbody = el("tbody");
  for (const v of r.value || []) {
    tbody.append(el("tr", {},
      el("td", {}, el("a", { href: `${web}${api}/versions(${v.ID})/$value`, download: f.Name, "aria-label": `Download version ${v.VersionLabel}` }, v.VersionLabel)),
      el("td", {}, v.Created ? new Date(v.Created).toLocaleString() : ""),
      el("td", {}, v.CreatedBy?.Title || ""),
      el("td", {}, v.CheckInComment || ""),
      el("td", {}, mayEdit && el("button", { type: "button", "aria-label": `Restore version ${v.VersionLabel}`, onclick: async () => {
        try {
          await call("POST", `${api}/versions/restoreByLabel(versionlabel=${odataString(v.VersionLabel)})`);
          dlg.close();
          say(`Restored version ${v.VersionLabel} of “${f.Name}”.`);
          await reload();
        } catch (e) { say(e.message, true); }
      } }, "Restore"))));
  }
  const th = (t) => el("th", { scope: "col" }, t);
  dlg.append(el("h2", { id: "vs-h" }, `Versions of ${f.Name}`),
    tbody.rows.length === 0 ? el("p", {}, `No earlier versions; this is version ${f.UIVersionLabel}.`)
      : el("table", {}, el("thead", {}, el("tr", {}, th("Version"), th("Created"), th("By"), th("Comment"), th("Restore"))), tbody),
    el("div", { class: "actions" }, el("button", { type: "button", onclick: () => dlg.close() }, "Close")));
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}
