// @ts-check
/** What the full page (app.js) and the embed (embed.js) share: option inputs, input checks and the run. */
import { BOOT_STAGES, COLOUR_SPACES, QUANTIZE_OPTIONS, REQUEST } from "./protocol.js";

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
  return readInRange(input, label, Number.isInteger, "a whole number");
}

/**
 * Read a number (not necessarily whole) from an input, or throw a message naming the field and the range.
 * @param {HTMLInputElement} input
 * @param {string} label
 */
export function readNumber(input, label) {
  return readInRange(input, label, Number.isFinite, "a number");
}

/**
 * @param {HTMLInputElement} input
 * @param {string} label
 * @param {(value: number) => boolean} accepted
 * @param {string} what what an accepted value is, for the message
 */
function readInRange(input, label, accepted, what) {
  const min = Number(input.min);
  const max = Number(input.max);
  const value = Number(input.value);
  if (input.value.trim() === "" || !accepted(value) || value < min || value > max) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
    throw new Error(`${label} must be ${what} from ${min} to ${max}; got “${input.value}”.`);
  }
  input.removeAttribute("aria-invalid");
  return value;
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
 *          onProgress?: (payload: import("./protocol.js").ProgressPayload) => void}} options cloud: how many of
 *   the photo's colours the reply samples for the colour cloud (0, the default: none)
 * @returns {Promise<import("./protocol.js").QuantizeResult>}
 */
export function quantizeImage(client, imageData, { nColors, seed, maxIter, dither, colourSpace, cloud = 0, onProgress }) {
  const { width, height } = imageData;
  const pixels = new Uint8Array(imageData.data);
  return client.request(
    REQUEST.QUANTIZE,
    { pixels, width, height, n_colors: nColors, seed, max_iter: maxIter, dither, colour_space: colourSpace, cloud },
    { transfer: [pixels.buffer], onProgress },
  );
}
