// @ts-check
/**
 * The worker's helper: a second Python worker that takes pieces of one big job off the worker running
 * it, so that the job uses two cores. The job today is a big photo's PNG: its image data is deflated in
 * independent pieces (kmeans.web.png_parts, deflate_pieces), so the file is the same byte for byte
 * whichever worker made each piece.
 *
 * The worker makes pieces from the front, the helper from the back, and they meet where the helper has
 * got to: neither waits for the other while a piece is left (see share). The helper is started as soon
 * as the page says that a photo big enough to need it was chosen (kmeans.web.expect), so it boots while
 * the page decodes and the worker quantizes the photo; on two cores, where that would slow the
 * quantizing, once the photo is quantized. It is stopped after IDLE_MS without work (its memory goes
 * back). A helper that is still booting, fails, or cannot be had (one core, no workers inside workers)
 * only means that the worker makes more of the pieces itself.
 */
import { WorkerClient } from "./worker-client.js";
import { nextTask } from "./draw.js";

/** The helper is stopped after this long without work. */
export const IDLE_MS = 60_000;

/**
 * @typedef {object} HelperClient what the helper needs of a WorkerClient
 * @property {() => void} start
 * @property {() => void} stop
 * @property {(type: string, payload: object, options?: {transfer?: Transferable[]}) => Promise<any>} request
 */

export class Helper {
  /**
   * @param {object} [options]
   * @param {number} [options.cores] the device's cores (default navigator.hardwareConcurrency)
   * @param {boolean} [options.workers] whether a worker can start a worker (default: whether it has Worker)
   * @param {(onReady: () => void, onBootError: () => void) => HelperClient} [options.makeClient] the helper's
   *   client, which calls onReady once its Python is ready, or onBootError if it cannot start (default: a
   *   WorkerClient of a worker that skips the warm-up)
   */
  constructor({
    cores = globalThis.navigator?.hardwareConcurrency ?? 1, workers = typeof Worker !== "undefined", makeClient = workerClient,
  } = {}) {
    /** Whether a helper may be started: a second core, and workers inside workers. */
    this.possible = cores >= 2 && workers;
    /**
     * Whether it may boot while the worker quantizes: with a core of its own beside the worker's and the
     * page's. On two cores a booting helper slowed the quantizing of a 12 MP photo from 0.7 s to 1.1–1.6 s.
     */
    this.early = cores >= 3 && this.possible;
    this.makeClient = makeClient;
    /** @type {HelperClient | null} */
    this.client = null;
    /** Whether the helper's Python is ready (it has booted). */
    this.ready = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.idleTimer = undefined;
  }

  /** Start the helper (it boots meanwhile), unless it runs already or cannot be had. */
  start() {
    this.stopWhenIdle();
    if (this.client || !this.possible) return;
    try {
      const client = this.makeClient(
        () => {
          if (this.client === client) this.ready = true;
        },
        () => {
          // It will not boot here (and would be retried with every photo): the worker goes on alone.
          if (this.client !== client) return;
          this.stop();
          this.possible = false;
        },
      );
      client.start();
      this.client = client;
    } catch (error) {
      console.warn("The helper worker could not be started; the worker works alone", error);
      this.possible = false;
    }
  }

  /** Stop the helper after IDLE_MS, unless it gets work meanwhile. */
  stopWhenIdle() {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop(), IDLE_MS);
  }

  /** Stop the helper; its memory goes back. */
  stop() {
    clearTimeout(this.idleTimer);
    this.client?.stop();
    this.client = null;
    this.ready = false;
  }

  /**
   * Run tasks 0 … count − 1, here or in the helper, and return their results in order. The results must
   * not depend on where a task ran.
   *
   * The helper is lent the second half in one request, which it works through from the end, reporting
   * each result as it goes; this worker works from the start, and past the middle takes what the helper
   * has not done yet, lowest first: they meet where the helper has got to. (One request rather than one
   * per task: a reply waits while this worker's Python runs, and the helper would wait with it.) The
   * helper cannot be told to stop, so it may make a task or two this worker made too; a helper still
   * booting makes its whole half when it is ready, whatever is left of it by then.
   * @template T
   * @param {number} count
   * @param {(index: number) => T} here run task `index` in this worker (synchronously)
   * @param {(first: number, last: number) => {type: string, payload: object, transfer?: Transferable[]}} there
   *   the helper's request for tasks first … last
   * @param {(progress: any) => [number, T]} fromProgress a task's index and result from the helper's report
   * @returns {Promise<{results: T[], helped: number}>} helped: how many results the helper made
   */
  async share(count, here, there, fromProgress) {
    clearTimeout(this.idleTimer);
    /** @type {T[]} */
    const results = new Array(count);
    const finished = new Array(count).fill(false);
    let helped = 0;
    let middle = count;
    /** @type {Promise<void> | null} the helper's request, while it runs */
    let lent = null;
    /** Called when the helper reports a task: wakes this worker if it waits for one. */
    let arrived = () => {};
    if (this.client && count >= 2) {
      middle = Math.ceil(count / 2);
      const { type, payload, transfer = [] } = there(middle, count - 1);
      const onProgress = (/** @type {any} */ progress) => {
        const [index, result] = fromProgress(progress);
        if (finished[index]) return; // made here meanwhile
        results[index] = result;
        finished[index] = true;
        helped++;
        arrived();
      };
      lent = this.client.request(type, payload, { transfer, onProgress }).then(
        () => {},
        (error) => console.warn("The helper worker failed; the worker makes its part", error),
      ).finally(() => {
        lent = null;
      });
    }
    const started = performance.now();
    let madeHere = 0;
    try {
      for (let index = 0; index < count; index++) {
        if (finished[index]) continue;
        if (lent && this.ready && index >= middle && finished.indexOf(false, index + 1) === -1) {
          // The last task left is the one the helper is making now: it is quicker to wait for it than to
          // start over, but not for ever (a helper slowed by other work gets twice as long as a task here).
          const perTask = (performance.now() - started) / Math.max(1, madeHere);
          await Promise.race([
            lent,
            new Promise((resolve) => { arrived = () => finished[index] && resolve(undefined); }),
            new Promise((resolve) => setTimeout(resolve, 2 * perTask + 50)),
          ]);
          arrived = () => {};
          if (finished[index]) continue;
        }
        results[index] = here(index);
        finished[index] = true;
        madeHere++;
        await nextTask(); // the helper's reports arrive here
      }
    } finally {
      if (this.client) this.stopWhenIdle(); // also when a task here failed
    }
    return { results, helped };
  }
}

/**
 * The helper's client: a worker that skips the warm-up (and never makes a snapshot).
 * @param {() => void} onReady
 * @param {() => void} onBootError
 * @returns {HelperClient}
 */
function workerClient(onReady, onBootError) {
  return new WorkerClient({
    onStatus: ({ stage }) => stage === "ready" && onReady(),
    onBootError: (error) => {
      console.warn("The helper worker failed to boot", error);
      onBootError();
    },
    warmUp: false,
  });
}
