/**
 * Opening a drive as QEMU's `-drive file=F,format=…,readonly=on,snapshot=on` describes it: the
 * image (format probed when not given, as QEMU does with a warning), opened read-only for
 * `readonly=on` and under an in-memory overlay for `snapshot=on` (the image itself then opened
 * read-only, so it cannot be written at all).
 */
import type { BlockBackend } from './backend.ts';
import { MemoryOverlay } from './memory-overlay.ts';
import { openImage } from './qcow2.ts';
import type { ImageFormat } from './qcow2.ts';

/** The guest-visible interface of a drive. */
export type DriveInterface = 'virtio' | 'ide';

/** One drive, as given on the command line or to the library. */
export interface DriveSpec {
  /** The image file. */
  file: string;
  /** Default: probed from the file's first bytes. */
  format?: ImageFormat;
  /** Default 'virtio'. */
  if?: DriveInterface;
  /** The guest sees a read-only disk. */
  readOnly?: boolean;
  /** Writes go to memory; the image is opened read-only. */
  snapshot?: boolean;
}

/** Opens the backend of a drive. Throws BlockError for an unusable image. */
export function openDrive(spec: DriveSpec): BlockBackend {
  const below = openImage(spec.file, { ...(spec.format ? { format: spec.format } : {}), readOnly: (spec.readOnly ?? false) || (spec.snapshot ?? false) });
  return spec.snapshot && !spec.readOnly ? new MemoryOverlay(below) : below;
}
