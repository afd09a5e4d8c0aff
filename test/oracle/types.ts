/**
 * Shared types of the real-CPU oracle: operand forms, test cases, the outcome of running a case
 * (natively or in the VM), VM setups, and the plug-in interface through which gen-x87.ts adds
 * x87 cases.
 *
 * A case is one instruction at a fixed linear address with a complete initial state (eight
 * GPRs, EFLAGS, DS/ES/FS/GS selectors, memory pokes over the deterministic window background,
 * optionally an x87 FSAVE image). Its outcome is where control went (a stub address or a fault
 * vector) plus the complete final state.
 */
import type { Row } from '../../translator/isa/types.ts';
import type { Cpu } from '../../runtime/cpu.ts';
import type { Vm } from '../../runtime/vm.ts';
import type { Rng } from './rng.ts';

/** One operand-size / address-size / ModRM combination of a row. */
export interface Form {
  readonly osz: 16 | 32;
  readonly asz: 16 | 32;
  /** ModRM r/m kind: register (mod 3), memory, or none (no r/m operand). */
  readonly rm: 'reg' | 'mem' | 'none';
  /** Short label for tables: `o32 reg`, `o16 m16`, `o32`. */
  readonly label: string;
}

/** Bytes written over the background before the case runs. */
export interface Poke {
  readonly addr: number;
  readonly bytes: Uint8Array;
}

/** A byte range excluded from the memory comparison (an architecturally undefined result). */
export interface MemIgnore {
  readonly addr: number;
  readonly len: number;
}

export interface OracleCase {
  readonly row: Row;
  readonly form: Form;
  /** Runs in the 16-bit code segment (LDT selector 0x07) instead of the 32-bit one (0x23). */
  readonly code16?: boolean;
  /** Linear address of the instruction's first byte (CS base is 0). */
  readonly eip: number;
  readonly code: Uint8Array;
  /** EAX ECX EDX EBX ESP EBP ESI EDI. */
  readonly regs: Int32Array;
  readonly eflags: number;
  /** DS, ES, FS, GS selectors; CS and SS are the host's flat user segments. */
  readonly sel: readonly [number, number, number, number];
  readonly pokes: readonly Poke[];
  /** FSAVE image (108 bytes, 32-bit protected-mode format) loaded before the instruction. */
  readonly fpu?: Uint8Array;
  /** Capture the FSAVE image after the instruction (implied by `fpu`). */
  readonly captureFpu?: boolean;
  /** EFLAGS bits not compared (the row's undefined flags, refined for this case). */
  readonly flagsIgnore: number;
  /** Per-register masks of bits not compared (undefined results); absent = compare all. */
  readonly regIgnore?: readonly number[];
  readonly memIgnore?: readonly MemIgnore[];
  /** Bits of CR2 compared after a #PF (default all). */
  readonly cr2Mask?: number;
  /** The explicit memory operand (linear address and size), if the instruction has one. */
  readonly mem?: { readonly addr: number; readonly size: number };
  /** Why something is ignored, or what is special about the case; shown with mismatches. */
  readonly note?: string;
}

/**
 * How a case ended. `stub`: control reached a stub (the fall-through or a branch target) at
 * `eip`; `fault`: the instruction raised exception `vector`; the rest are harness conditions.
 */
export type OutcomeKind = 'stub' | 'fault' | 'timeout' | 'no-handler' | 'host-error' | 'no-stop';

export interface Outcome {
  kind: OutcomeKind;
  vector: number;
  /** Error code for #TS #NP #SS #GP #PF #AC (low 16 bits), else -1. */
  errorCode: number;
  /** CR2 after a #PF. */
  cr2: number;
  eip: number;
  eflags: number;
  regs: Int32Array;
  /** Selectors ES CS SS DS FS GS. */
  sel: number[];
  /** Changed memory bytes: address -> new value. */
  mem: Map<number, number>;
  /** FSAVE-format image of the x87 state after the instruction, if captured. */
  fpu?: Uint8Array;
  /** Human-readable detail for harness conditions (host errors, missing handlers). */
  message?: string;
}

/**
 * Parts of a comparison that a known deviation of the reference excuses (deviations.ts): the
 * reference is known to get them wrong, so a difference there is counted as a known reference
 * deviation instead of a mismatch. Everything not excused is still compared.
 */
export interface Excuse {
  /** Everything: where control went and every part of the state. */
  readonly all?: boolean;
  /** Bits of CR2 after a page fault. */
  readonly cr2?: number;
  /** Bits of the exception's error code. */
  readonly errorCode?: number;
  /** EFLAGS bits. */
  readonly flags?: number;
  /** General registers (EAX=0 ... EDI=7), or all of them. */
  readonly regs?: 'all' | readonly number[];
  /** Memory bytes. */
  readonly mem?: readonly MemIgnore[];
  /**
   * x87: control word bits, status word bits, tag word bits (FSAVE layout), register values
   * (bit i = ST(i) after the instruction), or the whole x87 state.
   */
  readonly x87?: { readonly cw?: number; readonly sw?: number; readonly tw?: number; readonly st?: number; readonly all?: boolean };
}

/** A way of preparing the VM for a case (privilege level, paging, descriptor tables). */
export interface VmSetup {
  readonly name: string;
  readonly description: string;
  /** CPL the setup runs test instructions at. */
  readonly cpl: 0 | 3;
  /** Called once per VM: build tables (GDT, page tables) in guest RAM. */
  init(vm: Vm): void;
  /** Called per case after memory is in place: load the architectural start state. */
  enter(vm: Vm, c: OracleCase): void;
}

/** Context handed to row generators by the core (so gen-x87.ts needs no internal imports). */
export interface GenContext {
  readonly rng: Rng;
  readonly setup: VmSetup;
  /** Cases run in a 16-bit code segment (default operand and address size 16). */
  readonly code16?: boolean;
}

/**
 * A case generator for some rows. The core calls `generate` `n` times per (row, form); returning
 * null skips one attempt (the core retries a bounded number of times).
 */
export interface RowGenerator {
  /** True if this generator produces the cases of `row`. */
  handles(row: Row): boolean;
  /** The forms to test for `row`; omit to use the core's enumeration (oracle/forms.ts). */
  forms?(row: Row): readonly Form[];
  generate(row: Row, form: Form, ctx: GenContext): OracleCase | null;
}

/**
 * What gen-x87.ts exports (as `x87Plugin`): generators for the x87 rows and the x87 side of the
 * VM state. The native runner loads `case.fpu` with FRSTOR before the instruction and captures
 * the FSAVE image from the signal context afterwards; the plug-in loads the same image into the
 * VM, reads the VM's state back as an FSAVE image, and compares the two.
 */
export interface X87Plugin {
  readonly generators: readonly RowGenerator[];
  /** Loads an FSAVE image into the VM's x87 state. */
  loadVm(cpu: Cpu, image: Uint8Array): void;
  /** The VM's x87 state as an FSAVE image. */
  readVm(cpu: Cpu): Uint8Array;
  /** Differences between the reference's and the VM's images after case `c` (empty = equal). */
  compare(ref: Uint8Array, vm: Uint8Array, c: OracleCase, excuse?: Excuse['x87']): string[];
}
