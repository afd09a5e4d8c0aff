/**
 * Harness for the x87 unit tests: runs the same position-independent 32-bit snippet on the
 * oracle's reference (test/oracle/reference.ts: the real CPU, or QEMU where the host cannot run
 * 32-bit code; the snippet is one oracle case in the code window) and in a fresh VM, with EBX
 * pointing at a 1 KiB data buffer, and returns the buffer, EAX, EFLAGS and how the snippet ended
 * (0 = completed, else the exception vector: 16 #MF, 7 #NM, 6 #UD, 13 #GP).
 *
 * A typical snippet is `frstor [ebx]` (an FSAVE image the test puts at buf[0]), the
 * instructions under test, and `fnsave [ebx+0x200]`, so the whole x87 state — including the
 * FIP/FOP/FDP pointers, which the oracle cannot see — is compared. Pointer values are addresses,
 * so `normalizePointers` rewrites them relative to the code and buffer bases of each side.
 *
 * The VM side mirrors the reference's selectors (CS 0x23, data 0x2B, flat) so FCS/FDS agree.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CR, EFLAGS, LF_OP, SEG_CS, SEGF_DB, SEGF_G, SEGF_P, SEGF_S, SEGF_USABLE } from '../../../translator/abi.ts';
import { getEflags } from '../../../runtime/lazy-flags.ts';
import { Vm } from '../../../runtime/vm.ts';
import { rowByName } from '../../../translator/isa/table.ts';
import { f80FromBits } from '../../oracle/gen-x87.ts';
import { CODE, DATA32, SEL_USER_DS, STACK } from '../../oracle/layout.ts';
import { getReference } from '../../oracle/reference.ts';
import type { OracleCase } from '../../oracle/types.ts';

export const BUF_SIZE = 1024;
/** VM addresses. */
export const VM_CODE = 0x10000;
export const VM_BUF = 0x30000;
const VM_STACK = 0x80000;

export interface X87Outcome {
  /** 0 = ran to the end; otherwise the exception vector that stopped it. */
  status: number;
  eflags: number;
  eax: number;
  buf: Uint8Array;
  codeBase: number;
  bufBase: number;
}

export interface X87Case {
  code: Uint8Array;
  buf: Uint8Array;
  /** Initial EFLAGS (IF is forced on; only the status flags matter). */
  eflags?: number;
}

// ------------------------------------------------------------------------------- assembly
const asmCache = new Map<string, Uint8Array>();

/** Assembles 32-bit nasm source (position independent: address data through EBX). */
export function asm(src: string): Uint8Array {
  const hit = asmCache.get(src);
  if (hit) return hit;
  const dir = mkdtempSync(join(tmpdir(), 'x87-asm-'));
  try {
    writeFileSync(join(dir, 't.asm'), `bits 32\n${src}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 't.bin'), join(dir, 't.asm')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new Uint8Array(readFileSync(join(dir, 't.bin')));
    asmCache.set(src, out);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------- FSAVE images
export interface ImageSpec {
  cw?: number;
  /** Status word without TOP. */
  sw?: number;
  top?: number;
  /** ST(0), ST(1), ... as numbers or binary64 [hi, lo] bit pairs; the rest are empty. */
  st?: readonly (number | readonly [number, number])[];
  fip?: number;
  fcs?: number;
  fop?: number;
  fdp?: number;
  fds?: number;
}

function bitsOfNumber(x: number): [number, number] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return [dv.getInt32(4, true), dv.getInt32(0, true)];
}

/** A 108-byte FSAVE image (32-bit protected-mode layout) with correct tags. */
export function image(spec: ImageSpec = {}): Uint8Array {
  const b = new Uint8Array(108);
  const dv = new DataView(b.buffer);
  const top = spec.top ?? 0;
  const st = spec.st ?? [];
  let tw = 0xffff;
  for (let i = 0; i < st.length; i++) {
    const v = st[i];
    const bits = typeof v === 'number' ? bitsOfNumber(v) : v;
    b.set(f80FromBits(bits), 28 + 10 * i);
    const e = bits[0] & 0x7ff00000;
    const tag = e === 0x7ff00000 ? 2 : e === 0 && ((bits[0] & 0xfffff) | bits[1]) === 0 ? 1 : 0;
    const p = (top + i) & 7;
    tw = (tw & ~(3 << (2 * p))) | (tag << (2 * p));
  }
  dv.setUint32(0, (spec.cw ?? 0x37f) | 0xffff0000, true);
  dv.setUint32(4, ((spec.sw ?? 0) & ~0x3800) | (top << 11) | 0xffff0000, true);
  dv.setUint32(8, tw | 0xffff0000, true);
  dv.setUint32(12, spec.fip ?? 0, true);
  dv.setUint32(16, (spec.fcs ?? 0) | ((spec.fop ?? 0) << 16), true);
  dv.setUint32(20, spec.fdp ?? 0, true);
  dv.setUint32(24, (spec.fds ?? 0) | 0xffff0000, true);
  return b;
}

/** A buffer with an FSAVE image at 0 and `bytes` at 0x100. */
export function buffer(img: Uint8Array, data: ArrayLike<number> = []): Uint8Array {
  const buf = new Uint8Array(BUF_SIZE);
  buf.set(img, 0);
  buf.set(Array.from(data), 0x100);
  return buf;
}

// ------------------------------------------------------------------------------- the VM side
/** Runs a case in a fresh VM (CPL 0, flat, host-like selectors); `setup` may change the machine. */
export function runVm(c: X87Case, setup?: (vm: Vm) => void): X87Outcome {
  const vm = new Vm({ memorySize: 1 << 20 });
  vm.resetFlat32(VM_CODE, VM_STACK);
  const cpu = vm.cpu;
  const data = SEGF_USABLE | SEGF_P | SEGF_S | 0x03 | SEGF_DB | SEGF_G;
  for (let seg = 0; seg < 6; seg++) cpu.setSegment(seg, 0x2b, 0, 0xffffffff | 0, data);
  cpu.setSegment(SEG_CS, 0x23, 0, 0xffffffff | 0, SEGF_USABLE | SEGF_P | SEGF_S | 0x0b | SEGF_DB | SEGF_G);
  cpu.s[CR >> 2] = 0x00000033; // PE MP ET NE, as Linux runs user code
  cpu.s[EFLAGS >> 2] = ((c.eflags ?? 0) & 0x8d5) | 0x202;
  cpu.s[LF_OP >> 2] = 0;
  cpu.s[0] = 0x12345678; // EAX
  cpu.s[3] = VM_BUF; // EBX
  cpu.refreshMode();
  vm.writePhys(VM_CODE, [...c.code, 0x0f, 0x0b]);
  vm.writePhys(VM_BUF, c.buf);
  setup?.(vm);
  vm.stopOnFault = true;
  const r = vm.run(10_000);
  const end = VM_CODE + c.code.length;
  let status = -1;
  if (r.reason === 'fault' && r.fault) status = r.fault.vector === 6 && cpu.eip === end ? 0 : r.fault.vector;
  return {
    status, eflags: getEflags(cpu.s), eax: cpu.s[0] >>> 0, buf: vm.readPhys(VM_BUF, BUF_SIZE), codeBase: VM_CODE, bufBase: VM_BUF,
  };
}

// ------------------------------------------------------------------------------- the reference side
/** Where the sequence runs on the reference: in the oracle's code and data windows. */
const REF_CODE = CODE.addr + 0x100;
const REF_BUF = DATA32.addr + 0x400;
const SEQUENCE_ROW = rowByName('fnop');

/** The sequence as an oracle case: EAX = 12345678h, EBX = the buffer, HLT stubs after the code. */
function referenceCase(c: X87Case): OracleCase {
  const regs = new Int32Array(8);
  regs[0] = 0x12345678;
  regs[3] = REF_BUF;
  regs[4] = STACK.addr + 0x1000;
  return {
    row: SEQUENCE_ROW, form: { osz: 32, asz: 32, rm: 'none', label: 'sequence' }, eip: REF_CODE, code: c.code, regs,
    eflags: ((c.eflags ?? 0) & 0x8d5) | 0x202, sel: [SEL_USER_DS, SEL_USER_DS, SEL_USER_DS, SEL_USER_DS],
    pokes: [{ addr: REF_BUF, bytes: c.buf }], flagsIgnore: 0,
  };
}

/** Runs cases on the oracle's reference (reference.ts: the real CPU, or QEMU), in one batch. */
export function runReference(cases: readonly X87Case[]): X87Outcome[] {
  const oc = cases.map(referenceCase);
  const out = getReference().run(oc, 1);
  return out.map((o, k) => {
    const c = oc[k];
    if (o.kind !== 'stub' && o.kind !== 'fault') throw new Error(`x87 sequence ${k}: the reference reports ${o.kind}: ${o.message ?? ''}`);
    const buf = Uint8Array.from(cases[k].buf);
    for (const [a, v] of o.mem) if (a >= REF_BUF && a < REF_BUF + BUF_SIZE) buf[a - REF_BUF] = v;
    const completed = o.kind === 'stub' && o.eip === c.eip + c.code.length;
    return {
      status: completed ? 0 : o.kind === 'stub' ? -1 : o.vector, eflags: o.eflags, eax: o.regs[0] >>> 0, buf, codeBase: REF_CODE, bufBase: REF_BUF,
    };
  });
}

/**
 * Rewrites instruction and data pointers stored in `o.buf` relative to that side's code and
 * buffer bases: `fip` and `fdp` list buffer offsets of dwords holding a FIP or an FDP.
 */
export function normalizePointers(o: X87Outcome, codeLen: number, fip: readonly number[], fdp: readonly number[]): Uint8Array {
  const b = o.buf.slice();
  const dv = new DataView(b.buffer);
  for (const off of fip) {
    const v = dv.getUint32(off, true);
    if (v >= o.codeBase && v < o.codeBase + codeLen) dv.setUint32(off, v - o.codeBase + 0xc0de0000, true);
  }
  for (const off of fdp) {
    const v = dv.getUint32(off, true);
    if (v >= o.bufBase && v < o.bufBase + BUF_SIZE) dv.setUint32(off, v - o.bufBase + 0xda7a0000, true);
  }
  return b;
}

/** Hex dump helper for readable assertion failures. */
export function hex(b: ArrayLike<number>, from = 0, to = b.length): string {
  return Array.from(b).slice(from, to).map((x) => x.toString(16).padStart(2, '0')).join(' ');
}
