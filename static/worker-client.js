// @ts-check
/**
 * The page's half of the worker protocol (see protocol.js). The only file that posts to the worker; it
 * starts the worker too, or takes the one the page started early (early-worker.js). Requests run one at
 * a time; cancel() terminates the worker (Python cannot be interrupted without cross-origin isolation,
 * which a static host cannot give) and boots a new one.
 */
import { createWorker, takeEarlyWorker } from "./early-worker.js";
import { NO_WARM_UP, REPLY } from "./protocol.js";

export class WorkerClient {
  /**
   * @param {object} handlers
   * @param {(payload: {stage: string, step: number, steps: number, started?: string}) => void} handlers.onStatus boot steps
   * @param {(error: Error) => void} handlers.onBootError the runtime failed to load
   * @param {boolean} [handlers.warmUp] let the worker warm up after booting (default true; see
   *   protocol.js NO_WARM_UP: a batch's extra workers start with work waiting)
   */
  constructor({ onStatus, onBootError, warmUp = true }) {
    /** Whether the worker warms up once booted. */
    this.warmUp = warmUp;
    /** Called with each boot status message. */
    this.onStatus = onStatus;
    /** Called when Pyodide fails to boot. */
    this.onBootError = onBootError;
    /** @type {Worker | null} */
    this.worker = null;
    /** Pending requests by id. @type {Map<number, {resolve: Function, reject: Function, onProgress?: Function}>} */
    this.pending = new Map();
    this.nextId = 1;
    /** Tail of the queue: each request starts after the previous one settled. */
    this.queue = Promise.resolve();
    /** The signal of the request the worker runs now, if it was given one. @type {AbortSignal | null} */
    this.running = null;
    /** How many times a worker of this client failed to boot. */
    this.bootFailures = 0;
  }

  /**
   * Create the worker if there is none (boots Pyodide in it). A client that warms up first takes the
   * worker the page started early, if any (early-worker.js), and what it said meanwhile.
   */
  start() {
    if (this.worker) return;
    const early = this.warmUp ? takeEarlyWorker() : null;
    const worker = early ? early.worker : createWorker(this.warmUp ? "" : NO_WARM_UP);
    /** @param {{message?: string, preventDefault?: () => void}} event */
    const failed = (event) => {
      event.preventDefault?.();
      // Its state is unknown: the next request gets a fresh worker.
      if (this.worker === worker) {
        worker.terminate();
        this.worker = null;
      }
      this.failAll(new Error(`the worker failed: ${event.message || "could not start"}`));
    };
    worker.onmessage = (event) => this.receive(event.data);
    worker.onerror = failed;
    this.worker = worker;
    for (const message of early ? early.messages : []) this.receive(message);
    if (early?.error) failed(early.error);
  }

  /** @param {any} message */
  receive(message) {
    if (message.id === null) {
      if (message.type === REPLY.STATUS) this.onStatus(message.payload);
      if (message.type === REPLY.ERROR) {
        this.bootFailures++;
        this.onBootError(toError(message.error));
      }
      return;
    }
    const entry = this.pending.get(message.id);
    if (!entry) return;
    if (message.type === REPLY.PROGRESS) {
      entry.onProgress?.(message.payload);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === REPLY.RESULT) entry.resolve(message.payload);
    else entry.reject(toError(message.error));
  }

  /**
   * Send one request; resolves with the result payload, rejects with the Python error.
   * @param {string} type
   * @param {object} payload
   * @param {{transfer?: Transferable[], onProgress?: (payload: any) => void, signal?: AbortSignal}} [options]
   *   signal: aborting it takes the request back: while it waits its turn it is never sent; while it
   *   runs the worker is restarted (Python cannot be interrupted). Either way it rejects with AbortError.
   * @returns {Promise<any>}
   */
  request(type, payload, { transfer = [], onProgress, signal } = {}) {
    /** @param {boolean} mayRetry @returns {Promise<any>} */
    const takeBack = () => {
      if (signal && this.running === signal) this.cancel(); // it runs: only a restart stops it
    };
    const send = (mayRetry) =>
      new Promise((resolve, reject) => {
        if (signal?.aborted) {
          reject(new DOMException("Cancelled", "AbortError")); // taken back before its turn
          return;
        }
        this.start();
        const id = this.nextId++;
        this.pending.set(id, { resolve, reject, onProgress });
        this.running = signal || null;
        signal?.addEventListener("abort", takeBack, { once: true });
        /** @type {Worker} */ (this.worker).postMessage({ id, type, payload }, transfer);
      }).finally(() => {
        signal?.removeEventListener("abort", takeBack);
        if (this.running === signal) this.running = null;
      }).catch((error) => {
        if (!error.fatal) throw error;
        // The runtime may be broken: start a fresh worker. A request whose buffers were not
        // transferred can be sent again (the Python side is stateless); others report the error.
        this.restart();
        if (mayRetry && transfer.length === 0) return send(false);
        throw new Error(`Python stopped unexpectedly (${error.message}) and has been restarted; please try again.`);
      });
    const run = () => send(true);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  /**
   * Whether the request given this signal is the one the worker runs now (so taking it back restarts
   * the worker), rather than one still waiting its turn.
   * @param {AbortSignal} signal
   */
  runs(signal) {
    return this.running === signal;
  }

  /** Replace the worker with a fresh one (after a fatal error in it). */
  restart() {
    this.worker?.terminate();
    this.worker = null;
    this.failAll(new Error("the Python worker was restarted"));
    this.start();
  }

  /** Stop whatever runs now: reject pending requests with AbortError, then boot a fresh worker. */
  cancel() {
    this.worker?.terminate();
    this.worker = null;
    this.failAll(new DOMException("Cancelled", "AbortError"));
    this.start();
  }

  /** Terminate the worker for good (an idle extra worker of the batch: its memory goes back). */
  stop() {
    this.worker?.terminate();
    this.worker = null;
    this.failAll(new DOMException("Stopped", "AbortError"));
  }

  /** @param {Error} error */
  failAll(error) {
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
  }
}

/** @param {{name: string, message: string, fatal?: boolean}} error */
function toError({ name, message, fatal }) {
  const error = /** @type {Error & {fatal: boolean}} */ (new Error(message));
  error.name = name;
  error.fatal = Boolean(fatal);
  return error;
}
