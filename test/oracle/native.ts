/**
 * The TypeScript side of the native runner (native.c): builds it with `gcc -m32` into
 * test/oracle/.build/ when its source changed, serializes a batch of cases, runs it, and turns
 * the results into Outcomes.
 *
 * Outcome classification: the code windows are full of HLT, so a SIGSEGV with trap number 13,
 * error code 0, at an address outside the instruction but inside a code window, means control
 * reached a stub there. Any other signal is a fault of the instruction itself, identified by the
 * trap number the kernel reports (the x86 vector).
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EX_AC, EX_GP, EX_NP, EX_PF, EX_SS, EX_TS } from '../../translator/abi.ts';
import { CODE_WINDOWS, WINDOWS } from './layout.ts';
import type { OracleCase, Outcome } from './types.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(HERE, 'native.c');
const BUILD_DIR = join(HERE, '.build');
const CFLAGS = ['-m32', '-O2', '-Wall', '-fno-pie', '-no-pie', '-fno-stack-protector'];

const MAGIC = 0x3143524f;
const CF_FPU_LOAD = 1;
const CF_FPU_CAPTURE = 2;
const CF_CODE16 = 4;
const ST_TIMEOUT = 1;
const ST_DIFF_OVERFLOW = 2;
const FPU_IMAGE = 108;
const SIGSEGV = 11;

/** Vectors that push an error code. */
export function hasErrorCode(vector: number): boolean {
  return vector === EX_TS || vector === EX_NP || vector === EX_SS || vector === EX_GP || vector === EX_PF || vector === EX_AC || vector === 8;
}

/**
 * Path of the runner binary, building it first if needed. Throws an Error with a clear message
 * when gcc cannot produce 32-bit code (the pretest step installs gcc-multilib).
 */
export function buildNative(): string {
  const src = readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).update(CFLAGS.join(' ')).digest('hex').slice(0, 16);
  const bin = join(BUILD_DIR, `native-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    execFileSync('gcc', [...CFLAGS, '-o', tmp, SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      'oracle: cannot build the native runner with `gcc -m32` (needs gcc-multilib; `npm test` installs it ' +
      `through test/setup/system-deps.sh):\n${err.stderr?.toString() ?? err.message}`,
      { cause: e },
    );
  }
  renameSync(tmp, bin); // atomic: concurrent builders all end with a complete binary
  // Binaries of older sources, unless recent (a concurrent run may still be about to use one).
  for (const f of readdirSync(BUILD_DIR)) {
    const p = join(BUILD_DIR, f);
    if (/^native-[0-9a-f]{16}$/.test(f) && p !== bin && Date.now() - statSync(p).mtimeMs > 3600_000) rmSync(p, { force: true });
  }
  return bin;
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

function serialize(cases: readonly OracleCase[], seed: number): Buffer {
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

function parse(out: Buffer, cases: readonly OracleCase[]): Outcome[] {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const res: Outcome[] = [];
  let p = 0;
  for (const c of cases) {
    if (p + 4 > out.length) throw new Error('oracle: native runner output is truncated');
    const start = p;
    const len = dv.getUint32(p, true);
    const u = (): number => {
      const v = dv.getUint32(p, true);
      p += 4;
      return v;
    };
    p += 4;
    const status = u();
    const sig = u();
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
    if (p - start !== len) throw new Error('oracle: native runner output is out of step');
    const end = c.eip + c.code.length;
    const o: Outcome = { kind: 'fault', vector: trapno, errorCode: -1, cr2: 0, eip, eflags, regs, sel, mem, fpu };
    if (status & ST_TIMEOUT) {
      o.kind = 'timeout';
      o.message = 'no stub reached within three seconds';
    } else if (sig === SIGSEGV && trapno === EX_GP && err === 0 && (eip < c.eip || eip >= end) && inCodeWindow(eip)) {
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

/** Runs `cases` natively; `seed` selects the window background (layout.ts fillBackground). */
export function runNative(bin: string, cases: readonly OracleCase[], seed: number): Outcome[] {
  if (cases.length === 0) return [];
  const input = serialize(cases, seed);
  const r = spawnSync(bin, [], { input, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`oracle: native runner failed (status ${r.status}, signal ${r.signal}): ${r.stderr.toString()}`);
  }
  return parse(r.stdout, cases);
}

/** Writes a batch to a file, for debugging the runner by hand (`native < file`). */
export function dumpBatch(path: string, cases: readonly OracleCase[], seed: number): void {
  writeFileSync(path, serialize(cases, seed));
}
