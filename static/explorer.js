// @ts-check
/**
 * The clustering explorer: the notebook's 2-D walkthrough, one K-means iteration per Step. The maths
 * runs in Python (kmeans.web.step calls find_closest_centroids and compute_centroids); this module
 * keeps the run's state and draws it. Its state is document.body.dataset.pointsState:
 * ready | running | paused | done | error, and dataset.pointsIteration counts the iterations done.
 */
import { REQUEST } from "./protocol.js";
import { readInt } from "./compress.js";
import { CLUSTER_COLOURS, drawLineChart, drawScatter, formatNumber, plotBounds, plotScale } from "./draw.js";

/** Above this many points the elbow chart waits for a click instead of starting by itself. */
const AUTO_ELBOW_MAX_POINTS = 20000;
const SAMPLE_LABELS = {
  blobs: "three groups",
  unequal: "unequal groups",
  elongated: "long streaks",
  noise: "uniform noise",
};

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const ui = {
  sample: $("points-sample"),
  input: $("points-input"),
  k: $("points-k"),
  init: $("points-init"),
  maxIter: $("points-max-iter"),
  seed: $("points-seed"),
  step: $("points-step"),
  play: $("points-play"),
  reset: $("points-reset"),
  speed: $("points-speed"),
  status: $("points-status"),
  canvas: $("points-canvas"),
  caption: $("points-caption"),
  inertiaChart: $("points-inertia"),
  iterationLabel: $("points-iteration-label"),
  inertiaLabel: $("points-inertia-label"),
  elbowChart: $("points-elbow"),
  elbowRun: $("points-elbow-run"),
  centroids: $("points-centroids"),
  exportLabels: $("points-export-labels"),
  exportFigure: $("points-export-figure"),
};

/**
 * Everything about the current data and run.
 * @type {{
 *   dataset: any, name: string, bounds: any,
 *   k: number, centroids: Float64Array | null, history: Float64Array[], trail2d: Float64Array[],
 *   labels: Int32Array | null, inertias: number[], iteration: number, clicks: number[][],
 *   playing: boolean, elbow: {k: Int32Array, inertia: Float64Array} | null,
 *   generation: number,
 * }}
 */
const run = {
  dataset: null, name: "", bounds: null,
  k: 3, centroids: null, history: [], trail2d: [],
  labels: null, inertias: [], iteration: 0, clicks: [],
  playing: false, elbow: null, generation: 0,
};

/** @type {import("./worker-client.js").WorkerClient} */
let client;

// -- state ---------------------------------------------------------------------------------------

/** @param {"ready" | "running" | "paused" | "done" | "error"} state */
function setState(state) {
  document.body.dataset.pointsState = state;
  document.body.dataset.pointsIteration = String(run.iteration);
  const busy = state === "running";
  ui.step.disabled = busy || state === "done" || !run.centroids;
  ui.play.disabled = (state === "done" || !run.centroids) && !run.playing;
  ui.play.textContent = run.playing ? "Pause" : "Play";
  ui.play.setAttribute("aria-pressed", String(run.playing));
  ui.exportLabels.disabled = !run.labels;
  ui.exportFigure.disabled = !run.labels;
}

/** @param {string} text */
function say(text) {
  ui.status.textContent = text;
}

/**
 * Show a problem; the data and the run stay as they were.
 * @param {unknown} error
 */
function showError(error) {
  if (error instanceof DOMException && error.name === "AbortError") return;
  console.warn(error);
  run.playing = false;
  document.body.dataset.pointsState = "error";
  setState("error");
  say(`Error: ${error instanceof Error ? error.message : String(error)}`);
}

// -- drawing -------------------------------------------------------------------------------------

function draw() {
  if (!run.dataset) return;
  drawScatter(ui.canvas, {
    points2d: run.dataset.points_2d,
    bounds: run.bounds,
    labels: run.labels,
    trail2d: run.trail2d,
    clicks: run.clicks,
  });
  const iterations = run.inertias.map((_, i) => i + 1);
  drawLineChart(ui.inertiaChart, iterations, run.inertias, { empty: "Step to see the inertia fall." });
  ui.iterationLabel.textContent = String(run.iteration);
  ui.inertiaLabel.textContent = run.inertias.length ? formatNumber(run.inertias[run.inertias.length - 1]) : "–";
  if (run.elbow) {
    drawLineChart(ui.elbowChart, Array.from(run.elbow.k), Array.from(run.elbow.inertia), { highlight: run.k });
  }
  drawCentroidTable();
}

/** The centroids' coordinates as a table (text only), with full precision in data-centroids. */
function drawCentroidTable() {
  const body = ui.centroids.tBodies[0];
  const rows = [];
  const d = run.dataset.n_features;
  const centroids = run.centroids ? Array.from(run.centroids) : [];
  for (let j = 0; j < centroids.length / d; j++) {
    const row = document.createElement("tr");
    const chip = document.createElement("td");
    chip.className = "chip";
    chip.style.setProperty("--chip", CLUSTER_COLOURS[j % CLUSTER_COLOURS.length]);
    chip.textContent = String(j);
    const coordinates = document.createElement("td");
    coordinates.textContent = centroids.slice(j * d, (j + 1) * d).map((v) => v.toFixed(3)).join(", ");
    row.append(chip, coordinates);
    rows.push(row);
  }
  body.replaceChildren(...rows);
  ui.centroids.dataset.centroids = JSON.stringify(centroids);
}

// -- data ----------------------------------------------------------------------------------------

/**
 * Make `dataset` the current data and start a fresh run on it.
 * @param {any} dataset
 * @param {string} name
 */
async function useDataset(dataset, name) {
  run.dataset = dataset;
  run.name = name;
  run.bounds = plotBounds(dataset.points_2d);
  run.elbow = null;
  const d = dataset.n_features;
  ui.caption.textContent =
    d === 2
      ? `${name}: ${dataset.n_points} points`
      : `${name}: ${dataset.n_points} points in ${d}-D, drawn on their first two principal components ` +
        `(${(dataset.explained * 100).toFixed(0)}% of the variance)`;
  drawLineChart(ui.elbowChart, [], [], { empty: "Computing…" });
  await reset();
  if (dataset.n_points <= AUTO_ELBOW_MAX_POINTS) computeElbow();
  else {
    ui.elbowRun.hidden = false;
    drawLineChart(ui.elbowChart, [], [], { empty: "Large data: press the button to compute it." });
  }
}

async function loadSample() {
  const kind = ui.sample.value;
  try {
    run.playing = false;
    setState("running");
    // The samples are fixed (seed 0); the Seed field only changes the initialisation.
    const dataset = await client.request(REQUEST.SAMPLE_POINTS, { kind, n_points: 300, seed: 0 });
    await useDataset(dataset, `Sample (${SAMPLE_LABELS[/** @type {keyof SAMPLE_LABELS} */ (kind)]})`);
  } catch (error) {
    showError(error);
  }
}

/** @param {File | undefined | null} file */
async function loadFile(file) {
  if (!file) return;
  try {
    run.playing = false;
    setState("running");
    const data = new Uint8Array(await file.arrayBuffer());
    // Not transferred: a copy stays here, so the request can be sent again if the worker restarts.
    const dataset = await client.request(REQUEST.LOAD_POINTS, { data, name: file.name });
    ui.sample.querySelector("option[value=file]").disabled = false;
    ui.sample.value = "file";
    await useDataset(dataset, file.name);
  } catch (error) {
    showError(error);
  }
}

async function computeElbow() {
  const dataset = run.dataset;
  ui.elbowRun.hidden = true;
  try {
    const seed = readInt(ui.seed, "Seed");
    const elbow = await client.request(REQUEST.ELBOW, {
      points: dataset.points, n_features: dataset.n_features, k_max: 10, seed,
    });
    if (run.dataset !== dataset) return; // the data changed meanwhile
    run.elbow = elbow;
    draw();
  } catch (error) {
    showError(error);
  }
}

// -- the run -------------------------------------------------------------------------------------

/** Start again from iteration 0 with the current K, initialisation and seed. */
async function reset() {
  run.generation += 1; // replies to requests of the previous run are dropped
  run.playing = false;
  run.labels = null;
  run.inertias = [];
  run.iteration = 0;
  run.clicks = [];
  run.centroids = null;
  run.history = [];
  run.trail2d = [];
  try {
    if (!run.dataset) return;
    run.k = readInt(ui.k, "K");
    const maxK = run.dataset.n_points;
    if (run.k > maxK) throw new Error(`K=${run.k} is more than the ${maxK} points of the data; choose K from 1 to ${maxK}.`);
    if (ui.init.value === "click") {
      setState("ready");
      draw();
      say(`Click on the plot to place ${run.k} centroid${run.k === 1 ? "" : "s"} (0 placed).`);
      return;
    }
    const seed = readInt(ui.seed, "Seed");
    const generation = run.generation;
    setState("running"); // busy until the new centroids arrive: Step and Play wait
    const reply = await client.request(REQUEST.INIT_CENTROIDS, {
      points: run.dataset.points, n_features: run.dataset.n_features, k: run.k,
      init: ui.init.value, seed, projection: run.dataset.projection,
    });
    if (run.generation !== generation) return; // a newer reset is under way
    startFrom(reply);
    say(`${run.k} centroids placed (${ui.init.selectedOptions[0].textContent.toLowerCase()}). Press Step or Play.`);
  } catch (error) {
    draw();
    showError(error);
  }
}

/** @param {{centroids: Float64Array, centroids_2d: Float64Array}} reply */
function startFrom(reply) {
  run.centroids = reply.centroids;
  run.history = [reply.centroids];
  run.trail2d = [reply.centroids_2d];
  run.clicks = [];
  setState("ready");
  draw();
}

/** @param {MouseEvent} event */
async function placeCentroid(event) {
  if (ui.init.value !== "click" || !run.dataset || run.centroids) return;
  const rect = ui.canvas.getBoundingClientRect();
  const px = ((event.clientX - rect.left) / rect.width) * ui.canvas.width;
  const py = ((event.clientY - rect.top) / rect.height) * ui.canvas.height;
  run.clicks.push(plotScale(ui.canvas, run.bounds).invert(px, py));
  draw();
  say(`Click on the plot to place ${run.k} centroid${run.k === 1 ? "" : "s"} (${run.clicks.length} placed).`);
  if (run.clicks.length < run.k) return;
  try {
    const reply = await client.request(REQUEST.INIT_CENTROIDS, {
      points: run.dataset.points, n_features: run.dataset.n_features, k: run.k, init: "click",
      centroids_2d: new Float64Array(run.clicks.flat()), projection: run.dataset.projection,
    });
    startFrom(reply);
    say(`${run.k} centroids placed where you clicked. Press Step or Play.`);
  } catch (error) {
    run.clicks = [];
    showError(error);
  }
}

/**
 * One iteration: assign, then update. Returns false when the run is over (converged or max_iter).
 * @returns {Promise<boolean>}
 */
async function stepOnce() {
  const maxIter = readInt(ui.maxIter, "Max iterations");
  if (!run.centroids) throw new Error("Place the initial centroids first.");
  if (run.iteration >= maxIter) {
    finish(`Stopped at the maximum of ${maxIter} iterations.`);
    return false;
  }
  const { dataset, generation } = run;
  const reply = await client.request(REQUEST.STEP, {
    points: dataset.points, n_features: dataset.n_features, centroids: run.centroids,
    projection: dataset.projection,
  });
  if (run.generation !== generation) return false; // Reset or new data meanwhile
  run.labels = reply.labels;
  if (reply.converged) {
    finish(`Converged after ${run.iteration} iteration${run.iteration === 1 ? "" : "s"}: no point changed cluster, so no centroid moved.`);
    return false;
  }
  run.iteration += 1;
  run.centroids = reply.centroids;
  run.history.push(reply.centroids);
  run.trail2d.push(reply.centroids_2d);
  run.inertias.push(reply.inertia);
  draw();
  if (run.iteration >= maxIter) {
    finish(`Stopped at the maximum of ${maxIter} iterations.`);
    return false;
  }
  say(`Iteration ${run.iteration}: inertia ${formatNumber(reply.inertia)}.`);
  return true;
}

/** @param {string} message */
function finish(message) {
  run.playing = false;
  setState("done");
  draw();
  say(message);
}

async function step() {
  if (run.playing) return;
  try {
    setState("running");
    if (await stepOnce()) setState("paused");
  } catch (error) {
    showError(error);
  }
}

async function togglePlay() {
  if (run.playing) {
    run.playing = false;
    setState("paused");
    return;
  }
  run.playing = true;
  setState("running");
  try {
    while (run.playing) {
      if (!(await stepOnce())) return;
      // Speed 1 waits 1 s between iterations, speed 10 does not wait.
      const delay = (10 - Number(ui.speed.value)) * 110;
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  } catch (error) {
    showError(error);
  }
}

// -- export --------------------------------------------------------------------------------------

/**
 * @param {Blob} blob
 * @param {string} name
 */
function download(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

function exportLabels() {
  if (!run.labels) return;
  download(new Blob([`label\n${Array.from(run.labels).join("\n")}\n`], { type: "text/csv" }), "labels.csv");
}

async function exportFigure() {
  if (!run.labels) return;
  const dataset = run.dataset;
  say("Drawing the figure with matplotlib (loaded the first time)…");
  try {
    const history = new Float64Array(run.history.length * run.history[0].length);
    run.history.forEach((centroids, i) => history.set(centroids, i * centroids.length));
    const reply = await client.request(REQUEST.FIGURE_PNG, {
      points: dataset.points, n_features: dataset.n_features, labels: run.labels, history,
      projection: dataset.projection, k: run.k,
    });
    download(new Blob([reply.png], { type: "image/png" }), "kmeans-clusters.png");
    say(`Figure saved (${reply.bytes} bytes).`);
  } catch (error) {
    showError(error);
  }
}

// -- wiring --------------------------------------------------------------------------------------

/**
 * Start the explorer once Python is ready.
 * @param {import("./worker-client.js").WorkerClient} workerClient
 */
export function startExplorer(workerClient) {
  client = workerClient;
  ui.sample.addEventListener("change", () => (ui.sample.value === "file" ? null : loadSample()));
  ui.input.addEventListener("change", () => {
    loadFile(ui.input.files?.[0]);
    ui.input.value = "";
  });
  for (const input of [ui.k, ui.init, ui.seed]) input.addEventListener("change", reset);
  ui.reset.addEventListener("click", reset);
  ui.step.addEventListener("click", step);
  ui.play.addEventListener("click", togglePlay);
  ui.canvas.addEventListener("click", placeCentroid);
  ui.canvas.addEventListener("dragover", (/** @type {DragEvent} */ event) => event.preventDefault());
  ui.canvas.addEventListener("drop", (/** @type {DragEvent} */ event) => {
    event.preventDefault();
    event.stopPropagation();
    loadFile(event.dataTransfer?.files?.[0]);
  });
  ui.elbowRun.addEventListener("click", computeElbow);
  ui.exportLabels.addEventListener("click", exportLabels);
  ui.exportFigure.addEventListener("click", exportFigure);
  loadSample();
}

/**
 * Open a points file dropped anywhere on the explorer's view.
 * @param {File | undefined | null} file
 */
export function openPointsFile(file) {
  if (client) loadFile(file);
}
