// @ts-check
/**
 * The batch's workers: how many, and the clients that talk to them. Each worker boots its own Pyodide
 * (about 30 MB to download once, then from the cache, and 100–300 MB of memory with a photo in it), so
 * a worker is started only when the batch has work for it, and the pool stays small.
 */
import { WorkerClient } from "./worker-client.js";

/** Most workers the page starts, whatever the device: more mostly costs memory. */
export const MAX_WORKERS = 4;
/** Most workers a ?workers= parameter may ask for. */
export const MAX_REQUESTED_WORKERS = 16;
/** Gigabytes of device memory each worker is given (navigator.deviceMemory, which says at most 8). */
const GB_PER_WORKER = 2;
/** The extra workers are stopped after the batch has been idle this long (each holds its memory). */
export const IDLE_MS = 30_000;

/**
 * How many workers the batch runs: one core is left to the page (so it stays smooth), and each worker
 * needs memory; at least 1, at most cores − 1 and MAX_WORKERS. A `?workers=N` parameter overrides it
 * (benchmarks, small devices).
 * @param {{cores?: number, memoryGb?: number, requested?: string | null}} device
 * @returns {{size: number, problem: string}} problem: why a bad ?workers= was not used
 */
export function poolSize({ cores, memoryGb, requested = null }) {
  if (requested !== null) {
    const value = Number(requested);
    if (requested.trim() !== "" && Number.isInteger(value) && value >= 1 && value <= MAX_REQUESTED_WORKERS) {
      return { size: value, problem: "" };
    }
  }
  const byCores = (cores || 2) - 1;
  const byMemory = memoryGb ? Math.floor(memoryGb / GB_PER_WORKER) : MAX_WORKERS;
  const size = Math.max(1, Math.min(MAX_WORKERS, byCores, byMemory));
  const problem =
    requested === null ? "" : `The link's workers= must be a whole number from 1 to ${MAX_REQUESTED_WORKERS}; got “${requested}”, so it is ${size}.`;
  return { size, problem };
}

/** The clients of the batch's workers; the first is the page's own (it also serves the single view). */
export class WorkerPool {
  /**
   * @param {WorkerClient} first the page's client, already booting
   * @param {number} size
   */
  constructor(first, size) {
    this.size = size;
    /** @type {WorkerClient[]} */
    this.clients = [first];
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.idleTimer = undefined;
  }

  /**
   * The i-th client, created (and its worker booted) the first time it is asked for.
   * @param {number} index 0 to size − 1
   */
  client(index) {
    clearTimeout(this.idleTimer);
    while (this.clients.length <= index) {
      // The batch says what goes wrong with each file; boot steps of the extra workers are not shown.
      const client = new WorkerClient({
        onStatus: () => {},
        onBootError: (error) => console.warn("A batch worker failed to boot", error),
        warmUp: false, // it starts with photos waiting
      });
      client.start();
      this.clients.push(client);
    }
    return this.clients[index];
  }

  /**
   * The batch has no work: after IDLE_MS, stop the extra workers and give their memory back (the
   * page's own stays). The next batch starts them again.
   */
  idle() {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      for (const extra of this.clients.splice(1)) extra.stop();
    }, IDLE_MS);
  }

  /** How many workers run now. */
  get started() {
    return this.clients.length;
  }
}
