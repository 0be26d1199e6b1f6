"""The page's pure modules, run by Node.js: settings.js, pool.js, zip.js, images.js, worker-client.js, helper.js.

They decide what a shared link sets, how many Pyodide workers a device gets and
what the zip of a batch holds, with no DOM; so they are checked here, exactly as
the page imports them, and the zip by Python's own ``zipfile``.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from .support import IN_PYODIDE

STATIC = Path(__file__).resolve().parents[1] / "static"


def run_module(body: str):
    """Run `body` (an async function body that returns a JSON-able value) with the page's modules."""
    if IN_PYODIDE:
        pytest.skip("runs the page's modules with Node.js, a process: WebAssembly has none")
    node = shutil.which("node")
    assert node, "Node.js is needed (it comes with npm, which the build needs)"
    imports = "\n".join(
        f"import * as {name.replace('-', '_')} from {json.dumps((STATIC / f'{name}.js').as_uri())};"
        for name in ("settings", "pool", "zip", "images", "worker-client", "early-worker", "helper")
    )
    script = f"{imports}\nconst result = await (async () => {{ {body} }})();\nprocess.stdout.write(JSON.stringify(result));"
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# -- settings.js ----------------------------------------------------------------------------------


def test_a_link_sets_what_it_names_and_reports_each_bad_value():
    found = run_module("""
        return settings.loadSettings({
            search: "?k=32&dither=0.25&space=liq&max-kb=150&min-quality=abc&seed=-1&workers=2",
        });
    """)
    values = found["values"]
    assert (values["k"], values["dither"], values["space"], values["max-kb"]) == ("32", "0.25", "liq", "150")
    assert values["seed"] == "0" and values["min-quality"] == ""  # bad ones fall back to the default
    assert found["problems"] == [
        "The link's seed= must be a whole number from 0 to 4294967295; got “-1”, so it was not used.",
        "The link's min-quality= must be a number up to 100 (or empty: no target); got “abc”, so it was not used.",
    ]


@pytest.mark.parametrize(("param", "text", "problem"), [
    ("k", "0", "a whole number from 1 to 256"),
    ("k", "2.5", "a whole number from 1 to 256"),
    ("dither", "1.5", "a number from 0 to 1"),
    ("space", "cmyk", "one of rgb, oklab, liq"),
    ("max-kb", "0", "a number above 0 (or empty: no target)"),
    ("max-kb", "-20", "a number above 0 (or empty: no target)"),
    ("min-quality", "101", "a number up to 100 (or empty: no target)"),
])
def test_each_setting_says_what_it_accepts(param, text, problem):
    said = run_module(f"""
        const setting = settings.SETTINGS.find((entry) => entry.param === {json.dumps(param)});
        return [settings.settingProblem(setting, {json.dumps(text)}), settings.settingProblem(setting, setting.default)];
    """)
    assert said == [problem, ""]


def test_a_link_wins_whole_over_what_was_remembered_and_defaults_are_left_out():
    found = run_module("""
        const store = new Map();
        const storage = { getItem: (key) => store.get(key) ?? null, setItem: (key, value) => store.set(key, value),
                          removeItem: (key) => store.delete(key) };
        settings.saveSettings({ ...settings.defaultSettings(), k: "64", seed: "7", "max-kb": "bad" }, storage);
        const stored = store.get(settings.STORAGE_KEY);
        const remembered = settings.loadSettings({ search: "?workers=2", storage }).values;
        const linked = settings.loadSettings({ search: "?k=8", storage }).values;
        const link = settings.linkWithSettings("http://x/?workers=2&k=3#clusters?data=abc", { ...remembered, dither: "0.6" });
        settings.saveSettings(settings.defaultSettings(), storage);
        return { stored, remembered, linked, link, forgotten: store.has(settings.STORAGE_KEY) };
    """)
    assert found["stored"] == "k=64&seed=7"  # the bad target is not remembered, defaults are not written
    assert found["remembered"]["k"] == "64" and found["remembered"]["seed"] == "7"  # no settings in the link
    # A link with settings shows what its sender saw: what it leaves out is at its default.
    assert found["linked"]["k"] == "8" and found["linked"]["seed"] == "0"
    # Other parameters and the explorer's #hash are kept; the default dither is left out.
    assert found["link"] == "http://x/?workers=2&k=64&seed=7#clusters?data=abc"
    assert found["forgotten"] is False


def test_storage_that_refuses_loses_nothing_but_memory():
    found = run_module("""
        const refusing = { getItem() { throw new Error("denied"); }, setItem() { throw new Error("denied"); },
                           removeItem() { throw new Error("denied"); } };
        settings.saveSettings({ k: "5" }, refusing);
        return settings.loadSettings({ search: "?k=5", storage: refusing }).values.k;
    """)
    assert found == "5"


# -- pool.js --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("device", "size"), [
    ({"cores": 2, "memoryGb": 8}, 1),  # one core is left to the page
    ({"cores": 1}, 1),  # never fewer than one
    ({"cores": 16, "memoryGb": 8}, 4),  # never more than four
    ({"cores": 8, "memoryGb": 4}, 2),  # 2 GB a worker
    ({"cores": 8, "memoryGb": 0.5}, 1),
    ({"cores": 6}, 4),  # memory unknown (Firefox, Safari): by cores
    ({}, 1),  # nothing known: a 2-core guess
    ({"cores": 2, "requested": "3"}, 3),  # ?workers= overrides
])
def test_the_pool_is_sized_from_cores_and_memory(device, size):
    found = run_module(f"return pool.poolSize({json.dumps(device)});")
    assert found == {"size": size, "problem": ""}


@pytest.mark.parametrize("requested", ["0", "17", "two", "1.5", ""])
def test_a_bad_workers_parameter_is_reported_and_not_used(requested):
    found = run_module(f"return pool.poolSize({{ cores: 4, requested: {json.dumps(requested)} }});")
    assert found == {"size": 3, "problem": f"The link's workers= must be a whole number from 1 to 16; got “{requested}”, so it is 3."}


# -- zip.js ---------------------------------------------------------------------------------------


def test_crc32_is_zlibs():
    data = bytes(range(256)) * 41 + b"kmeans"
    found = run_module(f"return zip.crc32(Uint8Array.from({json.dumps(list(data))}));")
    assert found == zlib.crc32(data)


def test_the_zip_holds_every_file_byte_for_byte_under_unique_names():
    files = [("a-16colors.png", b"\x89PNG first"), ("trip/b-16colors.png", b"second" * 1000),
             ("a-16colors.png", b"third, same name"), ("A-16colors.png", b"fourth, same name but for case"),
             ("élan-16colors.png", b"")]
    body = f"""
        const files = {json.dumps([(name, base64.b64encode(data).decode()) for name, data in files])};
        const entries = files.map(([name, data]) => {{
            const bytes = Uint8Array.from(Buffer.from(data, "base64"));
            return {{ name, blob: new Blob([bytes]), crc: zip.crc32(bytes), date: new Date(2026, 11, 3, 9, 30, 12) }};
        }});
        const blob = zip.zipBlob(entries);
        return [blob.type, Buffer.from(await blob.arrayBuffer()).toString("base64")];
    """
    kind, data = run_module(body)
    assert kind == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(data)))
    assert archive.testzip() is None  # every CRC checks
    names = ["a-16colors.png", "trip/b-16colors.png", "a-16colors (2).png", "A-16colors (3).png", "élan-16colors.png"]
    assert archive.namelist() == names
    for name, (_, content) in zip(names, files):
        assert archive.read(name) == content
        info = archive.getinfo(name)
        assert info.compress_type == zipfile.ZIP_STORED and info.date_time == (2026, 12, 3, 9, 30, 12)


def test_the_extra_workers_stop_when_the_batch_has_been_idle():
    found = run_module("""
        const timers = [];
        globalThis.setTimeout = (callback, ms) => { timers.push({ callback, ms }); return timers.length; };
        globalThis.clearTimeout = (id) => { if (id) timers[id - 1].cleared = true; };
        const stopped = [];
        const fake = (name) => ({ name, stop: () => stopped.push(name) });
        const workers = new pool.WorkerPool(fake("page"), 3);
        workers.clients.push(fake("second"), fake("third"));
        workers.idle();
        workers.client(1);  // more photos came: the countdown is off
        workers.idle();
        for (const timer of timers) if (!timer.cleared) timer.callback();
        return { ms: timers.map((timer) => timer.ms), stopped, left: workers.clients.map((client) => client.name) };
    """)
    assert found["ms"] == [30_000, 30_000]
    assert found["stopped"] == ["second", "third"] and found["left"] == ["page"]  # the page's own stays


# -- helper.js --------------------------------------------------------------------------------------

#: A helper's fake client for Helper.share: it reports its tasks from the last, one a macrotask, as
#: told (``fail_after``: it fails after that many; ``silent``: it never answers, as one still booting).
FAKE_HELPER = """
    const requests = [];
    const stopped = [];
    const fakeHelper = ({ ready = true, failAfter = Infinity, silent = false, cores = 2, delays = null } = {}) => {
        const aide = new helper.Helper({ cores, workers: true, makeClient: (onReady) => ({
            start() { if (ready) queueMicrotask(onReady); },
            stop() { stopped.push(true); },
            request(type, payload, { onProgress }) {
                requests.push({ type, ...payload });
                if (silent) return new Promise(() => {});
                return (async () => {
                    for (let i = payload.last - payload.first, done = 0; i >= 0; i--, done++) {
                        await new Promise((resolve) => setTimeout(resolve, delays ? delays[done] : 0));
                        if (done === failAfter) throw new Error("the helper broke");
                        onProgress({ index: i, result: `helper:${payload.first + i}` });
                    }
                    if (delays) await new Promise(() => {});  // reports all made, but the request never ends
                    return {};
                })();
            },
        }) });
        aide.start();
        return aide;
    };
    const share = async (aide, count) => {
        const madeHere = [];
        const { results, helped } = await aide.share(
            count,
            (i) => { madeHere.push(i); return `here:${i}`; },
            (first, last) => ({ type: "deflate_pieces", payload: { first, last } }),
            ({ index, result }) => [Number(result.split(":")[1]), result],
        );
        return { results, helped, madeHere };
    };
    console.warn = () => {};
"""


def test_the_helper_takes_the_second_half_from_its_end_and_they_meet():
    found = run_module(FAKE_HELPER + """
        const aide = fakeHelper();
        const shared = await share(aide, 9);
        aide.stop();
        return { ...shared, requests };
    """)
    assert found["requests"] == [{"type": "deflate_pieces", "first": 5, "last": 8}]  # the second half
    results = found["results"]
    assert [int(result.split(":")[1]) for result in results] == list(range(9))  # every task, in order
    from_helper = [i for i, result in enumerate(results) if result.startswith("helper")]
    assert found["helped"] == len(from_helper) > 0
    assert from_helper == list(range(9 - len(from_helper), 9))  # from the end
    assert sorted(found["madeHere"] + from_helper) == list(range(9))  # each task made once


def test_the_worker_waits_for_the_helpers_last_report_not_for_its_whole_request():
    """The last task left is the one the helper is making: the worker waits for that report (here 30 ms),
    not for the helper's request to end (never) nor past its limit (two tasks' time, 50 ms at least)."""
    found = run_module(FAKE_HELPER + """
        const aide = fakeHelper({ delays: [0, 30] });
        await new Promise((resolve) => setTimeout(resolve, 0));  // it has booted
        const ready = aide.ready;
        const shared = await share(aide, 4);
        aide.stop();
        return { ...shared, ready };
    """)
    assert found["ready"]
    assert found["madeHere"] == [0, 1]  # and not 2, which the helper reported while the worker waited
    assert found["results"] == ["here:0", "here:1", "helper:2", "helper:3"] and found["helped"] == 2


@pytest.mark.parametrize("how", ["fails", "still booting", "one core"])
def test_without_a_working_helper_the_worker_makes_every_task(how):
    options = {"fails": "{ failAfter: 1 }", "still booting": "{ ready: false, silent: true }",
               "one core": "{ cores: 1 }"}[how]
    found = run_module(FAKE_HELPER + f"""
        const aide = fakeHelper({options});
        const shared = await share(aide, 6);
        aide.stop();
        return {{ ...shared, requests }};
    """)
    assert found["results"][:5] == [f"here:{i}" for i in range(5)]
    assert found["results"][5] == ("helper:5" if how == "fails" else "here:5")  # its first report counts
    assert found["helped"] == (1 if how == "fails" else 0)
    assert len(found["requests"]) == (0 if how == "one core" else 1)


def test_a_helper_that_cannot_boot_is_not_tried_again():
    found = run_module("""
        let failBoot = null;
        let made = 0;
        const aide = new helper.Helper({ cores: 4, workers: true, makeClient: (onReady, onBootError) => {
            made++;
            failBoot = onBootError;
            return { start() {}, stop() {}, request() { return new Promise(() => {}); } };
        } });
        aide.start();
        failBoot();
        aide.start();
        return { made, possible: aide.possible, client: aide.client === null };
    """)
    assert found == {"made": 1, "possible": False, "client": True}


def test_the_helper_needs_a_second_core_and_a_third_to_boot_early():
    found = run_module("""
        const make = (cores, workers = true) => {
            const aide = new helper.Helper({ cores, workers, makeClient: () => ({ start() {}, stop() {} }) });
            return [aide.possible, aide.early];
        };
        return [make(1), make(2), make(3), make(8), make(8, false)];
    """)
    assert found == [[False, False], [True, False], [True, True], [True, True], [False, False]]


def test_the_helper_stops_when_it_has_been_idle():
    found = run_module(FAKE_HELPER + """
        const timers = [];
        const realTimeout = globalThis.setTimeout;
        globalThis.setTimeout = (callback, ms) => {
            if (ms >= 1000) { timers.push({ callback, ms }); return timers.length; }
            return realTimeout(callback, ms);
        };
        globalThis.clearTimeout = (id) => { if (id && timers[id - 1]) timers[id - 1].cleared = true; };
        const aide = fakeHelper();
        await share(aide, 4);
        const afterWork = timers.filter((timer) => !timer.cleared).map((timer) => timer.ms);
        // A task here that fails (a Python error) still leaves the helper to stop when idle.
        const failed = await aide.share(4, () => { throw new Error("bad piece"); }, (first, last) => (
            { type: "deflate_pieces", payload: { first, last } }), () => [0, ""]).catch((error) => error.message);
        const afterFailure = timers.filter((timer) => !timer.cleared).map((timer) => timer.ms);
        for (const timer of timers) if (!timer.cleared) timer.callback();
        return { afterWork, failed, afterFailure, stopped: stopped.length, client: aide.client === null,
                 idle: helper.IDLE_MS };
    """)
    assert found["afterWork"] == [60_000] and found["idle"] == 60_000
    assert found["failed"] == "bad piece" and found["afterFailure"] == [60_000]
    assert found["stopped"] == 1 and found["client"]


# -- early-worker.js and worker-client.js ---------------------------------------------------------


def test_the_client_takes_the_worker_started_early_with_what_it_said_meanwhile():
    found = run_module("""
        const created = [];
        globalThis.Worker = class {
            constructor(url, options) { this.url = String(url); this.options = options; created.push(this); }
            postMessage() {}
            terminate() {}
        };
        early_worker.startEarlyWorker();
        early_worker.startEarlyWorker();  // once
        const worker = created[0];
        // The worker speaks before the page's modules have run: its boot steps are kept, in order.
        for (const stage of ["runtime", "numpy", "ready"]) {
            worker.onmessage({ data: { id: null, type: "status", payload: { stage } } });
        }
        const seen = [];
        const client = new worker_client.WorkerClient({ onStatus: ({ stage }) => seen.push(stage), onBootError: () => {} });
        client.start();
        worker.onmessage({ data: { id: null, type: "status", payload: { stage: "warm" } } });  // now the client's
        const extra = new worker_client.WorkerClient({ onStatus: () => {}, onBootError: () => {}, warmUp: false });
        extra.start();  // a batch's extra worker: a new one, never the early one
        const again = new worker_client.WorkerClient({ onStatus: () => {}, onBootError: () => {} });
        again.start();  // the early worker is given once
        return {
            created: created.map((w) => [w.url.split("/").pop(), w.options.name]),
            taken: client.worker === worker, seen, startedAfter: (early_worker.startEarlyWorker(), created.length),
        };
    """)
    assert found["created"] == [["worker.js", ""], ["worker.js", "no-warm-up"], ["worker.js", ""]]
    assert found["taken"] and found["seen"] == ["runtime", "numpy", "ready", "warm"]
    assert found["startedAfter"] == 3  # once taken, never started again


def test_a_worker_that_failed_before_the_client_took_it_is_replaced():
    found = run_module("""
        const created = [];
        globalThis.Worker = class {
            constructor() { this.terminated = false; created.push(this); }
            postMessage(message) { this.sent = message; }
            terminate() { this.terminated = true; }
        };
        early_worker.startEarlyWorker();
        created[0].onerror({ message: "could not start", preventDefault() {} });
        const client = new worker_client.WorkerClient({ onStatus: () => {}, onBootError: () => {} });
        client.start();
        const request = client.request("quantize", {});
        await new Promise((resolve) => setTimeout(resolve, 0));
        return { first: created[0].terminated, count: created.length, sent: created[1]?.sent?.type ?? null,
                 settled: await Promise.race([request.then(() => "resolved", () => "rejected"), Promise.resolve("pending")]) };
    """)
    # The failed early worker is dropped; the request goes to a fresh one.
    assert found == {"first": True, "count": 2, "sent": "quantize", "settled": "pending"}


# -- images.js ------------------------------------------------------------------------------------


def test_an_image_files_size_is_read_from_its_header():
    # How the page tells a photo too big to decode from a corrupt file: the size its header states.
    from PIL import Image, features

    files = {}
    for fmt, size, options in [("PNG", (301, 17), {}), ("GIF", (5, 260), {}), ("BMP", (40, 3), {}),
                               ("JPEG", (640, 427), {"exif": b"Exif\0\0" + b"\0" * 3000}),
                               ("JPEG", (33, 1000), {"progressive": True}), ("WEBP", (123, 45), {"lossless": True}),
                               ("WEBP", (124, 46), {"quality": 80}), ("WEBP", (125, 47), {"exif": b"Exif\0\0x"}),
                               ("AVIF", (77, 55), {})]:
        if fmt == "AVIF" and not features.check("avif"):
            continue  # (a Pillow built without libavif)
        buffer = io.BytesIO()
        Image.new("RGB", size, (200, 30, 90)).save(buffer, format=fmt, **options)
        files[f"{fmt}-{len(files)}"] = (base64.b64encode(buffer.getvalue()).decode(), list(size))
    files["text"] = (base64.b64encode(b"not an image at all, just words").decode(), None)
    files["truncated-jpeg"] = (base64.b64encode(b"\xff\xd8\xff\xe0\x00\x10JFIF").decode(), None)
    files["png-signature-then-junk"] = (base64.b64encode(b"\x89PNG\r\n\x1a\nthis is not really a png").decode(), None)
    found = run_module(f"""
        const files = {json.dumps(files)};
        const out = {{}};
        for (const [name, [data]] of Object.entries(files)) {{
            const size = await images.headerSize(new Blob([Buffer.from(data, "base64")]));
            out[name] = size && [size.width, size.height];
        }}
        return out;
    """)
    assert found == {name: size for name, (_data, size) in files.items()}
