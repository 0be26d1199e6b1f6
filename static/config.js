// @ts-check
// Development defaults. build.py writes the real values into dist/static/config.js.
/** Where pyodide.mjs and the wheels are, relative to this folder (or an absolute CDN URL). */
export const PYODIDE_BASE = "../pyodide/";
/** Hash of the build, used to name the offline cache. */
export const BUILD_HASH = "dev";
