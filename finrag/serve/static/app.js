// finrag web page: plain JS, no build step. Every call sends the key from localStorage.
"use strict";

const $ = (sel) => document.querySelector(sel);
const KEY_STORE = "finrag.apiKey";
let apiKey = localStorage.getItem(KEY_STORE) || "";

function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${apiKey}`, ...extra };
}

async function api(path, options = {}) {
  const resp = await fetch(path, { ...options, headers: authHeaders(options.headers || {}) });
  if (!resp.ok) {
    let message = `${resp.status} ${resp.statusText}`;
    try {
      const body = await resp.json();
      if (body && body.error) message = body.error.message;
    } catch (_) { /* not JSON */ }
    const err = new Error(message);
    err.status = resp.status;
    throw err;
  }
  return resp;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

// --- key -----------------------------------------------------------------------------------------
async function checkKey() {
  const status = $("#key-status");
  if (!apiKey) { status.textContent = "enter a key (finrag keys create)"; return false; }
  try {
    await api("/v1/documents");
    status.textContent = "key ok";
    status.className = "status-succeeded";
    return true;
  } catch (e) {
    status.textContent = e.message;
    status.className = "error";
    return false;
  }
}

$("#key-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  apiKey = $("#api-key").value.trim();
  localStorage.setItem(KEY_STORE, apiKey);
  if (await checkKey()) refreshDocuments();
});

// --- documents and jobs --------------------------------------------------------------------------
async function refreshDocuments() {
  const tbody = $("#documents tbody");
  $("#docs-error").textContent = "";
  try {
    const { documents } = await (await api("/v1/documents")).json();
    tbody.replaceChildren(...documents.map((d) => el("tr", { "data-doc-id": d.doc_id },
      el("td", { title: d.doc_id }, d.name),
      el("td", {}, d.filing.company),
      el("td", {}, d.filing.doc_type),
      el("td", {}, d.filing.fiscal_year ?? ""),
      el("td", {}, d.pages),
      el("td", { class: `status-${d.status}`, title: d.error }, d.status),
      el("td", {}, el("button", { class: "link", type: "button", title: "delete", onclick: () => deleteDocument(d) }, "delete")),
    )));
  } catch (e) {
    $("#docs-error").textContent = e.message;
  }
}

async function deleteDocument(doc) {
  if (!confirm(`Delete ${doc.name}?`)) return;
  try {
    await api(`/v1/documents/${encodeURIComponent(doc.doc_id)}`, { method: "DELETE" });
  } catch (e) {
    $("#docs-error").textContent = e.message;
  }
  refreshDocuments();
}

function jobLine(job) {
  const extra = job.status === "succeeded" ? ` (${job.pages} pages)` : job.reason ? `: ${job.reason}` : "";
  return [el("span", {}, `${job.filename} `), el("span", { class: `status-${job.status}` }, job.status), extra];
}

async function pollJob(job, li) {
  while (job.status === "queued" || job.status === "running") {
    await new Promise((r) => setTimeout(r, 700));
    try {
      job = await (await api(job.url)).json();
    } catch (e) {
      li.replaceChildren(`${job.filename}: ${e.message}`);
      return;
    }
    li.replaceChildren(...jobLine(job));
  }
  li.dataset.status = job.status;
  refreshDocuments();
}

$("#upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const files = [...$("#file-input").files];
  for (const file of files) {
    const li = el("li", { "data-status": "uploading" }, `${file.name} uploading…`);
    $("#jobs").prepend(li);
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const job = await (await api("/v1/documents", { method: "POST", body: form })).json();
      li.replaceChildren(...jobLine(job));
      pollJob(job, li);
    } catch (e) {
      li.dataset.status = "failed";
      li.replaceChildren(el("span", { class: "status-failed" }, `${file.name}: ${e.message}`));
    }
  }
  $("#file-input").value = "";
});

// --- questions -----------------------------------------------------------------------------------
function filters() {
  const f = {};
  const company = $("#f-company").value.trim();
  const year = $("#f-year").value.trim();
  const form = $("#f-doctype").value;
  if (company) f.company = company;
  if (year) f.fiscal_year = Number(year);
  if (form) f.doc_type = form;
  return Object.keys(f).length ? f : null;
}

function showCitations(result) {
  const list = $("#citations");
  list.replaceChildren(...result.citations.map((c, i) => el("li", {},
    el("a", { "data-citation": i, onclick: () => openCitation(c) }, `${c.doc_name} p.${c.page}`),
    " ",
    el("span", { class: "quote" }, `“${c.quote}”`),
  )));
  const ms = result.timings_ms.total ?? "";
  $("#answer-meta").textContent =
    `${result.pipeline} · mode ${result.mode} · ${result.cached ? "cached" : `${ms} ms`} · scope: ${result.scope.note || "all filings"}`;
}

async function ask(ev) {
  ev.preventDefault();
  const question = $("#question").value.trim();
  if (!question) return;
  $("#ask-error").textContent = "";
  $("#answer-box").hidden = false;
  $("#answer").textContent = "";
  $("#citations").replaceChildren();
  $("#answer-meta").textContent = "thinking…";
  $("#ask-btn").disabled = true;
  const body = { question, mode: $("#mode").value, stream: true, filters: filters() };
  try {
    const resp = await api("/v1/query", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
    await readEvents(resp, (event, data) => {
      if (data === "[DONE]") return;
      const payload = JSON.parse(data);
      if (event === "citations") showCitations(payload);
      else if (event === "error") throw new Error(payload.error.message);
      else if (payload.delta !== undefined) $("#answer").textContent += payload.delta;
    });
  } catch (e) {
    $("#ask-error").textContent = e.message;
    $("#answer-meta").textContent = "";
  } finally {
    $("#ask-btn").disabled = false;
  }
}

// Minimal SSE reader over fetch (EventSource cannot send an Authorization header).
async function readEvents(resp, onEvent) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(event, data.join("\n"));
    }
  }
}

$("#ask-form").addEventListener("submit", ask);

// --- page viewer ---------------------------------------------------------------------------------
let pageUrl = null;

async function openCitation(c) {
  const dialog = $("#viewer");
  $("#viewer-title").textContent = `${c.doc_name}, page ${c.page}`;
  $("#viewer-quote").textContent = c.quote;
  const img = $("#viewer-img");
  img.removeAttribute("src");
  img.dataset.loaded = "false";
  dialog.showModal();
  try {
    // <img src> cannot carry the key: fetch the PNG and show it from a blob URL.
    const blob = await (await api(c.page_image_url)).blob();
    if (pageUrl) URL.revokeObjectURL(pageUrl);
    pageUrl = URL.createObjectURL(blob);
    img.onload = () => { img.dataset.loaded = "true"; };
    img.src = pageUrl;
  } catch (e) {
    $("#viewer-quote").textContent = `${c.quote}\n\n(page image: ${e.message})`;
  }
}

$("#viewer-close").addEventListener("click", () => $("#viewer").close());

// --- start ---------------------------------------------------------------------------------------
$("#api-key").value = apiKey;
checkKey().then((ok) => { if (ok) refreshDocuments(); });
