// @ts-check
/**
 * The comparison view (#compare): the original and the compressed image one over the other, a line
 * that splits them (drag it, or use #compare-split), zoom (#compare-zoom: fit, 1:1, 2:1, 4:1) and drag
 * to pan, as Squoosh's view. The two images are held full size in #compare-original and
 * #compare-result, which are never shown themselves: one canvas the size of the viewport is painted
 * from them (the original left of the line, the compressed image right of it) whenever the view
 * changes, at most once a frame. A full-size canvas on screen would cost the browser a copy of all of
 * its pixels whenever it composites the page (over a second for 48 megapixels without a GPU).
 *
 * State for tests: #compare's data-zoom (the scale shown), data-split (percent) and data-pan ("x,y").
 */
import { copyCanvas, sizeCanvas } from "./draw.js";

/** Pointer within this many CSS pixels of the line drags the line, not the image. */
const LINE_GRAB = 24;

/**
 * @param {{root: HTMLElement, original: HTMLCanvasElement, result: HTMLCanvasElement,
 *          split: HTMLInputElement, zoom: HTMLSelectElement}} elements
 */
export function setUpCompare({ root, original, result, split, zoom }) {
  const viewport = /** @type {HTMLElement} */ (root.querySelector(".compare-viewport"));
  const display = /** @type {HTMLCanvasElement} */ (root.querySelector(".compare-display"));
  const line = /** @type {HTMLElement} */ (root.querySelector(".compare-line"));
  const shownOriginal = /** @type {HTMLCanvasElement} */ (root.querySelector("#compare-original"));
  const shownResult = /** @type {HTMLCanvasElement} */ (root.querySelector("#compare-result"));
  let pan = { x: 0, y: 0 };
  let scale = 1;
  /** Where the line cuts the image, in image pixels (set by render, read by paint). */
  let cut = 0;
  /** A paint is scheduled for the next frame. */
  let painting = false;
  /** A new image: the next render centres it, whatever the zoom (not its top-left corner at 2:1). */
  let centre = true;

  /** The tallest the view gets, in CSS pixels. */
  const maxHeight = () => window.innerHeight * 0.7;

  /** The scale of "fit": the whole image in the viewport, never enlarged. */
  function fitScale() {
    const width = shownOriginal.width || 1;
    const height = shownOriginal.height || 1;
    return Math.min(1, viewport.getBoundingClientRect().width / width, maxHeight() / height);
  }

  /** Keep the image over the viewport: no panning past its edges. */
  function clampPan() {
    const box = viewport.getBoundingClientRect();
    const width = shownOriginal.width * scale;
    const height = shownOriginal.height * scale;
    const limit = (/** @type {number} */ size, /** @type {number} */ room, /** @type {number} */ value) =>
      size <= room ? (room - size) / 2 : Math.min(0, Math.max(room - size, value));
    pan = { x: limit(width, box.width, pan.x), y: limit(height, box.height, pan.y) };
  }

  /** Work out the view (zoom, pan, line) and its state attributes now; paint it on the next frame. */
  function render() {
    scale = zoom.value === "fit" ? fitScale() : Number(zoom.value);
    viewport.style.height = `${Math.min(shownOriginal.height * scale, maxHeight())}px`;
    const box = viewport.getBoundingClientRect();
    if (centre) {
      pan = { x: (box.width - shownOriginal.width * scale) / 2, y: (box.height - shownOriginal.height * scale) / 2 };
      centre = false;
    }
    clampPan();
    const percent = Number(split.value);
    // The line sits at `percent` of the viewport; the result shows to its right.
    const lineX = (box.width * percent) / 100;
    cut = Math.max(0, Math.min(shownOriginal.width, (lineX - pan.x) / scale));
    line.style.left = `${lineX}px`;
    root.dataset.zoom = String(Math.round(scale * 1000) / 1000);
    root.dataset.split = String(percent);
    root.dataset.pan = `${Math.round(pan.x)},${Math.round(pan.y)}`;
    if (!painting) {
      painting = true;
      requestAnimationFrame(paint);
    }
  }

  /** Paint the viewport's canvas from the full-size images, at the view render() worked out. */
  function paint() {
    painting = false;
    const box = viewport.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(box.width * ratio);
    const height = Math.round(box.height * ratio);
    sizeCanvas(display, width, height);
    const context = /** @type {CanvasRenderingContext2D} */ (display.getContext("2d"));
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, width, height);
    if (!shownOriginal.width || !shownOriginal.height) return;
    // Enlarged: every image pixel a sharp square. Reduced: averaged, so fine dithering does not alias
    // (the browser keeps the reduced copies it makes: after the first paint of a new image, quick).
    context.imageSmoothingEnabled = scale < 1;
    context.imageSmoothingQuality = "high";
    // On whole device pixels: at 1:1 each image pixel is then exactly one of the canvas's, not a blend of two.
    context.setTransform(scale * ratio, 0, 0, scale * ratio, Math.round(pan.x * ratio), Math.round(pan.y * ratio));
    const layers = [[shownOriginal, 0, cut]];
    if (!shownResult.hidden && shownResult.width) layers.push([shownResult, cut, shownOriginal.width]);
    for (const [source, from, to] of /** @type {[HTMLCanvasElement, number, number][]} */ (layers)) {
      if (to <= from) continue;
      context.save();
      context.beginPath();
      context.rect(from, 0, to - from, shownOriginal.height);
      context.clip();
      context.drawImage(source, 0, 0);
      context.restore();
    }
  }

  /** Draw the latest original and result into the view (a new image); in slices for a big one. */
  async function update() {
    if (!(await copyCanvas(original, shownOriginal))) return; // a newer image took over
    centre = true;
    await updateResult();
  }

  /**
   * Draw the latest result into the view, the original and the view's place unchanged (after a run, or
   * a palette entry lit up): copying a big photo's canvas takes a while.
   */
  async function updateResult() {
    if (!(await copyCanvas(result, shownResult))) return;
    shownResult.hidden = result.width === 0;
    render();
  }

  /**
   * Make room for a result of width x height while it is computed (see sizeCanvas): a new size is
   * taken while the result is hidden, the size of the one on screen is kept.
   * @param {number} width
   * @param {number} height
   */
  function prepareResult(width, height) {
    if (shownResult.hidden) sizeCanvas(shownResult, width, height);
  }

  /** @type {{mode: "line" | "pan", x: number, y: number, panX: number, panY: number} | null} */
  let drag = null;
  viewport.addEventListener("pointerdown", (event) => {
    const box = viewport.getBoundingClientRect();
    const lineX = (box.width * Number(split.value)) / 100;
    const nearLine = Math.abs(event.clientX - box.left - lineX) <= LINE_GRAB;
    drag = { mode: nearLine ? "line" : "pan", x: event.clientX, y: event.clientY, panX: pan.x, panY: pan.y };
    viewport.setPointerCapture(event.pointerId);
    viewport.classList.add(nearLine ? "dragging-line" : "dragging");
  });
  viewport.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (drag.mode === "line") {
      const box = viewport.getBoundingClientRect();
      split.value = String(Math.max(0, Math.min(100, ((event.clientX - box.left) / box.width) * 100)));
    } else {
      pan = { x: drag.panX + event.clientX - drag.x, y: drag.panY + event.clientY - drag.y };
    }
    render();
  });
  const endDrag = () => {
    drag = null;
    viewport.classList.remove("dragging", "dragging-line");
  };
  viewport.addEventListener("pointerup", endDrag);
  viewport.addEventListener("pointercancel", endDrag);
  split.addEventListener("input", render);
  zoom.addEventListener("change", () => {
    // Zoom around the middle of what is shown.
    const box = viewport.getBoundingClientRect();
    const before = scale;
    const after = zoom.value === "fit" ? fitScale() : Number(zoom.value);
    pan = {
      x: box.width / 2 - ((box.width / 2 - pan.x) * after) / before,
      y: box.height / 2 - ((box.height / 2 - pan.y) * after) / before,
    };
    render();
  });
  window.addEventListener("resize", render);
  return { update, updateResult, prepareResult, render };
}
