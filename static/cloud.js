// @ts-check
/**
 * The colour cloud: a sample of the photo's colours as a 3-D scatter, in RGB or in the space the palette
 * was fitted in, each colour drawn in the palette colour it is nearest to, with the K-means centres
 * moving iteration by iteration as the fit recorded them (kmeans.web.quantize's cloud_* arrays: the
 * fit's own callback, no extra pass over the pixels). Drag, or use the arrow keys, to turn it.
 *
 * Its canvas carries data-frames (how many iterations were recorded), data-frame (the one shown) and
 * data-points (the sample's size), for tests.
 */

/** Frames per second of the animation after a run. */
const FPS = 25;
/** The animation lasts at most this long; with more frames it skips some. */
const ANIMATION_SECONDS = 4;

/**
 * The parts of a cloud a quantize reply carries.
 * @typedef {object} CloudData
 * @property {Uint8Array} cloud_rgb m * 3 sampled colours
 * @property {Float64Array} cloud_fit m * 3, the same in the fitting space
 * @property {Uint8Array} cloud_labels m: the nearest palette entry of each
 * @property {Float64Array} cloud_frames_rgb f * k * 3: the centres after each recorded iteration, in sRGB
 * @property {Float64Array} cloud_frames_fit f * k * 3, in the fitting space
 * @property {Int32Array} cloud_frame_iter f: the iteration of each frame (0: a K-means run's start)
 * @property {Int32Array} cloud_frame_run f: which K-means run each frame belongs to (restarts, finer levels)
 * @property {string} cloud_space the fitting space's name
 */

/**
 * @param {{canvas: HTMLCanvasElement, space: HTMLSelectElement, frame: HTMLInputElement,
 *          play: HTMLButtonElement, caption: HTMLElement}} parts
 */
export function setUpCloud({ canvas, space, frame, play, caption }) {
  const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  let yaw = -0.6;
  let pitch = 0.35;
  /** @type {CloudData | null} */
  let data = null;
  /** @type {Uint8Array | null} */
  let palette = null;
  let shown = 0;
  let timer = 0;

  function nFrames() {
    return data ? data.cloud_frame_iter.length : 0;
  }

  function k() {
    return data && nFrames() ? data.cloud_frames_rgb.length / 3 / nFrames() : 0;
  }

  /**
   * Where each axis of the chosen space goes, and how values map into the unit cube.
   * @returns {{points: Float64Array, frames: Float64Array, axes: number[], names: string[], centre: number[], half: number}}
   */
  function geometry() {
    const d = /** @type {CloudData} */ (data);
    if (space.value === "rgb") {
      return {
        points: Float64Array.from(d.cloud_rgb), frames: d.cloud_frames_rgb, axes: [0, 1, 2],
        names: ["R", "G", "B"], centre: [127.5, 127.5, 127.5], half: 127.5,
      };
    }
    const points = d.cloud_fit;
    const frames = d.cloud_frames_fit;
    // OKLab stands lightness up: L is drawn vertically, a and b across.
    const axes = d.cloud_space === "oklab" ? [1, 0, 2] : [0, 1, 2];
    const names = d.cloud_space === "oklab" ? ["L", "a", "b"] : ["c1", "c2", "c3"];
    const low = [Infinity, Infinity, Infinity];
    const high = [-Infinity, -Infinity, -Infinity];
    for (const values of [points, frames]) {
      for (let i = 0; i < values.length; i++) {
        low[i % 3] = Math.min(low[i % 3], values[i]);
        high[i % 3] = Math.max(high[i % 3], values[i]);
      }
    }
    const centre = low.map((v, c) => (v + high[c]) / 2);
    // One scale for all three axes, so distances look as K-means measures them.
    const half = Math.max(...high.map((v, c) => v - low[c])) / 2 || 1;
    return { points, frames, axes, names, centre, half };
  }

  /**
   * Canvas position and depth of a point given in the space's coordinates.
   * @param {ArrayLike<number>} values
   * @param {number} at index of its first coordinate
   * @param {ReturnType<typeof geometry>} g
   */
  function project(values, at, g) {
    // Into the unit cube: x across, y up, z towards the viewer.
    const u = [0, 1, 2].map((c) => (values[at + c] - g.centre[c]) / g.half);
    const x = u[g.axes.indexOf(0)], y = u[g.axes.indexOf(1)], z = u[g.axes.indexOf(2)];
    const x1 = Math.cos(yaw) * x + Math.sin(yaw) * z;
    const z1 = -Math.sin(yaw) * x + Math.cos(yaw) * z;
    const y2 = Math.cos(pitch) * y - Math.sin(pitch) * z1;
    const z2 = Math.sin(pitch) * y + Math.cos(pitch) * z1;
    const scale = Math.min(canvas.width, canvas.height) * 0.36;
    return [canvas.width / 2 + x1 * scale, canvas.height / 2 - y2 * scale, z2];
  }

  function draw() {
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (!data) return;
    const g = geometry();
    drawBox(g);
    // Far points first, so near ones are drawn over them.
    const m = g.points.length / 3;
    const order = Array.from({ length: m }, (_, i) => i);
    const depth = new Float64Array(m);
    const xy = new Float64Array(2 * m);
    for (let i = 0; i < m; i++) {
      const [x, y, z] = project(g.points, 3 * i, g);
      xy[2 * i] = x; xy[2 * i + 1] = y; depth[i] = z;
    }
    order.sort((a, b) => depth[a] - depth[b]);
    for (const i of order) {
      const entry = data.cloud_labels[i] * 4;
      const p = /** @type {Uint8Array} */ (palette);
      context.fillStyle = `rgb(${p[entry]}, ${p[entry + 1]}, ${p[entry + 2]})`;
      context.fillRect(xy[2 * i] - 1.5, xy[2 * i + 1] - 1.5, 3, 3);
    }
    if (nFrames()) drawCentres(g);
  }

  /** @param {ReturnType<typeof geometry>} g */
  function drawBox(g) {
    // The cube of the drawn range, and the three axes from its corner.
    const corner = (/** @type {number[]} */ signs) =>
      project([0, 1, 2].map((c) => g.centre[c] + signs[g.axes[c]] * g.half), 0, g);
    const corners = [];
    for (let i = 0; i < 8; i++) corners.push(corner([i & 1 ? 1 : -1, i & 2 ? 1 : -1, i & 4 ? 1 : -1]));
    context.strokeStyle = "#e1e4ea";
    context.lineWidth = 1;
    context.beginPath();
    for (let i = 0; i < 8; i++) {
      for (const bit of [1, 2, 4]) {
        if (i & bit) continue;
        context.moveTo(corners[i][0], corners[i][1]);
        context.lineTo(corners[i | bit][0], corners[i | bit][1]);
      }
    }
    context.stroke();
    context.fillStyle = "#5b6475";
    context.font = "12px system-ui, sans-serif";
    [1, 2, 4].forEach((bit, axis) => {
      const end = corners[bit];
      context.fillText(g.names[g.axes.indexOf(axis)], end[0] + 4, end[1] + 4);
    });
  }

  /** @param {ReturnType<typeof geometry>} g */
  function drawCentres(g) {
    const d = /** @type {CloudData} */ (data);
    const K = k();
    const start = runStart(shown);
    // Each centre's path since its K-means run began.
    context.strokeStyle = "rgba(29, 35, 48, 0.55)";
    context.lineWidth = 1.2;
    for (let j = 0; j < K; j++) {
      context.beginPath();
      for (let f = start; f <= shown; f++) {
        const [x, y] = project(g.frames, (f * K + j) * 3, g);
        if (f === start) context.moveTo(x, y);
        else context.lineTo(x, y);
      }
      context.stroke();
    }
    for (let j = 0; j < K; j++) {
      const [x, y] = project(g.frames, (shown * K + j) * 3, g);
      const at = (shown * K + j) * 3;
      const [r, gr, b] = [0, 1, 2].map((c) => Math.round(Math.min(255, Math.max(0, d.cloud_frames_rgb[at + c]))));
      context.fillStyle = `rgb(${r}, ${gr}, ${b})`;
      context.strokeStyle = "#1d2330";
      context.lineWidth = 2;
      context.beginPath();
      context.arc(x, y, 6, 0, 2 * Math.PI);
      context.fill();
      context.stroke();
    }
  }

  /** The first frame of the K-means run that frame `f` belongs to. @param {number} f */
  function runStart(f) {
    const runs = /** @type {CloudData} */ (data).cloud_frame_run;
    let start = f;
    while (start > 0 && runs[start - 1] === runs[f]) start--;
    return start;
  }

  function describe() {
    const d = /** @type {CloudData} */ (data);
    const where = space.value === "rgb" ? "RGB" : `the fitting space (${d.cloud_space})`;
    const m = d.cloud_labels.length;
    if (!nFrames()) {
      caption.textContent = `${m} of the photo's colours in ${where}; it had no more colours than K, so there was nothing to fit.`;
      return;
    }
    const iteration = d.cloud_frame_iter[shown];
    const runs = d.cloud_frame_run[nFrames() - 1] + 1;
    caption.textContent = `${m} of the photo's colours in ${where}, each in its palette colour; ` +
      `the ${k()} centres at iteration ${iteration} (frame ${shown + 1} of ${nFrames()}` +
      `${runs > 1 ? `; the fit ran ${runs} times: restarts, then finer levels` : ""}).`;
  }

  function showFrame(/** @type {number} */ f) {
    shown = Math.max(0, Math.min(f, nFrames() - 1));
    frame.value = String(shown);
    canvas.dataset.frame = String(shown);
    draw();
    if (data) describe();
  }

  function stop() {
    if (timer) clearInterval(timer);
    timer = 0;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  }

  function animate() {
    stop();
    if (nFrames() < 2) return;
    const skip = Math.max(1, Math.ceil(nFrames() / (FPS * ANIMATION_SECONDS)));
    let f = shown >= nFrames() - 1 ? 0 : shown;
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    showFrame(f);
    timer = setInterval(() => {
      f = Math.min(f + skip, nFrames() - 1);
      showFrame(f);
      if (f === nFrames() - 1) stop();
    }, 1000 / FPS);
  }

  let dragFrom = /** @type {number[] | null} */ (null);
  canvas.addEventListener("pointerdown", (event) => {
    dragFrom = [event.clientX, event.clientY];
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!dragFrom) return;
    turn((event.clientX - dragFrom[0]) * 0.01, (event.clientY - dragFrom[1]) * 0.01);
    dragFrom = [event.clientX, event.clientY];
  });
  const endDrag = () => { dragFrom = null; };
  canvas.addEventListener("pointerup", endDrag);
  canvas.addEventListener("pointercancel", endDrag);
  canvas.addEventListener("keydown", (event) => {
    const turns = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] };
    const by = turns[/** @type {keyof typeof turns} */ (event.key)];
    if (!by) return;
    event.preventDefault();
    turn(by[0], by[1]);
  });
  space.addEventListener("change", () => showFrame(shown));
  frame.addEventListener("input", () => { stop(); showFrame(Number(frame.value)); });
  play.addEventListener("click", () => (timer ? stop() : animate()));

  /**
   * @param {number} dYaw
   * @param {number} dPitch
   */
  function turn(dYaw, dPitch) {
    yaw += dYaw;
    pitch = Math.max(-1.5, Math.min(1.5, pitch + dPitch));
    canvas.dataset.yaw = yaw.toFixed(3);
    draw();
  }

  return {
    /**
     * Show a run's cloud and play its iterations.
     * @param {CloudData} cloud
     * @param {Uint8Array} runPalette RGBA, 4 bytes per entry
     */
    show(cloud, runPalette) {
      stop();
      data = cloud;
      palette = runPalette.slice();
      const fitted = space.querySelector("option[value=fit]");
      if (fitted) fitted.textContent = `Fitting space (${cloud.cloud_space})`;
      frame.max = String(Math.max(0, nFrames() - 1));
      frame.disabled = play.disabled = nFrames() < 2;
      canvas.dataset.frames = String(nFrames());
      canvas.dataset.points = String(cloud.cloud_labels.length);
      showFrame(0);
      animate();
    },
    /** @param {string} [why] the caption: why there is no cloud */
    clear(why = "Run K-means to see the photo's colours here.") {
      stop();
      data = null;
      canvas.dataset.frames = "0";
      canvas.dataset.points = "0";
      caption.textContent = why;
      frame.disabled = play.disabled = true;
      draw();
    },
  };
}
