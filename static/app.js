// @ts-check
/**
 * The page: wires DOM events to worker requests and draws the results. The page's state is one
 * attribute, document.body.dataset.state: loading | ready | running | done | error.
 */
import { PAGE_MAX_MEGAPIXELS, REQUEST, WARM_STAGE } from "./protocol.js";
import { WorkerClient } from "./worker-client.js";
import { decodeImage, outputName } from "./images.js";
import { clearCanvas, drawImageData, drawPalette, drawRgba, highlightEntry } from "./draw.js";
import { setUpCloud } from "./cloud.js";
import { openPointsFile, startExplorer } from "./explorer.js";
import {
  SAMPLE_NAME, SAMPLE_URL, bootLabel, countOf, describePsnr, describeScore, formatStrength, quantizeImage,
  readColourSpace, readInt, readNumber, setUpOptionInputs, sizeChange,
} from "./compress.js";
import { setUpCompare } from "./compare.js";
import { setUpOffline } from "./offline.js";
import { showEmbedSnippet } from "./embed-snippet.js";


const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const ui = {
  form: $("controls"),
  imageInput: $("image-input"),
  k: $("k"),
  maxIter: $("max-iter"),
  seed: $("seed"),
  dither: $("dither"),
  ditherValue: $("dither-value"),
  colourSpace: $("colour-space"),
  compare: $("compare"),
  compareZoom: $("compare-zoom"),
  compareSplit: $("compare-split"),
  sideBySide: $("side-by-side"),
  run: $("run"),
  cancel: $("cancel"),
  progress: $("progress"),
  status: $("status"),
  original: $("original"),
  originalCaption: $("original-caption"),
  result: $("result"),
  resultCaption: $("result-caption"),
  palette: $("palette"),
  stats: $("stats"),
  download: $("download"),
  cloud: $("colour-cloud"),
  cloudSpace: $("colour-cloud-space"),
  cloudFrame: $("colour-cloud-frame"),
  cloudPlay: $("colour-cloud-play"),
  cloudCaption: $("colour-cloud-caption"),
};

/** How many of the photo's colours the colour cloud shows. */
const CLOUD_SAMPLE = 2500;

/** The image being worked on: {name, bytes, imageData}. @type {{name: string, bytes: number, imageData: ImageData} | null} */
let current = null;
/** Start a run as soon as Python is ready (an image was chosen while it loaded). */
let runWhenReady = false;
/** The clustering explorer starts once, the first time Python is ready. */
let explorerStarted = false;
/** Said before the boot steps when Python restarts (after Cancel). */
let restartNote = "";
/** The object URL behind the download link, revoked when replaced. */
let downloadUrl = "";
/** The result on screen, for lighting up one palette entry's pixels. @type {{rgba: Uint8Array, indices: Uint8Array, width: number, height: number, chosen: number} | null} */
let shown = null;

const client = new WorkerClient({ onStatus: showBootStatus, onBootError: showBootError });
const cloud = setUpCloud({
  canvas: ui.cloud, space: ui.cloudSpace, frame: ui.cloudFrame, play: ui.cloudPlay, caption: ui.cloudCaption,
});
const compare = setUpCompare({
  root: ui.compare, original: ui.original, result: ui.result, split: ui.compareSplit, zoom: ui.compareZoom,
});

// -- state and messages ---------------------------------------------------------------------------

/** @param {"loading" | "ready" | "running" | "done" | "error"} state */
function setState(state) {
  document.body.dataset.state = state;
  ui.run.disabled = state === "running" || state === "loading";
  ui.cancel.disabled = state !== "running";
}

/** @param {string} text */
function say(text) {
  ui.status.textContent = text;
}

/** @param {{stage: string, step: number, steps: number}} status */
function showBootStatus({ stage, step, steps }) {
  if (stage === WARM_STAGE) {
    document.body.dataset.warm = "true"; // for benchmarks and tests: the first image pays no first-run costs
    return;
  }
  // A worker restarted behind the scenes (after a fatal error) boots quietly.
  if (stage !== "ready" && document.body.dataset.state !== "loading") return;
  if (stage !== "ready") {
    say(`${restartNote}Loading ${bootLabel(stage)} (${step} of ${steps - 1})…`);
    ui.progress.value = (step - 1) / (steps - 1);
    return;
  }
  ui.progress.value = 0;
  if (!explorerStarted) {
    explorerStarted = true;
    startExplorer(client);
  }
  if (document.body.dataset.state !== "loading") return;
  setState("ready");
  say(`${restartNote}${current ? "Ready. Press Run to compress the image, or choose another." : "Ready. Choose an image."}`);
  restartNote = "";
  if (runWhenReady) {
    runWhenReady = false;
    run();
  }
}

/** @param {Error} error */
function showBootError(error) {
  console.error(error);
  setState("error");
  say(`Python could not be loaded: ${error.message}. Check your connection and reload the page.`);
}

/**
 * Show an error to the user; the page stays usable and keeps its previous image and result.
 * @param {unknown} error
 */
function showError(error) {
  const message = error instanceof Error ? error.message : String(error);
  console.warn(error);
  setState("error");
  ui.progress.value = 0;
  say(`Error: ${message}`);
}

// -- inputs ----------------------------------------------------------------------------------------

/**
 * Decode a picked, dropped, pasted or sample image and show it; the previous one stays on error.
 * @param {Blob} blob
 * @param {string} name
 * @param {{autoRun: boolean}} options
 */
async function openImage(blob, name, { autoRun }) {
  const imageData = await decodeImage(blob, name, PAGE_MAX_MEGAPIXELS);
  current = { name, bytes: blob.size, imageData };
  drawImageData(ui.original, imageData);
  ui.originalCaption.textContent = `${name}, ${imageData.width}×${imageData.height}, ${formatBytes(blob.size)}`;
  clearResult();
  compare.update();
  if (!autoRun) return;
  const state = document.body.dataset.state;
  if (state === "loading") {
    runWhenReady = true;
    say(`Loaded “${name}”. It will be compressed as soon as Python is ready…`);
  } else if (state === "running") {
    client.cancel();
    setState("loading");
    runWhenReady = true;
  } else {
    run();
  }
}

/** @param {Blob | null | undefined} file */
async function openUserFile(file) {
  if (!file) return;
  try {
    await openImage(file, /** @type {File} */ (file).name || "pasted image", { autoRun: true });
  } catch (error) {
    showError(error);
  }
}

function clearResult() {
  shown = null;
  cloud.clear();
  clearCanvas(ui.result);
  ui.resultCaption.textContent = "";
  ui.palette.replaceChildren();
  ui.stats.replaceChildren();
  setDownload(null, "");
}

/**
 * @param {Blob | null} blob
 * @param {string} fileName
 */
function setDownload(blob, fileName) {
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = blob ? URL.createObjectURL(blob) : "";
  if (blob) {
    ui.download.href = downloadUrl;
    ui.download.download = fileName;
    ui.download.textContent = `Download ${fileName}`;
  } else {
    ui.download.removeAttribute("href");
    ui.download.removeAttribute("download");
    ui.download.textContent = "Download PNG";
  }
  ui.download.classList.toggle("disabled", !blob);
  ui.download.setAttribute("aria-disabled", String(!blob));
}

// -- the run ---------------------------------------------------------------------------------------

async function run() {
  try {
    if (!current) throw new Error("Choose an image first.");
    const nColors = readInt(ui.k, "Colours (K)");
    const maxIter = readInt(ui.maxIter, "Max iterations");
    const seed = readInt(ui.seed, "Seed");
    const dither = readNumber(ui.dither, "Dithering");
    const colourSpace = readColourSpace(ui.colourSpace);
    const { name, bytes, imageData } = current;
    const { width, height } = imageData;
    setState("running");
    ui.progress.value = 0;
    say(`Compressing “${name}” to ${nColors} colours…`);
    const started = performance.now();

    const quantized = await quantizeImage(client, imageData, {
      nColors,
      seed,
      maxIter,
      dither,
      colourSpace,
      cloud: CLOUD_SAMPLE,
      onProgress: ({ phase, n_iter = 0, fraction = 0 }) => {
        if (phase === "dither") {
          ui.progress.value = fraction;
          say(`Compressing “${name}” to ${nColors} colours: dithering, ${Math.round(fraction * 100)}%…`);
          return;
        }
        ui.progress.value = n_iter / maxIter;
        say(`Compressing “${name}” to ${nColors} colours: iteration ${n_iter}…`);
      },
    });
    drawRgba(ui.result, quantized.rgba, width, height);
    compare.update();
    // The indices travel to the worker for the PNG below; this copy stays for lighting up an entry.
    shown = { rgba: quantized.rgba, indices: quantized.indices.slice(), width, height, chosen: -1 };
    drawPalette(ui.palette, quantized.palette, showEntry);
    cloud.show(quantized, quantized.palette);
    // From the pixels sent to the result drawn; bench/browser.py reads this measure.
    const seconds = performance.measure("kmeans:quantize", { start: started }).duration / 1000;
    ui.resultCaption.textContent = countOf(quantized.n_colors, "colour");
    showStats({ nColors, quantized, seconds, originalBytes: bytes });

    say("Scoring how alike it looks…");
    const original = new Uint8Array(imageData.data); // a copy, sent away; imageData stays drawable
    const scored = await client.request(
      REQUEST.SCORE,
      { pixels: original, indices: quantized.indices, palette: quantized.palette, width, height },
      { transfer: [original.buffer] },
    );
    const scaled = scored.ssimulacra2_scale > 1 ? `, scored at 1/${scored.ssimulacra2_scale} size` : "";
    addStat(
      "Looks like the original",
      `${scored.ssimulacra2.toFixed(1)} of 100: ${describeScore(scored.ssimulacra2)} (SSIMULACRA2${scaled})`,
      "ssimulacra2",
    );

    say("Writing the PNG…");
    const encoded = await client.request(
      REQUEST.ENCODE_PNG,
      { indices: quantized.indices, palette: quantized.palette, width, height },
      { transfer: [quantized.indices.buffer, quantized.palette.buffer] },
    );
    const fileName = outputName(name, nColors);
    setDownload(new Blob([encoded.png], { type: "image/png" }), fileName);
    addStat("Compressed size", `${formatBytes(bytes)} → ${formatBytes(encoded.bytes)} (${sizeChange(bytes, encoded.bytes)})`);
    ui.progress.value = 1;
    setState("done");
    say(
      `Done: ${countOf(quantized.n_colors, "colour")} in ${seconds.toFixed(2)} s.` +
        (quantized.warning ? ` Note: ${quantized.warning}.` : ""),
    );
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") return;
    showError(error);
  }
}

/**
 * Light up the pixels of palette entry `index` in the result (fading the rest), or, chosen again, show
 * the result as it is.
 * @param {number} index
 */
function showEntry(index) {
  if (!shown) return;
  shown.chosen = shown.chosen === index ? -1 : index;
  const { rgba, indices, width, height, chosen } = shown;
  [...ui.palette.children].forEach((swatch, i) => swatch.setAttribute("aria-pressed", String(i === chosen)));
  drawRgba(ui.result, chosen < 0 ? rgba : highlightEntry(rgba, indices, chosen), width, height);
  compare.update();
  if (chosen >= 0) {
    let count = 0;
    for (const i of indices) if (i === chosen) count++;
    const colour = /** @type {HTMLElement} */ (ui.palette.children[chosen]).dataset.colour;
    say(`${colour}: ${count.toLocaleString("en")} pixels (${((100 * count) / indices.length).toFixed(1)}%) lit up in the result; choose it again to see them all.`);
  }
}

/**
 * @param {{nColors: number, quantized: any, seconds: number, originalBytes: number}} details
 */
function showStats({ nColors, quantized, seconds, originalBytes }) {
  ui.stats.replaceChildren();
  addStat("Colours", quantized.n_colors === nColors ? String(nColors) : `${quantized.n_colors} (asked for ${nColors})`);
  addStat("Iterations", String(quantized.n_iter));
  addStat("Time", `${seconds.toFixed(2)} s`);
  addStat("MSE", quantized.mse.toFixed(2));
  addStat("PSNR", describePsnr(quantized.psnr));
  addStat("Original size", formatBytes(originalBytes));
}

/**
 * @param {string} term
 * @param {string} value
 * @param {string} [key] its data-stat (default: the term, lower case with dashes)
 */
function addStat(term, value, key = term.toLowerCase().replace(/\W+/g, "-")) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  dd.dataset.stat = key;
  ui.stats.append(dt, dd);
}

/** @param {number} bytes */
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

function cancel() {
  if (document.body.dataset.state !== "running") return;
  client.cancel();
  runWhenReady = false;
  setState("loading");
  ui.progress.value = 0;
  restartNote = "Cancelled. ";
  say("Cancelled. Restarting Python…");
}

// -- wiring ----------------------------------------------------------------------------------------

/** The dithering control's label follows the slider. */
function showDither() {
  ui.ditherValue.textContent = formatStrength(Number(ui.dither.value));
}

/** Compare (one view, a line between the two) or side by side. */
function showViewMode() {
  const mode = /** @type {HTMLInputElement | null} */ (document.querySelector('input[name="view-mode"]:checked'))?.value;
  ui.compare.hidden = mode === "side";
  ui.sideBySide.hidden = mode !== "side";
  ui.compareZoom.disabled = mode === "side";
  if (mode !== "side") compare.render();
}

function wire() {
  ui.dither.addEventListener("input", showDither);
  for (const radio of document.querySelectorAll('input[name="view-mode"]')) radio.addEventListener("change", showViewMode);
  ui.form.addEventListener("submit", (/** @type {Event} */ event) => {
    event.preventDefault();
    if (document.body.dataset.state !== "running" && document.body.dataset.state !== "loading") run();
  });
  ui.cancel.addEventListener("click", cancel);
  ui.imageInput.addEventListener("change", () => {
    openUserFile(ui.imageInput.files?.[0]);
    ui.imageInput.value = ""; // choosing the same file again still fires change
  });
  document.addEventListener("dragover", (event) => {
    event.preventDefault();
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    document.body.classList.remove("dragging");
    const file = event.dataTransfer?.files?.[0];
    if (currentView() === "clusters") openPointsFile(file);
    else openUserFile(file);
  });
  document.addEventListener("paste", (event) => {
    if (currentView() !== "compress") return;
    const file = [...(event.clipboardData?.files || [])].find((item) => item.type.startsWith("image/"));
    if (file) openUserFile(file);
  });
  ui.download.addEventListener("click", (/** @type {Event} */ event) => {
    if (!downloadUrl) event.preventDefault();
  });
}

/** The view the URL hash asks for: "clusters" for #clusters (also with a shared link's parameters), else "compress". */
function currentView() {
  return location.hash === "#clusters" || location.hash.startsWith("#clusters?") ? "clusters" : "compress";
}

/** Show the view named by the URL hash, and mark its tab. */
function showView() {
  const view = currentView();
  for (const name of ["compress", "clusters"]) {
    $(name).hidden = name !== view;
    $(`tab-${name}`).setAttribute("aria-current", name === view ? "page" : "false");
  }
}

async function loadSample() {
  try {
    const response = await fetch(SAMPLE_URL);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await openImage(await response.blob(), SAMPLE_NAME, { autoRun: false });
  } catch (error) {
    console.warn("The sample photo could not be loaded", error);
  }
}

setUpOptionInputs({ n_colors: ui.k, max_iter: ui.maxIter, seed: ui.seed, dither: ui.dither }, ui.colourSpace);
showDither();
setState("loading");
showView();
window.addEventListener("hashchange", showView);
wire();
client.start();
loadSample();
setUpOffline($("offline-status"));
showEmbedSnippet();
// Installed as an app, "Open with" on an image launches the page with it (manifest file_handlers).
if ("launchQueue" in window) {
  /** @type {any} */ (window).launchQueue.setConsumer(async (/** @type {any} */ params) => {
    if (params.files && params.files.length) openUserFile(await params.files[0].getFile());
  });
}
