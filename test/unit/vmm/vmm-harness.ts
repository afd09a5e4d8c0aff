/**
 * Harness for the VMM unit tests (vmm-*.test.ts): assembles a small guest program with nasm,
 * runs it in a fresh VM whose exceptions are delivered to the guest (not stopped on), and gives
 * the test the final state plus the program's symbols (from nasm's map file).
 *
 * Protected-mode programs start at CPL 0 in flat 32-bit segments without a GDT (vm.resetFlat32);
 * they declare their own GDT/IDT/TSS with the macros of PRELUDE and load them (pmSource builds
 * the usual ones: flat ring-0/ring-3 segments, a TSS, an IDT whose exceptions halt in stubs). A run normally
 * ends at HLT with IF = 0 ('halted'). Real-mode programs start at 0000:7C00.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SEG_CS, SEG_GS } from '../../../translator/abi.ts';
import { getEflags } from '../../../runtime/lazy-flags.ts';
import { Vm } from '../../../runtime/vm.ts';
import { EMPTY_BUS } from '../../../runtime/cpu.ts';
import type { Engine, RunResult } from '../../../runtime/vm.ts';

/** Where protected-mode programs are loaded (and their `org`). */
export const PM_ORG = 0x10000;
/** Where real-mode programs are loaded (CS = 0, `org`). */
export const RM_ORG = 0x7c00;

/**
 * nasm macros for the tables: SEGDESC base, limit(20 bits), access, flags(G D/B L AVL nibble);
 * GATE selector, offset, access(P DPL type), params; A(label) is a label as a plain number;
 * TO_RING3 label continues at `label` at CPL 3 (CS 0x1B, SS:ESP 0x23:0x7F000, same EFLAGS).
 */
export const PRELUDE = `
%define A(x) ((x) - $$ + __ORG__)
%macro SEGDESC 4
  dw (%2) & 0xFFFF, (%1) & 0xFFFF
  db ((%1) >> 16) & 0xFF, %3, (((%2) >> 16) & 0x0F) | ((%4) << 4), ((%1) >> 24) & 0xFF
%endmacro
%macro GATE 4
  dw (%2) & 0xFFFF, %1
  db %4, %3
  dw ((%2) >> 16) & 0xFFFF
%endmacro
%macro TO_RING3 1
  push 0x23
  push 0x7F000
  pushfd
  push 0x1B
  push %1
  iretd
%endmacro
`;

/** The flat GDT entries every test program starts with (selectors at each entry). */
export const STD_GDT_NO_TSS = `
gdt:
  dq 0                                  ; 0x00 null
  SEGDESC 0, 0xFFFFF, 0x9A, 0xC         ; 0x08 ring-0 code, flat 32-bit
  SEGDESC 0, 0xFFFFF, 0x92, 0xC         ; 0x10 ring-0 data, flat
  SEGDESC 0, 0xFFFFF, 0xFA, 0xC         ; 0x18 ring-3 code, flat 32-bit
  SEGDESC 0, 0xFFFFF, 0xF2, 0xC         ; 0x20 ring-3 data, flat
`;

/** STD_GDT_NO_TSS plus the TSS descriptor (STD_TSS) at 0x28. */
export const STD_GDT = `${STD_GDT_NO_TSS}
  SEGDESC A(tss), 0x67, 0x89, 0x0       ; 0x28 the TSS (SS0:ESP0 = 0x10:0x70000)
`;

/** The TSS of the standard program: ring-0 stack 0x10:0x70000, ring-1 0x0:0, ring-2 0x0:0. */
export const STD_TSS = `
align 16
tss:
  dd 0, 0x70000, 0x10
  times 0x68 - 12 db 0
`;

export interface GuestRun {
  vm: Vm;
  result: RunResult;
  /** Address of a label in the program. */
  sym(name: string): number;
  /** Little-endian dword at a physical address (unsigned). */
  d(addr: number): number;
  /** Word at a physical address. */
  w(addr: number): number;
}

/** Assembles `src` (prefixed with bits/org and PRELUDE) and returns the bytes and symbols. */
export function assemble(src: string, org: number, bits: 16 | 32): { bytes: Uint8Array; syms: Map<string, number> } {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-test-'));
  try {
    const asmPath = join(dir, 't.asm');
    const mapPath = join(dir, 't.map');
    const head = `bits ${bits}\norg 0x${org.toString(16)}\n%define __ORG__ 0x${org.toString(16)}\n[map symbols ${mapPath}]\n${PRELUDE}\n`;
    writeFileSync(asmPath, head + src + '\n');
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 't.bin'), asmPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const syms = new Map<string, number>();
    for (const line of readFileSync(mapPath, 'utf8').split('\n')) {
      const m = /^\s*([0-9A-Fa-f]+)\s+([0-9A-Fa-f]+)\s+(\S+)\s*$/.exec(line);
      if (m) syms.set(m[3], parseInt(m[1], 16));
    }
    return { bytes: new Uint8Array(readFileSync(join(dir, 't.bin'))), syms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function wrap(vm: Vm, result: RunResult, syms: Map<string, number>): GuestRun {
  return {
    vm,
    result,
    sym: (name) => {
      const v = syms.get(name);
      if (v === undefined) throw new Error(`no symbol ${name}`);
      return v;
    },
    d: (a) => {
      const b = vm.readPhys(a, 4);
      return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    },
    w: (a) => {
      const b = vm.readPhys(a, 2);
      return b[0] | (b[1] << 8);
    },
  };
}

/**
 * Runs a 32-bit protected-mode program (loaded at PM_ORG, entry `start`) until it halts, the
 * machine stops, or `budget` instructions ran.
 */
export function runPm(src: string, opts: { budget?: number; setup?: (vm: Vm) => void } = {}): GuestRun {
  const { bytes, syms } = assemble(src, PM_ORG, 32);
  const vm = new Vm({ memorySize: 4 << 20 });
  vm.resetFlat32(syms.get('start') ?? PM_ORG, 0x80000);
  vm.writePhys(PM_ORG, bytes);
  opts.setup?.(vm);
  const result = vm.run(opts.budget ?? 100_000);
  return wrap(vm, result, syms);
}

/**
 * runProgram under a chosen engine: 'dbt' translates every block on its first run
 * (force-translate), so the translator's fast paths and stubs run the whole program.
 */
export async function runProgramIn(engine: Engine, p: PmProgram, opts: { budget?: number; setup?: (vm: Vm) => void } = {}): Promise<GuestRun> {
  const { bytes, syms } = assemble(pmSource(p), PM_ORG, 32);
  const vm = new Vm({ memorySize: 4 << 20, engine, forceTranslate: engine === 'dbt', dbt: { validate: true } });
  await vm.prepare();
  vm.resetFlat32(syms.get('start') ?? PM_ORG, 0x80000);
  vm.writePhys(PM_ORG, bytes);
  opts.setup?.(vm);
  const result = vm.run(opts.budget ?? 100_000);
  return wrap(vm, result, syms);
}

/** A device setup: OUT to port 80h raises interrupt 30h (level-held until acknowledged). */
export function withIrq(vm: Vm): void {
  let pending = false;
  vm.cpu.io = {
    ...EMPTY_BUS,
    portOut: (port) => {
      if (port === 0x80) {
        pending = true;
        vm.notifyInterrupt();
      }
    },
  };
  vm.irq = { hasInterrupt: () => pending, acknowledge: () => { pending = false; return 0x30; } };
}

/**
 * The state a run left, for comparing engines: how it ended, the instructions retired, GPRs,
 * EIP, EFLAGS, CPL, every segment register's selector and cache, and the emulated instructions
 * by reason whether or not they left translated code (exits plus vmmInline; exceptions by vector).
 */
export function runState(r: GuestRun): Record<string, unknown> {
  const { vm } = r;
  const counted: Record<string, number> = { ...vm.exits };
  for (const [k, n] of Object.entries(vm.vmmInline)) counted[k] = (counted[k] ?? 0) + n;
  const segs = [];
  for (let seg = 0; seg <= SEG_GS; seg++) segs.push([vm.cpu.segSel(seg), vm.cpu.segBase(seg) >>> 0, vm.cpu.segLimit(seg) >>> 0, vm.cpu.segFlags(seg)]);
  return {
    end: r.result.reason,
    executed: r.result.executed,
    regs: Array.from(vm.cpu.s.subarray(0, 8), (v) => v >>> 0),
    eip: vm.cpu.eip >>> 0,
    eflags: getEflags(vm.cpu.s) >>> 0,
    cpl: vm.cpu.cpl,
    segs,
    counted,
  };
}

/** Runs a 16-bit real-mode program loaded at 0000:7C00 (entry `start`). */
export function runReal(src: string, opts: { budget?: number } = {}): GuestRun {
  const { bytes, syms } = assemble(src, RM_ORG, 16);
  const vm = new Vm({ memorySize: 4 << 20 });
  vm.resetReal();
  vm.cpu.setSegment(SEG_CS, 0, 0, 0xffff, vm.cpu.segFlags(SEG_CS));
  vm.cpu.eip = syms.get('start') ?? RM_ORG;
  vm.cpu.s[4] = 0x7000;
  vm.writePhys(RM_ORG, bytes);
  const result = vm.run(opts.budget ?? 100_000);
  return wrap(vm, result, syms);
}

/** Stubs for IDT vectors 0..31: two bytes each (HLT; NOP), so the vector is (EIP - 1 - stubs) / 2. */
const STUBS = `
stubs:
%rep 32
  hlt
  nop
%endrep
`;

export interface PmProgram {
  /** Code run at CPL 0 after the GDT, IDT and flat segments are loaded (ESP = 0x80000). */
  body: string;
  /** More GDT entries, from selector 0x30 on. */
  gdt?: string;
  /** IDT gates replacing the default DPL-0 interrupt gate to the HLT stub, by vector. */
  idt?: Record<number, string>;
  /** Number of IDT entries (default 64). */
  idtEntries?: number;
  /** Extra code and data placed after the body. */
  extra?: string;
}

/** Builds the source of a protected-mode test program (see PmProgram). */
export function pmSource(p: PmProgram): string {
  const n = p.idtEntries ?? 64;
  let idt = 'idt:\n';
  for (let v = 0; v < n; v++) {
    idt += p.idt?.[v] !== undefined ? `  ${p.idt[v]}\n` : v < 32 ? `  GATE 0x08, A(stubs) + ${v * 2}, 0x8E, 0\n` : '  dq 0\n';
  }
  idt += 'idt_end:\n';
  return `
start:
  lgdt [gdtr]
  lidt [idtr]
  jmp 0x08:.cs
.cs:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  mov ss, ax
  mov esp, 0x80000
  mov ax, 0x28
  ltr ax
body:
${p.body}
  hlt
${p.extra ?? ''}
align 8
${STD_GDT}
${p.gdt ?? ''}
gdt_end:
align 8
${idt}
gdtr: dw gdt_end - gdt - 1
      dd gdt
idtr: dw idt_end - idt - 1
      dd idt
${STUBS}
${STD_TSS}
`;
}

/** Runs a PmProgram. */
export function runProgram(p: PmProgram, opts: { budget?: number; setup?: (vm: Vm) => void } = {}): GuestRun {
  return runPm(pmSource(p), opts);
}

/**
 * If the run halted in one of the default exception stubs, the vector and the frame on the
 * stack as dwords from ESP (error code first when the vector has one); else null.
 */
export function stubVector(r: GuestRun): number {
  const off = r.vm.cpu.eip - 1 - r.sym('stubs');
  return off >= 0 && off < 64 && off % 2 === 0 ? off / 2 : -1;
}

/** `n` dwords on the guest stack from ESP (flat SS assumed: SS base added). */
export function stack(r: GuestRun, n: number): number[] {
  const base = r.vm.cpu.segBase(2) + r.vm.cpu.s[4];
  return Array.from({ length: n }, (_, k) => r.d((base + 4 * k) >>> 0));
}
