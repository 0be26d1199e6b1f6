// @ts-check
/** What the full page (app.js) and the embed (embed.js) share: option inputs, input checks and the run. */
import { BOOT_STAGES, QUANTIZE_OPTIONS, REQUEST } from "./protocol.js";

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
 */
export function setUpOptionInputs(inputs) {
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
  const min = Number(input.min);
  const max = Number(input.max);
  const value = Number(input.value);
  if (input.value.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
    throw new Error(`${label} must be a whole number from ${min} to ${max}; got “${input.value}”.`);
  }
  input.removeAttribute("aria-invalid");
  return value;
}

/**
 * Quantize an image in the worker; the pixels are copied, so `imageData` stays drawable.
 * @param {import("./worker-client.js").WorkerClient} client
 * @param {ImageData} imageData
 * @param {{nColors: number, seed: number, maxIter: number, onProgress?: (payload: {n_iter: number}) => void}} options
 * @returns {Promise<import("./protocol.js").QuantizeResult>}
 */
export function quantizeImage(client, imageData, { nColors, seed, maxIter, onProgress }) {
  const { width, height } = imageData;
  const pixels = new Uint8Array(imageData.data);
  return client.request(
    REQUEST.QUANTIZE,
    { pixels, width, height, n_colors: nColors, seed, max_iter: maxIter },
    { transfer: [pixels.buffer], onProgress },
  );
}
