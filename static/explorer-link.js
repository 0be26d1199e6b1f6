// @ts-check
/**
 * Homework links for the clustering explorer: the state of a run written into the page's address, after
 * "#clusters?", and read back. A teacher sends the link; a student opens exactly that data, K,
 * initialisation, seed and step, with the chosen controls hidden (hide=).
 *
 * The parameters: data (a sample's name, or "points" with the numbers in pts and their count of columns
 * in d), std (1: standardised), k, init, seed, max (max iterations), step (half-steps done), regions,
 * lines (1 or 0), c (the starting centroids as drawn, when they were clicked or dragged), hide (names
 * of data-hide elements, comma-separated). Numbers travel as base64url float64, so they come back to
 * the bit.
 */

/** The hash a link opens, before its parameters. */
export const LINK_VIEW = "#clusters";

/** Most numbers (points × columns) a link carries; more than this and the link opens the sample instead. */
export const LINK_MAX_VALUES = 4000;

/**
 * @typedef {object} ExplorerLink
 * @property {string} data a sample's name, or "points"
 * @property {Float64Array | null} points the points (row-major), for data "points"
 * @property {number} nFeatures columns of `points`
 * @property {boolean} standardise
 * @property {string} k as typed
 * @property {string} init
 * @property {string} seed
 * @property {string} maxIter
 * @property {number} step half-steps done
 * @property {boolean} regions
 * @property {boolean} lines
 * @property {Float64Array | null} start the starting centroids as drawn (k * 2), or null
 * @property {string[]} hide
 */

/**
 * Float64 values as base64url text (little-endian, as every browser stores them).
 * @param {Float64Array} values
 */
export function encodeNumbers(values) {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The inverse of encodeNumbers, or an Error that says what is wrong.
 * @param {string} text
 * @param {string} name the parameter, for the message
 */
export function decodeNumbers(text, name) {
  let binary;
  try {
    binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    throw new Error(`the link's ${name}= is not valid base64 numbers; ask for a new link`);
  }
  if (binary.length % 8) throw new Error(`the link's ${name}= is cut short (${binary.length} bytes is not a whole number of values); ask for a new link`);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const values = new Float64Array(bytes.buffer);
  if (!values.every(Number.isFinite)) throw new Error(`the link's ${name}= holds a value that is not a finite number`);
  return values;
}

/**
 * The address of a link to `link`, on the page at `base` (its address without the hash).
 * @param {string} base
 * @param {ExplorerLink} link
 */
export function writeLink(base, link) {
  const params = new URLSearchParams();
  params.set("data", link.data);
  if (link.points) {
    params.set("pts", encodeNumbers(link.points));
    params.set("d", String(link.nFeatures));
  }
  if (link.standardise) params.set("std", "1");
  params.set("k", link.k);
  params.set("init", link.init);
  params.set("seed", link.seed);
  params.set("max", link.maxIter);
  params.set("step", String(link.step));
  params.set("regions", link.regions ? "1" : "0");
  params.set("lines", link.lines ? "1" : "0");
  if (link.start) params.set("c", encodeNumbers(link.start));
  if (link.hide.length) params.set("hide", link.hide.join(","));
  return `${base}${LINK_VIEW}?${params}`;
}

/**
 * The link in a page address's hash, or null when it holds none.
 * @param {string} hash location.hash
 * @returns {ExplorerLink | null}
 */
export function readLink(hash) {
  if (!hash.startsWith(`${LINK_VIEW}?`)) return null;
  const params = new URLSearchParams(hash.slice(LINK_VIEW.length + 1));
  const data = params.get("data") || "blobs";
  const points = data === "points" ? decodeNumbers(params.get("pts") || "", "pts") : null;
  const nFeatures = Number(params.get("d") || "2");
  if (points && (!Number.isInteger(nFeatures) || nFeatures < 2 || points.length % nFeatures || points.length === 0)) {
    throw new Error(`the link's points do not make rows of d=${params.get("d")} columns; ask for a new link`);
  }
  const step = Number(params.get("step") || "0");
  if (!Number.isInteger(step) || step < 0) throw new Error(`the link's step=${params.get("step")} is not a whole number of steps from 0`);
  const start = params.get("c");
  const whole = (/** @type {string} */ name, /** @type {string} */ fallback) => {
    const value = params.get(name) ?? fallback;
    if (!/^\d+$/.test(value)) throw new Error(`the link's ${name}=${value} is not a whole number; ask for a new link`);
    return value;
  };
  return {
    data,
    points,
    nFeatures,
    standardise: params.get("std") === "1",
    k: whole("k", "3"),
    init: params.get("init") || "random",
    seed: whole("seed", "0"),
    maxIter: whole("max", "20"),
    step,
    regions: params.get("regions") !== "0",
    lines: params.get("lines") === "1",
    start: start ? decodeNumbers(start, "c") : null,
    hide: (params.get("hide") || "").split(",").map((name) => name.trim()).filter(Boolean),
  };
}

/**
 * Hide the page's parts named in `names` (their data-hide attribute); returns the names nothing has.
 * @param {string[]} names
 */
export function hideParts(names) {
  const unknown = [];
  for (const name of names) {
    const parts = document.querySelectorAll(`[data-hide="${CSS.escape(name)}"]`);
    if (parts.length === 0) unknown.push(name);
    parts.forEach((part) => /** @type {HTMLElement} */ (part).hidden = true);
  }
  return unknown;
}

/** The names hide= accepts, for messages. */
export function hideableNames() {
  return [...new Set([...document.querySelectorAll("[data-hide]")].map((part) => part.getAttribute("data-hide")))];
}
