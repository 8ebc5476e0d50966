// finrag web page: plain JS, no build step. Every call sends the key from localStorage.
"use strict";

const $ = (sel) => document.querySelector(sel);
const KEY_STORE = "finrag.apiKey";
const FORMS = ["10-K", "10-Q", "8-K", "annual-report", "earnings", "other"];
let apiKey = localStorage.getItem(KEY_STORE) || "";
let knownDocs = []; // the tenant's documents, for the scope pickers
let lastQuestion = "";

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
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

function option(value, label, selected) {
  return el("option", { value, selected }, label);
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
  if (await checkKey()) { refreshDocuments(); refreshJobs(); }
});

// --- documents and jobs --------------------------------------------------------------------------
function progressCell(d) {
  const p = d.progress || { stage: d.status, pages_parsed: d.pages, pages_embedded: 0 };
  const total = Math.max(p.pages_parsed, 1);
  const words = {
    queued: "queued",
    embedding: `${p.pages_parsed} pages parsed, embedding…`,
    done: `${p.pages_embedded}/${p.pages_parsed} pages embedded`,
    failed: "failed",
  }[p.stage] || p.stage;
  return el("td", { class: "progress-cell" },
    el("progress", { max: total, value: p.pages_embedded, "aria-label": `${d.name}: ${words}` }),
    el("span", { class: "small" }, ` ${words}`));
}

function corrected(d, field) {
  return (d.corrected || []).includes(field) ? el("span", { class: "tag", title: "set by a person, not detected from the filing" }, "corrected") : "";
}

function docRow(d) {
  const f = d.filing;
  return el("tr", { "data-doc-id": d.doc_id, "data-status": d.status },
    el("td", { title: d.doc_id }, d.name),
    el("td", { "data-field": "company" }, f.company || "—", " ", corrected(d, "company")),
    el("td", { "data-field": "doc_type" }, f.doc_type, " ", corrected(d, "doc_type")),
    el("td", { "data-field": "fiscal_year" }, f.fiscal_year ?? "—", " ", corrected(d, "fiscal_year")),
    progressCell(d),
    el("td", { class: `status-${d.status}` }, d.status,
      d.error ? el("div", { class: "reason" }, d.error) : ""),
    el("td", { class: "actions" },
      d.status === "ready"
        ? el("button", { class: "link", type: "button", "aria-label": `Correct company, form or year of ${d.name}`,
          onclick: () => editDocument(d) }, "edit")
        : "",
      el("button", { class: "link danger", type: "button", "aria-label": `Delete ${d.name}`,
        onclick: () => deleteDocument(d) }, "delete")),
  );
}

async function refreshDocuments() {
  const tbody = $("#documents tbody");
  $("#docs-error").textContent = "";
  try {
    const { documents } = await (await api("/v1/documents")).json();
    knownDocs = documents;
    tbody.replaceChildren(...documents.map(docRow));
  } catch (e) {
    $("#docs-error").textContent = e.message;
  }
}

// Correct what was detected from the cover page: PATCH re-scopes the filing without re-embedding it.
function editDocument(d) {
  const row = document.querySelector(`#documents tr[data-doc-id="${CSS.escape(d.doc_id)}"]`);
  const f = d.filing;
  const id = (name) => `edit-${name}-${d.doc_id}`;
  const form = el("form", { class: "edit-form", "aria-label": `Correct ${d.name}` },
    el("label", { for: id("company") }, "Company"),
    el("input", { id: id("company"), name: "company", type: "text", value: f.company, required: true, maxlength: 200 }),
    el("label", { for: id("doc_type") }, "Form"),
    el("select", { id: id("doc_type"), name: "doc_type" }, ...FORMS.map((t) => option(t, t, t === f.doc_type))),
    el("label", { for: id("fiscal_year") }, "Fiscal year"),
    el("input", { id: id("fiscal_year"), name: "fiscal_year", type: "number", min: 1900, max: 2100,
      value: f.fiscal_year ?? "" }),
    el("button", { type: "submit" }, "Save"),
    el("button", { type: "button", class: "secondary", onclick: () => cancelEdit(d) }, "Cancel"),
    el("span", { class: "error", role: "alert" }),
  );
  form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { ev.preventDefault(); cancelEdit(d); } });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const year = form.elements.fiscal_year.value.trim();
    const body = {
      company: form.elements.company.value.trim(),
      doc_type: form.elements.doc_type.value,
      fiscal_year: year ? Number(year) : null,
    };
    try {
      await api(`/v1/documents/${encodeURIComponent(d.doc_id)}`, {
        method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      await refreshDocuments();
      focusEdit(d);
    } catch (e) {
      form.querySelector(".error").textContent = e.message;
    }
  });
  row.replaceChildren(el("td", { colspan: 7 }, el("strong", {}, d.name), form));
  form.elements.company.focus();
}

function focusEdit(d) {
  const again = document.querySelector(`#documents tr[data-doc-id="${CSS.escape(d.doc_id)}"] button`);
  if (again) again.focus();
}

async function cancelEdit(d) {
  await refreshDocuments();
  focusEdit(d); // keyboard users land where they were
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
  const extra = job.status === "succeeded" ? ` (${job.pages} pages)`
    : job.status === "running" ? " (parsing and embedding…)"
      : job.reason ? `: ${job.reason}` : "";
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
    li.dataset.status = job.status;
    if (job.status === "running") refreshDocuments(); // the filing appears once parsed
  }
  li.dataset.status = job.status;
  refreshDocuments();
}

// Recent jobs: failures keep their reason visible after a reload; running ones are followed.
async function refreshJobs() {
  try {
    const { jobs } = await (await api("/v1/jobs?limit=20")).json();
    const shown = new Set([...document.querySelectorAll("#jobs li[data-job-id]")].map((li) => li.dataset.jobId));
    for (const job of jobs.filter((j) => j.status !== "succeeded" && !shown.has(j.job_id)).reverse()) {
      const li = el("li", { "data-status": job.status, "data-job-id": job.job_id }, ...jobLine(job));
      $("#jobs").prepend(li);
      if (job.status === "queued" || job.status === "running") pollJob(job, li);
    }
  } catch (_) { /* the documents table reports key problems */ }
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
      li.dataset.jobId = job.job_id;
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
function filtersFromForm() {
  const f = {};
  const company = $("#f-company").value.trim();
  const year = $("#f-year").value.trim();
  const form = $("#f-doctype").value;
  if (company) f.company = company;
  if (year) f.fiscal_year = Number(year);
  if (form) f.doc_type = form;
  return Object.keys(f).length ? f : null;
}

function fillFilterForm(f) {
  $("#f-company").value = (f && f.company) || "";
  $("#f-year").value = (f && f.fiscal_year) || "";
  $("#f-doctype").value = (f && f.doc_type) || "";
}

function pageOf(c) {
  return `${c.doc_name} p.${c.page}`;
}

function showCitations(result) {
  const list = $("#citations");
  list.replaceChildren(...result.citations.map((c, i) => el("li", {},
    el("a", { href: `#source-${i + 1}`, "data-citation": i, onclick: (ev) => { ev.preventDefault(); openPage(c, ev.currentTarget); } },
      pageOf(c)),
    " ",
    el("span", { class: "quote" }, `“${c.quote}”`),
  )));
  const ms = result.timings_ms.total ?? "";
  $("#answer-meta").textContent =
    `${result.pipeline} · mode ${result.mode} · ${result.cached ? "cached" : `${ms} ms`}`;
}

function showTrust(result) {
  const t = result.trust;
  const box = $("#trust");
  box.hidden = false;
  const summary = $("#trust-summary");
  const reasons = $("#trust-reasons");
  if (!t) {
    summary.replaceChildren(el("span", { class: "badge" }, "no trust check"), " No check of this answer's figures ran.");
    reasons.replaceChildren();
    box.dataset.trusted = "unknown";
    return;
  }
  box.dataset.trusted = String(t.trusted);
  summary.replaceChildren(
    el("span", { class: `badge ${t.trusted ? "good" : "bad"}` }, t.trusted ? "trusted" : "not trusted"),
    ` score ${t.score.toFixed(2)} `,
    t.trusted ? `(the line is ${t.threshold.toFixed(2)})` : `(under the line of ${t.threshold.toFixed(2)}: check the sources)`,
  );
  reasons.replaceChildren(
    ...t.failed.map((r) => el("li", { class: "failed" }, el("span", { class: "mark", "aria-hidden": "true" }, "✗ "),
      el("span", { class: "visually-hidden" }, "Failed: "), r)),
    ...t.passed.map((r) => el("li", { class: "passed" }, el("span", { class: "mark", "aria-hidden": "true" }, "✓ "),
      el("span", { class: "visually-hidden" }, "Passed: "), r)),
  );
}

function showScope(result) {
  const s = result.scope || {};
  $("#scope").hidden = false;
  const note = s.note || (s.applied ? "" : "no filter: every filing was searched");
  $("#scope-note").textContent = s.company_missing
    ? `${note}${note ? " · " : ""}the question names no company: pick one to narrow the search`
    : note;
  const companies = [...new Set([...knownDocs.map((d) => d.filing.company).filter(Boolean), ...(s.companies || [])])].sort();
  const years = [...new Set([...knownDocs.map((d) => d.filing.fiscal_year).filter(Boolean), ...(s.fiscal_years || [])])].sort();
  const one = (list) => (list && list.length === 1 ? String(list[0]) : "");
  const anyLabel = (list, what) => (list && list.length > 1 ? `${list.join(", ")}` : `any ${what}`);
  $("#scope-company").replaceChildren(option("", anyLabel(s.companies, "company"), !one(s.companies)),
    ...companies.map((c) => option(c, c, c === one(s.companies))));
  $("#scope-year").replaceChildren(option("", anyLabel(s.fiscal_years, "year"), !one(s.fiscal_years)),
    ...years.map((y) => option(String(y), `FY${y}`, String(y) === one(s.fiscal_years))));
  $("#scope-form").replaceChildren(option("", anyLabel(s.doc_types, "form"), !one(s.doc_types)),
    ...FORMS.map((t) => option(t, t, t === one(s.doc_types))));
  for (const id of ["#scope-company", "#scope-year", "#scope-form"]) $(id).dataset.scope = $(id).value;
}

// One change of the understood scope asks the question again with explicit filters.
function rescope() {
  const f = {};
  const company = $("#scope-company").value;
  const year = $("#scope-year").value;
  const form = $("#scope-form").value;
  if (company) f.company = company;
  if (year) f.fiscal_year = Number(year);
  if (form) f.doc_type = form;
  if (!Object.keys(f).length) return everyFiling();
  fillFilterForm(f);
  run(lastQuestion, f);
}

function everyFiling() {
  // No filter means "infer it again": every ready filing named explicitly is the whole index.
  const ids = knownDocs.filter((d) => d.status === "ready").map((d) => d.doc_id).slice(0, 200);
  fillFilterForm(null);
  run(lastQuestion, ids.length ? { doc_ids: ids } : null);
}

for (const id of ["#scope-company", "#scope-year", "#scope-form"]) $(id).addEventListener("change", rescope);
$("#scope-all").addEventListener("click", everyFiling);

// Calculator values are in base units (dollars, shares, percent points): large ones in millions.
function amount(value) {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toLocaleString("en-US", { maximumFractionDigits: 3 })} billion`;
  if (abs >= 1e6) return `${(value / 1e6).toLocaleString("en-US", { maximumFractionDigits: 1 })} million`;
  return value.toLocaleString("en-US", { maximumFractionDigits: 4 });
}

function withUnit(value, unit) {
  if (unit === "%") return `${value.toFixed(1)}%`;
  if (unit === "x") return `${value.toFixed(2)}x`;
  if (unit === "days") return `${value.toFixed(1)} days`;
  if (unit === "USD") return `$${amount(value)}`;
  return amount(value);
}

// The citation an input was read from: same page, the quote sharing most words with the input's label
// (its boxes mark the row on the page).
function citedRow(result, input) {
  const words = (t) => new Set(t.toLowerCase().match(/[a-z]{3,}/g) || []);
  const want = words(input.label);
  let best = null;
  let bestScore = -1;
  for (const c of result.citations) {
    if (c.doc_id !== input.doc_id || c.page !== input.page) continue;
    const score = [...words(c.quote)].filter((w) => want.has(w)).length;
    if (score > bestScore) { best = c; bestScore = score; }
  }
  return best ? { boxes: best.boxes, page_width: best.page_width, page_height: best.page_height } : {};
}

const isStep = (i) => i.from_step !== null && i.from_step !== undefined;

function showCalculation(result) {
  const steps = result.calculation || [];
  $("#calc").hidden = steps.length === 0;
  $("#calc-steps").replaceChildren(...steps.map((step, n) => el("table", { class: "calc", "data-step": n },
    el("caption", {}, `Step ${n + 1}: ${step.formula}`),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Input"), el("th", { scope: "col" }, "Value"),
      el("th", { scope: "col" }, "Read from"))),
    el("tbody", {},
      ...step.inputs.map((i) => el("tr", {},
        el("th", { scope: "row" }, i.label),
        el("td", { class: "num" }, isStep(i) ? withUnit(i.value, steps[i.from_step].unit) : amount(i.value)),
        el("td", {}, i.page_image_url
          ? el("a", { href: `#calc-${n}`, class: "calc-source", onclick: (ev) => {
            ev.preventDefault();
            openPage({ ...citedRow(result, i), doc_name: i.doc_name, page: i.page, page_image_url: i.page_image_url,
              quote: `${i.label}: ${amount(i.value)}` }, ev.currentTarget);
          } }, `${i.doc_name} p.${i.page}`)
          : isStep(i) ? `result of step ${i.from_step + 1}` : "—"),
      ))),
    el("tfoot", {}, el("tr", {},
      el("th", { scope: "row" }, "Result"),
      el("td", { class: "num" }, withUnit(step.result, step.unit)),
      el("td", { class: "muted" }, step.expression))),
  )));
}

function showResult(result) {
  $("#draft-box").hidden = true;
  $("#answer").textContent = result.answer;
  showCitations(result);
  showTrust(result);
  showScope(result);
  showCalculation(result);
}

function resetAnswer() {
  $("#ask-error").textContent = "";
  $("#answer-box").hidden = false;
  $("#draft-box").hidden = true;
  $("#draft").textContent = "";
  $("#answer").textContent = "";
  $("#citations").replaceChildren();
  for (const id of ["#trust", "#scope", "#calc"]) $(id).hidden = true;
  $("#answer-meta").textContent = "thinking…";
}

async function run(question, filters) {
  if (!question) return;
  lastQuestion = question;
  resetAnswer();
  $("#ask-btn").disabled = true;
  $("#answer-box").setAttribute("aria-busy", "true");
  // drafts: the model's text as it comes, shown apart and labelled unchecked until the answer replaces it
  const body = { question, mode: $("#mode").value, stream: true, drafts: true, filters };
  try {
    const resp = await api("/v1/query", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
    await readEvents(resp, (event, data) => {
      if (data === "[DONE]") return;
      const payload = JSON.parse(data);
      if (event === "draft") {
        // The model's text as it comes: a preview, replaced by the checked answer.
        $("#draft-box").hidden = false;
        $("#answer-meta").textContent = "the language model is writing…";
        if (payload.start) $("#draft").textContent = "";
        else $("#draft").textContent += payload.delta;
      } else if (event === "citations") showResult(payload);
      else if (event === "error") throw new Error(payload.error.message);
      else if (payload.delta !== undefined) {
        $("#draft-box").hidden = true;
        $("#answer").textContent += payload.delta;
      }
    });
  } catch (e) {
    $("#ask-error").textContent = e.message;
    $("#answer-meta").textContent = "";
  } finally {
    $("#ask-btn").disabled = false;
    $("#answer-box").removeAttribute("aria-busy");
  }
}

$("#ask-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  run($("#question").value.trim(), filtersFromForm());
});

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

// --- page viewer ---------------------------------------------------------------------------------
let pageUrl = null;
let opener = null;

// Evidence boxes are in PDF points, origin top-left, on a page of page_width x page_height points:
// placed in percent of the page, they follow the image at whatever size it is shown.
function drawBoxes(c) {
  const marks = $("#viewer-marks");
  const boxes = Array.isArray(c.boxes) ? c.boxes : [];
  const w = Number(c.page_width) || 0;
  const h = Number(c.page_height) || 0;
  if (!boxes.length || !w || !h) { marks.replaceChildren(); return 0; }
  marks.replaceChildren(...boxes.map((b) => {
    const box = el("div", { class: "highlight" });
    box.style.left = `${(100 * b.x0) / w}%`;
    box.style.top = `${(100 * b.y0) / h}%`;
    box.style.width = `${(100 * (b.x1 - b.x0)) / w}%`;
    box.style.height = `${(100 * (b.y1 - b.y0)) / h}%`;
    return box;
  }));
  return boxes.length;
}

async function openPage(c, from) {
  opener = from || document.activeElement;
  const dialog = $("#viewer");
  $("#viewer-title").textContent = `${c.doc_name}, page ${c.page}`;
  $("#viewer-quote").textContent = c.quote || "";
  const img = $("#viewer-img");
  img.alt = `Page ${c.page} of ${c.doc_name}`;
  img.removeAttribute("src");
  img.dataset.loaded = "false";
  $("#viewer-marks").replaceChildren();
  $("#viewer-note").textContent = "";
  dialog.showModal();
  try {
    // <img src> cannot carry the key: fetch the PNG and show it from a blob URL.
    const blob = await (await api(c.page_image_url)).blob();
    if (pageUrl) URL.revokeObjectURL(pageUrl);
    pageUrl = URL.createObjectURL(blob);
    img.onload = () => {
      const n = drawBoxes(c);
      $("#viewer-note").textContent = n ? `The quoted text is highlighted (${n} box${n > 1 ? "es" : ""}).` : "";
      const first = $("#viewer-marks .highlight");
      if (first) first.scrollIntoView({ block: "center" });
      img.dataset.loaded = "true";
    };
    img.src = pageUrl;
  } catch (e) {
    $("#viewer-quote").textContent = `${c.quote || ""}\n\n(page image: ${e.message})`;
  }
}

$("#viewer-close").addEventListener("click", () => $("#viewer").close());
$("#viewer").addEventListener("close", () => { if (opener && opener.isConnected) opener.focus(); });

// --- start ---------------------------------------------------------------------------------------
$("#api-key").value = apiKey;
checkKey().then((ok) => { if (ok) { refreshDocuments(); refreshJobs(); } });
