/**
 * Effective-address forms and their solution: pick a random ModRM/SIB addressing form (SDM
 * vol. 2, tables 2-1 to 2-3), then choose register values and the displacement so that the
 * effective address lands on a wanted target, honouring registers whose values are already fixed.
 *
 * The solution works modulo 2^32 (or 2^16 for 16-bit addressing): the register that closes the
 * equation usually gets a large value and wraps around, and 16-bit forms get random upper halves,
 * so address arithmetic overflow and truncation are exercised on every case.
 */
import { R_EBP, R_ESP } from '../../translator/abi.ts';
import type { ModrmBytes } from './encode.ts';
import type { Rng } from './rng.ts';

/** An addressing form: the ModRM fields plus which registers take part, with coefficients. */
export interface EaForm extends ModrmBytes {
  /** Register -> coefficient (base 1, index 2^scale; both when the same register). */
  readonly terms: Map<number, number>;
  /** The form's default segment is SS (EBP/ESP/BP base). */
  readonly stackSeg: boolean;
}

// 16-bit forms (table 2-1): base and index register per rm.
const EA16_REGS: readonly (readonly number[])[] = [[3, 6], [3, 7], [5, 6], [5, 7], [6], [7], [5], [3]];

function disp(rng: Rng, size: 0 | 1 | 2 | 4): number {
  if (size === 0) return 0;
  if (size === 1) return rng.chance(0.3) ? rng.pick([0, 1, -1, 0x7f, -0x80]) : rng.range(-128, 127);
  const bits = size * 8;
  const v = rng.chance(0.5) ? rng.edge(bits) : rng.range(-256, 256);
  return size === 2 ? v & 0xffff : v | 0;
}

/** A random memory addressing form for address size `asz`. */
export function randomEaForm(rng: Rng, asz: 16 | 32): EaForm {
  const terms = new Map<number, number>();
  const add = (r: number, c: number): void => { terms.set(r, (terms.get(r) ?? 0) + c); };
  if (asz === 16) {
    const mod = rng.range(0, 2);
    const rm = rng.below(8);
    const dispSize: 0 | 1 | 2 = mod === 1 ? 1 : mod === 2 || (mod === 0 && rm === 6) ? 2 : 0;
    if (!(mod === 0 && rm === 6)) for (const r of EA16_REGS[rm]) add(r, 1);
    const stackSeg = (rm === 2 || rm === 3 || rm === 6) && !(mod === 0 && rm === 6);
    return { mod, rm, disp: disp(rng, dispSize), dispSize, terms, stackSeg };
  }
  const mod = rng.range(0, 2);
  const useSib = rng.chance(0.45);
  if (!useSib) {
    let rm = rng.below(8);
    while (rm === 4) rm = rng.below(8);
    const absolute = mod === 0 && rm === 5;
    const dispSize: 0 | 1 | 4 = mod === 1 ? 1 : mod === 2 || absolute ? 4 : 0;
    if (!absolute) add(rm, 1);
    return { mod, rm, disp: disp(rng, dispSize), dispSize, terms, stackSeg: !absolute && rm === R_EBP };
  }
  const scale = rng.below(4);
  const index = rng.below(8); // 4 = no index
  const base = rng.below(8); // 5 with mod 0 = no base, disp32
  const noBase = base === 5 && mod === 0;
  const dispSize: 0 | 1 | 4 = mod === 1 ? 1 : mod === 2 || noBase ? 4 : 0;
  if (!noBase) add(base, 1);
  if (index !== 4) add(index, 1 << scale);
  return {
    mod, rm: 4, sib: (scale << 6) | (index << 3) | base, disp: disp(rng, dispSize), dispSize, terms,
    stackSeg: !noBase && (base === R_ESP || base === R_EBP),
  };
}

/** The effective address of `f` with register values `regs`. */
export function evalEa(f: EaForm, regs: Int32Array, asz: 16 | 32): number {
  let a = f.disp;
  for (const [r, c] of f.terms) a += Math.imul(regs[r], c);
  return asz === 32 ? a >>> 0 : a & 0xffff;
}

/** Inverse of an odd number modulo 2^32 (Newton's iteration). */
function inverseOdd(x: number): number {
  let y = x;
  for (let i = 0; i < 5; i++) y = Math.imul(y, 2 - Math.imul(x, y));
  return y >>> 0;
}

/**
 * Makes `f` address `target` (an address-size offset): sets the free registers (those not in
 * `pinned`) and, when nothing else can absorb the difference, a 32- or 16-bit displacement.
 * Returns the effective address actually reached: equal to `target`, or up to 7 below it when
 * the closing register's coefficient is even, or wherever the pinned registers put it.
 */
export function solveEa(rng: Rng, f: EaForm, regs: Int32Array, pinned: readonly boolean[], target: number, asz: 16 | 32): number {
  const modMask = asz === 32 ? 0xffffffff : 0xffff;
  const free = [...f.terms.keys()].filter((r) => !pinned[r]);
  if (free.length === 0) {
    if (f.dispSize === 4 || f.dispSize === 2) {
      let rest = 0;
      for (const [r, c] of f.terms) rest += Math.imul(regs[r], c);
      f.disp = f.dispSize === 4 ? (target - rest) | 0 : (target - rest) & 0xffff;
    }
    return evalEa(f, regs, asz);
  }
  // The closing register: prefer an odd coefficient (always solvable).
  free.sort((a, b) => (f.terms.get(a)! & 1 ? 0 : 1) - (f.terms.get(b)! & 1 ? 0 : 1));
  const solver = free[0];
  for (const r of free.slice(1)) regs[r] = rng.u32() | 0;
  let rest = f.disp;
  for (const [r, c] of f.terms) if (r !== solver) rest += Math.imul(regs[r], c);
  const coef = f.terms.get(solver)!;
  const k = 31 - Math.clz32(coef & -coef); // trailing zeros
  let delta = ((target - rest) & modMask) >>> 0;
  const low = delta & ((1 << k) - 1);
  delta -= low;
  const odd = coef >> k;
  const width = asz === 32 ? 32 - k : 16 - k;
  const widthMask = width === 32 ? 0xffffffff : (1 << width) - 1;
  let v = (Math.imul(delta >>> k, inverseOdd(odd)) & widthMask) >>> 0;
  // The top k bits of the register do not affect the sum: randomize them.
  if (k > 0) v = (v + Math.imul(rng.below(1 << k), 2 ** width)) >>> 0;
  if (asz === 16) v = ((rng.u32() & 0xffff0000) | (v & 0xffff)) >>> 0;
  regs[solver] = v | 0;
  return evalEa(f, regs, asz);
}
