// @ts-check
/**
 * The main page's "Embed this in a blog post" box: an <iframe> snippet for embed.html at this
 * site's own address, with the image address the user typed and the page's K. The snippet is text
 * in a <textarea> (value, never HTML).
 */
import { QUANTIZE_OPTIONS } from "./protocol.js";

const EMBED_URL = new URL("../embed.html", import.meta.url);
const FRAME_SIZE = { width: 720, height: 400 };

/**
 * Return the embed address for an image address (empty: the sample photo) and K.
 * @param {string} src
 * @param {string} k
 */
export function embedAddress(src, k) {
  const url = new URL(EMBED_URL);
  if (src.trim()) url.searchParams.set("src", src.trim());
  url.searchParams.set("k", k);
  return url.href;
}

/**
 * The <iframe> snippet for an embed address.
 * @param {string} address
 */
export function iframeSnippet(address) {
  const attribute = (/** @type {string} */ value) => value.replaceAll("&", "&amp;").replaceAll('"', "&quot;");
  return (
    `<iframe src="${attribute(address)}" title="K-means image compression"` +
    ` width="${FRAME_SIZE.width}" height="${FRAME_SIZE.height}" loading="lazy"` +
    ` style="border: 0; max-width: 100%;"></iframe>`
  );
}

/** Fill in the snippet and keep it up to date with the image address and K; wire the Copy button. */
export function showEmbedSnippet() {
  const code = /** @type {HTMLTextAreaElement | null} */ (document.getElementById("embed-code"));
  const src = /** @type {HTMLInputElement | null} */ (document.getElementById("embed-src"));
  const k = /** @type {HTMLInputElement | null} */ (document.getElementById("k"));
  const copy = /** @type {HTMLButtonElement | null} */ (document.getElementById("embed-copy"));
  if (!code || !src) return;
  const update = () => {
    code.value = iframeSnippet(embedAddress(src.value, k?.value || String(QUANTIZE_OPTIONS.n_colors.default)));
    if (copy) copy.textContent = "Copy";
  };
  src.addEventListener("input", update);
  k?.addEventListener("input", update);
  copy?.addEventListener("click", async () => {
    code.select();
    try {
      await navigator.clipboard.writeText(code.value);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Press Ctrl+C to copy"; // the text is selected
    }
  });
  update();
}
