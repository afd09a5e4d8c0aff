/**
 * The shape of one row of the instruction table (see table.ts for the table itself).
 *
 * A row describes one encoding: which opcode map and byte, which ModRM sub-encoding (group
 * `reg`, memory-or-register `mod`, register-form `rm`), its operands in the SDM's notation, how it
 * depends on the operand size, which EFLAGS it reads, writes and leaves undefined, and its
 * virtualization class. The decoder, disassembler, block scanner, interpreter dispatch, the
 * translator's emitters and the oracle's case generators all read these rows.
 */

/**
 * Virtualization class of an instruction, in the Popek–Goldberg sense (design.md §2).
 * - `innocuous`: runs the same at any privilege level and touches only guest-visible user state.
 * - `control`: a near control transfer (JMP/Jcc/CALL/RET/LOOP...): innocuous, but ends a block.
 * - `sensitive-non-trapping`: reads or changes privileged state but does not fault at CPL 3 on
 *   real hardware (the Robin & Irvine list: PUSHF, POPF, SGDT, far CALL, ...). Always a VMM stub.
 * - `privileged`: faults with #GP unless CPL 0 (or IOPL allows): CLI, HLT, MOV CRn, ...
 * - `io`: port I/O (IN, OUT, INS, OUTS), subject to IOPL and the TSS I/O bitmap.
 */
export const CLASS_NAMES = ['innocuous', 'control', 'sensitive-non-trapping', 'privileged', 'io'] as const;
export type InsnClass = (typeof CLASS_NAMES)[number];

/**
 * The VMM exits the rows declare (`exit`): every sensitive-non-trapping, privileged and I/O row
 * names the one it is counted as whenever it runs through the VMM (runtime/dispatch.ts counts it,
 * in both engines; `--stats` shows these names). Rows of a kind share one (`push-seg`, `io`...).
 */
export const EXIT_REASONS = [
  'pushf', 'popf', 'cli', 'sti', 'push-seg', 'pop-seg', 'mov-seg', 'mov-from-seg', 'load-far-pointer', 'jmp-far',
  'call-far', 'retf', 'int', 'int1', 'int3', 'into', 'iret', 'sgdt', 'sidt', 'sldt', 'str', 'smsw', 'lar', 'lsl', 'verr',
  'verw', 'lgdt', 'lidt', 'lldt', 'ltr', 'lmsw', 'mov-cr', 'mov-dr', 'clts', 'invlpg', 'cache', 'hlt', 'msr', 'rdtsc',
  'rdpmc', 'cpuid', 'sysenter', 'sysexit', 'rsm', 'io',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

/**
 * Operand kinds, in SDM appendix A notation where one exists.
 *
 * Addressing: E = ModRM r/m (register or memory), G = ModRM reg, M = memory-only r/m,
 * R = register-only r/m, S = segment register in ModRM.reg, C/D = control/debug register in
 * ModRM.reg, I = immediate, J = relative offset, A = direct far pointer, O = moffs (no ModRM),
 * X = DS:rSI string source, Y = ES:rDI string destination, Z = register in the opcode's low
 * three bits. Sizes: b = byte, w = word, d = dword, v = word or dword by operand size,
 * z = word or dword (immediates never 64-bit here), p = far pointer (16:16 or 16:32),
 * q = qword, a = two words or two dwords (BOUND), s = 6-byte pseudo-descriptor.
 * `Ibs` is an imm8 sign-extended to the operand size. Fixed registers are spelled out.
 * x87 memory operands: Mf32/Mf64/Mf80 (reals), Mi16/Mi32/Mi64 (integers), Mbcd (packed BCD),
 * Menv (14/28-byte environment), Mstate (94/108-byte state), Mw (control/status word);
 * `ST0` and `STi` are x87 stack registers (STi from ModRM.rm).
 */
export type Operand =
  | 'Eb' | 'Ew' | 'Ed' | 'Ev'
  | 'Gb' | 'Gw' | 'Gd' | 'Gv'
  | 'M' | 'Mp' | 'Mq' | 'Ma' | 'Ms' | 'Mw' | 'Md'
  | 'Mf32' | 'Mf64' | 'Mf80' | 'Mi16' | 'Mi32' | 'Mi64' | 'Mbcd' | 'Menv' | 'Mstate'
  | 'Rd' | 'Sw' | 'Cd' | 'Dd'
  | 'Ib' | 'Ibs' | 'Iw' | 'Iv' | 'Iz'
  | 'Jb' | 'Jz'
  | 'Ap'
  | 'Ob' | 'Ov'
  | 'Xb' | 'Xv' | 'Yb' | 'Yv'
  | 'Zb' | 'Zv'
  | 'AL' | 'AX' | 'eAX' | 'CL' | 'DX' | '1'
  | 'ES' | 'CS' | 'SS' | 'DS' | 'FS' | 'GS'
  | 'ST0' | 'STi';

/** Which opcode map a row belongs to. */
export type OpcodeMap = 'one' | '0f';

/**
 * A row as written in the table source files. Flag sets are strings of the letters
 * O S Z A P C D I T (e.g. 'OSZAPC'); `table.ts` turns them into EFLAGS masks.
 */
export interface RowSpec {
  /** Handler name: the mnemonic plus its operand form, e.g. `addEvGv`. Unique per row. */
  readonly name: string;
  /** Lower-case mnemonic for the disassembler (operand-size variants use `mnem16`). */
  readonly mnem: string;
  /** Mnemonic when the operand size is 16 bits, if it differs (e.g. `cwd` vs `cdq`). */
  readonly mnem16?: string;
  readonly map: OpcodeMap;
  /** Opcode byte (for `plusReg` rows, the base with the low three bits zero). */
  readonly op: number;
  /** ModRM.reg for a group member. */
  readonly reg?: number;
  /** Restricts the row to the memory (mod != 3) or the register (mod == 3) form. */
  readonly mod?: 'mem' | 'reg';
  /** For register forms with a fixed ModRM byte (e.g. D9 E0 = FCHS): ModRM.rm. Implies mod 'reg'. */
  readonly rm?: number;
  /** The opcode's low three bits select a register (PUSH 50+r, BSWAP 0F C8+r, ...). */
  readonly plusReg?: boolean;
  readonly ops: readonly Operand[];
  /** Behaviour depends on the operand size (16 or 32 bits). */
  readonly osz?: boolean;
  /** Depends on the address size beyond the effective address (string ops, JCXZ, LOOP, XLAT). */
  readonly asz?: boolean;
  /** Flags read, written, and left undefined after the instruction. */
  readonly fr?: string;
  readonly fw?: string;
  readonly fu?: string;
  readonly cls: InsnClass;
  /** LOCK is permitted (with a memory destination); otherwise LOCK raises #UD. */
  readonly lock?: boolean;
  /** How an F3/F2 prefix applies: `rep` (REP only) or `repe` (REPE/REPNE compare forms). */
  readonly rep?: 'rep' | 'repe';
  /** Must end a translated block although not `control` (changes mode, IF, or the code stream). */
  readonly ends?: boolean;
  /** The VMM exit it is counted as (EXIT_REASONS); every sensitive, privileged and I/O row has one. */
  readonly exit?: ExitReason;
  /**
   * A translated region always returns to the run loop after it: it changes the
   * linear-to-physical mapping (so the region's page may no longer be where its EIPs point), the
   * debug state, or halts.
   */
  readonly leaves?: true;
  /** Forms the translator's inline emitter leaves to the interpreter (memory operands, 16-bit operand size), and why. */
  readonly noInline?: { readonly forms: 'mem' | 'o16'; readonly why: string };
  /** An x87 instruction: subject to CR0.EM/TS (#NM) and pending-exception (#MF) checks. */
  readonly fpu?: boolean;
  /**
   * What the SDM leaves undefined beyond the flags in `fu`: `encoding` (the opcode map reserves
   * it; the row implements what P6 processors do), or `result16` (the destination with a 16-bit
   * operand size). The oracle compares these against the real CPU only (test/oracle/sdm.ts).
   */
  readonly sdmUndefined?: 'encoding' | 'result16';
  /**
   * x87 condition codes the SDM leaves undefined after the instruction ("FPU Flags Affected"),
   * as digits: '023' = C0, C2 and C3. Real processors leave them unchanged.
   */
  readonly ccu?: string;
  /** Free-form note shown by the documentation and the disassembler's verbose mode. */
  readonly note?: string;
}

/** A row after table construction: numeric id and decoded masks added. */
export interface Row extends RowSpec {
  /** Index of the row in TABLE. */
  readonly id: number;
  readonly flagsRead: number;
  readonly flagsWritten: number;
  readonly flagsUndefined: number;
  /** `ccu` as x87 status-word bits (C0 0x100, C1 0x200, C2 0x400, C3 0x4000). */
  readonly fpuUndefined: number;
  /** The encoding has a ModRM byte. */
  readonly modrm: boolean;
}
