// @ts-check
/**
 * The clustering explorer: the notebook's 2-D walkthrough, one half-step at a time. The maths runs in
 * Python (kmeans.web: assign calls find_closest_centroids, update calls compute_centroids, seeding
 * records kmeans_plusplus as it chooses); this module keeps the run's timeline and draws it.
 *
 * The run is a list of states, each what one action left: "start" (the initial centroids; none yet
 * while k-means++ seeds), "seed" (one more k-means++ centre), "assign" (new labels) and "update" (new
 * centroids). `run.at` is the state shown: Back and the history slider move it, and an action from an
 * earlier state replays the stored next state when it is the same action (K-means is deterministic,
 * so it would compute the same) or drops the stored future otherwise.
 *
 * Its state for tests and styles, on document.body.dataset: pointsState (ready | running | paused |
 * done | error), pointsIteration (iterations done), pointsPhase (assigned | updated: what the last
 * half-step did; "updated" before the first Assign) and pointsSeeded (centres placed so far).
 */
import { REQUEST } from "./protocol.js";
import { countOf, readInt } from "./compress.js";
import { drawLineChart, formatNumber } from "./draw.js";
import { CLUSTER_COLOURS, centroidAt, drawScatter, offPlane, plotBounds, plotScale, pointAt } from "./scatter.js";
import { LINK_MAX_VALUES, hideParts, hideableNames, readLink, writeLink } from "./explorer-link.js";

/** Above this many points the elbow and silhouette charts wait for a click instead of starting by themselves. */
const AUTO_ELBOW_MAX_POINTS = 20000;
/** How many points a sample data set has. */
const SAMPLE_POINTS = 300;

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const ui = {
  view: $("clusters"),
  sample: $("points-sample"),
  input: $("points-input"),
  standardise: $("points-standardise"),
  k: $("points-k"),
  init: $("points-init"),
  maxIter: $("points-max-iter"),
  seed: $("points-seed"),
  back: $("points-back"),
  assign: $("points-assign"),
  update: $("points-update"),
  step: $("points-step"),
  play: $("points-play"),
  reset: $("points-reset"),
  history: $("points-history"),
  historyLabel: $("points-history-label"),
  speed: $("points-speed"),
  regions: $("points-voronoi"),
  lines: $("points-lines"),
  edit: $("points-edit"),
  status: $("points-status"),
  canvas: $("points-canvas"),
  caption: $("points-caption"),
  code: $("points-code"),
  codeName: $("points-code-name"),
  inertiaChart: $("points-inertia"),
  iterationLabel: $("points-iteration-label"),
  inertiaLabel: $("points-inertia-label"),
  elbowChart: $("points-elbow"),
  silhouetteChart: $("points-silhouette"),
  elbowRun: $("points-elbow-run"),
  restarts: $("points-restarts"),
  restartsN: $("points-restarts-n"),
  restartsList: $("points-restarts-list"),
  centroids: $("points-centroids"),
  exportLabels: $("points-export-labels"),
  exportFigure: $("points-export-figure"),
  share: $("points-share"),
  shareUrl: $("points-share-url"),
};

/**
 * One state of the run's timeline.
 * @typedef {object} RunState
 * @property {"start" | "seed" | "assign" | "update"} kind the action that made it
 * @property {Float64Array} centroids k * n_features (fewer while k-means++ seeds)
 * @property {Float64Array} centroids2d k * 2, as drawn
 * @property {Int32Array | null} labels each point's cluster, from the last Assign
 * @property {Uint8Array | null} changed after an Assign: 1 for each point that changed cluster
 * @property {number} iteration iterations (Updates) done
 * @property {number | null} inertia
 * @property {string} message what the status line says about it
 * @property {string} end why the run ends here ("" when it does not)
 * @property {{weights: Float64Array, candidates: number[]} | null} seeding a "seed" state's draw
 */

/**
 * Everything about the current data and run.
 * @type {{
 *   raw: any, dataset: any, name: string, bounds: any, k: number,
 *   states: RunState[], at: number, seeding: any, clicks: number[][], edited: boolean,
 *   playing: boolean, busy: boolean, failed: boolean, elbow: any, generation: number, hide: string[],
 * }}
 */
const run = {
  raw: null, dataset: null, name: "", bounds: null, k: 3,
  states: [], at: 0, seeding: null, clicks: [], edited: false,
  playing: false, busy: false, failed: false, elbow: null, generation: 0, hide: [],
};

/** Sources of the package's functions, by name, as the worker read them (kmeans.web.source). */
const sources = new Map();

/** @type {import("./worker-client.js").WorkerClient} */
let client;

/** Thrown when a reply arrives for a run that was reset meanwhile; never shown. */
class Superseded extends Error {}

// -- the run's state -------------------------------------------------------------------------------

/** @returns {RunState | undefined} */
function current() {
  return run.states[run.at];
}

/** Centres placed so far (all k, except while k-means++ seeds). @param {RunState} state */
function placed(state) {
  return state.centroids.length / run.dataset.n_features;
}

/**
 * What the next action from `state` is, or null when the run cannot go on from it.
 * @param {RunState | undefined} state
 * @returns {"seed" | "assign" | "update" | null}
 */
function nextKind(state) {
  if (!state || state.end) return null;
  if (placed(state) < run.k) return run.seeding ? "seed" : null;
  return state.kind === "assign" ? "update" : "assign";
}

/** Set body's data attributes and what each control allows. */
function updateControls() {
  const state = current();
  const busy = run.busy || run.playing;
  const next = busy ? null : nextKind(state);
  const body = document.body.dataset;
  body.pointsState = busy ? "running" : run.failed ? "error" : !state || run.at === 0 ? "ready" : state.end ? "done" : "paused";
  body.pointsIteration = String(state ? state.iteration : 0);
  body.pointsPhase = state && state.kind === "assign" ? "assigned" : "updated";
  body.pointsSeeded = String(state && run.dataset ? placed(state) : 0);
  ui.step.disabled = next === null;
  ui.assign.disabled = next !== "assign";
  ui.update.disabled = next !== "update";
  ui.back.disabled = busy || run.at === 0;
  ui.play.disabled = !run.playing && next === null;
  ui.play.textContent = run.playing ? "Pause" : "Play";
  ui.play.setAttribute("aria-pressed", String(run.playing));
  ui.history.max = String(Math.max(0, run.states.length - 1));
  ui.history.value = String(run.at);
  ui.history.disabled = busy || run.states.length < 2;
  ui.historyLabel.textContent = state ? `${describeState(state)} (${run.at} of ${run.states.length - 1})` : "–";
  ui.exportLabels.disabled = !state?.labels;
  ui.exportFigure.disabled = !state?.labels;
  ui.restarts.disabled = busy || !run.dataset;
  ui.edit.disabled = !run.dataset || run.dataset.n_features !== 2;
  ui.edit.parentElement.title = ui.edit.disabled
    ? "Editing works on 2-D data; this data is drawn on its principal components"
    : "Click to add a point; drag a point or a centroid to move it";
}

/** @param {RunState} state */
function describeState(state) {
  if (state.kind === "start") return "start";
  if (state.kind === "seed") return `centre ${placed(state)} placed`;
  return `iteration ${state.iteration + (state.kind === "assign" ? 1 : 0)}, ${state.kind}`;
}

/** @param {string} text */
function say(text) {
  ui.status.textContent = text;
}

/** Show the current state: the plot, the charts, the code, the controls and the status. */
function show() {
  run.failed = false;
  updateControls();
  draw();
  const state = current();
  if (state) say(state.end ? `${state.message} ${state.end}` : state.message);
  showCode(state);
}

/**
 * Show a problem; the data and the run stay as they were.
 * @param {unknown} error
 */
function showError(error) {
  if (error instanceof Superseded) return;
  if (error instanceof DOMException && error.name === "AbortError") return;
  console.warn(error);
  run.playing = false;
  run.failed = true;
  updateControls();
  say(`Error: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * Run `action` with the controls locked; an error is shown and leaves the run as it was.
 * @param {() => Promise<void>} action
 */
async function locked(action) {
  if (run.busy || run.playing) return;
  run.busy = true;
  updateControls();
  try {
    await action();
    run.busy = false;
    show();
  } catch (error) {
    run.busy = false;
    if (!(error instanceof Superseded)) show();
    showError(error);
  }
}

// -- drawing ---------------------------------------------------------------------------------------

/**
 * Draw the current state, optionally with a centroid or point being dragged in edit mode.
 * @param {{centroids2d?: Float64Array, points2d?: Float64Array}} [dragged]
 */
function draw(dragged = {}) {
  if (!run.dataset) return;
  const started = performance.now();
  const state = current();
  const upTo = run.states.slice(0, run.at + 1);
  // Each centroid's path: its starting position, then where each Update moved it.
  const trail2d = upTo
    .filter((s) => s.kind === "update" || (s.kind !== "assign" && placed(s) === run.k))
    .map((s) => s.centroids2d);
  const centroids2d = dragged.centroids2d || state?.centroids2d || null;
  drawScatter(ui.canvas, {
    points2d: dragged.points2d || run.dataset.points_2d,
    bounds: run.bounds,
    labels: dragged.points2d ? null : state?.labels || null,
    changed: state?.kind === "assign" ? state.changed : null,
    centroids2d,
    lift: state && centroids2d && !dragged.centroids2d
      ? offPlane(state.centroids, centroids2d, run.dataset.projection, run.dataset.n_features) : null,
    trail2d: dragged.centroids2d ? [] : trail2d,
    clicks: run.clicks,
    regions: ui.regions.checked,
    lines: ui.lines.checked,
    seeding: state?.kind === "seed" ? state.seeding : null,
  });
  const updates = upTo.filter((s) => s.kind === "update");
  drawLineChart(ui.inertiaChart, updates.map((s) => s.iteration), updates.map((s) => /** @type {number} */ (s.inertia)),
    { empty: "Step to see the inertia fall." });
  ui.iterationLabel.textContent = String(state ? state.iteration : 0);
  ui.inertiaLabel.textContent = state && state.inertia !== null ? formatNumber(state.inertia) : "–";
  drawChoosingK();
  drawCentroidTable(state ? state.centroids : new Float64Array(0));
  // bench/explorer.py reads this measure.
  performance.measure("kmeans:explorer-draw", { start: started });
}

function drawChoosingK() {
  if (!run.elbow) return;
  const { k, inertia, silhouette_k: silhouetteK, silhouette } = run.elbow;
  drawLineChart(ui.elbowChart, Array.from(k), Array.from(inertia), { highlight: run.k });
  if (silhouette.length === 0) {
    drawLineChart(ui.silhouetteChart, [], [], { empty: "The silhouette needs at least 3 points." });
    return;
  }
  const values = Array.from(silhouette);
  const best = silhouetteK[values.indexOf(Math.max(...values))];
  drawLineChart(ui.silhouetteChart, Array.from(silhouetteK), values,
    { highlight: run.k, best, yMin: Math.min(0, ...values) });
}

/**
 * The centroids' coordinates as a table (text only), with full precision in data-centroids.
 * @param {Float64Array} values
 */
function drawCentroidTable(values) {
  const body = ui.centroids.tBodies[0];
  const rows = [];
  const d = run.dataset.n_features;
  const centroids = Array.from(values);
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

// -- the code beside the plot ----------------------------------------------------------------------

/** The package function each kind of state ran. */
const FUNCTION_OF = { seed: "greedy_kmeans_plusplus", assign: "find_closest_centroids", update: "compute_centroids" };

/** @param {RunState | undefined} state */
async function showCode(state) {
  const name = state && state.kind !== "start" ? FUNCTION_OF[state.kind] : null;
  if (!name) {
    ui.codeName.textContent = "";
    ui.code.dataset.function = "";
    ui.code.replaceChildren(codeLine("Press Assign, Update or Step to see the Python that runs.", false));
    return;
  }
  if (ui.code.dataset.function === name) return;
  ui.code.dataset.function = name;
  try {
    if (!sources.has(name)) sources.set(name, await client.request(REQUEST.SOURCE, { name }));
  } catch (error) {
    sources.delete(name);
    ui.code.dataset.function = "";
    ui.code.replaceChildren(codeLine(`The source could not be read: ${error instanceof Error ? error.message : error}`, false));
    return;
  }
  if (ui.code.dataset.function !== name) return; // another state was shown meanwhile
  const source = sources.get(name);
  ui.codeName.textContent = `${source.name}, ${source.module} line ${source.first_line}`;
  const highlight = new Set(source.highlight);
  ui.code.replaceChildren(...source.source.replace(/\n$/, "").split("\n").map(
    (/** @type {string} */ text, /** @type {number} */ i) => codeLine(text, highlight.has(i + 1))));
  // Scroll the code, not the page, to its first highlighted line.
  const first = /** @type {HTMLElement | null} */ (ui.code.querySelector(".hl"));
  if (first) ui.code.scrollTop = Math.max(0, first.offsetTop - ui.code.clientHeight / 3);
}

/**
 * @param {string} text
 * @param {boolean} highlighted
 */
function codeLine(text, highlighted) {
  const line = document.createElement("span");
  line.className = highlighted ? "line hl" : "line";
  line.textContent = `${text}\n`;
  return line;
}

// -- data ------------------------------------------------------------------------------------------

/**
 * Make `raw` the current data (standardised if asked) and start a fresh run on it.
 * @param {any} raw the data as loaded
 * @param {string} name
 */
async function useDataset(raw, name) {
  const dataset = ui.standardise.checked
    ? await client.request(REQUEST.POINTS_DATASET, { points: raw.points, n_features: raw.n_features, standardise: true })
    : raw;
  run.raw = raw;
  run.name = name;
  run.dataset = dataset;
  run.bounds = plotBounds(dataset.points_2d);
  run.elbow = null;
  ui.restartsList.replaceChildren();
  const d = dataset.n_features;
  const scaled = ui.standardise.checked ? ", standardised" : "";
  ui.caption.textContent =
    d === 2
      ? `${name}: ${dataset.n_points} points${scaled}`
      : `${name}: ${dataset.n_points} points in ${d}-D${scaled}, drawn on their first two principal components ` +
        `(${(dataset.explained * 100).toFixed(0)}% of the variance)`;
  drawLineChart(ui.elbowChart, [], [], { empty: "Computing…" });
  drawLineChart(ui.silhouetteChart, [], [], { empty: "Computing…" });
  delete ui.silhouetteChart.dataset.silhouette;
  await reset();
  if (dataset.n_points <= AUTO_ELBOW_MAX_POINTS) computeElbow();
  else {
    ui.elbowRun.hidden = false;
    drawLineChart(ui.elbowChart, [], [], { empty: "Large data: press the button to compute it." });
    drawLineChart(ui.silhouetteChart, [], [], { empty: "" });
  }
}

/** @param {string} kind */
function sampleLabel(kind) {
  const option = [...ui.sample.options].find((o) => o.value === kind);
  return `Sample (${option ? option.textContent.replace(/ \(.*\)$/, "").toLowerCase() : kind})`;
}

async function loadSample() {
  const kind = ui.sample.value;
  await loadData(async () => {
    // The samples are fixed (seed 0); the Seed field only changes the initialisation.
    const raw = await client.request(REQUEST.SAMPLE_POINTS, { kind, n_points: SAMPLE_POINTS, seed: 0 });
    await useDataset(raw, sampleLabel(kind));
  });
}

/** @param {File | undefined | null} file */
async function loadFile(file) {
  if (!file) return;
  await loadData(async () => {
    const data = new Uint8Array(await file.arrayBuffer());
    // Not transferred: a copy stays here, so the request can be sent again if the worker restarts.
    const raw = await client.request(REQUEST.LOAD_POINTS, { data, name: file.name });
    useOwnPoints();
    await useDataset(raw, file.name);
  });
}

/** The data select shows "Your points" (a file, edited points or a link's points). */
function useOwnPoints() {
  ui.sample.querySelector("option[value=file]").disabled = false;
  ui.sample.value = "file";
}

/** @param {() => Promise<void>} load */
async function loadData(load) {
  const previous = ui.sample.value;
  run.playing = false;
  try {
    run.busy = true;
    updateControls();
    await load();
    run.busy = false;
    updateControls();
  } catch (error) {
    run.busy = false;
    if (run.dataset) draw();
    if (ui.sample.value !== previous && run.raw) ui.sample.value = previous;
    showError(error);
  }
}

async function toggleStandardise() {
  if (!run.raw) return;
  await loadData(() => useDataset(run.raw, run.name));
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
    ui.silhouetteChart.dataset.silhouette = JSON.stringify({
      k: Array.from(elbow.silhouette_k), values: Array.from(elbow.silhouette), sample: elbow.silhouette_sample,
    });
    drawChoosingK();
  } catch (error) {
    showError(error);
  }
}

// -- the run ---------------------------------------------------------------------------------------

/**
 * @param {Float64Array} centroids
 * @param {Float64Array} centroids2d
 * @param {string} message
 * @returns {RunState}
 */
function startState(centroids, centroids2d, message) {
  return { kind: "start", centroids, centroids2d, labels: null, changed: null, iteration: 0, inertia: null, message, end: "", seeding: null };
}

/** Start again from iteration 0 with the current K, initialisation and seed. */
async function reset() {
  run.generation += 1; // replies to requests of the previous run are dropped
  const generation = run.generation;
  run.playing = false;
  run.states = [];
  run.at = 0;
  run.seeding = null;
  run.clicks = [];
  run.edited = false;
  if (!run.dataset) return;
  run.busy = true;
  updateControls();
  try {
    run.k = readInt(ui.k, "K");
    const maxK = run.dataset.n_points;
    if (run.k > maxK) {
      throw new Error(`K=${run.k} is more than the ${countOf(maxK, "point")} of the data; choose K from 1 to ${maxK}.`);
    }
    if (ui.init.value === "click") {
      run.busy = false;
      show();
      say(`Click on the plot to place ${run.k} centroid${run.k === 1 ? "" : "s"} (0 placed).`);
      return;
    }
    const seed = readInt(ui.seed, "Seed");
    const { points, n_features, projection } = run.dataset;
    if (ui.init.value === "k-means++") {
      const seeding = await client.request(REQUEST.SEEDING, { points, n_features, k: run.k, seed, projection });
      if (run.generation !== generation) return;
      run.seeding = seeding;
      run.states = [startState(new Float64Array(0), new Float64Array(0),
        `k-means++ places the ${run.k} centres one at a time. Press Step to place the first.`)];
    } else {
      const reply = await client.request(REQUEST.INIT_CENTROIDS, { points, n_features, k: run.k, init: ui.init.value, seed, projection });
      if (run.generation !== generation) return;
      run.states = [startState(reply.centroids, reply.centroids_2d,
        `${run.k} centroids placed (random examples). Press Step, or Assign then Update.`)];
    }
    run.busy = false;
    show();
  } catch (error) {
    if (run.generation !== generation) return;
    run.busy = false;
    draw();
    showError(error);
  }
}

/**
 * Make `centroids` the start of a new run (clicked, dragged or from a link), dropping the timeline.
 * @param {Float64Array} centroids2d where they are drawn; lifted to the data's space by Python
 * @param {string} message
 */
async function startFrom(centroids2d, message) {
  const generation = ++run.generation;
  const { points, n_features, projection } = run.dataset;
  const reply = await client.request(REQUEST.INIT_CENTROIDS, {
    points, n_features, k: centroids2d.length / 2, init: "click", centroids_2d: centroids2d, projection,
  });
  if (run.generation !== generation) throw new Superseded();
  run.k = centroids2d.length / 2;
  run.states = [startState(reply.centroids, reply.centroids_2d, message)];
  run.at = 0;
  run.seeding = null;
  run.clicks = [];
}

/**
 * Go one action forward (the next k-means++ centre, Assign or Update), replaying the stored state when
 * there is one. Returns the new state, or null when `want` is not the next action or the run is over.
 * @param {"seed" | "assign" | "update"} [want]
 * @returns {Promise<RunState | null>}
 */
async function advance(want) {
  const state = current();
  const kind = nextKind(state);
  if (!state || !kind || (want && want !== kind)) return null;
  const maxIter = readInt(ui.maxIter, "Max iterations");
  if (kind === "assign" && state.iteration >= maxIter) {
    say(`Stopped at the maximum of ${maxIter} iterations.`);
    return null;
  }
  const stored = run.states[run.at + 1];
  if (stored && stored.kind === kind) {
    run.at += 1;
    return stored;
  }
  const generation = run.generation;
  const next = kind === "seed" ? seedState(state) : kind === "assign" ? await assignState(state) : await updateState(state, maxIter);
  if (run.generation !== generation) throw new Superseded();
  run.states.length = run.at + 1; // a different future from here
  run.states.push(next);
  run.at += 1;
  return next;
}

/**
 * k-means++'s next centre, from the seeding Python recorded at Reset.
 * @param {RunState} state
 * @returns {RunState}
 */
function seedState(state) {
  const c = placed(state);
  const d = run.dataset.n_features;
  const n = run.dataset.n_points;
  const { centroids, centroids_2d: centroids2d, candidates, n_trials: trials, weights } = run.seeding;
  const drawn = Array.from(candidates.slice(c * trials, (c + 1) * trials)).filter((i) => i >= 0);
  const done = c + 1 === run.k ? " All the centres are placed: press Step to run K-means from them." : "";
  const message = c === 0
    ? `k-means++, centre 1 of ${run.k}: a point drawn at random, every point equally likely.${done}`
    : `k-means++, centre ${c + 1} of ${run.k}: ${drawn.length} candidates (dashed rings) drawn with probability ` +
      `proportional to D(x)², the squared distance to the nearest centre so far (bigger dots are likelier); ` +
      `the one that leaves the smallest total D(x)² is kept.${done}`;
  return {
    kind: "seed",
    centroids: centroids.slice(0, (c + 1) * d),
    centroids2d: centroids2d.slice(0, (c + 1) * 2),
    labels: null, changed: null, iteration: 0, inertia: null, message, end: "",
    seeding: { weights: weights.slice(c * n, (c + 1) * n), candidates: drawn },
  };
}

/**
 * @param {RunState} state
 * @returns {Promise<RunState>}
 */
async function assignState(state) {
  const { points, n_features } = run.dataset;
  const reply = await client.request(REQUEST.ASSIGN, { points, n_features, centroids: state.centroids, labels: state.labels });
  const iteration = state.iteration;
  const first = state.labels === null;
  const message = `Iteration ${iteration + 1}, assign: every point joins its closest centroid; moved: ${reply.changed}` +
    `${first ? " (every point gets its first centroid)" : reply.changed ? " (ringed)" : ""}. Inertia ${formatNumber(reply.inertia)}.`;
  const end = reply.converged
    ? `Converged after ${iteration} iteration${iteration === 1 ? "" : "s"}: no point changed cluster, so no centroid would move.`
    : "";
  return {
    kind: "assign", centroids: state.centroids, centroids2d: state.centroids2d, labels: reply.labels,
    changed: first ? null : reply.changed_mask, iteration, inertia: reply.inertia, message, end, seeding: null,
  };
}

/**
 * @param {RunState} state
 * @param {number} maxIter
 * @returns {Promise<RunState>}
 */
async function updateState(state, maxIter) {
  const { points, n_features, projection } = run.dataset;
  const reply = await client.request(REQUEST.UPDATE, { points, n_features, centroids: state.centroids, labels: state.labels, projection });
  const iteration = state.iteration + 1;
  return {
    kind: "update", centroids: reply.centroids, centroids2d: reply.centroids_2d, labels: state.labels, changed: null,
    iteration, inertia: reply.inertia, seeding: null,
    message: `Iteration ${iteration}, update: every centroid moves to the mean of its points ` +
      `(the largest move: ${formatNumber(reply.moved)}). Inertia ${formatNumber(reply.inertia)}.`,
    end: iteration >= maxIter ? `Stopped at the maximum of ${maxIter} iterations.` : "",
  };
}

/**
 * One Step: the next k-means++ centre, or Assign then Update (just Update after an Assign).
 * Returns whether the run can go on.
 */
async function stepOnce() {
  const done = await advance();
  if (done && done.kind === "assign" && !done.end) await advance("update");
  return nextKind(current()) !== null;
}

/** Step until the run ends (restarts and links load whole runs this way). */
async function runToEnd() {
  while (await stepOnce()) { /* each Step is stored in the timeline */ }
}

const step = () => locked(async () => { await stepOnce(); });
const assign = () => locked(async () => { await advance("assign"); });
const update = () => locked(async () => { await advance("update"); });

function back() {
  if (run.busy || run.playing || run.at === 0) return;
  run.at -= 1;
  show();
}

function showHistory() {
  if (run.busy || run.playing) return;
  run.at = Math.min(Number(ui.history.value), run.states.length - 1);
  show();
}

async function togglePlay() {
  if (run.playing) {
    run.playing = false;
    updateControls();
    return;
  }
  if (run.busy || nextKind(current()) === null) return;
  const generation = run.generation;
  run.playing = true;
  updateControls();
  try {
    while (run.playing && run.generation === generation) {
      const more = await stepOnce();
      if (run.generation !== generation) return;
      if (!more) run.playing = false;
      show();
      if (!run.playing) return;
      // Speed 1 waits 1 s between Steps, speed 10 does not wait.
      const delay = (10 - Number(ui.speed.value)) * 110;
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  } catch (error) {
    if (run.generation === generation) showError(error);
  } finally {
    if (run.generation === generation) {
      run.playing = false;
      updateControls();
    }
  }
}

// -- placing and editing by hand -------------------------------------------------------------------

/** @param {PointerEvent | MouseEvent} event canvas pixel coordinates of the pointer */
function canvasPosition(event) {
  const rect = ui.canvas.getBoundingClientRect();
  return [((event.clientX - rect.left) / rect.width) * ui.canvas.width, ((event.clientY - rect.top) / rect.height) * ui.canvas.height];
}

/** @param {MouseEvent} event */
async function placeCentroid(event) {
  if (ui.edit.checked || ui.init.value !== "click" || !run.dataset || run.states.length || run.busy) return;
  const [px, py] = canvasPosition(event);
  run.clicks.push(plotScale(ui.canvas, run.bounds).invert(px, py));
  draw();
  say(`Click on the plot to place ${run.k} centroid${run.k === 1 ? "" : "s"} (${run.clicks.length} placed).`);
  if (run.clicks.length < run.k) return;
  const clicks = new Float64Array(run.clicks.flat());
  await locked(async () => {
    try {
      await startFrom(clicks, `${run.k} centroids placed where you clicked. Press Step, or Assign then Update.`);
    } catch (error) {
      run.clicks = [];
      throw error;
    }
  });
}

/** What a pointer drags in edit mode. @type {{kind: "centroid" | "point", index: number, xy: Float64Array, moved: boolean} | null} */
let drag = null;

/** @param {PointerEvent} event */
function editStart(event) {
  if (!ui.edit.checked || ui.edit.disabled || run.busy || run.playing || !run.dataset) return;
  event.preventDefault();
  const [px, py] = canvasPosition(event);
  const state = current();
  const centroid = state ? centroidAt(ui.canvas, run.bounds, state.centroids2d, px, py) : -1;
  if (centroid >= 0) {
    drag = { kind: "centroid", index: centroid, xy: state.centroids2d.slice(), moved: false };
  } else {
    const point = pointAt(ui.canvas, run.bounds, run.dataset.points_2d, px, py);
    if (point >= 0) drag = { kind: "point", index: point, xy: run.dataset.points_2d.slice(), moved: false };
    else {
      // A click on empty space adds a point there.
      const [x, y] = plotScale(ui.canvas, run.bounds).invert(px, py);
      const xy = new Float64Array(run.dataset.points_2d.length + 2);
      xy.set(run.dataset.points_2d);
      xy.set([x, y], xy.length - 2);
      commitPoints(xy, "Point added");
      return;
    }
  }
  ui.canvas.setPointerCapture(event.pointerId);
}

/** @param {PointerEvent} event */
function editMove(event) {
  if (!drag) return;
  const [px, py] = canvasPosition(event);
  const { xMin, xMax, yMin, yMax } = run.bounds;
  const [x, y] = plotScale(ui.canvas, run.bounds).invert(px, py);
  drag.xy[2 * drag.index] = Math.min(xMax, Math.max(xMin, x));
  drag.xy[2 * drag.index + 1] = Math.min(yMax, Math.max(yMin, y));
  drag.moved = true;
  draw(drag.kind === "centroid" ? { centroids2d: drag.xy } : { points2d: drag.xy });
}

function editEnd() {
  if (!drag) return;
  const { kind, xy, moved } = drag;
  drag = null;
  if (!moved) return draw();
  if (kind === "point") commitPoints(xy, "Point moved");
  else {
    run.edited = true;
    locked(() => startFrom(xy, "Centroid moved: the run starts again from these centroids. Press Step, or Assign then Update."));
  }
}

/**
 * The edited points become the data (2-D: the drawing is the data), and the run starts again from the
 * current centroids.
 * @param {Float64Array} xy
 * @param {string} what
 */
function commitPoints(xy, what) {
  const state = current();
  const keep = state && placed(state) === run.k ? state.centroids2d : null;
  locked(async () => {
    const raw = await client.request(REQUEST.POINTS_DATASET, { points: xy, n_features: 2 });
    const bounds = run.bounds;
    if (ui.standardise.checked) ui.standardise.checked = false; // the drawn points are now the data as they are
    useOwnPoints();
    run.raw = raw;
    run.dataset = raw;
    run.name = "Your points";
    run.bounds = bounds; // the view stays put while editing
    ui.caption.textContent = `Your points: ${raw.n_points} points`;
    if (keep) {
      run.edited = true;
      await startFrom(keep, `${what}: ${raw.n_points} points. The run starts again from the same centroids.`);
    } else {
      await reset();
    }
    computeElbow();
  });
}

// -- restarts --------------------------------------------------------------------------------------

async function compareRestarts() {
  const dataset = run.dataset;
  if (!dataset) return;
  await locked(async () => {
    if (ui.init.value === "click") throw new Error("Restarts need a random initialisation: choose Random examples or k-means++.");
    const nRuns = readInt(ui.restartsN, "Runs");
    const seed = readInt(ui.seed, "Seed");
    const reply = await client.request(REQUEST.RESTARTS, {
      points: dataset.points, n_features: dataset.n_features, k: readInt(ui.k, "K"), init: ui.init.value, seed,
      n_runs: nRuns, max_iter: readInt(ui.maxIter, "Max iterations"),
    });
    if (run.dataset !== dataset) throw new Superseded();
    drawRestarts(reply);
  });
  const best = ui.restartsList.querySelector(".best");
  if (best) {
    say(`${ui.status.textContent} Restarts: the best of ${ui.restartsList.children.length} seeds is ${best.dataset.seed} ` +
      `(inertia ${formatNumber(Number(best.dataset.inertia))}); choose a bar to load its run.`);
  }
}

/** @param {{seeds: Int32Array, inertias: Float64Array, n_iter: Int32Array, best: number}} reply */
function drawRestarts(reply) {
  // Bars from a quarter (the best) to full (the worst) length, so small differences show.
  const lowest = Math.min(...reply.inertias);
  const range = Math.max(...reply.inertias) - lowest;
  const items = Array.from(reply.seeds, (seed, i) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = i === reply.best ? "restart best" : "restart";
    button.dataset.seed = String(seed);
    button.dataset.inertia = String(reply.inertias[i]);
    button.style.setProperty("--share", String(0.25 + (range > 0 ? (0.75 * (reply.inertias[i] - lowest)) / range : 0)));
    const iterations = reply.n_iter[i];
    button.textContent = `seed ${seed}: ${formatNumber(reply.inertias[i])}, ${iterations} iteration${iterations === 1 ? "" : "s"}` +
      (i === reply.best ? " (best)" : "");
    button.addEventListener("click", () => loadRestart(seed));
    item.append(button);
    return item;
  });
  ui.restartsList.replaceChildren(...items);
}

/** Load the run of one restart: its seed, from the start to the end. @param {number} seed */
async function loadRestart(seed) {
  if (run.busy || run.playing) return;
  ui.seed.value = String(seed);
  await reset();
  if (run.failed || !current()) return;
  await locked(runToEnd);
  ui.restartsList.querySelectorAll(".restart").forEach((/** @type {HTMLElement} */ button) =>
    button.setAttribute("aria-current", String(button.dataset.seed === String(seed))));
}

// -- export and links ------------------------------------------------------------------------------

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
  const labels = current()?.labels;
  if (!labels) return;
  download(new Blob([`label\n${Array.from(labels).join("\n")}\n`], { type: "text/csv" }), "labels.csv");
}

async function exportFigure() {
  const state = current();
  if (!state?.labels) return;
  const dataset = run.dataset;
  say("Drawing the figure with matplotlib (loaded the first time)…");
  try {
    const steps = run.states.slice(0, run.at + 1).filter((s) => s.kind === "update" || (s.kind !== "assign" && placed(s) === run.k));
    const history = new Float64Array(steps.length * steps[0].centroids.length);
    steps.forEach((s, i) => history.set(s.centroids, i * s.centroids.length));
    const reply = await client.request(REQUEST.FIGURE_PNG, {
      points: dataset.points, n_features: dataset.n_features, labels: state.labels, history,
      projection: dataset.projection, k: run.k,
    });
    download(new Blob([reply.png], { type: "image/png" }), "kmeans-clusters.png");
    say(`Figure saved (${reply.bytes} bytes).`);
  } catch (error) {
    showError(error);
  }
}

/** Put a link to the current state in #points-share-url (and on the clipboard, where allowed). */
async function shareLink() {
  if (!run.raw) return;
  const own = ui.sample.value === "file";
  if (own && run.raw.points.length > LINK_MAX_VALUES) {
    showError(new Error(`these points hold ${run.raw.points.length} numbers; a link carries at most ${LINK_MAX_VALUES}. ` +
      "Share a sample data set, or send the file with the link."));
    return;
  }
  const start = run.states[0];
  const base = location.href.split("#")[0];
  const url = writeLink(base, {
    data: own ? "points" : ui.sample.value,
    points: own ? run.raw.points : null,
    nFeatures: run.raw.n_features,
    standardise: ui.standardise.checked,
    k: ui.k.value, init: ui.init.value, seed: ui.seed.value, maxIter: ui.maxIter.value,
    step: run.at,
    regions: ui.regions.checked,
    lines: ui.lines.checked,
    start: start && (ui.init.value === "click" || run.edited) ? start.centroids2d : null,
    hide: run.hide,
  });
  ui.shareUrl.value = url;
  ui.shareUrl.select();
  let copied = false;
  try {
    await navigator.clipboard.writeText(url);
    copied = true;
  } catch {
    // No clipboard permission (or an insecure context): the link is selected in the field instead.
  }
  say(`${copied ? "Link copied" : "Link ready in the field below"}: it reopens this data, K, initialisation, seed and step. ` +
    "Add &hide=seed,init (any of: " + hideableNames().join(", ") + ") to hide controls.");
}

/**
 * Open the run a link describes: its controls, data, start and step.
 * @param {import("./explorer-link.js").ExplorerLink} link
 */
async function openLink(link) {
  const unknown = hideParts(link.hide);
  run.hide = link.hide.filter((name) => !unknown.includes(name));
  ui.k.value = link.k;
  ui.seed.value = link.seed;
  ui.maxIter.value = link.maxIter;
  ui.regions.checked = link.regions;
  ui.lines.checked = link.lines;
  ui.standardise.checked = link.standardise;
  if (![...ui.init.options].some((o) => o.value === link.init)) {
    throw new Error(`the link's init=${link.init} is not one of: ${[...ui.init.options].map((o) => o.value).join(", ")}`);
  }
  ui.init.value = link.init;
  if (link.data === "points") {
    const raw = await client.request(REQUEST.POINTS_DATASET, { points: link.points, n_features: link.nFeatures });
    useOwnPoints();
    await useDataset(raw, "Shared points");
  } else {
    const kinds = [...ui.sample.options].filter((o) => o.value !== "file").map((o) => o.value);
    if (!kinds.includes(link.data)) throw new Error(`the link's data=${link.data} is not one of: ${kinds.join(", ")}`);
    ui.sample.value = link.data;
    const raw = await client.request(REQUEST.SAMPLE_POINTS, { kind: link.data, n_points: SAMPLE_POINTS, seed: 0 });
    await useDataset(raw, sampleLabel(link.data));
  }
  if (run.failed) return;
  await locked(async () => {
    if (link.start) {
      if (link.start.length !== 2 * run.k) throw new Error(`the link's c= holds ${link.start.length / 2} centroids, not K=${run.k}`);
      run.edited = link.init !== "click";
      await startFrom(link.start, "");
    }
    while (run.at < link.step && (await advance())) { /* replay the link's half-steps */ }
  });
  const state = current();
  if (!run.failed && state) {
    const note = unknown.length ? ` (The link's hide= names ${unknown.join(", ")}, which the page does not have.)` : "";
    say(`Opened a shared link at ${describeState(state)}. ${state.message}${state.end ? ` ${state.end}` : ""}${note}`);
  }
}

// -- wiring ----------------------------------------------------------------------------------------

/** @param {KeyboardEvent} event */
function onKey(event) {
  if (ui.view.hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = /** @type {HTMLElement} */ (event.target);
  // Typing in a field, or Space and Enter on a focused control, keep their usual meaning.
  if (target.closest?.("input, select, textarea, [contenteditable]")) return;
  if ((event.key === " " || event.key === "Enter") && target.closest?.("button, a, summary")) return;
  /** @type {Record<string, () => unknown>} */
  const keys = { " ": togglePlay, ArrowRight: step, ArrowLeft: back, a: assign, A: assign, u: update, U: update };
  const action = keys[event.key];
  if (!action) return;
  event.preventDefault();
  action();
}

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
  ui.standardise.addEventListener("change", toggleStandardise);
  for (const input of [ui.k, ui.init, ui.seed]) input.addEventListener("change", () => { reset(); drawChoosingK(); });
  ui.reset.addEventListener("click", reset);
  ui.step.addEventListener("click", step);
  ui.assign.addEventListener("click", assign);
  ui.update.addEventListener("click", update);
  ui.back.addEventListener("click", back);
  ui.play.addEventListener("click", togglePlay);
  ui.history.addEventListener("input", showHistory);
  for (const toggle of [ui.regions, ui.lines]) toggle.addEventListener("change", () => draw());
  ui.edit.addEventListener("change", () => {
    ui.canvas.classList.toggle("editing", ui.edit.checked);
    if (ui.edit.checked) say("Edit mode: click to add a point; drag a point or a centroid to move it.");
  });
  ui.canvas.addEventListener("click", placeCentroid);
  ui.canvas.addEventListener("pointerdown", editStart);
  ui.canvas.addEventListener("pointermove", editMove);
  ui.canvas.addEventListener("pointerup", editEnd);
  ui.canvas.addEventListener("pointercancel", editEnd);
  ui.canvas.addEventListener("dragover", (/** @type {DragEvent} */ event) => event.preventDefault());
  ui.canvas.addEventListener("drop", (/** @type {DragEvent} */ event) => {
    event.preventDefault();
    event.stopPropagation();
    loadFile(event.dataTransfer?.files?.[0]);
  });
  ui.elbowRun.addEventListener("click", computeElbow);
  ui.restarts.addEventListener("click", compareRestarts);
  ui.exportLabels.addEventListener("click", exportLabels);
  ui.exportFigure.addEventListener("click", exportFigure);
  ui.share.addEventListener("click", shareLink);
  document.addEventListener("keydown", onKey);
  openFromAddress();
}

/** Open the link in the address, if there is one; otherwise the selected sample. */
async function openFromAddress() {
  let link = null;
  try {
    link = readLink(location.hash);
    if (!link) return loadSample();
    await openLink(link);
  } catch (error) {
    run.busy = false;
    if (!run.dataset) await loadSample();
    showError(error);
    ui.status.scrollIntoView({ block: "center" }); // a bad link: say so where the reader looks
  }
}

/**
 * Open a points file dropped anywhere on the explorer's view.
 * @param {File | undefined | null} file
 */
export function openPointsFile(file) {
  if (client) loadFile(file);
}
