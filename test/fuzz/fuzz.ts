/**
 * Robustness fuzzer for the decoder and the interpreter: random byte sequences (random lengths,
 * sometimes with random prefixes or a 0F escape, as 32-bit protected-mode, 16-bit protected-mode
 * or real-mode code) run from random register states in one reused VM with a small instruction
 * budget. Every input must end normally (budget, halt), in a guest exception (GuestFault, with
 * stopOnFault) or a MachineHalt (triple fault, shutdown); any other JS exception is a host crash.
 *
 * A quarter of the inputs deliver their exceptions instead of stopping, so exception delivery
 * (and its failures, up to triple faults) runs too. Nothing is allocated per input beyond what
 * the VM itself allocates: guest memory carries over from input to input, which makes a run a
 * deterministic function of its seed (replay with the same --seed and --count), and every crash
 * is also re-run alone in a fresh VM to tell whether it reproduces in isolation.
 */
import { EFLAGS, LF_OP, RAM_OFFSET, SEG_CS, SEGF_P, SEGF_S, SEGF_USABLE } from '../../translator/abi.ts';
import { disassemble } from '../../translator/decoder/disasm.ts';
import { GuestFault, MachineHalt } from '../../runtime/fault.ts';
import { Vm } from '../../runtime/vm.ts';
import { Rng } from '../oracle/rng.ts';

/** Where inputs are placed (linear and physical). */
export const FUZZ_CODE = 0x10000;
export const FUZZ_RAM = 2 << 20;

export type FuzzMode = 'pm32' | 'pm16' | 'real16';

const VECTOR_NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '#9', '#TS', '#NP', '#SS', '#GP', '#PF', '#15', '#MF', '#AC'];

/** One generated input: everything needed to replay it. */
export interface FuzzInput {
  readonly index: number;
  readonly mode: FuzzMode;
  readonly bytes: Uint8Array;
  readonly regs: Int32Array;
  readonly eflags: number;
  /** Exceptions stop the run (else they are delivered). */
  readonly stopOnFault: boolean;
}

export interface FuzzCrash {
  readonly input: FuzzInput;
  readonly error: string;
  /** Whether the same input also crashes alone, in a fresh VM. */
  readonly reproducesAlone: boolean;
}

export interface FuzzOptions {
  readonly count: number;
  readonly seed: number;
  /** Instructions per input (default 24). */
  readonly budget?: number;
  /** Collect every distinct crash instead of stopping at the first. */
  readonly keepGoing?: boolean;
  /** Each input is published here before it runs (see watch.ts: PROGRESS_*). */
  readonly progress?: Int32Array;
  /** Draw but do not run the first `skip` inputs (to resume after a hang). */
  readonly skip?: number;
}

/** How an input can end, in the order of the progress buffer's counters. */
export const ENDINGS: readonly string[] = [
  ...VECTOR_NAMES.map((n) => `fault ${n}`), 'fault (other vector)', 'budget', 'halted', 'stopped', 'triple-fault',
  'shutdown', 'exit', 'host crash',
];
/**
 * Layout of the progress buffer: input index, mode, length, stop flag, EFLAGS, regs, bytes, then
 * one counter per ENDINGS entry (so the endings of a worker stopped by a hang are not lost).
 */
const PROGRESS_ENDINGS = 5 + 8 + 8;
export const PROGRESS_WORDS = PROGRESS_ENDINGS + ENDINGS.length;

/** The ending counters of a progress buffer. */
export function progressEndings(p: Int32Array): Record<string, number> {
  const out: Record<string, number> = {};
  ENDINGS.forEach((name, k) => {
    const n = Atomics.load(p, PROGRESS_ENDINGS + k);
    if (n) out[name] = n;
  });
  return out;
}
const MODES: readonly FuzzMode[] = ['pm32', 'pm16', 'real16'];

/** Writes `input` into the progress buffer (the index last, so a reader sees a whole input). */
function publish(p: Int32Array, input: FuzzInput): void {
  p[1] = MODES.indexOf(input.mode);
  p[2] = input.bytes.length;
  p[3] = input.stopOnFault ? 1 : 0;
  p[4] = input.eflags;
  p.set(input.regs, 5);
  const b = input.bytes;
  for (let w = 0; w < 8; w++) {
    let v = 0;
    for (let k = 3; k >= 0; k--) v = (v << 8) | (4 * w + k < b.length ? b[4 * w + k] : 0);
    p[13 + w] = v;
  }
  Atomics.store(p, 0, input.index + 1);
}

/** Reads the input last published into a progress buffer (undefined if none yet). */
export function readProgress(p: Int32Array): FuzzInput | undefined {
  const n = Atomics.load(p, 0);
  if (n === 0) return undefined;
  const len = p[2];
  const bytes = new Uint8Array(len);
  for (let i = 0; i < len; i++) bytes[i] = (p[13 + (i >> 2)] >>> ((i & 3) * 8)) & 0xff;
  return { index: n - 1, mode: MODES[p[1]], bytes, regs: p.slice(5, 13), eflags: p[4], stopOnFault: p[3] === 1 };
}

export interface FuzzResult {
  readonly inputs: number;
  /** How inputs ended: run reasons and fault vectors (e.g. 'fault #UD', 'budget'). */
  readonly endings: Record<string, number>;
  /** Crashes: the first one, or one per distinct message with keepGoing. */
  readonly crashes: FuzzCrash[];
  readonly ms: number;
}

const PREFIXES = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3];
const RANDOM_FLAGS = 0x0cd5; // OF DF SF ZF AF PF CF

/** Draws input number `index` from `rng` (into `buf`, to avoid allocation). */
export function drawInput(rng: Rng, index: number, buf: Uint8Array, regs: Int32Array): FuzzInput {
  const k = rng.below(100);
  const mode: FuzzMode = k < 60 ? 'pm32' : k < 80 ? 'real16' : 'pm16';
  let n = rng.chance(0.85) ? rng.range(1, 15) : rng.range(16, buf.length);
  let p = 0;
  if (rng.chance(0.3)) {
    const np = rng.range(1, 4);
    for (let i = 0; i < np && p < n; i++) buf[p++] = rng.pick(PREFIXES);
  }
  if (rng.chance(0.35) && p < n) buf[p++] = 0x0f;
  for (; p < n; p++) buf[p] = rng.u32() & 0xff;
  if (n === 0) n = 1;
  for (let r = 0; r < 8; r++) regs[r] = rng.chance(0.2) ? rng.edge(32) | 0 : rng.u32() | 0;
  if (rng.chance(0.5)) regs[4] = mode === 'pm32' ? 0x80000 + rng.range(-64, 64) : 0x8000 + rng.range(-64, 64);
  const eflags = (rng.u32() & RANDOM_FLAGS) | 0x2;
  return { index, mode, bytes: buf.subarray(0, n), regs, eflags, stopOnFault: rng.chance(0.75) };
}

/** Puts `vm` into the input's mode and state, with its bytes at FUZZ_CODE. */
function enter(vm: Vm, input: FuzzInput): void {
  const cpu = vm.cpu;
  if (input.mode === 'real16') {
    vm.resetReal();
    cpu.setSegment(SEG_CS, FUZZ_CODE >> 4, FUZZ_CODE, 0xffff, SEGF_USABLE | SEGF_P | SEGF_S | 0x0b);
    cpu.eip = 0;
  } else {
    vm.resetFlat32(FUZZ_CODE, 0);
    if (input.mode === 'pm16') {
      // A 16-bit code segment based at FUZZ_CODE (D = 0, byte-granular 64 KiB limit).
      cpu.setSegment(SEG_CS, 0x08, FUZZ_CODE, 0xffff, SEGF_USABLE | SEGF_P | SEGF_S | 0x0b);
      cpu.eip = 0;
    }
  }
  vm.writePhys(FUZZ_CODE, input.bytes);
  const s = cpu.s;
  for (let r = 0; r < 8; r++) s[r] = input.regs[r];
  s[EFLAGS >> 2] = input.eflags;
  s[LF_OP >> 2] = 0;
  vm.stopOnFault = input.stopOnFault;
  cpu.refreshMode();
}

/**
 * Runs one input (and disassembles its first instruction); returns how it ended, or throws what
 * the VM or the disassembler threw (a host crash).
 */
export function runOne(vm: Vm, input: FuzzInput, budget: number): string {
  disassemble(input.bytes, input.mode === 'pm32', 0);
  enter(vm, input);
  const r = vm.run(budget);
  if (r.reason === 'fault') return `fault ${VECTOR_NAMES[r.fault?.vector ?? -1] ?? `vector ${r.fault?.vector}`}`;
  return r.reason;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.message}\n${e.stack?.split('\n').slice(1, 7).join('\n') ?? ''}`;
  return String(e);
}

/** Layout of the step buffer: steps taken, EIP, mode, then 16 instruction bytes (4 words). */
export const STEP_WORDS = 3 + 4;

/**
 * Replays `input` alone in a fresh VM one instruction at a time, publishing each instruction
 * (its EIP and bytes) to `step` before executing it, so that a watcher can name the instruction
 * a hang is stuck in. Returns normally if the input finishes within `budget` instructions.
 */
export function replayStepwise(input: FuzzInput, budget: number, step: Int32Array): void {
  const vm = fuzzVm();
  enter(vm, input);
  const cpu = vm.cpu;
  for (let k = 0; k < budget; k++) {
    const lin = (cpu.segBase(SEG_CS) + cpu.eip) | 0;
    for (let w = 0; w < 4; w++) {
      let v = 0;
      for (let b = 3; b >= 0; b--) {
        const a = (lin + 4 * w + b) >>> 0;
        v = (v << 8) | (a < FUZZ_RAM ? vm.mem.u8[RAM_OFFSET + a] : 0xff);
      }
      step[3 + w] = v;
    }
    step[1] = cpu.eip;
    step[2] = cpu.code32 ? 32 : 16;
    Atomics.store(step, 0, k + 1);
    try {
      const r = vm.run(1);
      if (r.reason !== 'budget') return;
    } catch (e) {
      if (e instanceof GuestFault || e instanceof MachineHalt) return;
      throw e;
    }
  }
}

/** The instruction last published by replayStepwise, as text. */
export function describeStep(step: Int32Array): string {
  if (Atomics.load(step, 0) === 0) return '(no instruction reached)';
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => (step[3 + (i >> 2)] >>> ((i & 3) * 8)) & 0xff);
  const eip = step[1] >>> 0;
  const code32 = step[2] === 32;
  const { text, len } = disassemble(bytes, code32, eip);
  const hex = [...bytes.subarray(0, len)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `step ${Atomics.load(step, 0)}, eip ${eip.toString(16)}: ${hex}   ${text}`;
}

/** A fresh VM for the fuzzer. */
export function fuzzVm(): Vm {
  return new Vm({ memorySize: FUZZ_RAM, engine: 'interp' });
}

/** Runs `input` alone in a fresh VM: the crash message, or undefined if it does not crash. */
export function replayAlone(input: FuzzInput, budget = 24): string | undefined {
  try {
    runOne(fuzzVm(), input, budget);
    return undefined;
  } catch (e) {
    if (e instanceof GuestFault || e instanceof MachineHalt) return undefined;
    return errorText(e);
  }
}

/** Runs the fuzzer. */
export function fuzz(opts: FuzzOptions): FuzzResult {
  const t0 = performance.now();
  const budget = opts.budget ?? 24;
  const rng = new Rng(opts.seed);
  const vm = fuzzVm();
  const buf = new Uint8Array(32);
  const regs = new Int32Array(8);
  const endings: Record<string, number> = {};
  const crashes: FuzzCrash[] = [];
  const seen = new Set<string>();
  let ran = 0;
  for (let i = 0; i < opts.count; i++) {
    const input = drawInput(rng, i, buf, regs);
    if (i < (opts.skip ?? 0)) continue;
    if (opts.progress) publish(opts.progress, input);
    ran++;
    let ending: string;
    try {
      ending = runOne(vm, input, budget);
    } catch (e) {
      const error = errorText(e);
      const key = error.split('\n')[0];
      if (!seen.has(key)) {
        seen.add(key);
        const copy: FuzzInput = { ...input, bytes: input.bytes.slice(), regs: input.regs.slice() };
        crashes.push({ input: copy, error, reproducesAlone: replayAlone(copy, budget) !== undefined });
      }
      ending = 'host crash';
    }
    endings[ending] = (endings[ending] ?? 0) + 1;
    if (opts.progress) {
      const k = ENDINGS.indexOf(ending);
      Atomics.add(opts.progress, PROGRESS_ENDINGS + (k >= 0 ? k : ENDINGS.indexOf('fault (other vector)')), 1);
    }
    if (ending === 'host crash' && !opts.keepGoing) break;
  }
  return { inputs: ran, endings, crashes, ms: performance.now() - t0 };
}

/** An input as text lines: mode, bytes, first instruction, registers. */
export function formatInput(input: FuzzInput): string[] {
  const hex = [...input.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  let dis: string;
  try {
    dis = disassemble(input.bytes, input.mode === 'pm32', 0).text;
  } catch (e) {
    dis = `(disassembler threw: ${e instanceof Error ? e.message : String(e)})`;
  }
  const regs = [...input.regs].map((v) => (v >>> 0).toString(16).padStart(8, '0')).join(' ');
  return [
    `  ${input.mode}, ${input.stopOnFault ? 'stop on fault' : 'deliver faults'}; bytes: ${hex}`,
    `  first instruction: ${dis}`,
    `  regs (eax..edi): ${regs}  eflags: ${input.eflags.toString(16)}`,
  ];
}

/** A crash as text: the input, whether it reproduces alone, the error. */
export function formatCrash(c: FuzzCrash, seed: number): string {
  return [
    `host crash at input #${c.input.index} (seed ${seed}):`,
    ...formatInput(c.input),
    `  reproduces alone in a fresh VM: ${c.reproducesAlone ? 'yes' : 'no (depends on earlier inputs: replay with the same --seed)'}`,
    `  ${c.error.split('\n').join('\n  ')}`,
  ].join('\n');
}
