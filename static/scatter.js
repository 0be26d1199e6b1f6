// @ts-check
/**
 * The explorer's plot: the centroids' regions, the points (coloured by cluster, or sized by their
 * k-means++ weight while the centres are seeded), lines from the points to their centroids, rings round
 * the points the last Assign moved, each centroid's trail, and the centroids. Drawing only: the K-means
 * maths runs in Python. The one sum done here is which centroid is nearest to each shaded pixel.
 */

/** Cluster colours 0, 1, 2, ... (matplotlib's tab10, as kmeans.figures uses). */
export const CLUSTER_COLOURS = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

/** Canvas pixels between the canvas's edge and the plot area. */
export const PLOT_MARGIN = 28;

/** How much of its centroid's colour a region takes; the rest is white. */
export const REGION_TINT = 0.16;

const INK = "#1d2330";
const UNLABELLED = "#8a93a6";

/** @typedef {{xMin: number, xMax: number, yMin: number, yMax: number}} Bounds */

/**
 * The data rectangle shown by a scatter plot: the points' bounds plus 5% on each side.
 * @param {Float64Array} points2d x0, y0, x1, y1, ...
 * @returns {Bounds}
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
 * @param {Bounds} bounds
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
 * "#rrggbb" as [r, g, b].
 * @param {string} hex
 */
function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/**
 * The colour a centroid's region is shaded with: its cluster colour, REGION_TINT of the way from white.
 * @param {number} j
 */
export function regionColour(j) {
  return rgb(CLUSTER_COLOURS[j % CLUSTER_COLOURS.length]).map((c) => Math.round(255 + (c - 255) * REGION_TINT));
}

/**
 * Each centroid's squared distance from the drawn plane. Data with more than two features is drawn on
 * two principal axes; a point p of that plane, lifted back into the data's space, is nearest to the
 * centroid with the smallest |p - c₂|² + (c's squared distance from the plane), since the axes are
 * orthonormal. With it the regions drawn are exact for wide data too (0 for every centroid of 2-D data).
 * @param {Float64Array} centroids k * nFeatures
 * @param {Float64Array} centroids2d k * 2
 * @param {Float64Array} projection the mean, then the two axes (3 * nFeatures)
 * @param {number} nFeatures
 */
export function offPlane(centroids, centroids2d, projection, nFeatures) {
  const k = centroids2d.length / 2;
  const out = new Float64Array(k);
  if (nFeatures === 2) return out;
  for (let j = 0; j < k; j++) {
    let squared = 0;
    for (let f = 0; f < nFeatures; f++) squared += (centroids[j * nFeatures + f] - projection[f]) ** 2;
    out[j] = Math.max(0, squared - centroids2d[2 * j] ** 2 - centroids2d[2 * j + 1] ** 2);
  }
  return out;
}

/**
 * Shade every pixel of the plot area with the colour of the region it lies in, and darken the pixels
 * where two regions meet.
 * @param {ImageData} image the plot area
 * @param {Bounds} bounds
 * @param {Float64Array} centroids2d k * 2
 * @param {Float64Array | null} lift each centroid's squared distance from the plane (offPlane)
 */
function shadeRegions(image, bounds, centroids2d, lift) {
  const { width, height } = image;
  const k = centroids2d.length / 2;
  // One 32-bit word per pixel (little-endian RGBA, as every browser stores ImageData).
  const pixels = new Uint32Array(image.data.buffer);
  const word = (/** @type {number[]} */ [r, g, b]) => (255 << 24 | b << 16 | g << 8 | r) >>> 0;
  const fill = Uint32Array.from({ length: k }, (_, j) => word(regionColour(j)));
  const edge = Uint32Array.from({ length: k }, (_, j) => word(regionColour(j).map((c) => Math.round(c * 0.82))));
  const cx = Float64Array.from({ length: k }, (_, j) => centroids2d[2 * j]);
  const xStep = (bounds.xMax - bounds.xMin) / width;
  const yStep = (bounds.yMax - bounds.yMin) / height;
  const rowCost = new Float64Array(k);
  const previousRow = new Int32Array(width).fill(-1);
  for (let py = 0; py < height; py++) {
    const y = bounds.yMax - (py + 0.5) * yStep; // pixel centres; y grows upwards in the data
    for (let j = 0; j < k; j++) rowCost[j] = (y - centroids2d[2 * j + 1]) ** 2 + (lift ? lift[j] : 0);
    let left = -1;
    const row = py * width;
    for (let px = 0; px < width; px++) {
      const x = bounds.xMin + (px + 0.5) * xStep;
      let best = 0;
      let bestDistance = (x - cx[0]) ** 2 + rowCost[0];
      for (let j = 1; j < k; j++) {
        const distance = (x - cx[j]) ** 2 + rowCost[j];
        if (distance < bestDistance) { bestDistance = distance; best = j; } // ties: the lower index, as argmin
      }
      const above = previousRow[px];
      pixels[row + px] = (left >= 0 && left !== best) || (above >= 0 && above !== best) ? edge[best] : fill[best];
      previousRow[px] = best;
      left = best;
    }
  }
}

/**
 * Many points, drawn straight into the plot area's pixels: a 2 x 2 square each, blended with what is
 * under it. Far faster than a canvas call per point.
 * @param {ImageData} image the plot area
 * @param {Bounds} bounds
 * @param {Float64Array} points2d
 * @param {Int32Array | null} labels
 * @param {number} opacity
 */
function plotPoints(image, bounds, points2d, labels, opacity) {
  const { width, height, data } = image;
  const colours = CLUSTER_COLOURS.map(rgb);
  const grey = rgb(UNLABELLED);
  const sx = width / (bounds.xMax - bounds.xMin);
  const sy = height / (bounds.yMax - bounds.yMin);
  const keep = 1 - opacity;
  for (let i = 0; i < points2d.length / 2; i++) {
    const px = Math.floor((points2d[2 * i] - bounds.xMin) * sx - 0.5);
    const py = Math.floor((bounds.yMax - points2d[2 * i + 1]) * sy - 0.5);
    const [r, g, b] = labels ? colours[labels[i] % colours.length] : grey;
    for (let dy = 0; dy < 2; dy++) {
      const y = py + dy;
      if (y < 0 || y >= height) continue;
      for (let dx = 0; dx < 2; dx++) {
        const x = px + dx;
        if (x < 0 || x >= width) continue;
        const o = 4 * (y * width + x);
        data[o] = data[o] * keep + r * opacity;
        data[o + 1] = data[o + 1] * keep + g * opacity;
        data[o + 2] = data[o + 2] * keep + b * opacity;
      }
    }
  }
}

/** Above this many points they are drawn into the pixels directly (plotPoints). */
const MANY_POINTS = 4000;

/**
 * What the plot shows.
 * @typedef {object} ScatterView
 * @property {Float64Array} points2d x0, y0, x1, y1, ...
 * @property {Bounds} bounds
 * @property {Int32Array | null} labels the cluster of each point, or null before the first Assign
 * @property {Uint8Array | null} [changed] 1 for each point the last Assign gave to another centroid
 * @property {Float64Array | null} [centroids2d] the current centroids, k * 2
 * @property {Float64Array | null} [lift] each centroid's squared distance from the plane (offPlane)
 * @property {Float64Array[]} trail2d the centroids (k * 2) at the start and after each Update so far
 * @property {number[][]} [clicks] positions placed by clicking, not yet centroids
 * @property {boolean} [regions] shade each centroid's region
 * @property {boolean} [lines] draw a line from each point to its centroid
 * @property {{weights: Float64Array, candidates: number[]} | null} [seeding] while k-means++ seeds:
 *   each point's weight for the centre just placed (D(x)², the squared distance to the nearest centre
 *   before it), and the candidate points drawn for it
 */

/**
 * Draw the explorer's plot.
 * @param {HTMLCanvasElement} canvas
 * @param {ScatterView} view
 */
export function drawScatter(canvas, view) {
  const { points2d, bounds, labels, trail2d } = view;
  const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  const scale = plotScale(canvas, bounds);
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  const centroids2d = view.centroids2d && view.centroids2d.length ? view.centroids2d : null;
  const n = points2d.length / 2;
  const many = n > MANY_POINTS && !view.seeding;
  const regions = Boolean(view.regions && centroids2d);
  if (regions || many) {
    // The regions and many points go into one image of the plot area, put on the canvas at once.
    const image = context.createImageData(canvas.width - 2 * PLOT_MARGIN, canvas.height - 2 * PLOT_MARGIN);
    if (regions) shadeRegions(image, bounds, /** @type {Float64Array} */ (centroids2d), view.lift || null);
    else image.data.fill(255);
    if (many) plotPoints(image, bounds, points2d, labels, n > 20000 ? 0.45 : 0.7);
    context.putImageData(image, PLOT_MARGIN, PLOT_MARGIN);
  }
  context.strokeStyle = "#d9dde5";
  context.lineWidth = 1;
  context.strokeRect(PLOT_MARGIN, PLOT_MARGIN, canvas.width - 2 * PLOT_MARGIN, canvas.height - 2 * PLOT_MARGIN);

  if (view.lines && labels && centroids2d) drawLines(context, scale, points2d, labels, centroids2d);
  if (view.seeding) drawWeightedPoints(context, scale, points2d, view.seeding.weights);
  else if (!many) drawPoints(context, scale, points2d, labels, n);
  if (view.changed) drawRings(context, scale, points2d, view.changed, n);
  drawTrails(context, scale, trail2d);
  if (view.seeding) {
    context.strokeStyle = INK;
    context.lineWidth = 1.5;
    context.setLineDash([3, 2]);
    for (const i of view.seeding.candidates) {
      context.beginPath();
      context.arc(scale.x(points2d[2 * i]), scale.y(points2d[2 * i + 1]), 9, 0, 2 * Math.PI);
      context.stroke();
    }
    context.setLineDash([]);
  }
  if (centroids2d) {
    for (let j = 0; j < centroids2d.length / 2; j++) {
      drawCentroid(context, scale.x(centroids2d[2 * j]), scale.y(centroids2d[2 * j + 1]), CLUSTER_COLOURS[j % CLUSTER_COLOURS.length]);
    }
  }
  (view.clicks || []).forEach(([x, y], j) => drawCentroid(context, scale.x(x), scale.y(y), CLUSTER_COLOURS[j % CLUSTER_COLOURS.length]));
}

/** @typedef {ReturnType<typeof plotScale>} Scale */

/**
 * Points coloured by cluster (grey before the first Assign), drawn a cluster at a time.
 * @param {CanvasRenderingContext2D} context
 * @param {Scale} scale
 * @param {Float64Array} points2d
 * @param {Int32Array | null} labels
 * @param {number} n
 */
function drawPoints(context, scale, points2d, labels, n) {
  const size = n > 2000 ? 2 : 3.4;
  context.globalAlpha = 0.85;
  const groups = labels ? CLUSTER_COLOURS.length : 1;
  for (let group = 0; group < groups; group++) {
    context.fillStyle = labels ? CLUSTER_COLOURS[group] : UNLABELLED;
    for (let i = 0; i < n; i++) {
      if (labels && labels[i] % CLUSTER_COLOURS.length !== group) continue;
      context.fillRect(scale.x(points2d[2 * i]) - size / 2, scale.y(points2d[2 * i + 1]) - size / 2, size, size);
    }
  }
  context.globalAlpha = 1;
}

/**
 * Points sized and shaded by their k-means++ weight: the bigger and darker, the likelier to be drawn.
 * @param {CanvasRenderingContext2D} context
 * @param {Scale} scale
 * @param {Float64Array} points2d
 * @param {Float64Array} weights
 */
function drawWeightedPoints(context, scale, points2d, weights) {
  let largest = 0;
  for (const w of weights) largest = Math.max(largest, w);
  context.fillStyle = "#3a4a6b";
  for (let i = 0; i < weights.length; i++) {
    const share = largest > 0 ? Math.sqrt(weights[i] / largest) : 1; // area grows with the weight
    context.globalAlpha = 0.25 + 0.65 * share;
    context.beginPath();
    context.arc(scale.x(points2d[2 * i]), scale.y(points2d[2 * i + 1]), 1 + 6 * share, 0, 2 * Math.PI);
    context.fill();
  }
  context.globalAlpha = 1;
}

/**
 * @param {CanvasRenderingContext2D} context
 * @param {Scale} scale
 * @param {Float64Array} points2d
 * @param {Int32Array} labels
 * @param {Float64Array} centroids2d
 */
function drawLines(context, scale, points2d, labels, centroids2d) {
  const k = centroids2d.length / 2;
  context.lineWidth = 0.8;
  context.globalAlpha = points2d.length > 4000 ? 0.15 : 0.45;
  for (let j = 0; j < k; j++) {
    const cx = scale.x(centroids2d[2 * j]);
    const cy = scale.y(centroids2d[2 * j + 1]);
    context.strokeStyle = CLUSTER_COLOURS[j % CLUSTER_COLOURS.length];
    context.beginPath();
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] !== j) continue;
      context.moveTo(scale.x(points2d[2 * i]), scale.y(points2d[2 * i + 1]));
      context.lineTo(cx, cy);
    }
    context.stroke();
  }
  context.globalAlpha = 1;
}

/**
 * A ring round each point the last Assign gave to another centroid.
 * @param {CanvasRenderingContext2D} context
 * @param {Scale} scale
 * @param {Float64Array} points2d
 * @param {Uint8Array} changed
 * @param {number} n
 */
function drawRings(context, scale, points2d, changed, n) {
  context.strokeStyle = INK;
  context.lineWidth = 1.2;
  context.beginPath();
  for (let i = 0; i < n; i++) {
    if (!changed[i]) continue;
    const x = scale.x(points2d[2 * i]);
    const y = scale.y(points2d[2 * i + 1]);
    context.moveTo(x + 5.5, y);
    context.arc(x, y, 5.5, 0, 2 * Math.PI);
  }
  context.stroke();
}

/**
 * Each centroid's path so far: a line through its positions, with a dot at each earlier one.
 * @param {CanvasRenderingContext2D} context
 * @param {Scale} scale
 * @param {Float64Array[]} trail2d
 */
function drawTrails(context, scale, trail2d) {
  if (trail2d.length < 2) return;
  const k = trail2d[0].length / 2;
  context.lineWidth = 1.5;
  context.strokeStyle = INK;
  context.fillStyle = INK;
  for (let j = 0; j < k; j++) {
    context.beginPath();
    trail2d.forEach((centroids, step) => {
      const x = scale.x(centroids[2 * j]);
      const y = scale.y(centroids[2 * j + 1]);
      if (step === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.stroke();
    for (const centroids of trail2d.slice(0, -1)) {
      context.beginPath();
      context.arc(scale.x(centroids[2 * j]), scale.y(centroids[2 * j + 1]), 2.5, 0, 2 * Math.PI);
      context.fill();
    }
  }
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
  for (const [width, style] of [[7, INK], [3.5, colour]]) {
    context.lineWidth = /** @type {number} */ (width);
    context.strokeStyle = /** @type {string} */ (style);
    context.beginPath();
    context.moveTo(x - size, y - size); context.lineTo(x + size, y + size);
    context.moveTo(x + size, y - size); context.lineTo(x - size, y + size);
    context.stroke();
  }
}

/**
 * The index of the centroid drawn within `radius` canvas pixels of (px, py), or -1.
 * @param {HTMLCanvasElement} canvas
 * @param {Bounds} bounds
 * @param {Float64Array | null} centroids2d
 * @param {number} px
 * @param {number} py
 * @param {number} radius
 */
export function centroidAt(canvas, bounds, centroids2d, px, py, radius = 12) {
  return nearestWithin(canvas, bounds, centroids2d, px, py, radius);
}

/**
 * The index of the point drawn within `radius` canvas pixels of (px, py), or -1.
 * @param {HTMLCanvasElement} canvas
 * @param {Bounds} bounds
 * @param {Float64Array} points2d
 * @param {number} px
 * @param {number} py
 * @param {number} radius
 */
export function pointAt(canvas, bounds, points2d, px, py, radius = 6) {
  return nearestWithin(canvas, bounds, points2d, px, py, radius);
}

/**
 * @param {HTMLCanvasElement} canvas
 * @param {Bounds} bounds
 * @param {Float64Array | null} xy
 * @param {number} px
 * @param {number} py
 * @param {number} radius
 */
function nearestWithin(canvas, bounds, xy, px, py, radius) {
  if (!xy) return -1;
  const scale = plotScale(canvas, bounds);
  let best = -1;
  let bestDistance = radius * radius;
  for (let i = 0; i < xy.length / 2; i++) {
    const distance = (scale.x(xy[2 * i]) - px) ** 2 + (scale.y(xy[2 * i + 1]) - py) ** 2;
    if (distance <= bestDistance) { bestDistance = distance; best = i; }
  }
  return best;
}
