// @ts-check
/** Decoding image files into ImageData, and the download's file name. */
import { nextTask, rowSlices } from "./draw.js";

/** Formats named in error messages: what Chromium, Firefox and Safari decode. */
export const ACCEPTED_FORMATS = "PNG, JPEG, WebP, GIF, AVIF or BMP";

/**
 * Decode an image file (the first frame of an animation) into RGBA pixels.
 * @param {Blob} blob
 * @param {string} name the file name, for messages
 * @param {number} maxMegapixels refuse larger images
 * @returns {Promise<ImageData>}
 */
export async function decodeImage(blob, name, maxMegapixels) {
  if (blob.size === 0) throw new Error(`“${name}” is empty (0 bytes). Choose an image file: ${ACCEPTED_FORMATS}.`);
  if (blob.type && !blob.type.startsWith("image/")) {
    throw new Error(`“${name}” is not an image (${blob.type}). Choose an image file: ${ACCEPTED_FORMATS}.`);
  }
  if (blob.type === "image/svg+xml" || /\.svgz?$/i.test(name)) {
    // An image type, but lines and shapes rather than pixels: the browser gives no bitmap of it here.
    throw new Error(
      `“${name}” is an SVG drawing (shapes, not pixels), which cannot be compressed here: export it as a PNG first. Accepted formats: ${ACCEPTED_FORMATS}.`,
    );
  }
  /** @type {ImageBitmap} */
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    // Too big for the browser to decode, or not an image: its header tells which.
    const size = await headerSize(blob).catch(() => null);
    if (size && size.width * size.height > maxMegapixels * 1e6) {
      throw new Error(`${tooManyPixels(`“${name}”`, size.width, size.height, maxMegapixels)}.`);
    }
    throw new Error(
      `“${name}” could not be decoded: it is not an image or it is corrupt. Accepted formats: ${ACCEPTED_FORMATS}.`,
    );
  }
  try {
    if (bitmap.width * bitmap.height > maxMegapixels * 1e6) {
      throw new Error(`${tooManyPixels(`“${name}”`, bitmap.width, bitmap.height, maxMegapixels)}.`);
    }
    return await readPixels(bitmap);
  } finally {
    bitmap.close();
  }
}

/**
 * An image's width and height as its file's header gives them, without decoding the pixels: so that a
 * photo too big for the browser to decode is told apart from a corrupt file. PNG, JPEG, GIF, BMP, WebP
 * and AVIF; null for anything else.
 * @param {Blob} blob
 * @returns {Promise<{width: number, height: number} | null>}
 */
export async function headerSize(blob) {
  const bytes = new Uint8Array(await blob.slice(0, 1 << 18).arrayBuffer());
  const view = new DataView(bytes.buffer);
  const text = (/** @type {number} */ at, /** @type {number} */ length) =>
    String.fromCharCode(...bytes.subarray(at, at + length));
  const size = (/** @type {number} */ width, /** @type {number} */ height) =>
    width > 0 && height > 0 ? { width, height } : null;
  if (bytes.length >= 24 && text(0, 8) === "\x89PNG\r\n\x1a\n" && text(12, 4) === "IHDR") {
    return size(view.getUint32(16), view.getUint32(20));
  }
  if (bytes.length >= 10 && (text(0, 6) === "GIF87a" || text(0, 6) === "GIF89a")) {
    return size(view.getUint16(6, true), view.getUint16(8, true));
  }
  if (bytes.length >= 26 && text(0, 2) === "BM" && [40, 52, 56, 108, 124].includes(view.getUint32(14, true))) {
    return size(Math.abs(view.getInt32(18, true)), Math.abs(view.getInt32(22, true)));
  }
  if (bytes.length >= 30 && text(0, 4) === "RIFF" && text(8, 4) === "WEBP") {
    const chunk = text(12, 4);
    if (chunk === "VP8X") return size(1 + (view.getUint32(24, true) & 0xffffff), 1 + (view.getUint32(27, true) & 0xffffff));
    if (chunk === "VP8L") {
      const bits = view.getUint32(21, true);
      return size(1 + (bits & 0x3fff), 1 + ((bits >> 14) & 0x3fff));
    }
    if (chunk === "VP8 ") return size(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
    return null;
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    // JPEG: walk the segments to the first start-of-frame (SOF0 to SOF15, not DHT, JPG or DAC).
    for (let at = 2; at + 9 < bytes.length; ) {
      if (bytes[at] !== 0xff) return null;
      const marker = bytes[at + 1];
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return size(view.getUint16(at + 7), view.getUint16(at + 5));
      }
      at += 2 + view.getUint16(at + 2);
    }
    return null;
  }
  if (bytes.length >= 12 && text(4, 4) === "ftyp" && text(8, 4).startsWith("avi")) {
    // AVIF: the image's spatial extent ("ispe") box.
    for (let at = 12; at + 16 <= bytes.length; at++) {
      if (text(at, 4) === "ispe") return size(view.getUint32(at + 8), view.getUint32(at + 12));
    }
  }
  return null;
}

/**
 * The message for an image over the size limit: its size, the limit, and the size to scale it to
 * (kmeans.options.too_many_pixels, which the CLI and the worker say).
 * @param {string} name
 * @param {number} width
 * @param {number} height
 * @param {number} maxMegapixels
 */
export function tooManyPixels(name, width, height, maxMegapixels) {
  const scale = Math.sqrt((maxMegapixels * 1e6) / (width * height));
  let fitWidth = Math.max(1, Math.floor(width * scale));
  let fitHeight = Math.max(1, Math.floor(height * scale));
  while (fitWidth * fitHeight > maxMegapixels * 1e6) {
    fitWidth -= 1;
    fitHeight = Math.max(1, Math.floor((height * fitWidth) / width));
  }
  return (
    `${name} is ${width}×${height} (${((width * height) / 1e6).toFixed(1)} megapixels); the limit is ` +
    `${maxMegapixels} megapixels: scale it down first, to at most ${fitWidth}×${fitHeight} (the same shape)`
  );
}

/**
 * The RGBA pixels of a decoded image. A big photo is read a slice of rows at a time, letting the
 * page handle input between slices: reading 100 megapixels at once would freeze it for a second.
 * @param {ImageBitmap} bitmap
 * @returns {Promise<ImageData>}
 */
async function readPixels(bitmap) {
  const { width, height } = bitmap;
  const slices = [...rowSlices(width, height)];
  const canvas = new OffscreenCanvas(width, slices[0][1]);
  const context = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext("2d", { willReadFrequently: true }));
  if (slices.length === 1) {
    context.drawImage(bitmap, 0, 0);
    return context.getImageData(0, 0, width, height);
  }
  const imageData = new ImageData(width, height);
  for (const [top, rows] of slices) {
    if (top > 0) await nextTask();
    context.clearRect(0, 0, width, canvas.height); // drawing blends with what is there: transparent pixels would not replace it
    context.drawImage(bitmap, 0, top, width, rows, 0, 0, width, rows);
    imageData.data.set(context.getImageData(0, 0, width, rows).data, top * width * 4);
  }
  return imageData;
}

/**
 * A copy of an image's RGBA bytes, to transfer to a worker while the image stays drawable. One
 * memory copy: `new Uint8Array(imageData.data)` converts byte by byte, a second for 48 megapixels.
 * @param {ImageData} imageData
 */
export function copyPixels(imageData) {
  const { buffer, byteOffset, byteLength } = imageData.data;
  return new Uint8Array(buffer.slice(byteOffset, byteOffset + byteLength));
}

/**
 * The output's name, as the CLI writes it (kmeans.files.output_name): `photo.jpg` → `photo-16colors.png`;
 * with targets `photo-200kb.png`, `photo-q70.png` or `photo-200kb-q70.png`.
 * @param {string} name
 * @param {number} nColors
 * @param {{maxKb?: number | null, minQuality?: number | null}} [targets]
 */
export function outputName(name, nColors, targets = {}) {
  const stem = name.replace(/\.[^./\\]*$/, "") || "image";
  return `${stem}-${outputSuffix(nColors, targets)}.png`;
}

/**
 * What an output's name ends with: `16colors`, `200kb`, `q70` or `200kb-q70`.
 * @param {number} nColors
 * @param {{maxKb?: number | null, minQuality?: number | null}} [targets]
 */
export function outputSuffix(nColors, { maxKb = null, minQuality = null } = {}) {
  const parts = [];
  if (maxKb !== null && maxKb !== undefined) parts.push(`${maxKb}kb`);
  if (minQuality !== null && minQuality !== undefined) parts.push(`q${minQuality}`);
  return parts.length ? parts.join("-") : `${nColors}colors`;
}

/** Files the batch takes from a folder: what Chromium, Firefox and Safari decode (not RAW, HEIC, TIFF, SVG). */
export const IMAGE_TYPES = Object.freeze([
  "image/png", "image/jpeg", "image/webp", "image/gif", "image/avif", "image/bmp", "image/x-ms-bmp",
]);
/** The same, by extension, for files a folder gives without a type. */
export const IMAGE_EXTENSIONS = Object.freeze([".png", ".jpg", ".jpeg", ".jfif", ".webp", ".gif", ".avif", ".bmp"]);

/**
 * Whether a file found in a folder is an image the page can decode (by its type, else its extension);
 * hidden files (.DS_Store, macOS's ._photo.jpg) and files in hidden folders (.thumbnails/) are not.
 * @param {File} file
 */
export function looksLikeImage(file) {
  const path = file.webkitRelativePath || file.name;
  if (path.split("/").some((part) => part.startsWith("."))) return false;
  if (file.type) return IMAGE_TYPES.includes(file.type);
  const name = file.name.toLowerCase();
  return IMAGE_EXTENSIONS.some((extension) => name.endsWith(extension));
}
