"""What the unit tests need to know about where they run: CPython, or Pyodide (``build.py test-pyodide``).

Inside Pyodide (WebAssembly) there are no processes and no sockets, so the
few tests that start one are skipped there, each with its reason, and
pytest counts them in its summary.
"""

from __future__ import annotations

import sys

import pytest

#: True inside Pyodide.
IN_PYODIDE = sys.platform == "emscripten"

#: For a test that starts a process (the CLI as a user runs it, Node.js).
needs_processes = pytest.mark.skipif(IN_PYODIDE, reason="starts a process: WebAssembly has no processes")

#: For a test of build.py: it runs npm and pip and serves the site over a socket.
needs_the_build = pytest.mark.skipif(
    IN_PYODIDE, reason="tests build.py, the host-side build tool (npm, pip, a local server): not in WebAssembly")
