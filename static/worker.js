// @ts-check
/**
 * The module worker: boots Pyodide once, loads NumPy and the kmeans package, then answers requests
 * from worker-client.js by calling kmeans.web. This is the only file that touches Pyodide.
 */
import { PYODIDE_BASE } from "./config.js";
import { REQUEST, REPLY, BOOT_STAGES, NO_WARM_UP, WARM_STAGE } from "./protocol.js";
import { paletteToRgba } from "./draw.js";
import { SNAPSHOTS, readSnapshot, saveSnapshot, forgetSnapshot } from "./snapshot.js";
import { Helper } from "./helper.js";

/** Pyodide packages loaded lazily, the first time a request needs them. */
const LAZY_PACKAGES = { [REQUEST.FIGURE_PNG]: ["matplotlib"] }; // PNGs are written with zlib, no Pillow

/**
 * @param {string} stage
 * @param {Record<string, any>} [more] more of the status payload (the "ready" stage says how Python started)
 */
function reportStage(stage, more = {}) {
  postMessage({
    id: null,
    type: REPLY.STATUS,
    payload: { stage, step: BOOT_STAGES.findIndex((entry) => entry.stage === stage) + 1, steps: BOOT_STAGES.length, ...more },
  });
}

async function boot() {
  reportStage("runtime");
  // Fetched while Python starts, not after.
  const kmeansZip = fetch(new URL("./kmeans.zip", import.meta.url)).then((response) => {
    if (!response.ok) throw new Error(`could not load the kmeans package (HTTP ${response.status})`);
    return response.arrayBuffer();
  });
  kmeansZip.catch(() => {}); // reported below, when it is awaited
  const saved = readSnapshot(); // read from the cache while pyodide.mjs loads
  const base = new URL(PYODIDE_BASE, import.meta.url).href;
  const { loadPyodide } = await import(base + "pyodide.mjs");
  const options = { indexURL: base, stdout: () => {}, stderr: console.warn };
  const snapshot = await saved;
  if (snapshot) {
    try {
      const pyodide = await loadPyodide({ ...options, _loadSnapshot: snapshot });
      // The restored heap holds the first visit's random state: every visit would draw the same numbers.
      pyodide.runPython("import random; random.seed()");
      return await loadKmeans(pyodide, kmeansZip, "snapshot");
    } catch (error) {
      if (await kmeansZip.then(() => false, () => true)) throw error; // not the snapshot's fault
      // Whatever went wrong (a damaged entry, a browser that restores differently), the page must
      // still start: drop the snapshot and start Python as a first visit does, making a new one.
      console.warn("Python could not start from the saved snapshot, so it starts afresh", error);
      await forgetSnapshot();
      reportStage("runtime");
    }
  }
  // Only the page's own worker makes one (a batch's extra workers would all make the same).
  const make = SNAPSHOTS && self.name !== NO_WARM_UP;
  const pyodide = await loadPyodide({ ...options, _makeSnapshot: make });
  if (make) {
    try {
      saveSnapshot(pyodide.makeMemorySnapshot()); // before anything else runs; saved meanwhile
    } catch (error) {
      console.warn("The Python snapshot could not be made", error); // the next visit starts as this one
    }
  }
  return loadKmeans(pyodide, kmeansZip, "files");
}

/**
 * The rest of the boot, the same however Python started: NumPy, then the kmeans package.
 * @param {any} pyodide
 * @param {Promise<ArrayBuffer>} kmeansZip
 * @param {"snapshot" | "files"} started how Python started, for the "ready" status
 */
async function loadKmeans(pyodide, kmeansZip, started) {
  reportStage("numpy");
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  reportStage("kmeans");
  pyodide.unpackArchive(await kmeansZip, "zip");
  const web = pyodide.pyimport("kmeans.web");
  reportStage("ready", { started });
  return { pyodide, web, loaded: new Set(["numpy"]) };
}

// Start booting at once; every request awaits this one promise.
const ready = boot();

/** Requests received and not yet answered: the warm-up gives way to them. */
let requestsInFlight = 0;

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Pay WebAssembly's first-run costs before the user's first image (see kmeans.web.warm_up), one
 * short step at a time, pausing whenever requests are waiting.
 */
async function warmUp() {
  const kernel = await ready;
  // Let the engine optimize the per-pixel loop before it meets 12 million pixels.
  paletteToRgba(new Uint8Array(1 << 18), new Uint8Array(4), new Uint8Array(1 << 20));
  for (let step = 0; ; step++) {
    // A macrotask boundary, so a request posted meanwhile is seen (and runs) first.
    await sleep(0);
    while (requestsInFlight > 0) await sleep(50);
    // A Python error throws here and ends the warm-up, which is optional (logged below).
    const [{ done }] = callPython(kernel, REQUEST.WARM_UP, { step }, null);
    if (done) {
      postMessage({ id: null, type: REPLY.STATUS, payload: { stage: WARM_STAGE } });
      return;
    }
  }
}
if (self.name !== NO_WARM_UP) warmUp().catch((error) => console.warn("Warm-up stopped", error));

/**
 * Copy a 1-D NumPy array (or bytes) out of Python into a fresh typed array of its own dtype.
 * @param {any} proxy PyProxy of an object with the buffer protocol
 */
function copyBuffer(proxy) {
  const buffer = proxy.getBuffer();
  try {
    return buffer.data.slice();
  } finally {
    buffer.release();
  }
}

/**
 * Turn the Python result dict into a plain object: arrays become typed arrays (copied), other
 * values (numbers, strings, booleans, None) convert as usual.
 * @param {any} result PyProxy of a dict
 * @returns {[Record<string, any>, Transferable[]]} the object and the buffers to transfer
 */
function toPlain(result) {
  /** @type {Record<string, any>} */
  const plain = {};
  const transfer = [];
  for (const key of result.keys()) {
    const value = result.get(key);
    if (value && typeof value === "object" && typeof value.getBuffer === "function") {
      try {
        plain[key] = copyBuffer(value);
        transfer.push(plain[key].buffer);
      } finally {
        value.destroy();
      }
    } else if (value && typeof value === "object" && typeof value.destroy === "function") {
      plain[key] = value.toJs();
      value.destroy();
    } else {
      plain[key] = value;
    }
  }
  return [plain, transfer];
}

/** Requests answered by the kmeans.web function of the same name (kmeans.web.FUNCTIONS). */
const PYTHON_FUNCTIONS = new Set(Object.values(REQUEST));

/**
 * Call kmeans.web.call(type, **payload) and convert its reply. Python reports its own errors as a
 * value ({error: {name, message}}), thrown here as an Error marked `python`.
 * @param {any} kernel
 * @param {string} type
 * @param {any} payload
 * @param {number} id
 */
function callPython(kernel, type, payload, id) {
  const kwargs = { ...payload, _function: type };
  if (type === REQUEST.QUANTIZE || type === REQUEST.COMPRESS) {
    kwargs.progress = (/** @type {number | string} */ step, /** @type {number} */ amount) =>
      postMessage({ id, type: REPLY.PROGRESS, payload: progressPayload(step, amount) });
  }
  if (type === REQUEST.DEFLATE_PIECES && id !== null) {
    // Asked by the worker this one helps: each piece as soon as it is made (that worker then stops
    // making it). A worker's own call (id null) gets its pieces in the reply.
    kwargs.progress = (/** @type {number} */ index, /** @type {any} */ deflated) => {
      const bytes = copyBuffer(deflated);
      deflated.destroy();
      postMessage({ id, type: REPLY.PROGRESS, payload: { index, deflated: bytes } }, [bytes.buffer]);
    };
  }
  const reply = kernel.web.call.callKwargs(kwargs);
  try {
    const error = reply.get("error");
    if (error !== undefined) {
      const { name, message } = error.toJs({ dict_converter: Object.fromEntries });
      error.destroy();
      throw Object.assign(new Error(message), { name, python: true });
    }
    const result = reply.get("result");
    try {
      return toPlain(result);
    } finally {
      result.destroy();
    }
  } finally {
    reply.destroy();
  }
}

/**
 * A Python progress call as the page reads it (protocol.js ProgressPayload): (iterations, max_iter)
 * while fitting, ("dither", fraction), ("trial", palette sizes tried).
 * @param {number | string} step
 * @param {number} amount
 */
function progressPayload(step, amount) {
  if (step === "trial") return { phase: step, n_iter: amount };
  return typeof step === "string" ? { phase: step, fraction: amount } : { phase: "fit", n_iter: step, max_iter: amount };
}

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
    const missing = text.match(/No module named '([^']+)'/);
    if (missing) {
      return `the Python package “${missing[1]}” could not be loaded; if you are offline, connect once so it can be saved`;
    }
    const lines = text.split("\n").filter((line) => line.trim() && !line.startsWith("See https://"));
    const last = lines[lines.length - 1] || text;
    return last.replace(/^[A-Za-z_.]*(Error|Exception|Warning): /, "");
  }
  return text;
}

/** The page's own worker has a helper for the big photos' PNGs; a helper or a batch's worker has none. */
const helper = self.name === NO_WARM_UP ? null : new Helper();
/** The size of the big photo last announced (kmeans.web.expect), whose quantizing starts the helper. */
let helperAfterQuantize = "";

/**
 * A PNG, as kmeans.web.encode_png writes it. A big photo's image data is deflated in pieces, some of them
 * by the helper worker (see helper.js); the file is the same either way.
 * @param {any} kernel
 * @param {any} payload the encode_png request's
 * @returns {Promise<[Record<string, any>, Transferable[]]>}
 */
async function encodePng(kernel, payload) {
  if (!helper) return callPython(kernel, REQUEST.ENCODE_PNG, payload, null);
  const [parts, transfer] = callPython(kernel, REQUEST.PNG_PARTS, payload, null);
  if (parts.png) return [parts, transfer]; // a small photo's, whole
  helper.start();
  const { scanlines, pieces: starts, window, head, adler32 } = parts;
  const end = (/** @type {number} */ i) => (i + 1 < starts.length ? starts[i + 1] : scanlines.length);
  /** The deflate_pieces request of pieces first … last: their scanlines, after the window before them. */
  const request = (/** @type {number} */ first, /** @type {number} */ last) => {
    const offset = Math.max(0, starts[first] - window);
    return { data: scanlines.slice(offset, end(last)), offset, starts: starts.slice(first, last + 1), total: scanlines.length };
  };
  let lentFirst = 0; // the helper's first piece: it numbers its pieces from there
  const { results, helped } = await helper.share(
    starts.length,
    (i) => callPython(kernel, REQUEST.DEFLATE_PIECES, request(i, i), null)[0].deflated,
    (first, last) => {
      lentFirst = first;
      const payload = request(first, last);
      return { type: REQUEST.DEFLATE_PIECES, payload, transfer: [payload.data.buffer, payload.starts.buffer] };
    },
    ({ index, deflated }) => [lentFirst + index, deflated],
  );
  const deflated = new Uint8Array(results.reduce((total, bytes) => total + bytes.length, 0));
  results.reduce((offset, bytes) => (deflated.set(bytes, offset), offset + bytes.length), 0);
  const [png, pngTransfer] = callPython(kernel, REQUEST.FINISH_PNG, { head, deflated, adler32 }, null);
  return [{ ...png, pieces: starts.length, helped }, pngTransfer];
}

self.onmessage = async (/** @type {MessageEvent} */ event) => {
  const { id, type, payload } = event.data;
  requestsInFlight++;
  try {
    if (!PYTHON_FUNCTIONS.has(type)) {
      throw new Error(`unknown request type ${JSON.stringify(type)}`);
    }
    const kernel = await ready;
    await loadLazyPackages(kernel, type);
    const [result, transfer] = type === REQUEST.ENCODE_PNG ? await encodePng(kernel, payload)
      : callPython(kernel, type, payload, id);
    if (type === REQUEST.QUANTIZE) {
      // Draw-ready pixels, in the buffer the request brought (Python has its own copy by now).
      result.rgba = paletteToRgba(result.indices, result.palette, payload.pixels);
      transfer.push(result.rgba.buffer);
    }
    postMessage({ id, type: REPLY.RESULT, payload: result }, { transfer });
    if (type === REQUEST.EXPECT) {
      // A big photo, whose PNG will follow: the helper boots while the page decodes the photo (a worker
      // inside a worker starts only while its parent is idle, as now); on two cores, where it would
      // slow the quantizing, once the photo is quantized and the page draws the result.
      if (result.helper && helper?.early) helper.start();
      helperAfterQuantize = result.helper && helper && !helper.early ? `${payload.width}x${payload.height}` : "";
    } else if (type === REQUEST.QUANTIZE && helperAfterQuantize === `${payload.width}x${payload.height}`) {
      helperAfterQuantize = "";
      helper?.start();
    }
  } catch (error) {
    if (error && error.python) {
      postMessage({ id, type: REPLY.ERROR, error: { name: error.name, message: error.message } });
      return;
    }
    // Not Python's own error: a WebAssembly trap or a failed package load can leave the runtime
    // unusable, so the page is told to start a fresh worker ("fatal").
    console.warn("The Python worker failed", error);
    const name = error && error.type ? error.type : (error && error.name) || "Error";
    postMessage({ id, type: REPLY.ERROR, error: { name, message: describe(error), fatal: true } });
  } finally {
    requestsInFlight--;
  }
};

// A failed boot is reported once, unsolicited, so the page can say so without waiting for a request.
ready.catch((error) => {
  postMessage({ id: null, type: REPLY.ERROR, error: { name: "BootError", message: describe(error) } });
});
