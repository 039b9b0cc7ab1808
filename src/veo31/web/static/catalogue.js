// The page's catalogue panel: a store's product export posted as one batch (/v1/batches), its progress and its
// products followed while it runs, its results downloaded; and the webhook receivers (/v1/webhooks). It uses the
// helpers app.js defines ($, api, apiJson, local, STATUS_WORDS, USE_CASE_WORDS, catalogueReady).
"use strict";

const BATCH_KEY = "veo31.batch";
const BATCH_PAGE = 100;
const batchState = { id: null, timer: null, shownRows: BATCH_PAGE };

function words(status) {
  return STATUS_WORDS[status] || status;
}

function countsText(counts) {
  const order = ["completed", "needs_review", "failed", "canceled", "generating", "submitted", "retrieving",
    "checking", "preparing", "queued"];
  return order.filter((status) => counts[status]).map((status) => `${counts[status]} ${words(status).toLowerCase()}`)
    .join(" · ");
}

async function startBatch(event) {
  event.preventDefault();
  const error = $("#batch-error");
  error.textContent = "";
  const file = $("#batch-file").files[0];
  if (!file) {
    error.textContent = "Choose the store export file first (a CSV, TSV or XML feed).";
    return;
  }
  const body = new FormData();
  body.append("file", file, file.name);
  const useCase = $("#batch-use-case").value;
  if (useCase) body.append("use_case", useCase);
  $("#batch-start").disabled = true;
  try {
    const batch = await apiJson("/v1/batches", { method: "POST", body });
    localStorage.setItem(BATCH_KEY, batch.id);
    batchState.shownRows = BATCH_PAGE;
    showBatch(batch);
  } catch (problem) {
    error.textContent = problem.message;
  } finally {
    $("#batch-start").disabled = false;
  }
}

function showBatch(batch) {
  batchState.id = batch.id;
  $("#batch-view").hidden = false;
  const name = batch.file_name ? `${batch.file_name} — ` : "";
  $("#batch-title").textContent = `${name}${batch.products} products (${batch.format_label})`;
  const done = ["completed", "needs_review", "failed", "canceled"].reduce((n, s) => n + (batch.counts[s] || 0), 0);
  const progress = $("#batch-progress");
  progress.max = Math.max(batch.products, 1);
  progress.value = done;
  const money = `$${batch.spent_usd.toFixed(2)} spent` +
    (batch.finished ? "" : `, about $${batch.estimated_to_finish_usd.toFixed(2)} to go`);
  const stateWords = batch.finished ? "Finished" : batch.state === "canceled" ? "Stopped" : "Running";
  $("#batch-summary").textContent = `${stateWords}: ${done} of ${batch.products} done — ${countsText(batch.counts)}. ${money}.`;
  $("#batch-skipped").replaceChildren(...batch.skipped.map((item) => {
    const li = document.createElement("li");
    li.textContent = `Row ${item.row} set aside: ${item.reason}`;
    return li;
  }));
  $("#batch-stop").hidden = batch.finished || batch.state === "canceled";
  $("#batch-again").hidden = !((batch.counts.failed || 0) + (batch.counts.canceled || 0));
  refreshProducts(batch.id);
  clearTimeout(batchState.timer);
  if (!batch.finished) batchState.timer = setTimeout(() => followBatch(batch.id), 2000);
}

async function followBatch(batchId) {
  if (batchState.id !== batchId) return;
  try {
    showBatch(await apiJson(`/v1/batches/${batchId}`));
  } catch (problem) {
    $("#batch-summary").textContent = `Could not read the batch: ${problem.message}`;
    batchState.timer = setTimeout(() => followBatch(batchId), 5000);
  }
}

async function refreshProducts(batchId) {
  const page = await apiJson(`/v1/batches/${batchId}/products?limit=${batchState.shownRows}`);
  const rows = page.items.map((item) => {
    const tr = document.createElement("tr");
    tr.dataset.status = item.status;
    const cells = [String(item.row), `${item.title} (${item.product_id})`, words(item.status),
      item.quality === "failed" ? `failed: ${item.quality_reasons}` : item.quality];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const clip = document.createElement("td");
    if (item.video_url) {
      const link = document.createElement("a");
      link.href = local(item.video_url);
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "Play";
      clip.append(link);
    } else if (item.error) {
      clip.textContent = item.error;
      clip.className = "error";
    }
    tr.append(clip);
    return tr;
  });
  $("#batch-products tbody").replaceChildren(...rows);
  $("#batch-more").hidden = page.next_after === null;
}

async function batchAction(path) {
  try {
    showBatch(await apiJson(`/v1/batches/${batchState.id}/${path}`, { method: "POST" }));
  } catch (problem) {
    $("#batch-summary").textContent = problem.message;
  }
}

// The results come through fetch (with the API token, when the server needs one), then as a file.
async function saveResults(event, kind) {
  event.preventDefault();
  const response = await api(`/v1/batches/${batchState.id}/results.${kind}`);
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `veo31-batch-${batchState.id}.${kind}`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

// -- webhooks ------------------------------------------------------------------------------------------------------

async function loadWebhooks() {
  const answer = await apiJson("/v1/webhooks");
  const box = $("#webhook-events");
  if (box.querySelectorAll("input").length === 0) {
    for (const name of answer.events) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = name;
      input.checked = name !== "deliverable.completed";
      label.append(input, ` ${name}`);
      box.append(label);
    }
  }
  $("#webhook-list").replaceChildren(...answer.items.map((item) => {
    const li = document.createElement("li");
    li.textContent = `${item.url} — ${item.events.join(", ")} `;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", `Remove the receiver ${item.url}`);
    remove.addEventListener("click", async () => {
      await api(`/v1/webhooks/${item.id}`, { method: "DELETE" });
      loadWebhooks();
    });
    li.append(remove);
    return li;
  }));
}

async function addWebhook(event) {
  event.preventDefault();
  const error = $("#webhook-error");
  error.textContent = "";
  const events = [...$("#webhook-events").querySelectorAll("input:checked")].map((input) => input.value);
  try {
    const made = await apiJson("/v1/webhooks", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ url: $("#webhook-url").value.trim(), events }),
    });
    const secret = $("#webhook-secret");
    secret.hidden = false;
    secret.textContent = `Signing secret (shown only now — keep it in the receiver): ${made.secret}`;
    $("#webhook-url").value = "";
    loadWebhooks();
  } catch (problem) {
    error.textContent = problem.message;
  }
}

async function startCataloguePanel() {
  $("#batch-form").addEventListener("submit", startBatch);
  $("#batch-stop").addEventListener("click", () => batchAction("cancel"));
  $("#batch-again").addEventListener("click", () => batchAction("retry"));
  $("#batch-csv").addEventListener("click", (event) => saveResults(event, "csv"));
  $("#batch-json").addEventListener("click", (event) => saveResults(event, "json"));
  $("#batch-more").addEventListener("click", () => {
    batchState.shownRows += BATCH_PAGE;
    refreshProducts(batchState.id);
  });
  $("#webhook-form").addEventListener("submit", addWebhook);
  try {
    await catalogueReady;
    fill($("#batch-use-case"), state.catalogue.limits.use_cases, USE_CASE_WORDS);
    await loadWebhooks();
    const kept = localStorage.getItem(BATCH_KEY);
    if (kept) showBatch(await apiJson(`/v1/batches/${kept}`));
  } catch (problem) {
    if (problem.status === 404) localStorage.removeItem(BATCH_KEY);
    else $("#batch-error").textContent = problem.message;
  }
}

document.addEventListener("DOMContentLoaded", startCataloguePanel);
