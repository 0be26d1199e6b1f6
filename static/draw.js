// @ts-check
/** Everything that touches a canvas 2-D context or builds the palette swatches. */

/**
 * Draw RGBA pixels on a canvas, sizing the canvas to the image's own pixel size.
 * @param {HTMLCanvasElement} canvas
 * @param {ImageData} imageData
 */
export function drawImageData(canvas, imageData) {
  canvas.width = imageData.width;
  canvas.height = imageData.height;
  /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d")).putImageData(imageData, 0, 0);
}

/**
 * Copy one canvas's pixels into another, sizing it to match.
 * @param {HTMLCanvasElement} from
 * @param {HTMLCanvasElement} to
 */
export function copyCanvas(from, to) {
  to.width = from.width;
  to.height = from.height;
  if (from.width && from.height) /** @type {CanvasRenderingContext2D} */ (to.getContext("2d")).drawImage(from, 0, 0);
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
 * Draw a quantized result as the worker returned it (its `rgba` bytes) on a canvas.
 * @param {HTMLCanvasElement} canvas
 * @param {Uint8Array} rgba RGBA bytes, 4 per pixel
 * @param {number} width
 * @param {number} height
 */
export function drawRgba(canvas, rgba, width, height) {
  const pixels = new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
  drawImageData(canvas, new ImageData(pixels, width, height));
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
 */
export function drawPalette(container, palette) {
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
    swatches.push(swatch);
  }
  container.replaceChildren(...swatches);
}

// -- the clustering explorer's plots --------------------------------------------------------------

/** Cluster colours 0, 1, 2, ... (matplotlib's tab10, as kmeans.figures uses). */
export const CLUSTER_COLOURS = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

const PLOT_MARGIN = 28;

/**
 * The data rectangle shown by a scatter plot: the points' bounds plus 5% on each side.
 * @param {Float64Array} points2d x0, y0, x1, y1, ...
 * @returns {{xMin: number, xMax: number, yMin: number, yMax: number}}
 */
export function plotBounds(points2d) {
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (let i = 0; i < points2d.length; i += 2) {
    xMin = Math.min(xMin, points2d[i]); xMax = Math.max(xMax, points2d[i]);
    yMin = Math.min(yMin, points2d[i + 1]); yMax = Math.max(yMax, points2d[i + 1]);
  }
  const padX = (xMax - xMin || 1) * 0.05;
  const padY = (yMax - yMin || 1) * 0.05;
  return { xMin: xMin - padX, xMax: xMax + padX, yMin: yMin - padY, yMax: yMax + padY };
}

/**
 * Functions between data coordinates and canvas pixels for a plot area.
 * @param {HTMLCanvasElement} canvas
 * @param {{xMin: number, xMax: number, yMin: number, yMax: number}} bounds
 */
export function plotScale(canvas, bounds) {
  const width = canvas.width - 2 * PLOT_MARGIN;
  const height = canvas.height - 2 * PLOT_MARGIN;
  return {
    x: (/** @type {number} */ value) => PLOT_MARGIN + ((value - bounds.xMin) / (bounds.xMax - bounds.xMin)) * width,
    y: (/** @type {number} */ value) => PLOT_MARGIN + (1 - (value - bounds.yMin) / (bounds.yMax - bounds.yMin)) * height,
    /** Canvas pixel → data coordinates. */
    invert: (/** @type {number} */ px, /** @type {number} */ py) => [
      bounds.xMin + ((px - PLOT_MARGIN) / width) * (bounds.xMax - bounds.xMin),
      bounds.yMin + (1 - (py - PLOT_MARGIN) / height) * (bounds.yMax - bounds.yMin),
    ],
  };
}

/**
 * Draw the points (coloured by cluster once there are labels), each centroid's trail and the centroids.
 * @param {HTMLCanvasElement} canvas
 * @param {object} view
 * @param {Float64Array} view.points2d
 * @param {{xMin: number, xMax: number, yMin: number, yMax: number}} view.bounds
 * @param {Int32Array | null} view.labels
 * @param {Float64Array[]} view.trail2d centroids (k * 2) before the first step and after each step
 * @param {number[][]} view.clicks positions placed by clicking, not yet centroids
 */
export function drawScatter(canvas, { points2d, bounds, labels, trail2d, clicks }) {
  const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  const scale = plotScale(canvas, bounds);
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.strokeStyle = "#d9dde5";
  context.strokeRect(PLOT_MARGIN, PLOT_MARGIN, canvas.width - 2 * PLOT_MARGIN, canvas.height - 2 * PLOT_MARGIN);

  const n = points2d.length / 2;
  const radius = n > 20000 ? 1 : n > 2000 ? 1.8 : 3.2;
  context.globalAlpha = n > 20000 ? 0.35 : 0.75;
  for (let i = 0; i < n; i++) {
    context.fillStyle = labels ? CLUSTER_COLOURS[labels[i] % CLUSTER_COLOURS.length] : "#8a93a6";
    context.fillRect(scale.x(points2d[2 * i]) - radius / 2, scale.y(points2d[2 * i + 1]) - radius / 2, radius, radius);
  }
  context.globalAlpha = 1;

  if (trail2d.length > 0) {
    const k = trail2d[0].length / 2;
    context.lineWidth = 1.5;
    for (let j = 0; j < k; j++) {
      context.strokeStyle = "#1d2330";
      context.beginPath();
      trail2d.forEach((centroids, step) => {
        const x = scale.x(centroids[2 * j]);
        const y = scale.y(centroids[2 * j + 1]);
        if (step === 0) context.moveTo(x, y);
        else context.lineTo(x, y);
      });
      context.stroke();
      for (const centroids of trail2d.slice(0, -1)) {
        context.fillStyle = "#1d2330";
        context.beginPath();
        context.arc(scale.x(centroids[2 * j]), scale.y(centroids[2 * j + 1]), 2.5, 0, 2 * Math.PI);
        context.fill();
      }
    }
    const last = trail2d[trail2d.length - 1];
    for (let j = 0; j < k; j++) drawCentroid(context, scale.x(last[2 * j]), scale.y(last[2 * j + 1]), CLUSTER_COLOURS[j % CLUSTER_COLOURS.length]);
  }
  clicks.forEach(([x, y], j) => drawCentroid(context, scale.x(x), scale.y(y), CLUSTER_COLOURS[j % CLUSTER_COLOURS.length]));
}

/**
 * A centroid marker: a cross in the cluster's colour with a dark outline.
 * @param {CanvasRenderingContext2D} context
 * @param {number} x
 * @param {number} y
 * @param {string} colour
 */
function drawCentroid(context, x, y, colour) {
  const size = 8;
  context.lineCap = "round";
  for (const [width, style] of [[7, "#1d2330"], [3.5, colour]]) {
    context.lineWidth = /** @type {number} */ (width);
    context.strokeStyle = /** @type {string} */ (style);
    context.beginPath();
    context.moveTo(x - size, y - size); context.lineTo(x + size, y + size);
    context.moveTo(x + size, y - size); context.lineTo(x - size, y + size);
    context.stroke();
  }
}

/**
 * A small line chart with dots, e.g. inertia per iteration or the elbow curve.
 * @param {HTMLCanvasElement} canvas
 * @param {number[]} xs
 * @param {number[]} ys
 * @param {{highlight?: number, empty?: string}} [options] highlight: the x to mark
 */
export function drawLineChart(canvas, xs, ys, { highlight, empty = "" } = {}) {
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
  const yMax = Math.max(...ys) || 1;
  const px = (/** @type {number} */ x) => left + ((x - xMin) / (xMax - xMin)) * (canvas.width - left - right);
  const py = (/** @type {number} */ y) => top + (1 - y / yMax) * (canvas.height - top - bottom);
  context.strokeStyle = "#d9dde5";
  context.strokeRect(left, top, canvas.width - left - right, canvas.height - top - bottom);
  context.fillStyle = "#5b6475";
  context.fillText(formatNumber(yMax), 2, top + 10);
  context.fillText("0", 30, canvas.height - bottom);
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
  });
}

/** @param {number} value */
export function formatNumber(value) {
  if (Math.abs(value) >= 1e5 || (Math.abs(value) < 1e-2 && value !== 0)) return value.toExponential(2);
  return value.toFixed(value >= 100 ? 0 : 2);
}
