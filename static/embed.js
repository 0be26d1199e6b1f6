// @ts-check
/**
 * The embed (embed.html?src=IMAGE_URL&k=8), sized for an <iframe>: one image, K, Run, the result and
 * a link to the full page. Python is loaded only when Run is first pressed, so a blog post that shows
 * the embed costs its readers nothing until they use it.
 *
 * document.body.dataset.state: loading (the image) | ready (Run enabled) | running (loading Python,
 * then compressing) | done | error.
 */
import { COLOUR_SPACES, PAGE_MAX_MEGAPIXELS, QUANTIZE_OPTIONS, WARM_STAGE } from "./protocol.js";
import { WorkerClient } from "./worker-client.js";
import { decodeImage } from "./images.js";
import { drawImageData, drawRgba } from "./draw.js";
import {
  SAMPLE_NAME, SAMPLE_URL, bootLabel, countOf, describePsnr, formatStrength, quantizeImage, readInt, readNumber,
  setUpOptionInputs,
} from "./compress.js";

/** The embed shows only K; the other options keep their defaults. */
const SEED = QUANTIZE_OPTIONS.seed.default;
const MAX_ITER = QUANTIZE_OPTIONS.max_iter.default;

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const ui = {
  form: $("controls"),
  k: $("k"),
  dither: $("dither"),
  ditherValue: $("dither-value"),
  run: $("run"),
  progress: $("progress"),
  status: $("status"),
  original: $("original"),
  originalCaption: $("original-caption"),
  result: $("result"),
  resultCaption: $("result-caption"),
};

/** The decoded image, once it has loaded. @type {ImageData | null} */
let imageData = null;

const client = new WorkerClient({ onStatus: showBootStatus, onBootError: (error) => showError(error, "Python could not be loaded: ") });

/** @param {"loading" | "ready" | "running" | "done" | "error"} state */
function setState(state) {
  document.body.dataset.state = state;
  ui.run.disabled = !imageData || state === "loading" || state === "running";
}

/** @param {string} text */
function say(text) {
  ui.status.textContent = text;
}

/**
 * @param {unknown} error
 * @param {string} [prefix] what went wrong, before the error's own message
 */
function showError(error, prefix = "Error: ") {
  console.warn(error);
  setState("error");
  ui.progress.value = 0;
  say(prefix + (error instanceof Error ? error.message : String(error)));
}

/** @param {{stage: string, step: number, steps: number}} status */
function showBootStatus({ stage, step, steps }) {
  if (stage === "ready" || stage === WARM_STAGE) return;
  say(`Loading ${bootLabel(stage)} (${step} of ${steps - 1}), once…`);
  ui.progress.value = (step - 1) / (steps - 1);
}

/**
 * Fetch the image at `src` (relative to this page, or on another site that allows it with CORS).
 * @param {string} src
 * @returns {Promise<{blob: Blob, name: string}>}
 */
export async function fetchImage(src) {
  /** @type {URL} */
  let url;
  try {
    url = new URL(src, location.href);
  } catch {
    throw new Error(`“${src}” is not a web address.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`“${src}” is not an http or https address.`);
  }
  /** @type {Response} */
  let response;
  try {
    response = await fetch(url, { mode: "cors", credentials: "omit" });
  } catch {
    throw new Error(await explainFailure(url));
  }
  if (!response.ok) {
    throw new Error(`the server of ${url.href} answered ${response.status} ${response.statusText}`.trim() + ".");
  }
  return { blob: await response.blob(), name: fileName(url) };
}

/**
 * Tell a refusal (CORS) from an unreachable server: fetch cannot, but an opaque request to the same
 * address succeeds when the server answers at all.
 * @param {URL} url
 */
async function explainFailure(url) {
  try {
    await fetch(url, { mode: "no-cors", credentials: "omit" });
  } catch {
    return `${url.href} could not be reached. Check the address (and that its server allows other sites to read it).`;
  }
  return (
    `the server of ${url.href} does not allow other sites to read it (CORS). ` +
    "Host the image where it is sent with “Access-Control-Allow-Origin: *”, or next to this page."
  );
}

/** @param {URL} url */
function fileName(url) {
  const last = url.pathname.split("/").filter(Boolean).pop() || url.hostname;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

async function loadImage() {
  const params = new URLSearchParams(location.search);
  if (params.has("k")) ui.k.value = params.get("k");
  // A range input would quietly clamp or replace a bad value: check the parameter itself.
  let note = "";
  if (params.has("dither")) {
    const text = params.get("dither") || "";
    const value = Number(text);
    const { min, max } = QUANTIZE_OPTIONS.dither;
    if (text.trim() !== "" && Number.isFinite(value) && value >= min && value <= max) ui.dither.value = text;
    else note = ` The dither= parameter must be a number from ${min} to ${max}; got “${text}”, so it is ${ui.dither.value}.`;
  }
  ui.ditherValue.textContent = formatStrength(Number(ui.dither.value));
  const src = params.get("src");
  setState("loading");
  say("Loading the image…");
  try {
    const { blob, name } = src ? await fetchImage(src) : { blob: await (await fetch(SAMPLE_URL)).blob(), name: SAMPLE_NAME };
    imageData = await decodeImage(blob, name, PAGE_MAX_MEGAPIXELS);
    drawImageData(ui.original, imageData);
    ui.originalCaption.textContent = `${name}, ${imageData.width}×${imageData.height}`;
    setState("ready");
    say("Press Run to reduce it to K colours with K-means." + note);
  } catch (error) {
    showError(error, "The image could not be loaded: ");
  }
}

async function run() {
  if (!imageData) return;
  try {
    const nColors = readInt(ui.k, "Colours (K)");
    const dither = readNumber(ui.dither, "Dithering");
    const { width, height } = imageData;
    setState("running");
    ui.progress.value = 0;
    say(`Compressing to ${nColors} colours…`);
    const quantized = await quantizeImage(client, imageData, {
      nColors,
      seed: SEED,
      maxIter: MAX_ITER,
      dither,
      colourSpace: COLOUR_SPACES.default,
      onProgress: ({ phase, n_iter = 0, fraction = 0 }) => {
        if (phase === "dither") {
          ui.progress.value = fraction;
          say(`Compressing to ${nColors} colours: dithering, ${Math.round(fraction * 100)}%…`);
          return;
        }
        ui.progress.value = n_iter / MAX_ITER;
        say(`Compressing to ${nColors} colours: iteration ${n_iter}…`);
      },
    });
    drawRgba(ui.result, quantized.rgba, width, height);
    ui.resultCaption.textContent = countOf(quantized.n_colors, "colour");
    ui.progress.value = 1;
    setState("done");
    const psnr = quantized.psnr === undefined || quantized.psnr === null ? "lossless" : `PSNR ${describePsnr(quantized.psnr, 1)}`;
    say(`Done: ${countOf(quantized.n_colors, "colour")}, ${psnr}.`);
  } catch (error) {
    showError(error);
  }
}

setUpOptionInputs({ n_colors: ui.k, dither: ui.dither });
ui.dither.addEventListener("input", () => (ui.ditherValue.textContent = formatStrength(Number(ui.dither.value))));
ui.form.addEventListener("submit", (/** @type {Event} */ event) => {
  event.preventDefault();
  if (!ui.run.disabled) run();
});
loadImage();
