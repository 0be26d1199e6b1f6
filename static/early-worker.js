// @ts-check
/**
 * Starts the page's Python worker as soon as the page's first script runs. Booting Pyodide takes most
 * of a second; the page's own modules take a few hundred milliseconds more to load and run, and a
 * worker created by them would only start after that. index.html runs start.js, which calls
 * startEarlyWorker, before app.js; the page's WorkerClient then takes the worker over
 * (takeEarlyWorker) with the messages it sent meanwhile, in order.
 */

/** @typedef {{worker: Worker, messages: any[], error: ErrorEvent | null}} EarlyWorker */

/** @type {EarlyWorker | null} */
let early = null;
/** Whether the early worker was asked for already: it is given once, and never started after. */
let taken = false;

/**
 * A new Python worker (worker.js). Its name tells it whether to warm up: "" does, protocol.js
 * NO_WARM_UP does not.
 * @param {string} name
 */
export function createWorker(name) {
  return new Worker(new URL("./worker.js", import.meta.url), { type: "module", name });
}

/** Start the worker now (once), as WorkerClient.start would for a client that warms up. */
export function startEarlyWorker() {
  if (early || taken) return;
  const worker = createWorker("");
  /** @type {EarlyWorker} */
  const started = { worker, messages: [], error: null };
  worker.onmessage = (event) => started.messages.push(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    started.error = event;
  };
  early = started;
}

/**
 * The worker started early and what it said meanwhile; null if none was started. Given once: its
 * handlers are the taker's to replace.
 * @returns {EarlyWorker | null}
 */
export function takeEarlyWorker() {
  const found = early;
  early = null;
  taken = true;
  return found;
}
