// @ts-check
/**
 * The module worker: boots Pyodide once, loads NumPy and the kmeans package, then answers requests
 * from worker-client.js by calling kmeans.web. This is the only file that touches Pyodide.
 */
import { PYODIDE_BASE } from "./config.js";
import { REQUEST, REPLY, BOOT_STAGES } from "./protocol.js";

/** Pyodide packages loaded lazily, the first time a request needs them. */
const LAZY_PACKAGES = { [REQUEST.ENCODE_PNG]: ["pillow"] };

/** @param {string} stage */
function reportStage(stage) {
  postMessage({
    id: null,
    type: REPLY.STATUS,
    payload: { stage, step: BOOT_STAGES.indexOf(stage) + 1, steps: BOOT_STAGES.length },
  });
}

async function boot() {
  reportStage("runtime");
  const base = new URL(PYODIDE_BASE, import.meta.url).href;
  const { loadPyodide } = await import(base + "pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: base, stdout: () => {}, stderr: console.warn });
  reportStage("numpy");
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  reportStage("kmeans");
  const response = await fetch(new URL("./kmeans.zip", import.meta.url));
  if (!response.ok) throw new Error(`could not load the kmeans package (HTTP ${response.status})`);
  pyodide.unpackArchive(await response.arrayBuffer(), "zip");
  const web = pyodide.pyimport("kmeans.web");
  reportStage("ready");
  return { pyodide, web, loaded: new Set(["numpy"]) };
}

// Start booting at once; every request awaits this one promise.
const ready = boot();

/**
 * Copy a 1-D NumPy array out of the Python result into a fresh Uint8Array (one copy).
 * @param {any} result PyProxy of a dict
 * @param {string} key
 */
function takeBytes(result, key) {
  const proxy = result.get(key);
  const buffer = proxy.getBuffer("u8");
  try {
    return buffer.data.slice();
  } finally {
    buffer.release();
    proxy.destroy();
  }
}

/**
 * Turn the Python result dict into a plain object: arrays become Uint8Arrays, the rest as is.
 * @param {any} result PyProxy of a dict
 * @param {string[]} arrayKeys
 */
function toPlain(result, arrayKeys) {
  /** @type {Record<string, any>} */
  const plain = {};
  for (const key of result.keys()) {
    plain[key] = arrayKeys.includes(key) ? takeBytes(result, key) : result.get(key);
  }
  return plain;
}

/** Handlers by request type: each returns [payload, transferables]. */
const HANDLERS = {
  [REQUEST.INIT]: async (/** @type {any} */ kernel) => {
    const info = kernel.web.info();
    try {
      return [info.toJs({ dict_converter: Object.fromEntries }), []];
    } finally {
      info.destroy();
    }
  },
  [REQUEST.QUANTIZE]: async (/** @type {any} */ kernel, /** @type {any} */ payload, /** @type {number} */ id) => {
    const progress = (/** @type {number} */ nIter, /** @type {number} */ maxIter) =>
      postMessage({ id, type: REPLY.PROGRESS, payload: { n_iter: nIter, max_iter: maxIter } });
    const result = kernel.web.quantize.callKwargs({ ...payload, progress });
    try {
      const plain = toPlain(result, ["indices", "palette"]);
      return [plain, [plain.indices.buffer, plain.palette.buffer]];
    } finally {
      result.destroy();
    }
  },
  [REQUEST.ENCODE_PNG]: async (/** @type {any} */ kernel, /** @type {any} */ payload) => {
    const result = kernel.web.encode_png.callKwargs(payload);
    try {
      const plain = toPlain(result, ["png"]);
      return [plain, [plain.png.buffer]];
    } finally {
      result.destroy();
    }
  },
};

/**
 * Load the Pyodide packages a request type needs, once.
 * @param {any} kernel
 * @param {string} type
 */
async function loadLazyPackages(kernel, type) {
  const missing = (LAZY_PACKAGES[type] || []).filter((name) => !kernel.loaded.has(name));
  if (missing.length === 0) return;
  await kernel.pyodide.loadPackage(missing, { messageCallback: () => {} });
  missing.forEach((name) => kernel.loaded.add(name));
}

/**
 * The user-facing text of an error: for a Python exception, its last line without the type name.
 * @param {any} error
 */
function describe(error) {
  const text = String(error && error.message ? error.message : error).trim();
  if (error && error.type) {
    const lines = text.split("\n").filter((line) => line.trim());
    const last = lines[lines.length - 1] || text;
    return last.replace(/^[A-Za-z_.]*(Error|Exception|Warning): /, "");
  }
  return text;
}

self.onmessage = async (/** @type {MessageEvent} */ event) => {
  const { id, type, payload } = event.data;
  try {
    const handler = HANDLERS[type];
    if (!handler) throw new Error(`unknown request type ${JSON.stringify(type)}`);
    const kernel = await ready;
    await loadLazyPackages(kernel, type);
    const [result, transfer] = await handler(kernel, payload, id);
    postMessage({ id, type: REPLY.RESULT, payload: result }, { transfer });
  } catch (error) {
    const name = error && error.type ? error.type : (error && error.name) || "Error";
    postMessage({ id, type: REPLY.ERROR, error: { name, message: describe(error) } });
  }
};

// A failed boot is reported once, unsolicited, so the page can say so without waiting for a request.
ready.catch((error) => {
  postMessage({ id: null, type: REPLY.ERROR, error: { name: "BootError", message: describe(error) } });
});
