// veo31's page. Everything it shows comes from the API: the form's choices from /v1/providers, a generation's
// progress from its Server-Sent Events, the gallery from /v1/generations. The browser never talks to a provider,
// and nothing is kept here but the API token a person typed (localStorage) and the open generation (the URL hash).
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const TOKEN_KEY = "veo31.token";
const STEPS = ["preparing", "submitted", "generating", "retrieving", "checking", "completed"];
const STATUS_WORDS = {
  queued: "Waiting for its turn",
  preparing: "Analysing the photos and writing the prompt",
  submitted: "Sent to the provider",
  generating: "The provider is making the video",
  retrieving: "Downloading and verifying the video",
  checking: "Checking the video against your photos",
  needs_review: "Needs your review",
  completed: "Ready",
  failed: "Failed",
  canceled: "Canceled",
};
const USE_CASE_WORDS = {
  product_video: "Product video",
  hero_image: "Hero shot",
  gemstone_closeup: "Gemstone close-up",
  luxury_brand: "Luxury brand",
  general: "General",
  lifestyle: "Lifestyle",
  unboxing: "Unboxing",
  social_vertical: "Social (vertical)",
  turntable_360: "360° turntable",
};
const MODE_WORDS = {
  auto: "Automatic",
  reference: "Product reference (1–3 photos)",
  first_frame: "First frame (1 photo)",
  first_last: "First and last frame (2 photos)",
  text: "Text only",
};
// Settled: nothing more happens without a person (ended, or held by the quality gate for a review).
const SETTLED = new Set(["completed", "failed", "canceled", "needs_review"]);
const CHECK_WORDS = {
  decodes: "Decodes", duration: "Duration", resolution: "Resolution", aspect: "Aspect ratio", frame_rate: "Frame rate",
  audio: "Sound", black: "Black frames", frozen: "Frozen picture", flicker: "Flicker", letterbox: "Letterbox bars",
  product: "Product recognised", colour: "Colour", detail: "Label, logo and shape", label: "Label text",
  first_frame: "First frame", last_frame: "Last frame", judge: "Vision model",
};

const state = {
  catalogue: null,        // /v1/providers
  images: [],             // [{file, url}] in the order they will be sent
  watching: null,         // the generation shown in the watch panel
  target: null,           // the id of the generation the panel shows (set before its data arrives)
  streams: new Map(),     // generation id → AbortController of its event stream
  elapsedTimer: null,
  galleryCursor: null,
  cardsTimer: null,
  presets: null,          // /v1/presets, asked once when a finished video is first shown
  kits: null,             // /v1/brand-kits, asked with them
  channelsTimer: null,
  written: { prompt: "", negative: "" }, // what "Analyse & write" put in the prompt fields
};
const DEFAULT_DURATION = 8; // the first video's length everywhere (the API's and the CLI's default too)

// -- talking to the API ----------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.error)) || `the server answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

// Links in answers are absolute (built from VEO31_PUBLIC_URL); the page always talks to its own origin.
function local(url) {
  if (!url) return url;
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (token()) headers.set("Authorization", `Bearer ${token()}`);
  const response = await fetch(local(path), { ...options, headers });
  if (response.status === 401) {
    await askForToken(token() ? "That token was not accepted; check it and try again." : "");
    return api(path, options);
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { body = null; }
    throw new ApiError(response.status, body);
  }
  return response;
}

async function apiJson(path, options) {
  return (await api(path, options)).json();
}

let tokenWaiters = [];
function askForToken(message) {
  const dialog = $("#token-dialog");
  $("#token-error").textContent = message;
  $("#token-button").hidden = false;
  if (!dialog.open) {
    $("#token-input").value = "";
    dialog.showModal();
  }
  return new Promise((resolve) => tokenWaiters.push(resolve));
}

function setUpTokenDialog() {
  $("#token-form").addEventListener("submit", () => {
    $("#token-error").textContent = "";
    const value = $("#token-input").value.trim();
    if (!value) return;
    localStorage.setItem(TOKEN_KEY, value);
    const waiters = tokenWaiters;
    tokenWaiters = [];
    waiters.forEach((resolve) => resolve());
  });
  $("#token-dialog").addEventListener("cancel", (event) => event.preventDefault());
  $("#token-button").addEventListener("click", () => askForToken("").then(() => location.reload()));
}

// A generation's events over fetch (not EventSource, which cannot send the Authorization header).
async function follow(id, onGeneration, key = id) {
  stopFollowing(key);
  const controller = new AbortController();
  state.streams.set(key, controller);
  let last = null;
  while (!controller.signal.aborted) {
    try {
      const response = await api(`/v1/generations/${id}/events`, {
        headers: { Accept: "text/event-stream" },
        signal: controller.signal,
      });
      await readEvents(response, (data) => {
        last = JSON.parse(data);
        onGeneration(last);
      });
    } catch (error) {
      if (controller.signal.aborted) return;
      if (error instanceof ApiError && error.status === 404) return;
    }
    if (last && SETTLED.has(last.status)) break;
    await sleep(1500); // the connection dropped (server restart, network): pick the stream up again
  }
  if (state.streams.get(key) === controller) state.streams.delete(key);
}

function stopFollowing(key) {
  const controller = state.streams.get(key);
  if (controller) controller.abort();
  state.streams.delete(key);
}

async function readEvents(response, onData) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    // Event boundaries are blank lines; sse-starlette ends lines with \r\n. A lone \r at the end may be the
    // first half of a \r\n still on its way, so it waits for the next chunk.
    const complete = buffer.endsWith("\r") ? buffer.slice(0, -1) : buffer;
    const normalised = complete.replace(/\r\n?/g, "\n");
    const end = normalised.lastIndexOf("\n\n");
    if (end < 0) continue;
    buffer = normalised.slice(end + 2) + (buffer.endsWith("\r") ? "\r" : "");
    for (const block of normalised.slice(0, end).split("\n\n")) {
      const data = block.split("\n").filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
      if (data) onData(data);
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// -- the form ----------------------------------------------------------------------------------------------------

function option(value, text, disabled = false) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  element.disabled = disabled;
  return element;
}

function fill(select, values, words = {}, keep = true, preferred = null) {
  const previous = select.value;
  select.replaceChildren(...values.map((value) => option(value, words[value] || value)));
  if (keep && values.map(String).includes(previous)) select.value = previous;
  else if (preferred !== null && values.length) {
    select.value = String(values.reduce((best, value) => (
      Math.abs(value - preferred) < Math.abs(best - preferred) ? value : best)));
  }
}

// Allowed numbers as a person reads them: a run as "2–30", a few as "4, 6 or 8".
function spokenNumbers(values) {
  const run = values.length > 2 && values.every((value, index) => index === 0 || value === values[index - 1] + 1);
  if (run) return `${values[0]}–${values[values.length - 1]}`;
  return values.length > 1 ? `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}` : String(values[0]);
}

function chosenProvider() {
  const catalogue = state.catalogue;
  const name = $("#provider").value === "auto" ? catalogue.auto : $("#provider").value;
  return catalogue.providers.find((provider) => provider.name === name) || null;
}

function imageCount() {
  return state.images.length + urlList().length;
}

function urlList() {
  return $("#image-urls").value.split(/\s+/).map((url) => url.trim()).filter(Boolean);
}

function refreshChoices() {
  const provider = chosenProvider();
  const note = $("#provider-note");
  const generate = $("#generate");
  if (!provider || !provider.capabilities) {
    note.textContent = provider ? provider.reason : "No provider is configured on this server.";
    generate.disabled = true;
    return;
  }
  generate.disabled = false;
  const caps = provider.capabilities;
  const modes = ["auto", ...Object.keys(caps.images).filter((mode) => {
    const [low, high] = caps.images[mode];
    return imageCount() >= low && imageCount() <= high;
  })];
  fill($("#mode"), modes, MODE_WORDS);
  const mode = $("#mode").value;
  fill($("#model-tier"), caps.tiers_by_mode[mode] || caps.model_tiers, { fast: "Fast", quality: "Quality", lite: "Lite" });
  fill($("#aspect-ratio"), caps.aspect_ratios, { "16:9": "16:9 landscape", "9:16": "9:16 vertical" });
  const tier = $("#model-tier").value;
  fill($("#resolution"), (caps.resolutions_by_tier || {})[tier] || caps.resolutions, { "4k": "4K" });
  fill($("#fps"), caps.frame_rates.map(String), Object.fromEntries(caps.frame_rates.map((r) => [r, `${r} fps`])));
  $("#fps").disabled = caps.frame_rates.length < 2;
  let durations = caps.durations;
  const byResolution = caps.durations_by_resolution[$("#resolution").value];
  if (byResolution) durations = durations.filter((d) => byResolution.includes(d));
  const byMode = caps.durations_by_mode[mode];
  if (byMode) durations = durations.filter((d) => byMode.includes(d));
  const durationsWords = Object.fromEntries(durations.map((d) => [d, `${d} s`]));
  fill($("#duration"), durations, durationsWords, true, DEFAULT_DURATION);
  const label = $("#provider").value === "auto" ? `Auto uses ${provider.label}. ` : "";
  note.textContent = `${label}${provider.label} makes ${spokenNumbers(durations)} s videos` +
    (caps.upgrades.length ? `, and can upgrade a finished one to ${caps.upgrades.map((u) => u.resolution).join(" or ")}.` : ".");
  describePrompt(provider);
  refreshEstimate();
}

// What the chosen provider does with the prompt: Veo follows it; the local renderer animates the photos alone.
function describePrompt(provider) {
  if (provider.capabilities.follows_prompt === false) {
    $("#prompt-legend").textContent = `3 · The prompt (the ${provider.label.toLowerCase()} does not use it)`;
    $("#prompt-note").textContent = `The ${provider.label.toLowerCase()} animates your photos and does not read ` +
      "the prompt: the product lifted off its backdrop and moved with depth, a light sweep, an end card with its " +
      "name, a quiet music bed. A prompt written here is kept with the video, ready for making it with Veo later.";
  } else {
    $("#prompt-legend").textContent = `3 · The prompt Veo will get through ${provider.label} (optional)`;
    $("#prompt-note").textContent = "Leave it empty and veo31 writes it from your photos when you press " +
      "Generate (you will find it in the video's details). To read and edit it first, write it now.";
  }
}

// The cost shown before deciding comes from the server's price settings (/v1/estimate), never a copy here.
let estimateTimer = null;
function refreshEstimate() {
  clearTimeout(estimateTimer);
  estimateTimer = setTimeout(showEstimate, 150);
}

async function showEstimate() {
  const query = new URLSearchParams({
    provider: $("#provider").value || "auto",
    model_tier: $("#model-tier").value || "fast",
    duration_seconds: $("#duration").value || "8",
    resolution: $("#resolution").value || "720p",
    aspect_ratio: $("#aspect-ratio").value || "16:9",
    mode: $("#mode").value || "auto",
    images: String(imageCount()),
  });
  const shown = $("#estimate");
  try {
    const body = await apiJson(`/v1/estimate?${query}`);
    if (!body.possible) {
      shown.textContent = body.reason || "";
      return;
    }
    const left = body.budget_left_usd === null ? "" : ` · $${body.budget_left_usd.toFixed(2)} left under the budget cap`;
    const cost = body.estimate_usd > 0 ? `$${body.estimate_usd.toFixed(2)} (${body.basis})` : "free";
    shown.textContent = `Estimated cost with ${body.provider_label}: ${cost}${left}`;
  } catch (error) {
    shown.textContent = "";
  }
}

// Photos picked before the capabilities have arrived (a quick hand, a slow server) wait for them.
let catalogueArrived;
const catalogueReady = new Promise((resolve) => { catalogueArrived = resolve; });

async function loadCatalogue() {
  state.catalogue = await apiJson("/v1/providers");
  catalogueArrived();
  const { providers, auto, limits } = state.catalogue;
  fill($("#use-case"), limits.use_cases, USE_CASE_WORDS);
  const autoLabel = providers.find((p) => p.name === auto);
  const select = $("#provider");
  select.replaceChildren(
    option("auto", autoLabel ? `Auto (${autoLabel.label})` : "Auto (none configured)", !auto),
    ...providers.map((p) => option(p.name, p.available ? p.label : `${p.label} — not available`, !p.available)),
  );
  select.value = auto ? "auto" : "";
  refreshChoices();
}

// Checked when picked, in the server's own words (the server still decides when the photo is sent): a file that
// only has a photo's name is refused now, not after pressing Generate.
async function checkImage(file) {
  const { max_image_bytes: maxBytes, image_types: types, min_image_side: minSide } = state.catalogue.limits;
  if (!types.includes(file.type)) return `${file.name} is not a JPEG, PNG or WebP photo`;
  if (file.size > maxBytes) return `${file.name} is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${maxBytes / 1048576} MB`;
  let size;
  try {
    const bitmap = await createImageBitmap(file);
    size = [bitmap.width, bitmap.height];
    bitmap.close();
  } catch {
    return `${file.name} is not a readable JPEG, PNG or WebP image`;
  }
  if (Math.min(...size) < minSide) return `${file.name} is ${size[0]}×${size[1]}; at least ${minSide} px a side is needed`;
  return null;
}

async function addFiles(files) {
  await catalogueReady;
  const problems = [];
  const max = state.catalogue.limits.max_images;
  for (const file of files) {
    const problem = await checkImage(file);
    if (problem) problems.push(problem);
    else if (imageCount() >= max) problems.push(`at most ${max} photos: ${file.name} was left out`);
    else state.images.push({ file, url: URL.createObjectURL(file) });
  }
  showFormError(problems.join("; "));
  renderPreviews();
}

function renderPreviews() {
  const list = $("#previews");
  const count = state.images.length;
  list.replaceChildren(...state.images.map((image, index) => {
    const item = document.createElement("li");
    const picture = document.createElement("img");
    picture.src = image.url;
    picture.alt = `Photo ${index + 1}: ${image.file.name}`;
    const caption = document.createElement("span");
    caption.textContent = count > 1 && index === 0 ? "1 · first" : count > 1 && index === count - 1 ? `${index + 1} · last` : `${index + 1}`;
    const buttons = document.createElement("span");
    buttons.className = "tools";
    buttons.append(
      tool("←", `Move photo ${index + 1} earlier`, index === 0, () => move(index, -1)),
      tool("→", `Move photo ${index + 1} later`, index === count - 1, () => move(index, 1)),
      tool("✕", `Remove photo ${index + 1}`, false, () => removeImage(index)),
    );
    item.append(picture, caption, buttons);
    return item;
  }));
  refreshChoices();
}

function tool(text, label, disabled, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "tool";
  button.textContent = text;
  button.setAttribute("aria-label", label);
  button.disabled = disabled;
  button.addEventListener("click", action);
  return button;
}

function move(index, step) {
  const [image] = state.images.splice(index, 1);
  state.images.splice(index + step, 0, image);
  renderPreviews();
}

function removeImage(index) {
  URL.revokeObjectURL(state.images[index].url);
  state.images.splice(index, 1);
  renderPreviews();
}

function showFormError(message) {
  $("#form-error").textContent = message || "";
}

function formData(withPrompt) {
  const data = new FormData();
  state.images.forEach((image) => data.append("images", image.file, image.file.name));
  urlList().forEach((url) => data.append("image_urls", url));
  const fields = {
    use_case: $("#use-case").value,
    provider: $("#provider").value,
    model_tier: $("#model-tier").value,
    mode: $("#mode").value,
    duration_seconds: $("#duration").value,
    aspect_ratio: $("#aspect-ratio").value,
    resolution: $("#resolution").value,
    fps: $("#fps").disabled ? "" : $("#fps").value,
    product_name: $("#product-name").value.trim(),
    extra_prompt: $("#extra-prompt").value.trim(),
  };
  if (withPrompt) {
    // What the page wrote and nobody changed is left to the server, which writes it the same way and records
    // that veo31 wrote it; what a person typed or changed is sent as it stands.
    const prompt = $("#prompt").value.trim();
    const negative = $("#negative-prompt").value.trim();
    if (prompt !== state.written.prompt) fields.prompt = prompt;
    if (fields.prompt || negative !== state.written.negative) fields.negative_prompt = negative;
  }
  for (const [name, value] of Object.entries(fields)) if (value) data.append(name, value);
  return data;
}

function checkForm() {
  if (!state.catalogue) return "still loading what the providers can make; try again in a moment";
  const max = state.catalogue.limits.max_images;
  if (imageCount() > max) return `at most ${max} photos or URLs in all, not ${imageCount()}`;
  const bad = urlList().find((url) => !/^https?:\/\/\S+$/i.test(url));
  if (bad) return `${bad} is not an http(s) URL`;
  return null;
}

async function writePrompt() {
  const problem = checkForm();
  if (problem) return showFormError(problem);
  showFormError("");
  const button = $("#write-prompt");
  button.disabled = true;
  $("#analysis-summary").textContent = "Looking at the photos…";
  try {
    const written = await apiJson("/v1/analyses", { method: "POST", body: formData(false) });
    $("#prompt").value = written.prompt;
    $("#negative-prompt").value = written.negative_prompt || "";
    state.written = { prompt: written.prompt.trim(), negative: (written.negative_prompt || "").trim() };
    $("#analysis-summary").textContent = written.analysis.summary || "";
  } catch (error) {
    $("#analysis-summary").textContent = "";
    showFormError(error.message);
  } finally {
    button.disabled = false;
  }
}

async function generate(event) {
  event.preventDefault();
  const problem = checkForm();
  if (problem) return showFormError(problem);
  showFormError("");
  const button = $("#generate");
  button.disabled = true;
  try {
    const generation = await apiJson("/v1/generations", {
      method: "POST",
      body: formData(true),
      headers: { "Idempotency-Key": crypto.randomUUID() },
    });
    open(generation.id);
    refreshGallery();
  } catch (error) {
    showFormError(error.message);
  } finally {
    button.disabled = false;
  }
}

function setUpForm() {
  const drop = $("#drop");
  if (matchMedia("(pointer: coarse)").matches) {
    $("#drop-words").textContent = "Tap here to choose product photos";
  }
  const input = $("#file-input");
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    addFiles([...event.dataTransfer.files]);
  });
  input.addEventListener("change", () => { addFiles([...input.files]); input.value = ""; });
  for (const id of ["#provider", "#mode", "#resolution", "#model-tier"]) $(id).addEventListener("change", refreshChoices);
  for (const id of ["#duration", "#aspect-ratio"]) $(id).addEventListener("change", refreshEstimate);
  $("#image-urls").addEventListener("input", refreshChoices);
  $("#write-prompt").addEventListener("click", writePrompt);
  $("#create-form").addEventListener("submit", generate);
}

// -- watching one generation -------------------------------------------------------------------------------------

function open(id) {
  if (location.hash !== `#g=${id}`) history.pushState(null, "", `#g=${id}`);
  showWatched(id);
}

async function showWatched(id) {
  if (state.watching && state.watching.id !== id) stopFollowing(state.watching.id);
  state.target = id;
  $("#watch").hidden = false;
  try {
    const generation = await apiJson(`/v1/generations/${id}`);
    renderWatched(generation);
    $("#watch-title").focus();
    if (!SETTLED.has(generation.status)) follow(id, renderWatched);
    followRenditions(generation);
  } catch (error) {
    $("#watch").hidden = true;
    showFormError(error instanceof ApiError && error.status === 404 ? "That generation does not exist here." : error.message);
  }
}

function followRenditions(generation) {
  for (const rendition of generation.renditions || []) {
    if (!SETTLED.has(rendition.status) && !state.streams.has(rendition.id)) {
      follow(rendition.id, (update) => renditionChanged(generation.id, update));
    }
  }
}

function renditionChanged(sourceId, rendition) {
  refreshWatched(sourceId);
  if (SETTLED.has(rendition.status)) refreshGallery();
}

async function refreshWatched(id) {
  if (state.target !== id) return;
  renderWatched(await apiJson(`/v1/generations/${id}`));
}

function renderWatched(generation) {
  if (generation.id !== state.target) return; // a late event of a generation no longer shown
  const before = state.watching && state.watching.id === generation.id ? state.watching.status : null;
  state.watching = generation;
  const title = generation.spec.product_name || USE_CASE_WORDS[generation.spec.use_case] || "Generation";
  $("#watch-title").textContent = generation.upgrade_of ? `${title} — ${generation.spec.resolution}` : title;
  $("#watch-meta").textContent = [
    generation.provider_label,
    `${generation.spec.duration_seconds} s`,
    generation.spec.aspect_ratio,
    generation.spec.resolution,
    new Date(generation.created_at).toLocaleString(),
  ].filter(Boolean).join(" · ");
  renderTimeline(generation);
  $("#status-text").textContent = STATUS_WORDS[generation.status] || generation.status;
  $("#watch").dataset.status = generation.status;
  $("#watch").dataset.id = generation.id;
  tickElapsed();
  const failed = generation.status === "failed" || generation.status === "canceled";
  $("#failure").hidden = !failed || !generation.error;
  if (generation.error) {
    $("#failure-message").textContent = generation.error.message;
    $("#failure-advice").textContent = generation.error.advice || "";
  }
  $("#cancel").hidden = SETTLED.has(generation.status);
  $("#retry").hidden = !failed;
  renderQuality(generation);
  renderChannels(generation);
  renderRenditions(generation);
  renderUpgrades(generation);
  renderDetails(generation);
  updateCard(generation);
  if (before !== generation.status && SETTLED.has(generation.status)) refreshGallery();
}

function renderTimeline(generation) {
  const reached = new Map();
  for (const change of generation.history) if (!reached.has(change.status)) reached.set(change.status, change.at);
  const skipped = generation.upgrade_of || generation.prompt_writer === "user";
  let current = STEPS.indexOf(generation.status);
  if (current < 0) current = STEPS.reduce((last, step, index) => (reached.has(step) ? index : last), -1);
  for (const item of $("#timeline").children) {
    const step = item.dataset.step;
    const index = STEPS.indexOf(step);
    const at = reached.get(step);
    item.className = "";
    if (at || (index < current) || (step === "preparing" && skipped && current > 0)) item.classList.add("done");
    if (index === current && !SETTLED.has(generation.status)) item.classList.add("current");
    if (index === current + 1 && generation.status === "failed") item.classList.add("stopped");
    if (generation.status === "completed") item.classList.add("done");
    item.querySelector("time").textContent = at ? new Date(at).toLocaleTimeString() : "";
    if (at) item.querySelector("time").dateTime = at;
    item.setAttribute("aria-current", item.classList.contains("current") ? "step" : "false");
  }
}

function tickElapsed() {
  clearInterval(state.elapsedTimer);
  const update = () => {
    const generation = state.watching;
    if (!generation) return;
    const start = new Date(generation.created_at).getTime();
    const end = SETTLED.has(generation.status)
      ? new Date(generation.history[generation.history.length - 1].at).getTime() : Date.now();
    const seconds = Math.max(0, Math.round((end - start) / 1000));
    $("#elapsed").textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")} elapsed`;
  };
  update();
  if (!SETTLED.has(state.watching.status)) state.elapsedTimer = setInterval(update, 1000);
}

// The quality gate's verdict: what failed, in words to act on, the photo beside the worst frame, and — for a video
// held for review — Approve and Reject.
function renderQuality(generation) {
  const report = generation.quality;
  const held = generation.status === "needs_review";
  $("#quality").hidden = !report && !held;
  $("#review").hidden = !held;
  $("#review-status").textContent = "";
  if (!report) {
    $("#quality-verdict").textContent = held ? "The video could not be checked; look at it and decide." : "";
    $("#quality-failures").replaceChildren();
    $("#quality-all").replaceChildren();
    $("#quality-frame").hidden = true;
    return;
  }
  const failures = report.checks.filter((check) => !check.passed);
  $("#quality").dataset.passed = String(report.passed);
  $("#quality-verdict").textContent = report.passed
    ? `Quality checks passed (score ${report.score.toFixed(2)}).`
    : `${failures.length} quality check${failures.length === 1 ? "" : "s"} failed (score ${report.score.toFixed(2)}).`;
  $("#quality-failures").replaceChildren(...failures.map(checkItem));
  $("#quality-all").replaceChildren(...report.checks.map(checkItem));
  const frame = $("#quality-frame");
  frame.hidden = !report.frame;
  if (report.frame && frame.dataset.src !== report.frame) {
    frame.dataset.src = report.frame;
    frame.src = local(report.frame);
  }
}

function checkItem(check) {
  const item = document.createElement("li");
  item.className = check.passed ? "passed" : "failed";
  const name = document.createElement("strong");
  name.textContent = `${CHECK_WORDS[check.kind] || check.kind}: `;
  item.append(name, check.message); // the message says where in the clip
  return item;
}

// Versions for channels: a box per preset (those made or under way are ticked and fixed), each made one listed
// with a small preview and its download, and everything made in one ZIP.
async function renderChannels(generation) {
  const section = $("#channels");
  const made = generation.deliverables || [];
  section.hidden = !generation.links.deliverables && made.length === 0;
  if (section.hidden) return;
  if (!state.presets) {
    [state.presets, state.kits] = await Promise.all([apiJson("/v1/presets"), apiJson("/v1/brand-kits")]);
    listKits();
  }
  if (state.watching !== generation) return; // another generation was opened meanwhile
  const kit = $("#brand-kit").value || null; // a preset is made once per kit (and none), with bars or without
  const bars = $("#letterbox").checked;
  const taken = new Map(made.filter((item) => item.status !== "failed" && item.status !== "canceled"
    && (item.brand_kit || null) === kit && Boolean(item.letterbox) === bars).map((item) => [item.preset, item]));
  const box = $("#preset-choices");
  const shown = new Set([...box.querySelectorAll("input")].map((input) => input.value));
  if (shown.size !== state.presets.length) {
    box.querySelectorAll("label").forEach((label) => label.remove());
    for (const preset of state.presets) {
      const label = document.createElement("label");
      label.className = "inline";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = preset.name;
      label.append(input, ` ${preset.label} · ${preset.width}×${preset.height}`);
      box.append(label);
    }
  }
  for (const input of box.querySelectorAll("input")) {
    const was = input.disabled;
    input.disabled = taken.has(input.value);
    if (input.disabled) input.checked = true;
    else if (was) input.checked = false;
  }
  $("#make-versions").hidden = !generation.links.deliverables;
  const zip = $("#download-all");
  zip.hidden = !made.some((item) => item.status === "completed");
  if (generation.links.deliverables_zip) zip.href = local(generation.links.deliverables_zip);
  $("#deliverables").replaceChildren(...made.map(deliverableItem));
  clearTimeout(state.channelsTimer);
  if (made.some((item) => !SETTLED.has(item.status))) {
    state.channelsTimer = setTimeout(() => refreshWatched(generation.id), 1500);
  }
}

function deliverableItem(item) {
  const entry = document.createElement("li");
  entry.dataset.preset = item.preset;
  entry.dataset.status = item.status;
  if (item.video_url && item.status === "completed") {
    let preview;
    if (item.video_url.includes(".webp") || item.preset === "preview") {
      preview = document.createElement("img");
      preview.alt = `${item.label} preview`;
    } else {
      preview = document.createElement("video");
      Object.assign(preview, { muted: true, loop: true, autoplay: true, playsInline: true, preload: "metadata" });
      preview.setAttribute("aria-label", `${item.label} video`);
    }
    preview.src = local(item.video_url);
    const link = document.createElement("a");
    link.className = "button secondary small";
    link.href = local(item.download_url);
    link.download = item.download_name;
    link.textContent = "Download";
    const kit = (item.brand_kit ? ` · ${kitName(item)}` : "") + (item.letterbox ? " · bars" : "");
    const size = `${item.width}×${item.height} · ${(item.bytes / 1e6).toFixed(1)} MB${kit}`;
    entry.append(preview, `${item.label} · ${size} `, link);
  } else {
    const words = item.status === "failed" && item.error ? `failed: ${item.error.message}` : "being made…";
    entry.append(`${item.label}: ${words}`);
  }
  return entry;
}

// The brand-kit select, and the editor beside it: with a kit chosen it edits that kit (a new version), with none it
// makes a new one.
function listKits(chosen = $("#brand-kit").value) {
  const select = $("#brand-kit");
  select.replaceChildren(select.options[0],
    ...state.kits.items.map((kit) => option(kit.id, `${kit.name} (version ${kit.version})`)));
  select.value = chosen;
  fillKitForm();
}

function fillKitForm() {
  const kit = state.kits && state.kits.items.find((candidate) => candidate.id === $("#brand-kit").value);
  const form = $("#kit-form");
  form.reset();
  $("#kit-editor-title").textContent = kit ? `Edit ${kit.name}` : "New brand kit";
  $("#remove-music-row").hidden = !(kit && kit.music_url);
  $("#kit-status").textContent = "";
  if (!kit) return;
  for (const name of ["name", "primary", "text", "background", "logo_corner", "cta", "end_card_seconds"]) {
    form.elements[name].value = kit[name] ?? "";
  }
}

async function saveKit(event) {
  event.preventDefault();
  const chosen = $("#brand-kit").value;
  const body = new FormData($("#kit-form"));
  for (const name of ["logo", "music"]) if (!body.get(name) || !body.get(name).size) body.delete(name);
  $("#save-kit").disabled = true;
  try {
    const kit = await apiJson(chosen ? `/v1/brand-kits/${chosen}` : "/v1/brand-kits", {
      method: chosen ? "PUT" : "POST", body,
    });
    state.kits = await apiJson("/v1/brand-kits");
    listKits(kit.id);
    $("#kit-status").textContent = "";
    $("#kit-editor").open = false;
    if (state.watching) renderChannels(state.watching);
  } catch (error) {
    $("#kit-status").textContent = error.message;
  } finally {
    $("#save-kit").disabled = false;
  }
}

function kitName(item) {
  const kit = (state.kits ? state.kits.items : []).find((candidate) => candidate.id === item.brand_kit);
  const price = item.price ? `, ${item.price}` : "";
  return `${kit ? kit.name : "brand kit"} v${item.brand_kit_version}${price}`;
}

async function makeVersions() {
  const generation = state.watching;
  const presets = [...$("#preset-choices").querySelectorAll("input:checked:not(:disabled)")].map((input) => input.value);
  $("#channels-status").textContent = presets.length ? "" : "Tick at least one channel.";
  if (!presets.length) return;
  $("#make-versions").disabled = true;
  try {
    const kit = $("#brand-kit").value || null;
    const price = $("#price").value.trim() || null;
    await apiJson(`/v1/generations/${generation.id}/deliverables`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ presets, brand_kit: kit, price: kit ? price : null, letterbox: $("#letterbox").checked }),
    });
    await refreshWatched(generation.id);
  } catch (error) {
    $("#channels-status").textContent = error.message;
  } finally {
    $("#make-versions").disabled = false;
  }
}

async function review(verdict) {
  const generation = state.watching;
  const note = $("#review-note").value.trim();
  for (const button of $("#review").querySelectorAll("button")) button.disabled = true;
  try {
    renderWatched(await apiJson(`/v1/generations/${generation.id}/${verdict}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(note ? { note } : {}),
    }));
    $("#review-note").value = "";
    refreshGallery();
  } catch (error) {
    $("#review-status").textContent = error.message;
  } finally {
    for (const button of $("#review").querySelectorAll("button")) button.disabled = false;
  }
}

function renderRenditions(generation) {
  const box = $("#renditions");
  const items = [];
  if (generation.video_url) { // ready, held for review, or rejected (kept)
    const held = generation.status === "needs_review" ? " — held for review" : "";
    items.push({ id: generation.id, label: `${generation.spec.resolution} original${held}`, ...generation });
  }
  for (const rendition of generation.renditions || []) {
    items.push({ ...rendition, label: `${rendition.resolution} version` });
  }
  const shown = new Map([...box.children].map((element) => [element.dataset.id, element]));
  const wanted = items.map((item) => {
    let element = shown.get(item.id);
    if (!element || element.dataset.status !== item.status) element = renditionElement(item);
    return element;
  });
  box.replaceChildren(...wanted);
}

function renditionElement(item) {
  const element = $("#rendition-template").content.firstElementChild.cloneNode(true);
  element.dataset.id = item.id;
  element.dataset.status = item.status;
  const video = $("video", element);
  const label = $(".label", element);
  if (item.video_url) {
    video.src = local(item.video_url);
    if (item.poster_url) video.poster = local(item.poster_url);
    video.setAttribute("aria-label", `${item.label} video`);
    const size = item.video ? ` · ${item.video.width}×${item.video.height}` : "";
    label.textContent = `${item.label}${size}`;
    $(".download", element).href = local(item.download_url);
    $(".open", element).href = local(item.video_url);
    $(".copy", element).addEventListener("click", () => copyLink(item.video_url));
    $(".share-note", element).hidden = !onThisMachineOnly(item.video_url);
  } else {
    video.remove();
    $(".actions", element).remove();
    const words = item.status === "failed" && item.error ? `failed: ${item.error.message}` : STATUS_WORDS[item.status];
    label.textContent = `${item.label}: ${words}`;
    element.classList.add("pending");
  }
  return element;
}

// A link to localhost opens on this computer only (VEO31_PUBLIC_URL makes links others can open).
function onThisMachineOnly(url) {
  const host = new URL(url, location.href).hostname;
  return host === "localhost" || host === "[::1]" || host.startsWith("127.");
}

async function copyLink(url) {
  const status = $("#copy-status");
  try {
    await navigator.clipboard.writeText(url);
    status.textContent = "Link copied — it does not expire.";
  } catch {
    // Without clipboard permission: put the link where a person can copy it by hand.
    status.textContent = `Copy this link: ${url}`;
  }
  clearTimeout(copyLink.timer);
  copyLink.timer = setTimeout(() => { status.textContent = ""; }, 6000);
}

function renderUpgrades(generation) {
  const box = $("#upgrades");
  const taken = new Set((generation.renditions || [])
    .filter((r) => r.status !== "failed" && r.status !== "canceled").map((r) => r.resolution));
  const options = (generation.upgrade_options || []).filter((option) => !taken.has(option.resolution));
  box.hidden = options.length === 0;
  $("#upgrade-buttons").replaceChildren(...options.map((option) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.dataset.resolution = option.resolution;
    const name = option.resolution === "4k" ? "4K" : option.resolution;
    button.textContent = option.cost ? `Make a ${name} version (${option.cost})` : `Make a ${name} version`;
    button.addEventListener("click", () => upgrade(generation.id, option.resolution, button));
    return button;
  }));
}

async function upgrade(id, resolution, button) {
  button.disabled = true;
  try {
    const rendition = await apiJson(`/v1/generations/${id}/upgrade`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ resolution }),
    });
    follow(rendition.id, (update) => renditionChanged(id, update));
    await refreshWatched(id);
  } catch (error) {
    button.disabled = false;
    $("#copy-status").textContent = error.message;
  }
}

function renderDetails(generation) {
  const rows = [
    ["Id", generation.id],
    ["Provider task", generation.provider_task_id],
    ["Mode", MODE_WORDS[generation.mode] || generation.mode],
    ["Model", generation.spec.model_tier],
    ["Prompt", generation.prompt],
    ["Avoid", generation.negative_prompt],
    ["Prompt written by", writerWords(generation.prompt_writer)],
    ["Notes", (generation.warnings || []).join("; ")],
    ["Cost", costWords(generation.cost)],
  ].filter(([, value]) => value);
  $("#details-list").replaceChildren(...rows.flatMap(([name, value]) => {
    const term = document.createElement("dt");
    term.textContent = name;
    const detail = document.createElement("dd");
    detail.textContent = value;
    return [term, detail];
  }));
}

function writerWords(writer) {
  if (!writer) return "";
  return writer === "user" ? "you" : `veo31 (${writer})`;
}

function costWords(cost) {
  if (!cost) return "";
  if (cost.reported_usd !== null && cost.reported_usd !== undefined) return `$${cost.reported_usd.toFixed(2)} — ${cost.basis || ""}`;
  if (cost.estimate_usd) return `about $${cost.estimate_usd.toFixed(2)} (estimate: ${cost.basis || ""})`;
  return "";
}

function setUpWatch() {
  $("#cancel").addEventListener("click", async () => {
    const generation = state.watching;
    try {
      renderWatched(await apiJson(`/v1/generations/${generation.id}/cancel`, { method: "POST" }));
    } catch (error) {
      $("#copy-status").textContent = error.message;
    }
  });
  $("#approve").addEventListener("click", () => review("approve"));
  $("#make-versions").addEventListener("click", makeVersions);
  $("#brand-kit").addEventListener("change", () => {
    fillKitForm();
    if (state.watching) renderChannels(state.watching);
  });
  $("#kit-form").addEventListener("submit", saveKit);
  $("#letterbox").addEventListener("change", () => state.watching && renderChannels(state.watching));
  $("#reject").addEventListener("click", () => review("reject"));
  $("#retry").addEventListener("click", async () => {
    try {
      const again = await apiJson(`/v1/generations/${state.watching.id}/retry`, { method: "POST" });
      open(again.upgrade_of || again.id);
      refreshGallery();
    } catch (error) {
      $("#copy-status").textContent = error.message;
    }
  });
  $("#close-watch").addEventListener("click", () => {
    if (state.watching) stopFollowing(state.watching.id);
    state.watching = null;
    state.target = null;
    history.pushState(null, "", location.pathname);
    $("#watch").hidden = true;
    $("#create-title").scrollIntoView();
  });
}

// -- the gallery ---------------------------------------------------------------------------------------------------

// The gallery's list as the filter shows it: originals only (their renditions are listed inside each).
function galleryQuery(limit) {
  const params = new URLSearchParams({ include_upgrades: "false", limit: String(limit) });
  const filter = $("#gallery-filter").value;
  if (filter) params.set("status", filter);
  return params;
}

async function refreshGallery(more = false) {
  const filter = $("#gallery-filter").value;
  const params = galleryQuery(12);
  if (more && state.galleryCursor) params.set("cursor", state.galleryCursor);
  try {
    const page = await apiJson(`/v1/generations?${params}`);
    const cards = page.items.map(card);
    if (more) $("#gallery-list").append(...cards);
    else $("#gallery-list").replaceChildren(...cards);
    followCards();
    state.galleryCursor = page.next_cursor;
    $("#gallery-more").hidden = !page.next_cursor;
    const empty = $("#gallery-list").children.length === 0;
    $("#gallery-empty").hidden = !empty;
    const shown = $("#gallery-filter").selectedOptions[0].textContent;
    $("#gallery-empty").textContent = filter ? `No ${shown} videos.` : "No videos yet.";
    $("#gallery-problem").hidden = true;
  } catch (error) {
    $("#gallery-problem").hidden = false;
    $("#gallery-problem").textContent = error.message;
  }
}

// Cards of unfinished generations follow their status, as the panel does: one look at the list every couple of
// seconds while any is unfinished (a stream per card would take the browser's six connections per server, and
// the page's own requests would wait behind them). The generation being watched updates its card at once.
function followCards() {
  clearTimeout(state.cardsTimer);
  const unfinished = [...$("#gallery-list").children].some((item) => !SETTLED.has(item.dataset.status));
  if (unfinished) state.cardsTimer = setTimeout(lookAtCards, 2000);
}

async function lookAtCards() {
  const params = galleryQuery(Math.min(100, Math.max($("#gallery-list").children.length, 1)));
  try {
    const page = await apiJson(`/v1/generations?${params}`);
    page.items.forEach(updateCard);
  } catch {
    // the next look may reach the server again
  }
  followCards();
}

function updateCard(generation) {
  const item = $(`#gallery-list li[data-id="${generation.id}"]`);
  if (!item || item.dataset.status === generation.status) return;
  if (SETTLED.has(generation.status)) {
    refreshGallery(); // its poster, and Retry in place of Cancel
    return;
  }
  item.dataset.status = generation.status;
  const badge = $(".badge", item);
  badge.className = `badge ${generation.status}`;
  badge.textContent = BADGE_WORDS[generation.status] || generation.status;
}

function card(generation) {
  const item = document.createElement("li");
  item.className = "card";
  item.dataset.id = generation.id;
  item.dataset.status = generation.status;
  const link = document.createElement("a");
  link.href = `#g=${generation.id}`;
  const title = generation.spec.product_name || USE_CASE_WORDS[generation.spec.use_case];
  if (generation.poster_url) {
    const poster = document.createElement("img");
    poster.src = local(generation.poster_url);
    poster.alt = "";
    poster.loading = "lazy";
    link.append(poster);
  } else {
    const blank = document.createElement("span");
    blank.className = "blank";
    link.append(blank);
  }
  const name = document.createElement("strong");
  name.textContent = title;
  link.append(name);
  const meta = document.createElement("span");
  meta.className = "meta";
  const extra = (generation.renditions || []).filter((r) => r.status === "completed").map((r) => r.resolution);
  meta.textContent = [generation.provider_label, new Date(generation.created_at).toLocaleString(), ...extra].join(" · ");
  const badge = document.createElement("span");
  badge.className = `badge ${generation.status}`;
  badge.textContent = BADGE_WORDS[generation.status] || generation.status;
  item.append(link, badge, meta);
  if (generation.quality) item.append(verdictMark(generation.quality));
  if (generation.status === "needs_review") {
    const decide = (verdict) => async () => {
      await apiJson(`/v1/generations/${generation.id}/${verdict}`, { method: "POST" });
      refreshGallery();
      if (state.watching && state.watching.id === generation.id) refreshWatched(generation.id);
    };
    item.append(cardButton("Approve", `Approve ${title}`, decide("approve")));
    item.append(cardButton("Reject", `Reject ${title}`, decide("reject")));
  }
  if (generation.status === "failed" || generation.status === "canceled") {
    item.append(cardButton("Retry", `Retry ${title}`, async () => {
      const again = await apiJson(`/v1/generations/${generation.id}/retry`, { method: "POST" });
      open(again.upgrade_of || again.id);
      refreshGallery();
    }));
  } else if (!SETTLED.has(generation.status)) {
    item.append(cardButton("Cancel", `Cancel ${title}`, async () => {
      await apiJson(`/v1/generations/${generation.id}/cancel`, { method: "POST" });
      refreshGallery();
      if (state.watching && state.watching.id === generation.id) refreshWatched(generation.id);
    }));
  }
  return item;
}

const BADGE_WORDS = { completed: "ready", needs_review: "needs review" };

// A card's quality verdict: checked and passed, or the first thing that failed.
function verdictMark(report) {
  const mark = document.createElement("span");
  mark.className = `verdict ${report.passed ? "passed" : "failed"}`;
  const failed = report.checks.find((check) => !check.passed);
  mark.textContent = failed ? `✗ ${CHECK_WORDS[failed.kind] || failed.kind}` : "✓ checked";
  mark.title = failed ? failed.message : `quality score ${report.score.toFixed(2)}`;
  return mark;
}

function cardButton(text, label, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary small";
  button.textContent = text;
  button.setAttribute("aria-label", label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try { await action(); } catch (error) { button.disabled = false; $("#gallery-problem").hidden = false; $("#gallery-problem").textContent = error.message; }
  });
  return button;
}

function setUpGallery() {
  $("#gallery-filter").addEventListener("change", () => refreshGallery());
  $("#gallery-more").addEventListener("click", () => refreshGallery(true));
}

// -- start -----------------------------------------------------------------------------------------------------------

function route() {
  const match = /^#g=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (match) showWatched(match[1]);
}

// Asked before anything else, so a server that needs a token gets one without a round of 401s.
async function checkToken() {
  const session = await apiJson("/v1/session");
  $("#token-button").hidden = !session.token_required;
  if (session.token_required && !session.token_valid) {
    await askForToken(token() ? "That token was not accepted; check it and try again." : "");
    return checkToken();
  }
  return null;
}

async function start() {
  setUpTokenDialog();
  setUpForm();
  setUpWatch();
  setUpGallery();
  window.addEventListener("popstate", route);
  window.addEventListener("hashchange", route);
  try {
    await checkToken();
    await loadCatalogue();
  } catch (error) {
    showFormError(error.message);
  }
  route();
  refreshGallery();
}

document.addEventListener("DOMContentLoaded", start);
