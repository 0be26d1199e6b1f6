// @ts-check
/** Decoding image files into ImageData, and the download's file name. */

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
  /** @type {ImageBitmap} */
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(
      `“${name}” could not be decoded: it is not an image or it is corrupt. Accepted formats: ${ACCEPTED_FORMATS}.`,
    );
  }
  try {
    const megapixels = (bitmap.width * bitmap.height) / 1e6;
    if (megapixels > maxMegapixels) {
      throw new Error(
        `“${name}” is ${bitmap.width}×${bitmap.height} (${megapixels.toFixed(1)} megapixels); ` +
          `the limit is ${maxMegapixels} megapixels. Scale it down first.`,
      );
    }
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = /** @type {OffscreenCanvasRenderingContext2D} */ (canvas.getContext("2d", { willReadFrequently: true }));
    context.drawImage(bitmap, 0, 0);
    return context.getImageData(0, 0, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
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
