// @ts-check
/**
 * Run the unit tests and doctests inside Pyodide, under Node.js: `python3 build.py test-pyodide`.
 *
 *   node tests/pyodide/run.mjs RUNTIME_DIR REPO_DIR WHEEL_DIR [pytest arguments...]
 *
 * RUNTIME_DIR holds Pyodide 0.27.7 (pyodide.js, its lock and the verified wheels that build.py puts in
 * its cache); WHEEL_DIR holds the pure-Python test wheels (pytest, hypothesis, ...) that build.py
 * downloads and checks against their recorded sha256. The repository is mounted read-write at /repo
 * (Python writes no bytecode there) and pytest runs from it with the given arguments. The exit code
 * is pytest's.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [runtime, repo, wheels, ...pytestArgs] = process.argv.slice(2);
if (!runtime || !repo || !wheels) {
  console.error("usage: node tests/pyodide/run.mjs RUNTIME_DIR REPO_DIR WHEEL_DIR [pytest arguments...]");
  process.exit(2);
}

// The packages of Pyodide's own lock the tests import (their dependencies come with them).
const PACKAGES = ["numpy", "pillow", "matplotlib", "scikit-learn", "packaging", "pygments"];

const require = createRequire(import.meta.url);
const { loadPyodide } = require(path.resolve(runtime, "pyodide.js"));
const started = performance.now();
const pyodide = await loadPyodide({ indexURL: path.resolve(runtime) + "/" });
await pyodide.loadPackage(PACKAGES, { messageCallback: () => {}, errorCallback: (message) => console.error(message) });
const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
for (const name of readdirSync(wheels).sort()) {
  if (!name.endsWith(".whl")) continue;
  pyodide.unpackArchive(new Uint8Array(readFileSync(path.join(wheels, name))), "wheel", { extractDir: sitePackages });
}
pyodide.FS.mkdirTree("/repo");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: path.resolve(repo) }, "/repo");
const version = pyodide.runPython("import sys; sys.version.split()[0]");
console.log(
  `Pyodide ${pyodide.version} (Python ${version}) under Node.js ${process.versions.node}: ready in ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s; running pytest ${pytestArgs.join(" ")}`,
);

pyodide.globals.set("pytest_args", pyodide.toPy(pytestArgs));
const code = await pyodide.runPythonAsync(`
import os, sys
sys.dont_write_bytecode = True  # no __pycache__ of Python 3.12 in the working tree
os.chdir("/repo")
import pytest
int(pytest.main(list(pytest_args)))
`);
process.exit(Number(code));
