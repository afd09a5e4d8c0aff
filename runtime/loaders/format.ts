/**
 * Which boot protocol a kernel image speaks, decided once for every machine (as `qemu -kernel`
 * does): a Linux bzImage (the "HdrS" setup-header magic, loaders/linux.ts), else a multiboot v1
 * image (a valid header in the first 8 KiB, loaders/multiboot.ts), else raw bytes.
 */
import { hasBzImageMagic } from './linux.ts';
import { findMultibootHeader } from './multiboot.ts';

export type ImageFormat = 'bzimage' | 'multiboot' | 'raw';

export function imageFormat(image: Uint8Array): ImageFormat {
  if (hasBzImageMagic(image)) return 'bzimage';
  if (findMultibootHeader(image) !== null) return 'multiboot';
  return 'raw';
}
