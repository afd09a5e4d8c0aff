/**
 * The `drives` option of {@link Machine.create}: checking a list of drive specifications and
 * opening their images (runtime/block/drive.ts) for the PC. One place for both, so the library
 * and the CLI (`-drive`, `-hda`, `-snapshot`: cli/drive-args.ts) agree.
 */
import { openDrive } from '../runtime/block/drive.ts';
import type { DriveSpec } from '../runtime/block/drive.ts';
import type { PcDisk } from '../runtime/pc/storage.ts';
import { checkDisks } from '../runtime/pc/storage.ts';

export type { DriveSpec } from '../runtime/block/drive.ts';

const FORMATS = ['raw', 'qcow2'];
const INTERFACES = ['virtio', 'ide'];

/** Throws TypeError (naming `where`) unless `drives` is a valid list of drive specifications. */
export function checkDrives(where: string, drives: unknown): asserts drives is DriveSpec[] {
  if (!Array.isArray(drives)) throw new TypeError(`${where}: \`drives\` must be an array`);
  const known = new Set(['file', 'format', 'if', 'readOnly', 'snapshot']);
  drives.forEach((d: unknown, k) => {
    const at = `${where}: drives[${k}]`;
    if (typeof d !== 'object' || d === null) throw new TypeError(`${at} must be an object`);
    const o = d as Record<string, unknown>;
    for (const key of Object.keys(o)) if (!known.has(key)) throw new TypeError(`${at}: unknown field '${key}'`);
    if (typeof o.file !== 'string' || o.file === '') throw new TypeError(`${at}.file must be a file name`);
    if (o.format !== undefined && !FORMATS.includes(o.format as string)) throw new TypeError(`${at}.format must be 'raw' or 'qcow2'`);
    if (o.if !== undefined && !INTERFACES.includes(o.if as string)) throw new TypeError(`${at}.if must be 'virtio' or 'ide'`);
    for (const b of ['readOnly', 'snapshot']) if (o[b] !== undefined && typeof o[b] !== 'boolean') throw new TypeError(`${at}.${b} must be a boolean`);
  });
  try {
    checkDisks(drives.map((d: DriveSpec) => ({ interface: d.if ?? 'virtio' })));
  } catch (e) {
    throw new TypeError(`${where}: ${(e as Error).message}`, { cause: e });
  }
}

/** Opens every drive's image (all or none: a failure closes the ones already open). */
export function openDisks(drives: readonly DriveSpec[]): PcDisk[] {
  const out: PcDisk[] = [];
  try {
    for (const d of drives) out.push({ backend: openDrive(d), interface: d.if ?? 'virtio' });
  } catch (e) {
    for (const d of out) d.backend.close();
    throw e;
  }
  return out;
}
