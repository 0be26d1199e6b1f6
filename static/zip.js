// @ts-check
/**
 * A zip file made of Blobs the page already holds, without copying them: PNGs are deflated already,
 * so entries are "stored" (method 0), and the zip is one Blob whose parts are each file's small header
 * and the file's own Blob. The browser keeps Blob parts by reference, so a zip of a thousand outputs
 * costs a few kilobytes more than the outputs themselves. See PKWARE's APPNOTE.TXT, sections 4.3–4.4.
 */

/** CRC-32 (the zip's and the PNG's: polynomial 0xEDB88320), one table for every call. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 of some bytes (the zip needs it before the file's bytes, so it is taken when the bytes
 * are at hand, before they become a Blob).
 * @param {Uint8Array} bytes
 */
export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Most bytes a zip without the zip64 extension can hold (offsets are 32-bit). */
export const MAX_ZIP_BYTES = 0xffffffff;
/** Most entries a zip without zip64 can hold. */
export const MAX_ZIP_ENTRIES = 0xffff;

/**
 * @typedef {object} ZipEntry
 * @property {string} name its path in the zip, with "/" between folders
 * @property {Blob} blob
 * @property {number} crc its crc32
 * @property {Date} [date] shown as the file's time (default: now)
 */

/**
 * One zip of the entries, names made unique ("a.png", "a (2).png").
 * @param {ZipEntry[]} entries
 * @returns {Blob}
 */
export function zipBlob(entries) {
  if (entries.length > MAX_ZIP_ENTRIES) {
    throw new Error(`A zip holds at most ${MAX_ZIP_ENTRIES} files; there are ${entries.length}. Download them in parts.`);
  }
  const encoder = new TextEncoder();
  const names = uniqueNames(entries.map((entry) => entry.name));
  /** @type {BlobPart[]} */
  const parts = [];
  /** @type {Uint8Array[]} */
  const central = [];
  let offset = 0;
  entries.forEach((entry, i) => {
    const name = encoder.encode(names[i]);
    const { time, date } = dosDateTime(entry.date || new Date());
    const size = entry.blob.size;
    // The local file header (30 bytes + name), then the bytes themselves.
    const local = new DataView(new ArrayBuffer(30 + name.length));
    local.setUint32(0, 0x04034b50, true);
    writeCommon(local, 4, { time, date, crc: entry.crc, size, nameLength: name.length });
    new Uint8Array(local.buffer).set(name, 30);
    // The central directory's record of it (46 bytes + name).
    const record = new DataView(new ArrayBuffer(46 + name.length));
    record.setUint32(0, 0x02014b50, true);
    record.setUint16(4, 20, true); // made by: version 2.0
    writeCommon(record, 6, { time, date, crc: entry.crc, size, nameLength: name.length });
    record.setUint32(42, offset, true); // where its local header starts
    new Uint8Array(record.buffer).set(name, 46);
    parts.push(local.buffer, entry.blob);
    central.push(new Uint8Array(record.buffer));
    offset += local.byteLength + size;
  });
  const centralSize = central.reduce((sum, record) => sum + record.length, 0);
  if (offset + centralSize + 22 > MAX_ZIP_BYTES) {
    throw new Error("These outputs add up to more than 4 GB, more than one zip can hold. Download them in parts.");
  }
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true); // entries on this disk
  end.setUint16(10, entries.length, true); // entries in all
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true); // where the central directory starts
  return new Blob([...parts, ...central, end.buffer], { type: "application/zip" });
}

/**
 * The fields a local header and a central record share, from "version needed" to the name's length.
 * @param {DataView} view
 * @param {number} at
 * @param {{time: number, date: number, crc: number, size: number, nameLength: number}} fields
 */
function writeCommon(view, at, { time, date, crc, size, nameLength }) {
  view.setUint16(at, 20, true); // version needed to extract: 2.0
  view.setUint16(at + 2, 0x0800, true); // flags: the name is UTF-8
  view.setUint16(at + 4, 0, true); // method: stored
  view.setUint16(at + 6, time, true);
  view.setUint16(at + 8, date, true);
  view.setUint32(at + 10, crc, true);
  view.setUint32(at + 14, size, true); // compressed size
  view.setUint32(at + 18, size, true); // uncompressed size
  view.setUint16(at + 22, nameLength, true);
}

/**
 * MS-DOS time and date, as zip headers hold them (local time, 2-second steps, from 1980).
 * @param {Date} when
 */
function dosDateTime(when) {
  const year = Math.max(1980, when.getFullYear());
  return {
    time: (when.getHours() << 11) | (when.getMinutes() << 5) | (when.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((when.getMonth() + 1) << 5) | when.getDate(),
  };
}

/**
 * The names with repeats told apart: the second "a.png" becomes "a (2).png".
 * @param {string[]} names
 */
export function uniqueNames(names) {
  const taken = new Set();
  return names.map((name) => {
    let candidate = name;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = name.replace(/(\.[^./]*)?$/, ` (${n})$1`);
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}
