/**
 * Harness for the x87 unit tests: runs the same position-independent 32-bit snippet natively
 * (a tiny gcc -m32 runner, built once into the temp directory) and in a fresh VM, with EBX
 * pointing at a 1 KiB data buffer, and returns the buffer, EAX, EFLAGS and how the snippet ended
 * (0 = completed, else the exception vector: 16 #MF, 7 #NM, 6 #UD, 13 #GP).
 *
 * A typical snippet is `frstor [ebx]` (an FSAVE image the test puts at buf[0]), the
 * instructions under test, and `fnsave [ebx+0x200]`, so the whole x87 state — including the
 * FIP/FOP/FDP pointers, which the oracle cannot see — is compared. Pointer values are addresses,
 * so `normalizePointers` rewrites them relative to the code and buffer bases of each side.
 *
 * The VM side mirrors the host's selectors (CS 0x23, data 0x2B, flat) so FCS/FDS agree.
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CR, EFLAGS, LF_OP, SEG_CS, SEGF_DB, SEGF_G, SEGF_P, SEGF_S, SEGF_USABLE } from '../../translator/abi.ts';
import { getEflags } from '../../runtime/lazy-flags.ts';
import { Vm } from '../../runtime/vm.ts';
import { f80FromBits } from '../oracle/gen-x87.ts';

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

// ------------------------------------------------------------------------------- the native side
const RUNNER_C = String.raw`
#include <signal.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
/* stdin: per case u32 len, code[len], u32 eflags, buf[1024];
   stdout: per case u32 status, u32 eflags, u32 eax, u32 code, u32 buf, buf[1024]. */
static sigjmp_buf jb;
static volatile int sig;
static void onsig(int s) { sig = s; siglongjmp(jb, 1); }
static uint8_t buf[1024] __attribute__((aligned(16)));
static uint32_t io[3];
static void *codep;
static void *bufp = buf;
static int rd(void *p, size_t n) { return fread(p, 1, n, stdin) == n; }
int main(void) {
  uint8_t *code = mmap(0, 65536, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onsig;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGFPE, &sa, 0); sigaction(SIGILL, &sa, 0); sigaction(SIGSEGV, &sa, 0); sigaction(SIGBUS, &sa, 0);
  uint32_t len;
  while (rd(&len, 4)) {
    if (len > 60000 || !rd(code, len) || !rd(&io[0], 4) || !rd(buf, sizeof buf)) return 3;
    code[len] = 0xc3;
    codep = code;
    sig = 0;
    uint32_t status = 0;
    if (sigsetjmp(jb, 1) == 0) {
      __asm__ volatile(
        "pushal\n\t"
        "pushl %[fl]\n\tpopfl\n\t"
        "movl $0x12345678, %%eax\n\t"
        "movl %[b], %%ebx\n\t"
        "call *%[c]\n\t"
        "pushfl\n\tpopl %[flo]\n\t"
        "movl %%eax, %[eo]\n\t"
        "popal\n\t"
        : [flo] "=m"(io[1]), [eo] "=m"(io[2])
        : [fl] "m"(io[0]), [b] "m"(bufp), [c] "m"(codep)
        : "memory", "cc");
    } else {
      status = sig == SIGFPE ? 16 : sig == SIGILL ? 6 : 13;
      io[1] = io[2] = 0;
    }
    __asm__ volatile("fninit");
    uint32_t bases[2] = { (uint32_t)(uintptr_t)code, (uint32_t)(uintptr_t)buf };
    fwrite(&status, 4, 1, stdout);
    fwrite(&io[1], 4, 2, stdout);
    fwrite(bases, 4, 2, stdout);
    fwrite(buf, 1, sizeof buf, stdout);
  }
  fflush(stdout);
  return 0;
}
`;

let runnerPath: string | undefined;

/** Builds the native runner (once per source version); throws if gcc -m32 is unavailable. */
function runner(): string {
  if (runnerPath) return runnerPath;
  const hash = createHash('sha256').update(RUNNER_C).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'wasmvisor-x87');
  const bin = join(dir, `runner-${hash}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const src = join(dir, `runner-${hash}.${process.pid}.c`);
    writeFileSync(src, RUNNER_C);
    execFileSync('gcc', ['-m32', '-O1', '-fno-pie', '-no-pie', '-o', `${bin}.${process.pid}`, src], { stdio: ['ignore', 'pipe', 'pipe'] });
    renameSync(`${bin}.${process.pid}`, bin);
    rmSync(src, { force: true });
  }
  runnerPath = bin;
  return bin;
}

/** True if the native runner can be built and run (an i386-capable gcc and kernel). */
export function nativeAvailable(): boolean {
  try {
    runner();
    return true;
  } catch {
    return false;
  }
}

/** Runs cases natively, in one process. */
export function runNative(cases: readonly X87Case[]): X87Outcome[] {
  const parts: Buffer[] = [];
  for (const c of cases) {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(c.code.length);
    const f = Buffer.alloc(4);
    f.writeUInt32LE((((c.eflags ?? 0) & 0x8d5) | 0x202) >>> 0);
    parts.push(h, Buffer.from(c.code), f, Buffer.from(c.buf));
  }
  const r = spawnSync(runner(), [], { input: Buffer.concat(parts), maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`x87 native runner failed: ${r.status} ${r.stderr?.toString() ?? ''}`);
  const out = r.stdout;
  const rec = 20 + BUF_SIZE;
  return cases.map((_, k) => {
    const o = out.subarray(k * rec, (k + 1) * rec);
    return {
      status: o.readUInt32LE(0), eflags: o.readUInt32LE(4), eax: o.readUInt32LE(8),
      codeBase: o.readUInt32LE(12), bufBase: o.readUInt32LE(16), buf: new Uint8Array(o.subarray(20)),
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
