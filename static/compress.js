// @ts-check
/** What the full page (app.js) and the embed (embed.js) share: option inputs, input checks and the run. */
import { copyPixels } from "./images.js";
import { BOOT_STAGES, COLOUR_SPACES, QUANTIZE_OPTIONS, REQUEST } from "./protocol.js";
import { SETTINGS, settingProblem } from "./settings.js";

/** The bundled sample photo (CC BY 2.0, see static/samples/LICENSE.md) and its file name. */
export const SAMPLE_URL = new URL("./samples/flower.jpg", import.meta.url);
export const SAMPLE_NAME = "flower.jpg";

/**
 * What the status line calls a boot stage.
 * @param {string} stage
 */
export function bootLabel(stage) {
  return BOOT_STAGES.find((entry) => entry.stage === stage)?.label || stage;
}

/**
 * Give number inputs the default and range of their option (QUANTIZE_OPTIONS), so the HTML holds none.
 * @param {Partial<Record<keyof typeof QUANTIZE_OPTIONS, HTMLInputElement>>} inputs by option name
 * @param {HTMLSelectElement | null} [colourSpace] the colour space select, given its default too
 */
export function setUpOptionInputs(inputs, colourSpace = null) {
  if (colourSpace) {
    for (const option of colourSpace.options) option.defaultSelected = option.value === COLOUR_SPACES.default;
  }
  for (const [name, input] of Object.entries(inputs)) {
    const option = QUANTIZE_OPTIONS[/** @type {keyof typeof QUANTIZE_OPTIONS} */ (name)];
    if (!input || !option) continue;
    input.min = String(option.min);
    input.max = String(option.max);
    input.defaultValue = String(option.default); // the value too, unless the browser restored the user's
  }
}

/**
 * Read a whole number from a number input, or throw a message naming the field and the range.
 * @param {HTMLInputElement} input
 * @param {string} label
 */
export function readInt(input, label) {
  return Number(readChecked(input, label, { kind: "int", min: Number(input.min), max: Number(input.max) }));
}

/**
 * Read a number (not necessarily whole) from an input, or throw a message naming the field and the range.
 * @param {HTMLInputElement} input
 * @param {string} label
 */
export function readNumber(input, label) {
  return Number(readChecked(input, label, { kind: "number", min: Number(input.min), max: Number(input.max) }));
}

/**
 * An input's text, checked as a setting of that kind and range is (settings.js settingProblem), or throw
 * a message naming the field and what it accepts.
 * @param {HTMLInputElement} input
 * @param {string} label
 * @param {any} setting a Setting, or {kind, min, max}
 */
function readChecked(input, label, setting) {
  const problem = settingProblem(setting, input.value);
  if (problem) refuse(input, `${label} must be ${problem}; got “${input.value}”.`);
  input.removeAttribute("aria-invalid");
  return input.value;
}

/**
 * Mark an input wrong, take the user to it, and throw the message.
 * @param {HTMLInputElement} input
 * @param {string} message
 * @returns {never}
 */
function refuse(input, message) {
  input.setAttribute("aria-invalid", "true");
  input.focus();
  throw new Error(message);
}

/**
 * Read a target from its input: null when empty (no target), else the number, or throw a message
 * naming the field and what it accepts.
 * @param {HTMLInputElement} input
 * @param {"max-kb" | "min-quality"} param its setting (settings.js)
 * @returns {number | null}
 */
export function readTarget(input, param) {
  const setting = /** @type {import("./settings.js").Setting} */ (SETTINGS.find((entry) => entry.param === param));
  // A number input holds "" for text that is not a number; badInput tells it from an empty field.
  if (input.validity?.badInput) refuse(input, `${setting.label} must be a number; got “text that is not a number”.`);
  const text = readChecked(input, setting.label, setting);
  return text.trim() === "" ? null : Number(text);
}

/**
 * A target in words: "no bigger than 200 KB", "quality at least 70", or both.
 * @param {{maxKb: number | null, minQuality: number | null}} targets
 */
export function describeTarget({ maxKb, minQuality }) {
  const parts = [];
  if (maxKb !== null) parts.push(`no bigger than ${maxKb} KB`);
  if (minQuality !== null) parts.push(`quality at least ${minQuality}`);
  return parts.join(" and ");
}

/**
 * Read the colour space from its select, or throw a message listing the accepted names.
 * @param {HTMLSelectElement} select
 */
export function readColourSpace(select) {
  if (!COLOUR_SPACES.names.includes(select.value)) {
    throw new Error(`Unknown colour space “${select.value}”; use one of: ${COLOUR_SPACES.names.join(", ")}.`);
  }
  return select.value;
}

/**
 * Show a strength 0-1 as the dithering control's label does.
 * @param {number} value
 */
export function formatStrength(value) {
  return value === 0 ? "off" : value.toFixed(2);
}

/**
 * SSIMULACRA2 in words: the scale's own reading (90 visually lossless ... 30 low).
 * @param {number} score
 */
export function describeScore(score) {
  if (score >= 90) return "visually lossless";
  if (score >= 70) return "high quality";
  if (score >= 50) return "medium quality";
  if (score >= 30) return "low quality";
  return "very low quality";
}

/**
 * The text with its first letter in capitals.
 * @param {string} text
 */
export function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * "1 colour", "16 colours".
 * @param {number} count
 * @param {string} word the singular
 */
export function countOf(count, word) {
  return `${count} ${count === 1 ? word : `${word}s`}`;
}

/**
 * How a file's size changed: "3.2× smaller", "1.2× larger" or "the same size".
 * @param {number} before bytes
 * @param {number} after bytes
 */
export function sizeChange(before, after) {
  if (after < before) return `${(before / after).toFixed(1)}× smaller`;
  if (after > before) return `${(after / before).toFixed(1)}× larger`;
  return "the same size";
}

/**
 * A file before and after: "139.6 KB → 31.5 KB (4.4× smaller)".
 * @param {number} before bytes
 * @param {number} after bytes
 */
export function describeSizes(before, after) {
  return `${formatBytes(before)} → ${formatBytes(after)} (${sizeChange(before, after)})`;
}

/**
 * A file size as the page shows it (1 KB = 1024 bytes, as the targets count).
 * @param {number} bytes
 */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

/**
 * PSNR in words: "lossless" for an exact copy (the worker sends null), else decibels.
 * @param {number | null | undefined} psnr
 * @param {number} digits
 */
export function describePsnr(psnr, digits = 2) {
  return psnr === undefined || psnr === null ? "lossless" : `${psnr.toFixed(digits)} dB`;
}

/**
 * Quantize an image in the worker; the pixels are copied, so `imageData` stays drawable.
 * @param {import("./worker-client.js").WorkerClient} client
 * @param {ImageData} imageData
 * @param {{nColors: number, seed: number, maxIter: number, dither: number, colourSpace: string, cloud?: number,
 *          onProgress?: (payload: import("./protocol.js").ProgressPayload) => void, signal?: AbortSignal}} options
 *   signal: takes the request back (WorkerClient.request); cloud: how many of
 *   the photo's colours the reply samples for the colour cloud (0, the default: none)
 * @returns {Promise<import("./protocol.js").QuantizeResult>}
 */
export function quantizeImage(client, imageData, { nColors, seed, maxIter, dither, colourSpace, cloud = 0, onProgress, signal }) {
  const { width, height } = imageData;
  const pixels = copyPixels(imageData);
  return client.request(
    REQUEST.QUANTIZE,
    { pixels, width, height, n_colors: nColors, seed, max_iter: maxIter, dither, colour_space: colourSpace, cloud },
    { transfer: [pixels.buffer], onProgress, signal },
  );
}

/**
 * The settings an image is compressed with (read from the page's inputs).
 * @typedef {object} Job
 * @property {number} nColors with a target, the first palette size tried
 * @property {number} seed
 * @property {number} maxIter
 * @property {number} dither
 * @property {string} colourSpace
 * @property {number | null} maxKb "no bigger than", in KB of 1024 bytes (null: no such target)
 * @property {number | null} minQuality "at least this SSIMULACRA2" (null: no such target)
 */

/**
 * One image's whole job in the worker (kmeans.web.compress): quantize it, or search K for the job's
 * target; score; encode the PNG.
 * @param {import("./worker-client.js").WorkerClient} client
 * @param {Uint8Array} pixels RGBA bytes; their buffer is transferred, so the caller's copy is gone after
 * @param {number} width
 * @param {number} height
 * @param {Job} job
 * @param {(trials: number) => void} [onTrial] after each palette size a target search tries
 * @param {AbortSignal} [signal] takes the request back (see WorkerClient.request)
 * @returns {Promise<import("./protocol.js").CompressResult>}
 */
export function compressImage(client, pixels, width, height, job, onTrial = () => {}, signal = undefined) {
  return client.request(
    REQUEST.COMPRESS,
    {
      pixels, width, height, n_colors: job.nColors, seed: job.seed, max_iter: job.maxIter, dither: job.dither,
      colour_space: job.colourSpace, max_kb: job.maxKb, min_quality: job.minQuality,
    },
    { transfer: [pixels.buffer], onProgress: ({ phase, n_iter = 0 }) => phase === "trial" && onTrial(n_iter), signal },
  );
}
