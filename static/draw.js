// @ts-check
/** Everything that touches a canvas 2-D context or builds the palette swatches. */

/** Pixels read or drawn per slice of a big image: each slice holds the page's thread for a few milliseconds. */
const SLICE_PIXELS = 1 << 21;

/** The latest drawing into each canvas: an earlier one still going on in slices stops. */
const drawings = new WeakMap();

/**
 * Draw RGBA pixels on a canvas, sizing the canvas to the image's own pixel size, in slices of rows: for
 * a big photo the page answers input between slices instead of freezing for seconds (a small image is
 * one slice, drawn at once). Resolves false when a later drawing into the same canvas took over (the
 * rest is then not drawn).
 * @param {HTMLCanvasElement} canvas
 * @param {ImageData} imageData
 * @returns {Promise<boolean>}
 */
export function drawImageDataInSlices(canvas, imageData) {
  const { width, height } = imageData;
  return inSlices(canvas, width, height, (context, top, rows) =>
    context.putImageData(imageData, 0, 0, 0, top, width, rows));
}

/**
 * Copy one canvas's pixels into another, sizing it to match, in slices of rows for a big one.
 * @param {HTMLCanvasElement} from
 * @param {HTMLCanvasElement} to
 * @returns {Promise<boolean>} false when a later drawing into `to` took over
 */
export async function copyCanvas(from, to) {
  const { width, height } = from;
  return inSlices(to, width, height, (context, top, rows) => {
    context.clearRect(0, top, width, rows); // `to` may keep an earlier image (sizeCanvas), and drawImage blends
    context.drawImage(from, 0, top, width, rows, 0, top, width, rows);
  });
}

/**
 * Give `canvas` the size width x height. A canvas that has it already keeps its pixels and its memory:
 * setting the size always clears a canvas and lets its memory go, and a photo-sized canvas takes tens of
 * milliseconds to get it back at its next drawing. A canvas that changes size takes its memory now (one
 * pixel is drawn), so that a drawing later, such as a result the worker is still computing, does not wait
 * for it.
 * @param {HTMLCanvasElement} canvas
 * @param {number} width
 * @param {number} height
 */
export function sizeCanvas(canvas, width, height) {
  if (canvas.width === width && canvas.height === height) return;
  canvas.width = width;
  canvas.height = height;
  if (width && height) {
    /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d")).putImageData(new ImageData(1, 1), 0, 0);
  }
}

/**
 * Size `canvas` to width x height ({@link sizeCanvas}) and call draw(context, top, rows) for each slice
 * of rows, giving the page a turn between slices. Each slice's pixels are all replaced.
 * @param {HTMLCanvasElement} canvas
 * @param {number} width
 * @param {number} height
 * @param {(context: CanvasRenderingContext2D, top: number, rows: number) => void} draw
 */
async function inSlices(canvas, width, height, draw) {
  const token = {};
  drawings.set(canvas, token);
  sizeCanvas(canvas, width, height);
  if (!width || !height) return true;
  const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  for (const [top, rows] of rowSlices(width, height)) {
    if (top > 0) await nextTask();
    if (drawings.get(canvas) !== token) return false;
    draw(context, top, rows);
  }
  return true;
}

/**
 * The slices of rows of a width x height image: [top, rows] pairs of about SLICE_PIXELS each.
 * @param {number} width
 * @param {number} height
 * @returns {Generator<[number, number]>}
 */
export function* rowSlices(width, height) {
  const rows = Math.max(1, Math.floor(SLICE_PIXELS / width));
  for (let top = 0; top < height; top += rows) yield [top, Math.min(rows, height - top)];
}

/**
 * Resolve after the page's other tasks (input, drawing) have had a turn. A message, not a timer:
 * a hidden tab's timers wait a second each, its messages do not.
 * @returns {Promise<void>}
 */
export function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Empty a canvas and size it to nothing (no result to show).
 * @param {HTMLCanvasElement} canvas
 */
export function clearCanvas(canvas) {
  /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d")).clearRect(0, 0, canvas.width, canvas.height);
  canvas.width = 0;
  canvas.height = 0;
}

/**
 * Draw a quantized result as the worker returned it (its `rgba` bytes) on a canvas, in slices of rows
 * (see {@link drawImageDataInSlices}).
 * @param {HTMLCanvasElement} canvas
 * @param {Uint8Array} rgba RGBA bytes, 4 per pixel
 * @param {number} width
 * @param {number} height
 * @returns {Promise<boolean>}
 */
export function drawRgbaInSlices(canvas, rgba, width, height) {
  const pixels = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
  return drawImageDataInSlices(canvas, new ImageData(pixels, width, height));
}

/**
 * Draw a quantized image from its palette indices (one per pixel) and RGBA palette, in slices of rows
 * (see {@link drawImageDataInSlices}).
 * @param {HTMLCanvasElement} canvas
 * @param {Uint8Array} indices
 * @param {Uint8Array} palette RGBA, 4 bytes per entry
 * @param {number} width
 * @param {number} height
 * @returns {Promise<boolean>}
 */
export function drawIndicesInSlices(canvas, indices, palette, width, height) {
  return drawRgbaInSlices(canvas, paletteToRgba(indices, palette, new Uint8Array(indices.length * 4)), width, height);
}

/**
 * Rebuild the quantized image from its palette indices: one 32-bit copy per pixel, written into
 * `out` (RGBA bytes, 4 per index). Uses no DOM, so the worker can call it too.
 * @param {Uint8Array} indices one palette index per pixel
 * @param {Uint8Array} palette RGBA, 4 bytes per colour
 * @param {Uint8Array | Uint8ClampedArray} out
 */
export function paletteToRgba(indices, palette, out) {
  const colours = new Uint32Array(palette.buffer, palette.byteOffset, palette.length / 4);
  const pixels = new Uint32Array(out.buffer, out.byteOffset, indices.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = colours[indices[i]];
  return out;
}

/**
 * `#rrggbb` for palette entry `index`.
 * @param {Uint8Array} palette RGBA
 * @param {number} index
 */
export function hexColour(palette, index) {
  const hex = (/** @type {number} */ v) => v.toString(16).padStart(2, "0");
  const at = index * 4;
  return `#${hex(palette[at])}${hex(palette[at + 1])}${hex(palette[at + 2])}`;
}

/**
 * Fill `container` with one swatch per palette colour, labelled with its hex code (text only, never HTML).
 * @param {HTMLElement} container
 * @param {Uint8Array} palette RGBA
 * @param {(index: number) => void} [onChoose] makes each swatch a toggle button that calls it with its index
 */
export function drawPalette(container, palette, onChoose) {
  const swatches = [];
  for (let index = 0; index < palette.length / 4; index++) {
    const swatch = document.createElement("li");
    const colour = hexColour(palette, index);
    const alpha = palette[index * 4 + 3];
    swatch.className = "swatch";
    swatch.style.setProperty("--swatch", alpha === 255 ? colour : `${colour}${alpha.toString(16).padStart(2, "0")}`);
    swatch.dataset.colour = colour;
    swatch.title = alpha === 255 ? colour : `${colour}, alpha ${alpha}`;
    const label = document.createElement("span");
    label.textContent = alpha === 0 ? "transparent" : colour;
    swatch.append(label);
    if (onChoose) {
      swatch.setAttribute("role", "button");
      swatch.tabIndex = 0;
      swatch.setAttribute("aria-pressed", "false");
      swatch.title += ": show its pixels";
      swatch.addEventListener("click", () => onChoose(index));
      swatch.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        onChoose(index);
      });
    }
    swatches.push(swatch);
  }
  container.replaceChildren(...swatches);
}

/**
 * `palette` as it shows with entry `index` lit up: that entry keeps its colour, the others fade to a
 * light grey, all opaque. A result drawn through it (drawIndicesInSlices) makes the entry's pixels
 * stand out.
 * @param {Uint8Array} palette RGBA, 4 bytes per entry
 * @param {number} index
 */
export function fadedPalette(palette, index) {
  const faded = new Uint8Array(palette.length);
  for (let at = 0; at < palette.length; at += 4) {
    for (let c = 0; c < 3; c++) faded[at + c] = at === 4 * index ? palette[at + c] : 0.2 * palette[at + c] + 188;
    faded[at + 3] = 255;
  }
  return faded;
}

// -- charts ----------------------------------------------------------------------------------------

/**
 * A small line chart with dots, e.g. inertia per iteration, the elbow curve or the silhouette.
 * @param {HTMLCanvasElement} canvas
 * @param {number[]} xs
 * @param {number[]} ys
 * @param {{highlight?: number, best?: number, empty?: string, yMin?: number}} [options] highlight: the x
 *   to mark (the current K); best: an x to ring (the best K); yMin: the bottom of the y axis (default 0)
 */
export function drawLineChart(canvas, xs, ys, { highlight, best, empty = "", yMin = 0 } = {}) {
  const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.font = "12px system-ui, sans-serif";
  if (xs.length === 0) {
    context.fillStyle = "#5b6475";
    context.fillText(empty, 12, canvas.height / 2);
    return;
  }
  const left = 44, right = 10, top = 10, bottom = 22;
  const xMin = Math.min(...xs), xMax = Math.max(...xs, xMin + 1);
  const yMax = Math.max(...ys, yMin + 1e-12) || 1;
  const px = (/** @type {number} */ x) => left + ((x - xMin) / (xMax - xMin)) * (canvas.width - left - right);
  const py = (/** @type {number} */ y) => top + (1 - (y - yMin) / (yMax - yMin)) * (canvas.height - top - bottom);
  context.strokeStyle = "#d9dde5";
  context.strokeRect(left, top, canvas.width - left - right, canvas.height - top - bottom);
  context.fillStyle = "#5b6475";
  context.fillText(formatNumber(yMax), 2, top + 10);
  context.fillText(formatNumber(yMin), 2, canvas.height - bottom);
  context.fillText(String(xMin), left, canvas.height - 6);
  context.fillText(String(xMax), canvas.width - right - 14, canvas.height - 6);
  context.strokeStyle = "#2f5bd3";
  context.lineWidth = 2;
  context.beginPath();
  xs.forEach((x, i) => (i === 0 ? context.moveTo(px(x), py(ys[i])) : context.lineTo(px(x), py(ys[i]))));
  context.stroke();
  xs.forEach((x, i) => {
    context.fillStyle = x === highlight ? "#d62728" : "#2f5bd3";
    context.beginPath();
    context.arc(px(x), py(ys[i]), x === highlight ? 5 : 3, 0, 2 * Math.PI);
    context.fill();
    if (x === best) {
      context.strokeStyle = "#1d2330";
      context.lineWidth = 1.5;
      context.beginPath();
      context.arc(px(x), py(ys[i]), 8, 0, 2 * Math.PI);
      context.stroke();
    }
  });
}

/** @param {number} value */
export function formatNumber(value) {
  if (Math.abs(value) >= 1e5 || (Math.abs(value) < 1e-2 && value !== 0)) return value.toExponential(2);
  return value.toFixed(value >= 100 ? 0 : 2);
}
