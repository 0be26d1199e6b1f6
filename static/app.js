// @ts-check
/**
 * The page: wires DOM events to worker requests and draws the results. The page's state is one
 * attribute, document.body.dataset.state: loading | ready | running | done | error.
 */
import { PAGE_MAX_MEGAPIXELS, REQUEST, WARM_STAGE } from "./protocol.js";
import { WorkerClient } from "./worker-client.js";
import { ACCEPTED_FORMATS, copyPixels, decodeImage, headerSize, outputName } from "./images.js";
import {
  clearCanvas, drawImageDataInSlices, drawIndicesInSlices, drawPalette, drawRgbaInSlices, fadedPalette, nextTask, sizeCanvas,
} from "./draw.js";
import { setUpCloud } from "./cloud.js";
import { openPointsFile, startExplorer } from "./explorer.js";
import {
  SAMPLE_NAME, SAMPLE_URL, bootLabel, capitalise, compressImage, countOf, describePsnr, describeScore, describeTarget, formatBytes,
  formatStrength, quantizeImage, readColourSpace, readInt, readNumber, readTarget, setUpOptionInputs, describeSizes,
} from "./compress.js";
import { defaultSettings, linkWithSettings, loadSettings, saveSettings } from "./settings.js";
import { WorkerPool, poolSize } from "./pool.js";
import { setUpBatch } from "./batch.js";
import { pickedFromDrop, pickedFromInput } from "./picked-files.js";
import { setUpCompare } from "./compare.js";
import { setUpOffline } from "./offline.js";
import { showEmbedSnippet } from "./embed-snippet.js";


const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const ui = {
  form: $("controls"),
  imageInput: $("image-input"),
  folderInput: $("folder-input"),
  maxKb: $("max-kb"),
  minQuality: $("min-quality"),
  resetSettings: $("reset-settings"),
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

/** The inputs of the settings (settings.js SETTINGS), by URL parameter. */
const SETTING_INPUTS = {
  k: ui.k, "max-iter": ui.maxIter, seed: ui.seed, dither: ui.dither, space: ui.colourSpace,
  "max-kb": ui.maxKb, "min-quality": ui.minQuality,
};

/** How many of the photo's colours the colour cloud shows. */
const CLOUD_SAMPLE = 2500;

/** The image being worked on: {name, bytes, imageData}. @type {{name: string, bytes: number, imageData: ImageData} | null} */
let current = null;
/** Start a run as soon as Python is ready (an image was chosen while it loaded). */
let runWhenReady = false;
/** Takes back the requests of the run on screen (Cancel, or another image chosen). */
let runAbort = new AbortController();
/** The clustering explorer starts once, the first time Python is ready. */
let explorerStarted = false;
/** Said before the boot steps when Python restarts (after Cancel). */
let restartNote = "";
/** The object URL behind the download link, revoked when replaced. */
let downloadUrl = "";
/**
 * The result on screen, for lighting up one palette entry's pixels: its indices and palette, from
 * which its pixels are made again when needed (a photo's RGBA kept would be 4 bytes a pixel more).
 * @type {{indices: Uint8Array, palette: Uint8Array, width: number, height: number, chosen: number} | null}
 */
let shown = null;

const client = new WorkerClient({ onStatus: showBootStatus, onBootError: showBootError });
const workers = poolSize({
  cores: navigator.hardwareConcurrency,
  memoryGb: /** @type {any} */ (navigator).deviceMemory,
  requested: new URLSearchParams(location.search).get("workers"),
});
const batch = setUpBatch({
  root: $("batch"), list: $("batch-list"), summary: $("batch-summary"), progress: $("batch-progress"),
  downloadAll: $("download-all"), cancelAll: $("cancel-all"), clear: $("batch-clear"),
  pool: new WorkerPool(client, workers.size), onSelect: showBatchItem,
});
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

/** @param {{stage: string, step: number, steps: number, started?: string}} status */
function showBootStatus({ stage, step, steps, started }) {
  // For tests and benchmarks: whether Python started from the saved snapshot or from its files.
  if (started) document.body.dataset.pythonStart = started;
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
 * Tell the worker a chosen photo's size, read from its file's header, before the page decodes it: the
 * worker gets ready for a big photo meanwhile (kmeans.web.expect). Only a hint: a file whose header
 * cannot be read, or a refusal, changes nothing.
 * @param {Blob} blob
 */
function expectImage(blob) {
  headerSize(blob)
    .then((size) => size && client.request(REQUEST.EXPECT, size))
    .catch(() => {});
}

/**
 * Decode a picked, dropped, pasted or sample image and show it; the previous one stays on error.
 * @param {Blob} blob
 * @param {string} name
 * @param {{autoRun: boolean}} options
 */
async function openImage(blob, name, { autoRun }) {
  // A run with a size or quality target writes its PNG inside its one request, without the helper.
  if (ui.maxKb.value === "" && ui.minQuality.value === "") expectImage(blob);
  const imageData = await decodeImage(blob, name, PAGE_MAX_MEGAPIXELS);
  if (!(await showOriginal(blob, name, imageData))) return; // another image was chosen meanwhile
  if (!autoRun) return;
  const state = document.body.dataset.state;
  if (state === "loading") {
    runWhenReady = true;
    say(`Loaded “${name}”. It will be compressed as soon as Python is ready…`);
  } else if (state === "running") {
    if (stopRun()) runWhenReady = true; // its worker restarts: run once it is ready
    else run();
  } else {
    run();
  }
}

/**
 * Make an image the one on screen: drawn as the original (in slices, for a big one), its result cleared.
 * @param {Blob} blob
 * @param {string} name
 * @param {ImageData} imageData
 * @returns {Promise<boolean>} false when another image was shown before this one was drawn
 */
async function showOriginal(blob, name, imageData) {
  current = { name, bytes: blob.size, imageData };
  ui.originalCaption.textContent = `${name}, ${imageData.width}×${imageData.height}, ${formatBytes(blob.size)}`;
  clearResult();
  if (!(await drawImageDataInSlices(ui.original, imageData))) return false;
  await compare.update();
  return current?.imageData === imageData;
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
  ui.download.dataset.pieces = ""; // (set after a run's PNG, see run)
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

/**
 * The settings a run (or a batch) uses, read from the inputs; throws a message naming a bad one.
 * @returns {import("./compress.js").Job}
 */
function readJob() {
  return {
    nColors: readInt(ui.k, "Colours (K)"),
    maxIter: readInt(ui.maxIter, "Max iterations"),
    seed: readInt(ui.seed, "Seed"),
    dither: readNumber(ui.dither, "Dithering"),
    colourSpace: readColourSpace(ui.colourSpace),
    maxKb: readTarget(ui.maxKb, "max-kb"),
    minQuality: readTarget(ui.minQuality, "min-quality"),
  };
}

async function run() {
  runAbort = new AbortController();
  const { signal } = runAbort;
  try {
    if (!current) throw new Error("Choose an image first.");
    const job = readJob();
    if (job.maxKb !== null || job.minQuality !== null) {
      await runToTarget(job, signal);
      return;
    }
    const { nColors, maxIter, seed, dither, colourSpace } = job;
    const { name, bytes, imageData } = current;
    const { width, height } = imageData;
    setState("running");
    ui.progress.value = 0;
    say(`Compressing “${name}” to ${nColors} colours…`);
    const started = performance.now();

    const request = quantizeImage(client, imageData, {
      nColors,
      seed,
      maxIter,
      dither,
      colourSpace,
      cloud: CLOUD_SAMPLE,
      signal,
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
    // While the worker computes, the result's canvases take their memory (a photo's worth each), so
    // drawing the result does not wait for it. In the next task: the worker gets the request only once
    // this one ends.
    nextTask().then(() => {
      if (signal.aborted || current?.imageData !== imageData) return;
      sizeCanvas(ui.result, width, height);
      compare.prepareResult(width, height);
    });
    const quantized = await request;
    await drawRgbaInSlices(ui.result, quantized.rgba, width, height);
    quantized.rgba = null; // drawn: its memory, 4 bytes a pixel, need not last through the score and the PNG
    await compare.updateResult();
    if (signal.aborted) return; // another image or Cancel while it was drawn
    // Kept for lighting up an entry. The requests below copy them to the worker rather than take them
    // (a copy here, 1 byte a pixel, would hold up the result on screen).
    shown = { indices: quantized.indices, palette: quantized.palette.slice(), width, height, chosen: -1 };
    drawPalette(ui.palette, quantized.palette, showEntry);
    cloud.show(quantized, quantized.palette);
    // From the pixels sent to the result drawn; bench/browser.py reads this measure.
    const seconds = performance.measure("kmeans:quantize", { start: started }).duration / 1000;
    ui.resultCaption.textContent = countOf(quantized.n_colors, "colour");
    showStats({ nColors, quantized, seconds, originalBytes: bytes });

    // The PNG first: its size and the download matter most, and a big photo's takes longest (zlib at
    // its best compression); the score follows.
    say("Writing the PNG…");
    const encoded = await client.request(
      REQUEST.ENCODE_PNG,
      { indices: quantized.indices, palette: quantized.palette, width, height },
      { signal },
    );
    const fileName = outputName(name, nColors);
    setDownload(new Blob([encoded.png], { type: "image/png" }), fileName);
    // For tests and benchmarks: how many pieces of a big PNG's image data the helper worker made.
    ui.download.dataset.pieces = encoded.pieces ? `${encoded.helped}/${encoded.pieces}` : "";
    addStat("Compressed size", describeSizes(bytes, encoded.bytes));

    say("Scoring how alike it looks…");
    const original = copyPixels(imageData); // sent away; imageData stays drawable
    const scored = await client.request(
      REQUEST.SCORE,
      { pixels: original, indices: quantized.indices, palette: quantized.palette, width, height },
      { transfer: [original.buffer], signal },
    );
    addScore(scored.ssimulacra2, scored.ssimulacra2_scale);
    ui.progress.value = 1;
    setState("done");
    say(
      `Done: ${countOf(quantized.n_colors, "colour")} in ${seconds.toFixed(2)} s.` +
        (quantized.warning ? ` Note: ${quantized.warning}.` : ""),
    );
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") {
      // Taken back by Cancel or a new image: nothing to say. Else the worker was restarted to cancel a
      // photo of the batch.
      if (!signal.aborted && document.body.dataset.state === "running") {
        setState("ready");
        ui.progress.value = 0;
        say("The run stopped: its worker was restarted to cancel a photo of the batch. Press Run to start it again.");
      }
      return;
    }
    showError(error);
  }
}

/**
 * A run with a target: one "compress" request searches K for it, scores and encodes the result.
 * @param {import("./compress.js").Job} job
 * @param {AbortSignal} signal
 */
async function runToTarget(job, signal) {
  const { name, bytes, imageData } = /** @type {NonNullable<typeof current>} */ (current);
  const { width, height } = imageData;
  const goal = describeTarget(job);
  setState("running");
  ui.progress.removeAttribute("value"); // how many trials a search takes is not known ahead
  say(`Compressing “${name}” to ${goal}…`);
  const started = performance.now();
  const reply = await compressImage(client, copyPixels(imageData), width, height, job, (tried) =>
    say(`Compressing “${name}” to ${goal}: ${countOf(tried, "palette size")} tried…`), signal);
  const seconds = (performance.now() - started) / 1000;
  await showResult(reply, width, height, "The colour cloud shows a run with a fixed K; clear the target to see it.");
  if (signal.aborted) return; // another image or Cancel while it was drawn
  showWholeStats({
    nColors: reply.n_colors, message: reply.message, trials: reply.trials.length / 2, seconds, psnr: reply.psnr,
    score: reply.ssimulacra2, scale: reply.ssimulacra2_scale, before: bytes, after: reply.bytes,
  });
  setDownload(new Blob([reply.png], { type: "image/png" }), outputName(name, job.nColors, job));
  ui.progress.value = 1;
  setState("done");
  say(`Done: ${reply.message}.`);
}

/**
 * Draw a finished result (a target run's or a batch row's) and its palette.
 * @param {{indices: Uint8Array, palette: Uint8Array, n_colors: number}} result
 * @param {number} width
 * @param {number} height
 * @param {string} noCloud why the colour cloud is empty
 */
async function showResult({ indices, palette, n_colors }, width, height, noCloud) {
  await drawIndicesInSlices(ui.result, indices, palette, width, height);
  await compare.updateResult();
  shown = { indices, palette: palette.slice(), width, height, chosen: -1 };
  drawPalette(ui.palette, palette, showEntry);
  cloud.clear(noCloud);
  ui.resultCaption.textContent = countOf(n_colors, "colour");
}

/**
 * Show a row of the batch in the single view: its original, and its result once it has one.
 * @param {import("./batch.js").BatchItem} item
 * @param {{auto: boolean}} how auto: the batch's first result, shown unless a run of the page's own is
 *   under way
 * @returns {boolean} whether it is shown
 */
function showBatchItem(item, { auto }) {
  const state = document.body.dataset.state;
  if (state === "running" || state === "loading") {
    if (!auto) say(`“${item.path}” can be shown once the run on screen ${state === "running" ? "is done (or cancelled)" : "has started"}.`);
    return false;
  }
  showBatchResult(item, ++shownGeneration);
  return true;
}

/** Which choice of a batch row is the latest: an earlier one still decoding draws nothing. */
let shownGeneration = 0;

/**
 * @param {import("./batch.js").BatchItem} item
 * @param {number} generation
 */
async function showBatchResult(item, generation) {
  try {
    const original = await decodeImage(item.file, item.path, PAGE_MAX_MEGAPIXELS);
    if (generation !== shownGeneration) return;
    await showOriginal(item.file, item.path, original);
    if (generation !== shownGeneration) return;
    const { result } = item;
    if (!result) {
      say(item.state === "error" ? `“${item.path}”: ${item.error}` : `“${item.path}” is ${item.state === "running" ? "being compressed" : "waiting its turn"}…`);
      return;
    }
    const decoded = await decodeImage(result.png, result.outputName, PAGE_MAX_MEGAPIXELS);
    if (generation !== shownGeneration) return;
    const indices = indicesOf(new Uint8Array(decoded.data.buffer), result.palette);
    await showResult({ indices, palette: result.palette, n_colors: result.nColors }, result.width, result.height,
      "The colour cloud is drawn for the photo you run here: press Run to see it.");
    if (generation !== shownGeneration) return;
    showWholeStats({
      nColors: result.nColors, message: result.message, trials: result.trials, psnr: result.psnr,
      score: result.ssimulacra2, scale: result.scale, before: item.file.size, after: result.png.size,
    });
    setDownload(result.png, result.outputName);
    setState("done");
    say(`Showing “${item.path}” from your photos: ${countOf(result.nColors, "colour")}, ${formatBytes(result.png.size)}.`);
  } catch (error) {
    showError(error);
  }
}

/**
 * Each pixel's palette entry, found again from its colour (a batch keeps only the PNG). A pixel whose
 * colour is in no entry (a half-transparent one, changed by the browser's premultiplied decode) gets
 * entry 0.
 * @param {Uint8Array} rgba
 * @param {Uint8Array} palette RGBA, 4 bytes per colour
 */
function indicesOf(rgba, palette) {
  const entries = new Map();
  const colours = new Uint32Array(palette.buffer, palette.byteOffset, palette.length / 4);
  colours.forEach((colour, index) => entries.has(colour) || entries.set(colour, index));
  const pixels = new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length / 4);
  const indices = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) indices[i] = entries.get(pixels[i]) ?? 0;
  return indices;
}

/**
 * The numbers of a result that arrived whole, from one "compress" request (a target run's, or a batch
 * row's): the single run shows its steps' numbers as they come instead (showStats).
 * @param {{nColors: number, message?: string | null, trials: number, seconds?: number, psnr?: number | null,
 *          score: number, scale: number, before: number, after: number}} result message: the target's outcome
 */
function showWholeStats({ nColors, message, trials, seconds, psnr, score, scale, before, after }) {
  ui.stats.replaceChildren();
  addStat("Colours", String(nColors));
  if (message) addStat("Target", `${capitalise(message)}, in ${countOf(trials, "trial")}`, "target");
  if (seconds !== undefined) addStat("Time", `${seconds.toFixed(2)} s`);
  addStat("PSNR", describePsnr(psnr));
  addScore(score, scale);
  addStat("Compressed size", describeSizes(before, after));
}

/**
 * @param {number} score SSIMULACRA2
 * @param {number} scale 1, or the factor the copies it compared were shrunk by
 */
function addScore(score, scale) {
  const scaled = scale > 1 ? `, scored at 1/${scale} size` : "";
  addStat("Looks like the original", `${score.toFixed(1)} of 100: ${describeScore(score)} (SSIMULACRA2${scaled})`, "ssimulacra2");
}

/**
 * Light up the pixels of palette entry `index` in the result (fading the rest), or, chosen again, show
 * the result as it is.
 * @param {number} index
 */
async function showEntry(index) {
  if (!shown) return;
  shown.chosen = shown.chosen === index ? -1 : index;
  const { indices, palette, width, height, chosen } = shown;
  [...ui.palette.children].forEach((swatch, i) => swatch.setAttribute("aria-pressed", String(i === chosen)));
  if (chosen >= 0) {
    let count = 0;
    for (const i of indices) if (i === chosen) count++;
    const colour = /** @type {HTMLElement} */ (ui.palette.children[chosen]).dataset.colour;
    say(`${colour}: ${count.toLocaleString("en")} pixels (${((100 * count) / indices.length).toFixed(1)}%) lit up in the result; choose it again to see them all.`);
  }
  // In slices, as every big drawing: a quick second choice stops this one.
  const drawnPalette = chosen < 0 ? palette : fadedPalette(palette, chosen);
  if (!(await drawIndicesInSlices(ui.result, indices, drawnPalette, width, height))) return;
  await compare.updateResult();
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


function cancel() {
  if (document.body.dataset.state !== "running") return;
  runWhenReady = false;
  if (stopRun()) {
    restartNote = "Cancelled. ";
    say("Cancelled. Restarting Python…");
  } else {
    say("Cancelled.");
  }
}

/**
 * Take back the run's requests. One the worker is running can only be stopped by restarting the
 * worker (the page then waits for "ready"); one still waiting its turn (behind a photo of the batch)
 * is simply never sent.
 * @returns {boolean} whether the worker restarts
 */
function stopRun() {
  const restarting = client.runs(runAbort.signal);
  runAbort.abort();
  ui.progress.value = 0;
  setState(restarting ? "loading" : "ready");
  return restarting;
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
  for (const input of [ui.imageInput, ui.folderInput]) {
    input.addEventListener("change", () => {
      addPicked(pickedFromInput(input));
      input.value = ""; // choosing the same files again still fires change
    });
  }
  ui.form.addEventListener("change", (/** @type {Event} */ event) => {
    if (/** @type {HTMLInputElement} */ (event.target).type !== "file") rememberSettings(); // a photo is no setting
  });
  ui.resetSettings.addEventListener("click", () => {
    applySettings(defaultSettings());
    for (const input of Object.values(SETTING_INPUTS)) input.removeAttribute("aria-invalid");
    rememberSettings();
    say("Every setting is back to its default, and the page has forgotten the ones you chose.");
  });
  document.addEventListener("dragover", (event) => {
    event.preventDefault();
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
  document.addEventListener("drop", async (event) => {
    event.preventDefault();
    document.body.classList.remove("dragging");
    if (!event.dataTransfer) return;
    if (currentView() === "clusters") {
      openPointsFile(event.dataTransfer.files[0]);
      return;
    }
    try {
      addPicked(await pickedFromDrop(event.dataTransfer));
    } catch (error) {
      showError(new Error(`The dropped folder could not be read (${error instanceof Error ? error.message : error}). Choose it with “A folder…” instead.`));
    }
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

/**
 * Open what the user gave: one file as before (the single view), several files or a folder as a batch.
 * @param {import("./picked-files.js").Picked} picked
 */
function addPicked({ files, skipped, folder, fromFolder }) {
  if (files.length === 0) {
    if (fromFolder) {
      const others = skipped ? ` (only ${countOf(skipped, "other file")})` : "";
      showError(new Error(`The folder${folder ? ` “${folder}”` : ""} has no images${others}. Choose a folder with ${ACCEPTED_FORMATS} files.`));
    }
    return;
  }
  if (files.length === 1 && !fromFolder && batch.size === 0) {
    openUserFile(files[0].file);
    return;
  }
  let job;
  try {
    job = readJob();
  } catch (error) {
    showError(new Error(`${error instanceof Error ? error.message : error} Then choose the photos again.`));
    return;
  }
  batch.add(files, job, skipped);
  say(`${countOf(files.length, "photo")} added to the list below. Choose one to see it here.`);
}

/** @returns {Storage | null} the page's storage, or null where it is refused (some private windows, sandboxes) */
function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** @param {import("./settings.js").SettingValues} values */
function applySettings(values) {
  for (const [param, input] of Object.entries(SETTING_INPUTS)) input.value = values[param];
  showDither();
}

/** Remember the settings, and put them in the page's URL (a link to it shares them). */
function rememberSettings() {
  const values = Object.fromEntries(Object.entries(SETTING_INPUTS).map(([param, input]) => [param, input.value]));
  saveSettings(values, storage());
  history.replaceState(history.state, "", linkWithSettings(location.href, values));
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
const settings = loadSettings({ search: location.search, storage: storage() });
applySettings(settings.values);
// The address shows the settings in use (remembered ones too), so copying it shares them.
history.replaceState(history.state, "", linkWithSettings(location.href, settings.values));
const linkProblems = [...settings.problems, workers.problem].filter(Boolean);
if (linkProblems.length) restartNote = `${linkProblems.join(" ")} `; // said with the boot steps and "Ready"
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
    if (!params.files || params.files.length === 0) return;
    const files = await Promise.all(params.files.map((/** @type {any} */ handle) => handle.getFile()));
    addPicked({ files: files.map((file) => ({ file, path: file.name })), skipped: 0, folder: "", fromFolder: false });
  });
}
