// @ts-check
/**
 * Pyodide's core memory snapshot, kept on the device: made by the first visit's worker right after
 * the Python runtime starts (before NumPy: Pyodide 0.27.7 cannot snapshot a heap that holds binary
 * packages), and restored by later visits' workers instead of starting Python again.
 *
 * A snapshot is the WebAssembly heap as it was (about 20 MB), so it only fits the exact runtime and
 * standard library it was made with. It is kept in this build's offline cache (sw.js CACHE, the same
 * name), so it is dropped with the build's other files when a new build activates; Pyodide also
 * checks its own build id when restoring. It is made on the device rather than shipped: it costs no
 * download. Used only in a built site (not in development, whose files change under one name) and
 * where Cache Storage exists (a secure context: https or localhost).
 *
 * The entry carries its own SHA-256, checked before use: Pyodide 0.27.7 hangs for good (instead of
 * failing) when handed a heap it cannot instantiate, so only bytes exactly as saved reach it.
 */
import { BUILD_HASH } from "./config.js";

const SITE_ROOT = new URL("../", import.meta.url);
/** The offline cache of this build, as sw.js names it (its scope is the site root). */
const CACHE = `kmeans-${BUILD_HASH} ${SITE_ROOT.pathname}`;
/** The snapshot's key in that cache: a URL no file has, so nothing else ever reads it. */
const KEY = new URL("pyodide-core-snapshot", SITE_ROOT).href;
/** The response header that holds the snapshot's SHA-256, in hex. */
const DIGEST = "X-Snapshot-SHA256";

/** Whether this worker can keep a snapshot at all. */
export const SNAPSHOTS = BUILD_HASH !== "dev" && typeof caches !== "undefined";

/**
 * The saved snapshot's bytes, or null when there is none (or it cannot be read).
 * @returns {Promise<ArrayBuffer | null>}
 */
export async function readSnapshot() {
  if (!SNAPSHOTS) return null;
  try {
    const response = await (await caches.open(CACHE)).match(KEY);
    if (!response) return null;
    const bytes = await response.arrayBuffer();
    if ((await sha256(bytes)) === response.headers.get(DIGEST)) return bytes;
    console.warn("The saved Python snapshot is damaged, so Python starts afresh");
    await forgetSnapshot();
    return null;
  } catch (error) {
    console.warn("The saved Python snapshot could not be read", error);
    return null;
  }
}

/**
 * Keep a snapshot for the next visits (failures are logged: the next visit boots as this one did).
 * @param {Uint8Array} bytes what pyodide.makeMemorySnapshot() returned
 */
export async function saveSnapshot(bytes) {
  if (!SNAPSHOTS) return;
  try {
    const headers = {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(bytes.length),
      [DIGEST]: await sha256(bytes),
    };
    await (await caches.open(CACHE)).put(KEY, new Response(bytes, { headers }));
  } catch (error) {
    console.warn("The Python snapshot could not be saved", error);
  }
}

/** Drop the saved snapshot (after a boot from it failed), so the next visit makes a new one. */
export async function forgetSnapshot() {
  if (!SNAPSHOTS) return;
  try {
    await (await caches.open(CACHE)).delete(KEY);
  } catch (error) {
    console.warn("The saved Python snapshot could not be removed", error);
  }
}

/**
 * @param {ArrayBuffer | Uint8Array} bytes
 * @returns {Promise<string>} their SHA-256 in hex
 */
async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
