// @ts-check
/**
 * The comparison view (#compare): the original and the compressed image one over the other, a line
 * that splits them (drag it, or use #compare-split), zoom (#compare-zoom: fit, 1:1, 2:1, 4:1) and drag
 * to pan. Squoosh's view, in plain DOM: the two canvases sit in one stage that is moved and scaled
 * with a CSS transform, and the compressed one is clipped at the line.
 *
 * State for tests: #compare's data-zoom (the scale shown), data-split (percent) and data-pan ("x,y").
 */
import { copyCanvas } from "./draw.js";

/** Pointer within this many CSS pixels of the line drags the line, not the image. */
const LINE_GRAB = 24;

/**
 * @param {{root: HTMLElement, original: HTMLCanvasElement, result: HTMLCanvasElement,
 *          split: HTMLInputElement, zoom: HTMLSelectElement}} elements
 */
export function setUpCompare({ root, original, result, split, zoom }) {
  const viewport = /** @type {HTMLElement} */ (root.querySelector(".compare-viewport"));
  const stage = /** @type {HTMLElement} */ (root.querySelector(".compare-stage"));
  const line = /** @type {HTMLElement} */ (root.querySelector(".compare-line"));
  const shownOriginal = /** @type {HTMLCanvasElement} */ (root.querySelector("#compare-original"));
  const shownResult = /** @type {HTMLCanvasElement} */ (root.querySelector("#compare-result"));
  let pan = { x: 0, y: 0 };
  let scale = 1;

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

  function render() {
    scale = zoom.value === "fit" ? fitScale() : Number(zoom.value);
    viewport.style.height = `${Math.min(shownOriginal.height * scale, maxHeight())}px`;
    clampPan();
    stage.style.transform = `translate(${pan.x}px, ${pan.y}px) scale(${scale})`;
    viewport.classList.toggle("pixelated", scale > 1);
    const percent = Number(split.value);
    // The line sits at `percent` of the viewport; the result shows to its right.
    const box = viewport.getBoundingClientRect();
    const lineX = (box.width * percent) / 100;
    const cut = Math.max(0, Math.min(shownOriginal.width, (lineX - pan.x) / scale));
    shownResult.style.clipPath = `inset(0 0 0 ${cut}px)`;
    line.style.left = `${lineX}px`;
    root.dataset.zoom = String(Math.round(scale * 1000) / 1000);
    root.dataset.split = String(percent);
    root.dataset.pan = `${Math.round(pan.x)},${Math.round(pan.y)}`;
  }

  /** Draw the latest original and result into the view (after a run, or a new image). */
  function update() {
    copyCanvas(original, shownOriginal);
    pan = { x: 0, y: 0 };
    updateResult();
  }

  /**
   * Draw the latest result into the view, the original and the view's place unchanged (after a run, or
   * a palette entry lit up): copying a big photo's canvas takes a while.
   */
  function updateResult() {
    copyCanvas(result, shownResult);
    shownResult.hidden = result.width === 0;
    render();
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
  return { update, updateResult, render };
}
