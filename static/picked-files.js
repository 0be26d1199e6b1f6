// @ts-check
/**
 * The files a user gives the page: chosen (one or many), a chosen folder, or dropped (files and whole
 * folders). Files chosen one by one are all kept, so a file that is not an image gets its own row and
 * message; from a folder only images are taken (folders hold .DS_Store, notes, RAW files…), and the
 * rest are counted.
 */
import { looksLikeImage } from "./images.js";

/**
 * @typedef {object} Picked
 * @property {{file: File, path: string}[]} files path: the name, with the folders it was found in
 * @property {number} skipped files in folders that are not images (or could not be read)
 * @property {string} folder the folder's name, when one was given ("" otherwise)
 * @property {boolean} fromFolder a folder was chosen or dropped (an empty one gives no files, and no name)
 */

/**
 * The files of a file input (with `webkitdirectory`, a folder's files, each with its relative path).
 * @param {HTMLInputElement} input
 * @returns {Picked}
 */
export function pickedFromInput(input) {
  const all = [...(input.files || [])];
  if (!input.webkitdirectory) {
    return { files: all.map((file) => ({ file, path: file.name })), skipped: 0, folder: "", fromFolder: false };
  }
  const images = all.filter(looksLikeImage).sort((a, b) => byPath(a.webkitRelativePath, b.webkitRelativePath));
  const folder = all[0]?.webkitRelativePath.split("/")[0] || "";
  return {
    files: images.map((file) => ({ file, path: file.webkitRelativePath || file.name })),
    skipped: all.length - images.length,
    folder,
    fromFolder: true,
  };
}

/**
 * The files of a drop, reading dropped folders through (their images only).
 * @param {DataTransfer} transfer
 * @returns {Promise<Picked>}
 */
export async function pickedFromDrop(transfer) {
  // Entries must be taken before the first await: the DataTransfer is emptied when the handler returns.
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((entry) => entry);
  if (!entries.some((entry) => entry?.isDirectory)) {
    return { files: [...transfer.files].map((file) => ({ file, path: file.name })), skipped: 0, folder: "", fromFolder: false };
  }
  /** @type {{file: File, path: string}[]} */
  const files = [];
  let skipped = 0;
  /** @param {any} entry @param {string} prefix */
  async function walk(entry, prefix) {
    if (entry.isFile) {
      /** @type {File | null} */
      const file = await new Promise((resolve) => entry.file(resolve, () => resolve(null)));
      // A file that cannot be read (gone, or no permission) is left out like a non-image; the rest go on.
      if (file && (!prefix || looksLikeImage(file))) files.push({ file, path: prefix + file.name });
      else skipped++;
      return;
    }
    const reader = entry.createReader();
    for (;;) {
      // readEntries gives at most 100 entries a call; an empty batch means the folder is read.
      /** @type {any[]} */
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
    }
  }
  for (const entry of entries) await walk(entry, "");
  files.sort((a, b) => byPath(a.path, b.path));
  const folder = entries.find((entry) => entry?.isDirectory)?.name || "";
  return { files, skipped, folder, fromFolder: true };
}

/**
 * Folder order, as a file manager shows it: by path, numbers by value ("p2" before "p10").
 * @param {string} a
 * @param {string} b
 */
function byPath(a, b) {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
}
