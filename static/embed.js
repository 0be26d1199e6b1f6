// @ts-check
/**
 * The embed (embed.html?src=IMAGE_URL&k=8), sized for an <iframe>: one image, K, Run, the result and
 * a link to the full page. It takes the full page's settings parameters (settings.js: k, dither, seed,
 * max-iter, space, max-kb, min-quality), but never what a visitor chose on the full page: the embed
 * shows what its author linked. Python is loaded only when Run is first pressed, so a blog post that shows
 * the embed costs its readers nothing until they use it.
 *
 * document.body.dataset.state: loading (the image) | ready (Run enabled) | running (loading Python,
 * then compressing) | done | error.
 */
import { PAGE_MAX_MEGAPIXELS, WARM_STAGE } from "./protocol.js";
import { WorkerClient } from "./worker-client.js";
import { copyPixels, decodeImage } from "./images.js";
import { drawImageDataInSlices, drawIndicesInSlices, drawRgbaInSlices, nextTask, sizeCanvas } from "./draw.js";
import {
  SAMPLE_NAME, SAMPLE_URL, bootLabel, capitalise, compressImage, countOf, describePsnr, describeScore, describeTarget,
  formatStrength, quantizeImage, readInt, readNumber, setUpOptionInputs,
} from "./compress.js";
import { linkWithSettings, loadSettings } from "./settings.js";

/** The link's settings (the embed shows only K and the dithering; the others are taken as linked). */
const settings = loadSettings({ search: location.search });

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
  const { values, problems } = settings;
  ui.k.value = values.k;
  ui.dither.value = values.dither; // checked first: a range input would quietly clamp a bad value
  ui.ditherValue.textContent = formatStrength(Number(ui.dither.value));
  const note = problems.map((problem) => ` ${problem}`).join("");
  linkFullPage();
  const src = new URLSearchParams(location.search).get("src");
  setState("loading");
  say("Loading the image…");
  try {
    const { blob, name } = src ? await fetchImage(src) : { blob: await (await fetch(SAMPLE_URL)).blob(), name: SAMPLE_NAME };
    imageData = await decodeImage(blob, name, PAGE_MAX_MEGAPIXELS);
    await drawImageDataInSlices(ui.original, imageData); // a big photo in slices: the page never freezes
    ui.originalCaption.textContent = `${name}, ${imageData.width}×${imageData.height}`;
    setState("ready");
    const target = describeTarget(targets());
    say((target ? `Press Run to compress it to ${target}.` : "Press Run to reduce it to K colours with K-means.") + note);
  } catch (error) {
    showError(error, "The image could not be loaded: ");
  }
}

/** The full page opens with the embed's settings: the link's, with K and the dithering as they are now. */
function linkFullPage() {
  const values = { ...settings.values, k: ui.k.value, dither: ui.dither.value };
  $("full-page").href = linkWithSettings(new URL("./", location.href).href, values);
}

/** The link's targets, as numbers (the embed has no inputs for them). */
function targets() {
  const number = (/** @type {string} */ text) => (text === "" ? null : Number(text));
  return { maxKb: number(settings.values["max-kb"]), minQuality: number(settings.values["min-quality"]) };
}

async function run() {
  if (!imageData) return;
  try {
    const { values } = settings;
    /** @type {import("./compress.js").Job} */
    const job = {
      nColors: readInt(ui.k, "Colours (K)"), dither: readNumber(ui.dither, "Dithering"), seed: Number(values.seed),
      maxIter: Number(values["max-iter"]), colourSpace: values.space, ...targets(),
    };
    const { width, height } = imageData;
    setState("running");
    ui.progress.value = 0;
    if (job.maxKb !== null || job.minQuality !== null) {
      await runToTarget(job, width, height);
      return;
    }
    const { nColors, maxIter } = job;
    say(`Compressing to ${nColors} colours…`);
    const request = quantizeImage(client, imageData, {
      ...job,
      onProgress: ({ phase, n_iter = 0, fraction = 0 }) => {
        if (phase === "dither") {
          ui.progress.value = fraction;
          say(`Compressing to ${nColors} colours: dithering, ${Math.round(fraction * 100)}%…`);
          return;
        }
        ui.progress.value = n_iter / maxIter;
        say(`Compressing to ${nColors} colours: iteration ${n_iter}…`);
      },
    });
    // The result's canvas takes its memory while the worker computes (see app.js run).
    nextTask().then(() => sizeCanvas(ui.result, width, height));
    const quantized = await request;
    await drawRgbaInSlices(ui.result, quantized.rgba, width, height);
    ui.resultCaption.textContent = countOf(quantized.n_colors, "colour");
    ui.progress.value = 1;
    setState("done");
    const psnr = quantized.psnr === undefined || quantized.psnr === null ? "lossless" : `PSNR ${describePsnr(quantized.psnr, 1)}`;
    say(`Done: ${countOf(quantized.n_colors, "colour")}, ${psnr}.`);
  } catch (error) {
    showError(error);
  }
}

/**
 * A linked target (max-kb=, min-quality=): K is searched for it, the result scored and measured.
 * @param {import("./compress.js").Job} job
 * @param {number} width
 * @param {number} height
 */
async function runToTarget(job, width, height) {
  const goal = describeTarget(job);
  ui.progress.removeAttribute("value");
  say(`Compressing to ${goal}…`);
  const pixels = copyPixels(/** @type {ImageData} */ (imageData));
  const reply = await compressImage(client, pixels, width, height, job, (tried) =>
    say(`Compressing to ${goal}: ${countOf(tried, "palette size")} tried…`),
  );
  await drawIndicesInSlices(ui.result, reply.indices, reply.palette, width, height);
  ui.resultCaption.textContent = countOf(reply.n_colors, "colour");
  ui.progress.value = 1;
  setState("done");
  say(`Done: ${capitalise(reply.message || "")}; it looks ${reply.ssimulacra2.toFixed(0)} of 100 (${describeScore(reply.ssimulacra2)}).`);
}

setUpOptionInputs({ n_colors: ui.k, dither: ui.dither });
ui.dither.addEventListener("input", () => (ui.ditherValue.textContent = formatStrength(Number(ui.dither.value))));
ui.form.addEventListener("change", linkFullPage);
ui.form.addEventListener("submit", (/** @type {Event} */ event) => {
  event.preventDefault();
  if (!ui.run.disabled) run();
});
loadImage();
