/**
 * Which bytes of each code page hold decoded (or translated) instructions, so that a guest write
 * to a code page invalidates cached code only when it actually touches some. Pages often mix
 * code and data (a variable next to the function that updates it; a kernel's .text followed by
 * .data in the same 4 KiB): without this, every such write would drop and later rebuild all the
 * page's blocks and translations.
 *
 * Invariant: the coverage of a page is a superset of the bytes of every live block and region
 * of that page. It only grows, and is reset only when the whole page is invalidated (or at a VM
 * reset), so a stale bit can cost an unnecessary invalidation but never a missed one.
 */

/** Bytes covered per physical page: one bit per byte (512 bytes per code page). */
export class CodeCoverage {
  private readonly pages = new Map<number, Uint8Array>();

  /** Marks physical bytes [phys, phys + len) as code (within one page). */
  add(phys: number, len: number): void {
    const page = phys >>> 12;
    let bits = this.pages.get(page);
    if (!bits) this.pages.set(page, (bits = new Uint8Array(512)));
    const end = Math.min((phys & 0xfff) + len, 0x1000);
    for (let o = phys & 0xfff; o < end; o++) bits[o >> 3] |= 1 << (o & 7);
  }

  /** True if any of the `len` bytes at `phys` (clipped to its page) may hold cached code. */
  overlaps(phys: number, len: number): boolean {
    const bits = this.pages.get(phys >>> 12);
    if (!bits) return false;
    const end = Math.min((phys & 0xfff) + len, 0x1000);
    for (let o = phys & 0xfff; o < end; o++) if (bits[o >> 3] & (1 << (o & 7))) return true;
    return false;
  }

  /** Forgets a page (all its cached code was dropped). */
  clearPage(phys: number): void {
    this.pages.delete(phys >>> 12);
  }

  clear(): void {
    this.pages.clear();
  }
}
