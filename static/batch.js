// @ts-check
/**
 * The batch: many photos at once, one row each in #batch, run on the pool's workers, all downloadable
 * as one zip. Each worker takes the next queued file, decodes it, sends it off with one "compress"
 * request (kmeans.web.compress: quantize or search K for a target, score, encode) and keeps only the
 * PNG, so at most one decoded photo per worker is in memory. A failed file marks its own row; the
 * others go on.
 */
import { PAGE_MAX_MEGAPIXELS } from "./protocol.js";
import { decodeImage, outputName, outputSuffix } from "./images.js";
import { crc32, zipBlob } from "./zip.js";
import { capitalise, compressImage, countOf, describeScore, describeSizes, formatBytes } from "./compress.js";

/**
 * One file of the batch and what became of it.
 * @typedef {object} BatchItem
 * @property {number} id
 * @property {File} file
 * @property {string} path its name, with the folders it was found in (a chosen folder's files)
 * @property {import("./compress.js").Job} job the settings, as they were when it was added
 * @property {"queued" | "running" | "done" | "error"} state
 * @property {boolean} cancelled
 * @property {AbortController} abort takes its request back (never sent, or its worker restarted)
 * @property {HTMLLIElement} row
 * @property {string} url the object URL of its PNG, once done
 * @property {string} error its message, on error
 * @property {BatchResult | null} result
 */

/**
 * @typedef {object} BatchResult
 * @property {Blob} png
 * @property {number} crc
 * @property {string} outputName
 * @property {Uint8Array} palette RGBA, 4 bytes per colour
 * @property {number} width
 * @property {number} height
 * @property {number} nColors
 * @property {number} ssimulacra2
 * @property {number} scale
 * @property {number} mse
 * @property {number | undefined} psnr
 * @property {boolean} met
 * @property {string | undefined} message
 * @property {string | undefined} warning
 * @property {number} seconds
 * @property {number} trials how many palette sizes a target search tried (0 without a target)
 */

const THUMBNAIL = 48;

/**
 * @param {object} parts
 * @param {HTMLElement} parts.root #batch
 * @param {HTMLOListElement} parts.list #batch-list
 * @param {HTMLElement} parts.summary #batch-summary
 * @param {HTMLProgressElement} parts.progress #batch-progress
 * @param {HTMLButtonElement} parts.downloadAll #download-all
 * @param {HTMLButtonElement} parts.cancelAll #cancel-all
 * @param {HTMLButtonElement} parts.clear #batch-clear
 * @param {import("./pool.js").WorkerPool} parts.pool
 * @param {(item: BatchItem, how: {auto: boolean}) => boolean} parts.onSelect a row was chosen: show it in
 *   the single view, or return false (a run of its own is on screen)
 */
export function setUpBatch({ root, list, summary, progress, downloadAll, cancelAll, clear, pool, onSelect }) {
  /** @type {BatchItem[]} */
  let items = [];
  /** @type {BatchItem[]} */
  let queue = [];
  let nextId = 1;
  /** The pool indices of the workers' loops that run now. @type {Set<number>} */
  const busy = new Set();
  let decoded = 0; // photos decoded and not yet handed to a worker
  let peakDecoded = 0;
  let skippedFiles = 0;
  let started = 0;
  let selected = /** @type {BatchItem | null} */ (null);

  /**
   * Add files to the batch, each with the job's settings, and start the workers they need.
   * @param {{file: File, path: string}[]} files
   * @param {import("./compress.js").Job} job
   * @param {number} [skipped] files of a folder left out (not images), said in the summary
   */
  function add(files, job, skipped = 0) {
    skippedFiles += skipped;
    const fragment = document.createDocumentFragment();
    for (const { file, path } of files) {
      /** @type {BatchItem} */
      const item = {
        id: nextId++, file, path, job, state: "queued", cancelled: false, abort: new AbortController(),
        row: document.createElement("li"), url: "", error: "", result: null,
      };
      buildRow(item);
      fragment.append(item.row);
      items.push(item);
      queue.push(item);
    }
    list.append(fragment);
    root.hidden = false;
    if (busy.size === 0) started = performance.now();
    // Each loop takes a photo at once (runWorker is synchronous up to its first await).
    for (let index = 0; index < pool.size && queue.length > 0; index++) {
      if (!busy.has(index)) runWorker(index);
    }
    update();
  }

  /** @param {BatchItem} item */
  function buildRow(item) {
    const { row } = item;
    row.className = "batch-item";
    row.dataset.id = String(item.id);
    const thumbnail = document.createElement("canvas");
    thumbnail.className = "batch-thumb";
    thumbnail.width = thumbnail.height = THUMBNAIL;
    thumbnail.setAttribute("aria-hidden", "true");
    const name = document.createElement("button");
    name.type = "button";
    name.className = "batch-name";
    name.textContent = item.path;
    name.title = `Show ${item.path} above`;
    name.addEventListener("click", () => select(item));
    const size = span("batch-size", formatBytes(item.file.size));
    const score = span("batch-score", "");
    const message = span("batch-message", "");
    const download = document.createElement("a");
    download.className = "batch-download button secondary small";
    download.textContent = "Download";
    download.hidden = true;
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "batch-cancel button secondary small";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", `Cancel ${item.path}`);
    cancel.addEventListener("click", () => cancelItem(item));
    row.append(thumbnail, name, size, score, message, download, cancel);
    setRowState(item, "queued");
  }

  /**
   * @param {BatchItem} item
   * @param {BatchItem["state"]} state
   * @param {string} [message]
   */
  function setRowState(item, state, message = "") {
    item.state = state;
    item.error = state === "error" ? message : "";
    item.row.dataset.state = state;
    part(item, "batch-message").textContent = message || { queued: "Waiting…", running: "Compressing…", done: "", error: "" }[state];
    /** @type {HTMLButtonElement} */ (part(item, "batch-cancel")).hidden = state === "done" || state === "error";
  }

  /**
   * One worker's loop: the next queued file, until none is left.
   * @param {number} index
   */
  async function runWorker(index) {
    busy.add(index);
    try {
      const client = pool.client(index);
      for (let item = queue.shift(); item; item = queue.shift()) {
        await compressItem(item, client);
        // An extra worker that cannot boot (too little memory, say) leaves its photos to the others.
        if (index > 0 && client.bootFailures > 0) break;
      }
    } finally {
      busy.delete(index);
      if (busy.size === 0 && queue.length === 0) pool.idle();
      update();
    }
  }

  /**
   * @param {BatchItem} item
   * @param {import("./worker-client.js").WorkerClient} client
   */
  async function compressItem(item, client) {
    setRowState(item, "running");
    update();
    try {
      decoded++;
      peakDecoded = Math.max(peakDecoded, decoded);
      root.dataset.peakDecoded = String(peakDecoded);
      let imageData;
      try {
        imageData = await decodeImage(item.file, item.path, PAGE_MAX_MEGAPIXELS);
        await drawThumbnail(/** @type {HTMLCanvasElement} */ (part(item, "batch-thumb")), imageData);
      } finally {
        decoded--;
      }
      if (item.cancelled) throw new DOMException("Cancelled", "AbortError");
      const { width, height } = imageData;
      // The pixels are sent away (transferred): this page keeps only the PNG.
      const reply = await compressImage(client, new Uint8Array(imageData.data.buffer), width, height, item.job, (tried) => {
        part(item, "batch-message").textContent = `Searching the palette size: ${countOf(tried, "trial")} so far…`;
      }, item.abort.signal);
      if (item.cancelled) throw new DOMException("Cancelled", "AbortError"); // too late to stop: dropped
      finish(item, reply, width, height);
    } catch (error) {
      const aborted = error instanceof DOMException && error.name === "AbortError";
      const unbooted = client !== pool.clients[0] && client.bootFailures > 0 && busy.size > 1;
      if ((aborted && !item.cancelled) || (unbooted && !item.cancelled)) {
        // Its worker was restarted for something else (Cancel in the single view), or could not boot
        // while others run: it goes again.
        setRowState(item, "queued");
        queue.unshift(item);
        return;
      }
      setRowState(item, "error", item.cancelled ? "Cancelled." : error instanceof Error ? error.message : String(error));
    } finally {
      update();
    }
  }

  /**
   * @param {BatchItem} item
   * @param {import("./protocol.js").CompressResult} reply
   * @param {number} width
   * @param {number} height
   */
  function finish(item, reply, width, height) {
    const { job } = item;
    const name = outputName(item.file.name, job.nColors, job);
    const png = new Blob([reply.png], { type: "image/png" });
    item.result = {
      png, crc: crc32(reply.png), outputName: name, palette: reply.palette, width, height,
      nColors: reply.n_colors, ssimulacra2: reply.ssimulacra2, scale: reply.ssimulacra2_scale, mse: reply.mse,
      psnr: reply.psnr, met: reply.met, message: reply.message, warning: reply.warning, seconds: reply.seconds,
      trials: reply.trials.length / 2,
    };
    item.url = URL.createObjectURL(png);
    const download = /** @type {HTMLAnchorElement} */ (part(item, "batch-download"));
    download.href = item.url;
    download.download = name;
    download.hidden = false;
    download.setAttribute("aria-label", `Download ${name}`);
    part(item, "batch-size").textContent = describeSizes(item.file.size, reply.bytes);
    const score = part(item, "batch-score");
    score.textContent = `${reply.ssimulacra2.toFixed(1)}: ${describeScore(reply.ssimulacra2)}`;
    score.title = "SSIMULACRA2, how alike it looks to the original (100: identical)";
    setRowState(item, "done", reply.message ? `${capitalise(reply.message)}.` : countOf(reply.n_colors, "colour"));
    item.row.dataset.met = String(reply.met);
    if (!selected) select(item, { auto: true }); // the first result is shown at once
  }

  /**
   * @param {BatchItem} item
   * @param {{auto?: boolean}} [how] auto: chosen by the batch, not the user (the page may decline)
   */
  function select(item, { auto = false } = {}) {
    if (!onSelect(item, { auto })) return;
    selected?.row.removeAttribute("aria-current");
    selected = item;
    item.row.setAttribute("aria-current", "true");
    root.dataset.selected = String(item.id);
  }

  /** @param {BatchItem} item */
  function cancelItem(item) {
    if (item.state === "done" || item.state === "error") return;
    item.cancelled = true;
    // Its request, if sent, is taken back: never run if it waits its turn, else its worker restarts.
    item.abort.abort();
    if (item.state === "queued") {
      queue = queue.filter((other) => other !== item);
      setRowState(item, "error", "Cancelled.");
      update();
    }
  }

  function cancelEverything() {
    for (const item of [...queue].reverse()) cancelItem(item); // the queued ones first: no worker takes them
    for (const item of items) if (item.state === "running") cancelItem(item);
  }

  function clearAll() {
    cancelEverything();
    for (const item of items) if (item.url) URL.revokeObjectURL(item.url);
    items = [];
    queue = [];
    skippedFiles = 0;
    selected = null;
    list.replaceChildren();
    delete root.dataset.selected;
    root.hidden = true;
    update();
  }

  /** The zip of every output; nothing is copied (see zip.js). */
  function downloadZip() {
    const done = items.filter((item) => item.state === "done" && item.result);
    if (done.length === 0) return;
    try {
      const blob = zipBlob(done.map((item) => ({ name: zipPath(item), blob: item.result.png, crc: item.result.crc })));
      const suffixes = new Set(done.map((item) => outputSuffix(item.job.nColors, item.job)));
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `photos-${suffixes.size === 1 ? [...suffixes][0] : "compressed"}.zip`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000); // the download has its own reference by then
    } catch (error) {
      summary.textContent = error instanceof Error ? error.message : String(error);
    }
  }

  function update() {
    const count = (/** @type {BatchItem["state"]} */ state) => items.filter((item) => item.state === state).length;
    const done = count("done");
    const failed = items.filter((item) => item.state === "error" && !item.cancelled).length;
    const cancelled = items.filter((item) => item.cancelled && item.state === "error").length;
    const running = count("running") + count("queued");
    const total = items.length;
    progress.max = Math.max(1, total);
    progress.value = total - running;
    root.dataset.state = total === 0 ? "empty" : running > 0 ? "running" : "done";
    root.dataset.workers = String(pool.started);
    downloadAll.disabled = done === 0;
    cancelAll.disabled = running === 0;
    const parts = [`${done} of ${total} done`];
    if (failed) parts.push(`${failed} failed`);
    if (cancelled) parts.push(`${cancelled} cancelled`);
    if (skippedFiles) parts.push(`${countOf(skippedFiles, "file")} skipped (not ${skippedFiles === 1 ? "an image" : "images"})`);
    if (running) parts.push(`${running} to go, on ${countOf(Math.max(1, busy.size), "worker")}`);
    else if (total) {
      const seconds = (performance.now() - started) / 1000;
      const before = items.reduce((sum, item) => sum + (item.result ? item.file.size : 0), 0);
      const after = items.reduce((sum, item) => sum + (item.result ? item.result.png.size : 0), 0);
      if (done) parts.push(`${formatBytes(before)} → ${formatBytes(after)} in ${seconds.toFixed(1)} s`);
    }
    summary.textContent = parts.join(" · ");
  }

  downloadAll.addEventListener("click", downloadZip);
  cancelAll.addEventListener("click", cancelEverything);
  clear.addEventListener("click", clearAll);
  update();
  return {
    add,
    get size() {
      return items.length;
    },
  };
}

/**
 * Where an output goes in the zip: the folders its file was found in, then its output name.
 * @param {BatchItem} item
 */
function zipPath(item) {
  const folders = item.path.split("/").slice(0, -1);
  return [...folders, /** @type {BatchResult} */ (item.result).outputName].join("/");
}

/**
 * @param {HTMLCanvasElement} canvas
 * @param {ImageData} imageData
 */
async function drawThumbnail(canvas, imageData) {
  const scale = Math.min(1, THUMBNAIL / Math.max(imageData.width, imageData.height));
  const width = Math.max(1, Math.round(imageData.width * scale));
  const height = Math.max(1, Math.round(imageData.height * scale));
  const bitmap = await createImageBitmap(imageData, { resizeWidth: width, resizeHeight: height, resizeQuality: "medium" });
  const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, (THUMBNAIL - width) / 2, (THUMBNAIL - height) / 2);
  bitmap.close();
}

/**
 * @param {BatchItem} item
 * @param {string} className
 * @returns {HTMLElement}
 */
function part(item, className) {
  return /** @type {HTMLElement} */ (item.row.querySelector(`.${className}`));
}

/**
 * @param {string} className
 * @param {string} text
 */
function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

