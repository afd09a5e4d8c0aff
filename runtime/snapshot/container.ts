/**
 * The snapshot file container: a magic, a format version and a list of named sections, each
 * with its own encoding and CRC-32. It knows nothing about machines; pc-snapshot.ts decides what
 * the sections hold. Layout (all integers little-endian):
 *
 *   magic     8 bytes  89 'W' 'V' 'S' 'N' 'A' 'P' 0A (the 0x89 and the newline catch text-mode
 *                      transfers, as PNG's signature does)
 *   version   u32      FORMAT_VERSION
 *   count     u32      number of sections
 *   then `count` sections:
 *     nameLen u16, name (UTF-8), encoding u8 (0 raw, 1 deflate), rawLen u32 (bytes after
 *     decoding), storedLen u32, crc u32 (CRC-32 of the stored bytes), the stored bytes.
 *
 * Reading never trusts a length: a section that runs past the end is "truncated", bytes after
 * the last section are "trailing garbage", a CRC or decode failure is "corrupt" — each a
 * SnapshotError naming the section, never a host crash.
 */
import { crc32, deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';

export const MAGIC = Uint8Array.of(0x89, 0x57, 0x56, 0x53, 0x4e, 0x41, 0x50, 0x0a);
/** Bumped whenever the container or any section's layout changes incompatibly. */
export const FORMAT_VERSION = 1;

/** How a section's bytes are stored. */
export const ENC_RAW = 0;
export const ENC_DEFLATE = 1;

/** A snapshot that cannot be used: not one, truncated, corrupt, or made for another machine. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** A section to write: its decoded bytes and whether to compress them. */
export interface SectionInput {
  name: string;
  data: Uint8Array;
  compress: boolean;
}

/**
 * zlib level for compressed sections: 1 (fastest). On the 43 MiB of non-zero RAM of the default
 * guest at its prompt, level 6 gave 20.2 MiB instead of 21.0 MiB for 1.7 times the time.
 */
const LEVEL = 1;
const deflateAsync = promisify(deflateRaw);
const inflateAsync = promisify(inflateRaw);

/** Encodes the sections into one snapshot file; compression runs on libuv's thread pool. */
export async function writeContainer(sections: readonly SectionInput[]): Promise<Uint8Array> {
  const stored = await Promise.all(sections.map(async (s) => (s.compress ? new Uint8Array(await deflateAsync(s.data, { level: LEVEL })) : s.data)));
  return assemble(sections, stored);
}

/** The same, synchronously. */
export function writeContainerSync(sections: readonly SectionInput[]): Uint8Array {
  return assemble(sections, sections.map((s) => (s.compress ? new Uint8Array(deflateRawSync(s.data, { level: LEVEL })) : s.data)));
}

function assemble(sections: readonly SectionInput[], stored: readonly Uint8Array[]): Uint8Array {
  const names = sections.map((s) => new TextEncoder().encode(s.name));
  let size = MAGIC.length + 8;
  sections.forEach((_s, k) => (size += 2 + names[k].length + 1 + 12 + stored[k].length));
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let at = MAGIC.length;
  dv.setUint32(at, FORMAT_VERSION, true);
  dv.setUint32(at + 4, sections.length, true);
  at += 8;
  sections.forEach((s, k) => {
    if (names[k].length > 0xffff) throw new RangeError(`snapshot section name too long: ${s.name}`);
    dv.setUint16(at, names[k].length, true);
    out.set(names[k], at + 2);
    at += 2 + names[k].length;
    out[at] = s.compress ? ENC_DEFLATE : ENC_RAW;
    dv.setUint32(at + 1, s.data.length, true);
    dv.setUint32(at + 5, stored[k].length, true);
    dv.setUint32(at + 9, crc32(stored[k]), true);
    at += 13;
    out.set(stored[k], at);
    at += stored[k].length;
  });
  return out;
}

/** The decoded sections of a snapshot file, by name, in file order. */
export type Sections = Map<string, Uint8Array>;

/** A section as stored: checked against its CRC, not decoded yet. */
interface StoredSection {
  name: string;
  enc: number;
  rawLen: number;
  stored: Uint8Array;
}

/** Checks and decodes a snapshot file. Throws SnapshotError for anything but a sound file. */
export function readContainer(bytes: Uint8Array): Sections {
  return new Map(parse(bytes).map((s) => [s.name, decodeWith(s, (b, max) => new Uint8Array(inflateRawSync(b, { maxOutputLength: max })))]));
}

/** The same, decompressing the sections in parallel on libuv's thread pool. */
export async function readContainerAsync(bytes: Uint8Array): Promise<Sections> {
  const parsed = parse(bytes);
  const data = await Promise.all(parsed.map(async (s) => {
    if (s.enc !== ENC_DEFLATE) return decodeWith(s, () => new Uint8Array(0));
    let raw: Uint8Array;
    try {
      raw = new Uint8Array(await inflateAsync(s.stored, { maxOutputLength: Math.max(s.rawLen, 1) }));
    } catch (e) {
      throw new SnapshotError(`snapshot corrupt: section '${s.name}' does not decompress (${(e as Error).message})`);
    }
    return decodeWith({ ...s, enc: ENC_RAW, stored: raw }, () => new Uint8Array(0));
  }));
  return new Map(parsed.map((s, k) => [s.name, data[k]]));
}

/** The decoded bytes of a section (`inflate` for deflated ones), checked against its length. */
function decodeWith(s: StoredSection, inflate: (b: Uint8Array, maxOutputLength: number) => Uint8Array): Uint8Array {
  let data: Uint8Array;
  if (s.enc === ENC_RAW) data = s.stored;
  else if (s.enc === ENC_DEFLATE) {
    try {
      data = inflate(s.stored, Math.max(s.rawLen, 1));
    } catch (e) {
      throw new SnapshotError(`snapshot corrupt: section '${s.name}' does not decompress (${(e as Error).message})`);
    }
  } else throw new SnapshotError(`snapshot corrupt: section '${s.name}' has unknown encoding ${s.enc}`);
  if (data.length !== s.rawLen) throw new SnapshotError(`snapshot corrupt: section '${s.name}' decodes to ${data.length} bytes, expected ${s.rawLen}`);
  return data;
}

/** The sections of a file, every length and CRC checked. */
function parse(bytes: Uint8Array): StoredSection[] {
  if (!(bytes instanceof Uint8Array)) throw new SnapshotError('a snapshot must be given as bytes (a Uint8Array)');
  if (bytes.length < MAGIC.length || MAGIC.some((b, k) => bytes[k] !== b)) {
    throw new SnapshotError('not a wasmvisor snapshot (bad magic number)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number, what: string): void => {
    if (at + n > bytes.length) throw new SnapshotError(`snapshot truncated: ${what} needs ${n} bytes at offset ${at}, the file has ${bytes.length}`);
  };
  let at = MAGIC.length;
  need(at, 8, 'the header');
  const version = dv.getUint32(at, true);
  if (version !== FORMAT_VERSION) {
    throw new SnapshotError(`snapshot format version ${version} is not supported (this build reads version ${FORMAT_VERSION})`);
  }
  const count = dv.getUint32(at + 4, true);
  at += 8;
  const out: StoredSection[] = [];
  const names = new Set<string>();
  for (let k = 0; k < count; k++) {
    need(at, 2, `section ${k + 1} of ${count}`);
    const nameLen = dv.getUint16(at, true);
    need(at + 2, nameLen + 13, `section ${k + 1} of ${count}`);
    const name = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(at + 2, at + 2 + nameLen));
    at += 2 + nameLen;
    const enc = bytes[at];
    const rawLen = dv.getUint32(at + 1, true);
    const storedLen = dv.getUint32(at + 5, true);
    const crc = dv.getUint32(at + 9, true);
    at += 13;
    need(at, storedLen, `section '${name}'`);
    const stored = bytes.subarray(at, at + storedLen);
    at += storedLen;
    if (crc32(stored) !== crc) throw new SnapshotError(`snapshot corrupt: checksum mismatch in section '${name}'`);
    if (names.has(name)) throw new SnapshotError(`snapshot corrupt: section '${name}' appears twice`);
    names.add(name);
    out.push({ name, enc, rawLen, stored });
  }
  if (at !== bytes.length) throw new SnapshotError(`snapshot corrupt: ${bytes.length - at} bytes of trailing garbage after the last section`);
  return out;
}

/** Encodes a JSON section. */
export function jsonSection(name: string, value: unknown): SectionInput {
  return { name, data: new TextEncoder().encode(JSON.stringify(value)), compress: false };
}

/** A section that must be present. */
export function section(sections: Sections, name: string): Uint8Array {
  const s = sections.get(name);
  if (!s) throw new SnapshotError(`snapshot incomplete: section '${name}' is missing`);
  return s;
}

/** Decodes a JSON section that must be present. */
export function jsonOf(sections: Sections, name: string): unknown {
  const text = new TextDecoder().decode(section(sections, name));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SnapshotError(`snapshot corrupt: section '${name}' is not valid JSON`);
  }
}
