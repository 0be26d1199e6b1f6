// @ts-check
/**
 * The compress view's settings: one record of them (SETTINGS), read from the page's URL and from what
 * was remembered (localStorage), written back to both. A link with settings wins whole: what it leaves
 * out is at its default (that is why it was left out), so a shared link shows what its sender saw, not
 * the receiver's remembered choices; a value at its default is left out of both, so a link stays short
 * and a later change of a default reaches everyone who never chose otherwise. The embed reads the same
 * URL parameters.
 */
import { COLOUR_SPACES, QUANTIZE_OPTIONS, TARGETS } from "./protocol.js";

/** Where the settings are remembered. */
export const STORAGE_KEY = "kmeans-settings";

/**
 * @typedef {object} Setting
 * @property {string} param its URL parameter and key in storage
 * @property {string} label what the page calls it, for messages
 * @property {"int" | "number" | "choice" | "target"} kind a target may be empty: no target
 * @property {string} default as the input holds it
 * @property {number} [min]
 * @property {number} [max]
 * @property {number} [above] the value must be greater than this
 * @property {readonly string[]} [names] the choices
 */

/** @param {{default: number, min: number, max: number}} option */
const range = ({ default: value, min, max }) => ({ default: String(value), min, max });

/** Every setting, in the order the page shows them. @type {readonly Setting[]} */
export const SETTINGS = Object.freeze([
  { param: "k", label: "Colours (K)", kind: "int", ...range(QUANTIZE_OPTIONS.n_colors) },
  { param: "max-iter", label: "Max iterations", kind: "int", ...range(QUANTIZE_OPTIONS.max_iter) },
  { param: "seed", label: "Seed", kind: "int", ...range(QUANTIZE_OPTIONS.seed) },
  { param: "dither", label: "Dithering", kind: "number", ...range(QUANTIZE_OPTIONS.dither) },
  { param: "space", label: "Colour space", kind: "choice", default: COLOUR_SPACES.default, names: COLOUR_SPACES.names },
  { param: "max-kb", label: "No bigger than (KB)", kind: "target", default: "", above: TARGETS.max_kb.above },
  { param: "min-quality", label: "Quality at least", kind: "target", default: "", max: TARGETS.min_quality.max },
]);

/** @typedef {Record<string, string>} SettingValues values by URL parameter, as the inputs hold them */

/** @returns {SettingValues} */
export function defaultSettings() {
  return Object.fromEntries(SETTINGS.map((setting) => [setting.param, setting.default]));
}

/**
 * Why `text` is not a value of `setting`, or "" when it is one.
 * @param {Setting} setting
 * @param {string} text
 */
export function settingProblem(setting, text) {
  const value = Number(text);
  const blank = text.trim() === "";
  switch (setting.kind) {
    case "choice":
      return /** @type {readonly string[]} */ (setting.names).includes(text) ? "" : `one of ${setting.names?.join(", ")}`;
    case "target":
      if (blank) return "";
      if (setting.above !== undefined && !(Number.isFinite(value) && value > setting.above)) {
        return `a number above ${setting.above} (or empty: no target)`;
      }
      if (setting.max !== undefined && !(Number.isFinite(value) && value <= setting.max)) {
        return `a number up to ${setting.max} (or empty: no target)`;
      }
      return "";
    default: {
      const accepted = setting.kind === "int" ? Number.isInteger(value) : Number.isFinite(value);
      const ok = !blank && accepted && value >= /** @type {number} */ (setting.min) && value <= /** @type {number} */ (setting.max);
      return ok ? "" : `${setting.kind === "int" ? "a whole number" : "a number"} from ${setting.min} to ${setting.max}`;
    }
  }
}

/**
 * The settings a URL's parameters give, each checked; a bad one is left out and said why.
 * @param {URLSearchParams} params
 * @returns {{values: SettingValues, problems: string[]}}
 */
export function settingsFromParams(params) {
  /** @type {SettingValues} */
  const values = {};
  const problems = [];
  for (const setting of SETTINGS) {
    const text = params.get(setting.param);
    if (text === null) continue;
    const problem = settingProblem(setting, text);
    if (problem) problems.push(`The link's ${setting.param}= must be ${problem}; got “${text}”, so it was not used.`);
    else values[setting.param] = text;
  }
  return { values, problems };
}

/**
 * The settings to start with: a link's (the rest at their defaults), or else what was remembered.
 * @param {{search: string, storage?: Storage | null}} from storage: null for none (the embed)
 * @returns {{values: SettingValues, problems: string[]}}
 */
export function loadSettings({ search, storage = null }) {
  const params = new URLSearchParams(search);
  const linked = settingsFromParams(params);
  const fromLink = SETTINGS.some((setting) => params.has(setting.param));
  // Bad remembered values are dropped quietly: the user cannot have typed them in a link.
  const remembered = fromLink ? {} : settingsFromParams(new URLSearchParams(readStored(storage))).values;
  return { values: { ...defaultSettings(), ...remembered, ...linked.values }, problems: linked.problems };
}

/**
 * Remember the settings that are valid and not defaults (all defaults: forget).
 * @param {SettingValues} values
 * @param {Storage | null} storage
 */
export function saveSettings(values, storage) {
  const query = changedSettings(values).toString();
  try {
    if (query) storage?.setItem(STORAGE_KEY, query);
    else storage?.removeItem(STORAGE_KEY);
  } catch {
    // Storage full or refused (a private window): the settings still live in the URL.
  }
}

/**
 * `href` with its settings parameters set to `values` (defaults and bad values left out); its other
 * parameters (workers=, src=) and its #hash are kept.
 * @param {string} href
 * @param {SettingValues} values
 */
export function linkWithSettings(href, values) {
  const url = new URL(href);
  for (const setting of SETTINGS) url.searchParams.delete(setting.param);
  for (const [param, value] of changedSettings(values)) url.searchParams.set(param, value);
  return url.href;
}

/**
 * @param {SettingValues} values
 * @returns {URLSearchParams} the valid values that differ from their defaults, in SETTINGS order
 */
function changedSettings(values) {
  const params = new URLSearchParams();
  for (const setting of SETTINGS) {
    const value = values[setting.param];
    if (value === undefined || value.trim() === setting.default || settingProblem(setting, value)) continue;
    params.set(setting.param, value.trim());
  }
  return params;
}

/** @param {Storage | null} storage */
function readStored(storage) {
  try {
    return storage?.getItem(STORAGE_KEY) || "";
  } catch {
    return "";
  }
}
