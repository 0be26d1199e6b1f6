// @ts-check
/**
 * The one message protocol between the page (worker-client.js) and the worker (worker.js).
 *
 * Request, page → worker: {id, type, payload}. Every request gets exactly one reply with the same id:
 * {id, type: "result", payload} or {id, type: "error", error: {name, message, fatal}}; `fatal` means the
 * runtime itself failed (not a Python exception), so the page starts a fresh worker. While a request runs
 * the worker may send {id, type: "progress", payload}. Boot steps go out unsolicited as
 * {id: null, type: "status", payload: {stage, step, steps}}; "ready" also says how Python started,
 * `started`: "snapshot" (from the memory snapshot a first visit saved, see snapshot.js) or "files".
 * After "ready" the worker warms up in short steps (kmeans.web.warm_up) that give way to any request,
 * then sends {id: null, type: "status", payload: {stage: "warm"}}.
 *
 * Payload keys are the Python keyword names of kmeans/web.py (snake_case), so the worker passes a
 * payload straight to callKwargs.
 *
 * The worker speaks the same protocol to its helper (helper.js), another worker.js that it starts for a
 * big photo's PNG: it sends "deflate_pieces", and the helper reports each piece as a progress message,
 * {index, deflated}.
 */

/** Request types, each a function of kmeans.web (or handled by the worker itself). */
export const REQUEST = Object.freeze({
  QUANTIZE: "quantize",
  COMPRESS: "compress",
  ENCODE_PNG: "encode_png",
  // A photo's size, sent as soon as it is chosen: the worker gets ready for it (its helper, for a big one).
  EXPECT: "expect",
  // The worker's own steps for a big photo's PNG (see helper.js): its parts, pieces of its image data
  // (the worker's, one at a time, and the helper's share, which the worker sends its helper), and the
  // file from them.
  PNG_PARTS: "png_parts",
  DEFLATE_PIECES: "deflate_pieces",
  FINISH_PNG: "finish_png",
  SCORE: "score",
  LOAD_POINTS: "load_points",
  SAMPLE_POINTS: "sample_points",
  POINTS_DATASET: "points_dataset",
  INIT_CENTROIDS: "init_centroids",
  SEEDING: "seeding",
  STEP: "step",
  ASSIGN: "assign",
  UPDATE: "update",
  SOURCE: "source",
  RESTARTS: "restarts",
  ELBOW: "elbow",
  FIGURE_PNG: "figure_png",
  WARM_UP: "warm_up",
});

/** Reply and push message types. */
export const REPLY = Object.freeze({
  RESULT: "result",
  ERROR: "error",
  PROGRESS: "progress",
  STATUS: "status",
});

/** Boot stages in order, reported as status messages, each with what the status line calls it. */
export const BOOT_STAGES = Object.freeze([
  { stage: "runtime", label: "the Python runtime" },
  { stage: "numpy", label: "NumPy" },
  { stage: "kmeans", label: "the kmeans package" },
  { stage: "ready", label: "" },
]);
/** The status stage sent once the warm-up after "ready" is done (not a boot stage: nothing waits for it). */
export const WARM_STAGE = "warm";
/**
 * The name of a worker that skips the warm-up: a batch's extra workers are started with photos already
 * waiting, and its steps (about a second in all) would only delay them. Such a worker starts from a
 * saved snapshot too, but never makes one (the page's own worker does).
 */
export const NO_WARM_UP = "no-warm-up";

/**
 * The quantizer's options the page shows: default and accepted range of each, keyed by the payload
 * name. The page's copy of kmeans.options (QuantizeOptions, RANGES); tests/test_options.py checks that
 * the two agree, so change both together.
 */
export const QUANTIZE_OPTIONS = Object.freeze({
  n_colors: Object.freeze({ default: 16, min: 1, max: 256 }),
  max_iter: Object.freeze({ default: 300, min: 1, max: 10000 }),
  seed: Object.freeze({ default: 0, min: 0, max: 4294967295 }),
  dither: Object.freeze({ default: 0.6, min: 0, max: 1 }),
});

/**
 * The targets a batch (and a single run) can be given instead of K: "no bigger than N KB" (1 KB = 1024
 * bytes, above 0) and "at least quality Q" (SSIMULACRA2, up to 100); kmeans.target checks the same.
 */
export const TARGETS = Object.freeze({
  max_kb: Object.freeze({ above: 0 }),
  min_quality: Object.freeze({ max: 100 }),
});

/** The spaces the palette can be fitted in (kmeans.colour_spaces), and the default. */
export const COLOUR_SPACES = Object.freeze({ default: "oklab", names: Object.freeze(["rgb", "oklab", "liq"]) });

/** Largest image the page and the embed accept, in megapixels (kmeans.options.PAGE_MAX_MEGAPIXELS). */
export const PAGE_MAX_MEGAPIXELS = 100;

/**
 * @typedef {object} QuantizeRequest
 * @property {Uint8Array} pixels RGBA bytes, width * height * 4
 * @property {number} width
 * @property {number} height
 * @property {number} n_colors see QUANTIZE_OPTIONS
 * @property {number} seed
 * @property {number} max_iter
 * @property {number} dither 0-1, see QUANTIZE_OPTIONS
 * @property {string} colour_space one of COLOUR_SPACES.names
 * @property {number} [cloud] how many pixels to sample for the colour cloud (0: none)
 */

/**
 * @typedef {object} QuantizeResult
 * @property {Uint8Array} indices one palette index per pixel
 * @property {Uint8Array} palette RGBA, 4 bytes per colour
 * @property {Uint8Array} rgba the quantized image, RGBA, ready to draw: written by the worker into the
 *   request's own `pixels` buffer and transferred back, so the page allocates nothing to draw it
 * @property {number} n_colors
 * @property {number} n_iter
 * @property {number} mse
 * @property {number | undefined} psnr undefined when the copy is exact
 * @property {number} seconds time spent in Python
 * @property {string | undefined} warning
 * @property {Uint8Array} [cloud_rgb] with the request's `cloud` (a number of pixels to sample): the colour
 *   cloud's colours and the centres as the fit moved them; see cloud.js CloudData and kmeans/cloud.py
 */

/**
 * The reply to "compress" (a QuantizeRequest without `cloud`, plus `max_kb` and `min_quality`, both
 * optional): one image's whole job in one request, as the batch runs it (kmeans.web.compress).
 * @typedef {object} CompressResult
 * @property {Uint8Array} indices
 * @property {Uint8Array} palette RGBA, 4 bytes per colour
 * @property {Uint8Array} png the indexed PNG file
 * @property {number} bytes
 * @property {number} n_colors
 * @property {number} mse
 * @property {number | undefined} psnr
 * @property {number} ssimulacra2
 * @property {number} ssimulacra2_scale
 * @property {boolean} met true without a target
 * @property {string | undefined} message the target's outcome in one sentence
 * @property {Int32Array} trials pairs: each palette size a target search tried, and its PNG's bytes
 * @property {string | undefined} warning
 * @property {number} seconds
 */

/**
 * The reply to "score" ({pixels, indices, palette, width, height}): how alike the result looks.
 * @typedef {object} ScoreResult
 * @property {number} ssimulacra2 kmeans.metrics: 100 identical, 90 visually lossless, 70 high, 50 medium, 30 low
 * @property {number} ssimulacra2_scale 1, or the factor the score's copies were shrunk by (big images)
 * @property {number} seconds
 */

/**
 * @typedef {object} EncodePngRequest
 * @property {Uint8Array} indices
 * @property {Uint8Array} palette
 * @property {number} width
 * @property {number} height
 */

/**
 * @typedef {object} EncodePngResult
 * @property {Uint8Array} png the indexed PNG file
 * @property {number} bytes
 * @property {number} seconds
 */

/**
 * @typedef {object} ProgressPayload
 * @property {"fit" | "dither" | "trial"} phase
 * @property {number} [n_iter] iterations done ("fit"); palette sizes tried ("trial")
 * @property {number} [max_iter] ("fit")
 * @property {number} [fraction] 0-1 ("dither")
 */

/**
 * A data set for the explorer, as load_points and sample_points return it.
 * @typedef {object} PointsDataset
 * @property {Float64Array} points row-major, n_points * n_features
 * @property {number} n_points
 * @property {number} n_features
 * @property {Float64Array} projection the mean, then the two principal axes (3 * n_features)
 * @property {Float64Array} points_2d what is drawn, n_points * 2
 * @property {number} explained share of the variance the drawing shows (1 for 2-D data)
 * @property {Int32Array | undefined} truth generating groups of a sample set
 */

/**
 * The reply to "step": one assign + update iteration.
 * @typedef {object} StepResult
 * @property {Int32Array} labels
 * @property {Float64Array} centroids k * n_features
 * @property {Float64Array} centroids_2d k * 2
 * @property {number} inertia
 * @property {boolean} converged
 */

/**
 * The reply to "seeding" ({points, n_features, k, seed, projection}): k-means++ as it chose.
 * @typedef {object} SeedingResult
 * @property {Float64Array} centroids k * n_features, as kmeans_plusplus returns them
 * @property {Float64Array} centroids_2d k * 2
 * @property {Int32Array} indices the row chosen for each centre
 * @property {Int32Array} candidates k * n_trials rows drawn for each centre (-1: none)
 * @property {number} n_trials
 * @property {Float64Array} weights k * n_points: row c is each point's D(x)² before centre c was drawn
 */

/**
 * The reply to "assign" ({points, n_features, centroids, labels}): find_closest_centroids.
 * @typedef {object} AssignResult
 * @property {Int32Array} labels
 * @property {number} changed how many points got another centroid than in `labels` (all without them)
 * @property {Uint8Array} changed_mask 1 for each of those points
 * @property {number} inertia
 * @property {boolean} converged no point changed: the run is over
 */

/**
 * The reply to "update" ({points, n_features, centroids, labels, projection}): compute_centroids.
 * @typedef {object} UpdateResult
 * @property {Float64Array} centroids
 * @property {Float64Array} centroids_2d
 * @property {number} inertia
 * @property {number} moved the largest distance a centroid moved
 */

/**
 * The reply to "restarts" ({points, n_features, k, init, seed, n_runs, max_iter}).
 * @typedef {object} RestartsResult
 * @property {Uint32Array} seeds seed, seed + 1, ...
 * @property {Float64Array} inertias the final inertia of each run
 * @property {Int32Array} n_iter
 * @property {number} best the index of the lowest inertia
 */
