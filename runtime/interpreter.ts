/**
 * The interpreter tier: executes decoded blocks from the code cache, or single uncached
 * instructions (those crossing a page or running from non-RAM).
 *
 * EIP protocol: while a handler runs, state EIP is the instruction's own address (so a fault
 * reports it) and `cpu.next` the address after it; the handler overwrites `cpu.next` to jump;
 * afterwards EIP = cpu.next. A block stops early when control left the straight line, the mode
 * changed, or a write invalidated cached code (self-modifying code is seen at the next
 * instruction, as on hardware).
 */
import { EIP, EXIT_REQUEST, MODE, SEG_CS } from '../translator/abi.ts';
import { decode } from '../translator/decoder/decode.ts';
import type { Insn } from '../translator/decoder/insn.ts';
import type { Block } from './code-cache.ts';
import { CLASS_OF_ROW } from '../translator/isa/table.ts';
import type { Cpu } from './cpu.ts';
import { fault } from './fault.ts';
import { HANDLERS } from './dispatch.ts';

const I_EIP = EIP >> 2;
const I_MODE = MODE >> 2;
const I_EXIT = EXIT_REQUEST >> 2;

/**
 * Executes up to `max` instructions of `b`; returns how many completed. Each completed
 * instruction increments cpu.icount and its class slot in `classCounts` (translator/isa CLASS_INDEX).
 */
export function execBlock(cpu: Cpu, b: Block, max: number, classCounts: Float64Array): number {
  const insns = b.insns;
  const s = cpu.s;
  const epoch = cpu.codeEpoch;
  const mode = s[I_MODE];
  const wrap = mode & 1 ? -1 : 0xffff; // MODE_CS32
  const n = insns.length < max ? insns.length : max;
  let k = 0;
  while (k < n) {
    const i = insns[k];
    const next = (i.eip + i.len) & wrap;
    cpu.next = next;
    HANDLERS[i.row](cpu, i);
    s[I_EIP] = cpu.next;
    classCounts[CLASS_OF_ROW[i.row]]++;
    cpu.icount++;
    k++;
    // EXIT_REQUEST: a device raised an interrupt (e.g. from an OUT in this block) or STI/POPF
    // opened IF; return so the run loop can deliver it before the next instruction.
    if (cpu.next !== next || cpu.codeEpoch !== epoch || s[I_MODE] !== mode || cpu.halted || s[I_EXIT] !== 0) break;
  }
  return k;
}

/** Slots of the per-CPU cache of instructions decoded by `stepUncached`. */
const UC_SIZE = 64;
/** Longest instruction (bytes compared to revalidate a cached one). */
const UC_MAX_LEN = 15;

/**
 * Instructions `stepUncached` decoded, by CS:EIP slot. An instruction that crosses a page is
 * not in the code cache (a block depends on one physical page only), and a hot one (a loop
 * whose body straddles a page boundary: the kernel's XZ decompressor has one) would otherwise
 * be decoded again on every execution. An entry is reused only when its bytes, fetched again
 * through the TLB exactly as decoding fetches them, are unchanged: nothing to invalidate.
 */
class UncachedInsns {
  readonly lin = new Int32Array(UC_SIZE);
  readonly eip = new Int32Array(UC_SIZE);
  readonly code32 = new Uint8Array(UC_SIZE);
  readonly bytes = new Uint8Array(UC_SIZE * UC_MAX_LEN);
  readonly insn: (Insn | null)[] = new Array<Insn | null>(UC_SIZE).fill(null);
}

const uncachedInsns = new WeakMap<Cpu, UncachedInsns>();

/** Decodes and executes one instruction at CS:EIP without caching it in the code cache. */
export function stepUncached(cpu: Cpu, classCounts: Float64Array): void {
  const code32 = cpu.code32;
  const csBase = cpu.segBase(SEG_CS);
  const csLimit = cpu.segLimit(SEG_CS);
  const fetch = (e: number): number => {
    if ((e >>> 0) > csLimit) fault(13, 0);
    return cpu.read8((csBase + e) | 0);
  };
  let uc = uncachedInsns.get(cpu);
  if (!uc) uncachedInsns.set(cpu, (uc = new UncachedInsns()));
  const eip = cpu.eip;
  const lin = (csBase + eip) | 0;
  const slot = (lin ^ (lin >>> 6)) & (UC_SIZE - 1);
  let i = uc.insn[slot];
  if (i !== null && uc.lin[slot] === lin && uc.eip[slot] === eip && uc.code32[slot] === (code32 ? 1 : 0)) {
    // Same place and mode: still the same instruction if every byte is (fetched as decode would,
    // so a fetch fault is raised as it would be).
    const base = slot * UC_MAX_LEN;
    for (let k = 0; k < i.len; k++) {
      if (fetch(code32 ? eip + k : (eip + k) & 0xffff) !== uc.bytes[base + k]) { i = null; break; }
    }
  } else {
    i = null;
  }
  if (i === null) {
    // Decode, keeping the bytes as they are fetched (offsets 0..14 from EIP, also across a
    // 16-bit wrap). The slot is emptied first, so a decode that faults leaves no stale entry.
    const base = slot * UC_MAX_LEN;
    const bytes = uc.bytes;
    uc.insn[slot] = null;
    i = decode((e) => {
      const v = fetch(e);
      const off = (e - eip) & 0xf;
      if (off < UC_MAX_LEN) bytes[base + off] = v;
      return v;
    }, eip, code32);
    uc.insn[slot] = i;
    uc.lin[slot] = lin;
    uc.eip[slot] = eip;
    uc.code32[slot] = code32 ? 1 : 0;
  }
  cpu.next = code32 ? i.eip + i.len : (i.eip + i.len) & 0xffff;
  HANDLERS[i.row](cpu, i);
  cpu.s[I_EIP] = cpu.next;
  classCounts[CLASS_OF_ROW[i.row]]++;
  cpu.icount++;
}
