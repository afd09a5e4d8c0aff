/**
 * The batch protocol of the oracle's references (runner/core.h is the other side): serializes a
 * batch of cases with the windows and descriptor tables, and turns result records into
 * Outcomes. The same bytes go to the real-CPU runner's stdin and into the bare-metal harness's
 * RAM (reference.ts).
 *
 * Outcome classification: the code windows are full of HLT, so a #GP (trap number 13) with error
 * code 0 at an address outside the instruction but inside a code window means control reached a
 * stub there. Any other exception is a fault of the instruction itself, identified by its vector
 * (the trap number the host reports).
 */
import { EX_AC, EX_DF, EX_GP, EX_NP, EX_PF, EX_SS, EX_TS } from '../../translator/abi.ts';
import { CODE_WINDOWS, MIRROR_TABLES, WINDOWS } from './layout.ts';
import type { OracleCase, Outcome } from './types.ts';

const MAGIC = 0x3243524f; // 'ORC2'
const CF_FPU_LOAD = 1;
const CF_FPU_CAPTURE = 2;
const CF_CODE16 = 4;
const ST_TIMEOUT = 1;
const ST_DIFF_OVERFLOW = 2;
const FPU_IMAGE = 108;

/** Vectors that push an error code. */
export function hasErrorCode(vector: number): boolean {
  return vector === EX_TS || vector === EX_NP || vector === EX_SS || vector === EX_GP || vector === EX_PF || vector === EX_AC || vector === EX_DF;
}

class Writer {
  buf = new DataView(new ArrayBuffer(1 << 16));
  len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.byteLength) return;
    let cap = this.buf.byteLength * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new DataView(new ArrayBuffer(cap));
    new Uint8Array(next.buffer).set(new Uint8Array(this.buf.buffer, 0, this.len));
    this.buf = next;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.setUint32(this.len, v >>> 0, true);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    const n = (b.length + 3) & ~3;
    this.ensure(n);
    new Uint8Array(this.buf.buffer, this.len, b.length).set(b);
    new Uint8Array(this.buf.buffer, this.len + b.length, n - b.length).fill(0);
    this.len += n;
  }

  patch(at: number, v: number): void {
    this.buf.setUint32(at, v >>> 0, true);
  }

  result(): Buffer {
    return Buffer.from(this.buf.buffer, 0, this.len);
  }
}

/** The batch for `cases`; `seed` selects the window background (layout.ts fillBackground). */
export function serialize(cases: readonly OracleCase[], seed: number): Buffer {
  const w = new Writer();
  w.u32(MAGIC);
  w.u32(cases.length);
  w.u32(seed);
  w.u32(WINDOWS.length);
  for (const win of WINDOWS) {
    w.u32(win.addr);
    w.u32(win.size);
    w.u32(win.kind === 'code' ? 1 : 0);
  }
  w.u32(MIRROR_TABLES.length);
  for (const t of MIRROR_TABLES) {
    w.u32(t.kind === 'gdt' ? 0 : t.kind === 'ldt' ? 1 : 2);
    w.u32(t.addr);
    w.u32(t.bytes.length);
    w.bytes(t.bytes);
  }
  for (const c of cases) {
    const start = w.len;
    w.u32(0);
    w.u32((c.fpu ? CF_FPU_LOAD : 0) | (c.captureFpu || c.fpu ? CF_FPU_CAPTURE : 0) | (c.code16 ? CF_CODE16 : 0));
    w.u32(c.eip);
    w.u32(c.eflags);
    for (let r = 0; r < 8; r++) w.u32(c.regs[r]);
    w.u32(c.sel[0] | (c.sel[1] << 16));
    w.u32(c.sel[2] | (c.sel[3] << 16));
    w.u32(c.code.length);
    w.bytes(c.code);
    w.u32(c.pokes.length);
    for (const p of c.pokes) {
      w.u32(p.addr);
      w.u32(p.bytes.length);
      w.bytes(p.bytes);
    }
    if (c.fpu) {
      if (c.fpu.length !== FPU_IMAGE) throw new Error(`${c.row.name}: FSAVE image must be ${FPU_IMAGE} bytes`);
      w.bytes(c.fpu);
    }
    w.patch(start, w.len - start);
  }
  return w.result();
}

function inCodeWindow(a: number): boolean {
  return CODE_WINDOWS.some((w) => a >= w.addr && a < w.addr + w.size);
}

/** The outcomes of `cases` from the reference's result records. */
export function parse(out: Uint8Array, cases: readonly OracleCase[]): Outcome[] {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const res: Outcome[] = [];
  let p = 0;
  for (const c of cases) {
    if (p + 4 > out.length) throw new Error('oracle: the reference\'s output is truncated');
    const start = p;
    const len = dv.getUint32(p, true);
    const u = (): number => {
      const v = dv.getUint32(p, true);
      p += 4;
      return v;
    };
    p += 4;
    const status = u();
    u(); // the signal (Linux runner) or 0 (bare harness): the trap number says it all
    const trapno = u();
    const err = u();
    const cr2 = u();
    const eip = u();
    const eflags = u();
    const regs = new Int32Array(8);
    for (let r = 0; r < 8; r++) regs[r] = u() | 0;
    const gsfs = u();
    const esds = u();
    const csss = u();
    // ES CS SS DS FS GS
    const sel = [esds & 0xffff, csss & 0xffff, csss >>> 16, esds >>> 16, gsfs >>> 16, gsfs & 0xffff];
    const n = u();
    const mem = new Map<number, number>();
    for (let k = 0; k < n; k++) {
      const a = u();
      mem.set(a, u());
    }
    let fpu: Uint8Array | undefined;
    if (c.captureFpu || c.fpu) {
      fpu = new Uint8Array(out.buffer, out.byteOffset + p, FPU_IMAGE).slice();
      p += FPU_IMAGE;
    }
    if (p - start !== len) throw new Error('oracle: the reference\'s output is out of step');
    const end = c.eip + c.code.length;
    const o: Outcome = { kind: 'fault', vector: trapno, errorCode: -1, cr2: 0, eip, eflags, regs, sel, mem, fpu };
    if (status & ST_TIMEOUT) {
      o.kind = 'timeout';
      o.message = 'no stub reached within three seconds';
    } else if (trapno === EX_GP && err === 0 && (eip < c.eip || eip >= end) && inCodeWindow(eip)) {
      o.kind = 'stub';
      o.vector = -1;
    } else {
      o.errorCode = hasErrorCode(trapno) ? err & 0xffff : -1;
      if (trapno === EX_PF) o.cr2 = cr2;
    }
    if (status & ST_DIFF_OVERFLOW) o.message = 'more than 16384 memory bytes changed (list truncated)';
    res.push(o);
  }
  return res;
}
