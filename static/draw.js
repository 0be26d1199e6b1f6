// @ts-check
/** Everything that touches a canvas 2-D context or builds the palette swatches. */

/**
 * Draw RGBA pixels on a canvas, sizing the canvas to the image's own pixel size.
 * @param {HTMLCanvasElement} canvas
 * @param {ImageData} imageData
 */
export function drawImageData(canvas, imageData) {
  canvas.width = imageData.width;
  canvas.height = imageData.height;
  /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d")).putImageData(imageData, 0, 0);
}

/**
 * Rebuild the quantized image from its palette indices: one 32-bit copy per pixel.
 * @param {Uint8Array} indices one palette index per pixel
 * @param {Uint8Array} palette RGBA, 4 bytes per colour
 * @param {number} width
 * @param {number} height
 * @returns {ImageData}
 */
export function paletteToImageData(indices, palette, width, height) {
  const colours = new Uint32Array(palette.buffer, palette.byteOffset, palette.length / 4);
  const out = new Uint32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = colours[indices[i]];
  return new ImageData(new Uint8ClampedArray(out.buffer), width, height);
}

/**
 * `#rrggbb` for palette entry `index`.
 * @param {Uint8Array} palette RGBA
 * @param {number} index
 */
export function hexColour(palette, index) {
  const hex = (/** @type {number} */ v) => v.toString(16).padStart(2, "0");
  const at = index * 4;
  return `#${hex(palette[at])}${hex(palette[at + 1])}${hex(palette[at + 2])}`;
}

/**
 * Fill `container` with one swatch per palette colour, labelled with its hex code (text only, never HTML).
 * @param {HTMLElement} container
 * @param {Uint8Array} palette RGBA
 */
export function drawPalette(container, palette) {
  const swatches = [];
  for (let index = 0; index < palette.length / 4; index++) {
    const swatch = document.createElement("li");
    const colour = hexColour(palette, index);
    const alpha = palette[index * 4 + 3];
    swatch.className = "swatch";
    swatch.style.setProperty("--swatch", alpha === 255 ? colour : `${colour}${alpha.toString(16).padStart(2, "0")}`);
    swatch.dataset.colour = colour;
    swatch.title = alpha === 255 ? colour : `${colour}, alpha ${alpha}`;
    const label = document.createElement("span");
    label.textContent = alpha === 0 ? "transparent" : colour;
    swatch.append(label);
    swatches.push(swatch);
  }
  container.replaceChildren(...swatches);
}
