/**
 * runtime/x87/extended.ts against an independent BigInt model of IEEE rounding in the
 * double-extended format: + − × ÷ √ of random operands (full 64-bit significands, binary64
 * values for the fast paths, results near the denormal and overflow ranges) under every
 * precision control and rounding control, comparing the result encoding and PE/UE/OE/C1.
 *
 * The model: the exact result as an integer T times 2^k plus a sticky bit (÷ and √ carry 130
 * more quotient/root bits than needed), rounded once to the precision with tininess after
 * rounding, denormals on the precision's grid 2^(−16382−p+1) (measured on the CPU; the oracle
 * checks the same cases against it), and the masked overflow response. Runs on any host.
 */
import { describe, expect, it } from 'vitest';
import { Vm } from '../../../runtime/vm.ts';
import { Unpacked, addTo, divTo, mulTo, sqrtTo, unpack } from '../../../runtime/x87/extended.ts';
import { setCw, setReg, slotHi, slotLo, slotSe } from '../../../runtime/x87/fpu.ts';

const SW_OE = 0x08, SW_UE = 0x10, SW_PE = 0x20, SW_C1 = 0x200;
const EMIN = -16382, EMAX = 16383;

/** A tiny deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

interface Operand { s: number; e: number; m: bigint }

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds sign · (T + sticky·ε) · 2^k (T > 0) as the model says; returns encoding and flags. */
function model(sign: number, T: bigint, k: number, sticky: boolean, prec: number, rc: number): { se: number; m: bigint; flags: number } {
  const up = (q: bigint, rem: bigint, half: bigint, st: boolean): boolean => {
    const inexact = rem !== 0n || st;
    if (rc === 0) return rem > half || (rem === half && (st || (q & 1n) === 1n));
    if (rc === 1) return sign === 1 && inexact;
    if (rc === 2) return sign === 0 && inexact;
    return false;
  };
  /** Rounds at the bit 2^ulp: the integer q (units of 2^ulp), inexact, rounded up. */
  const roundAt = (ulp: number): { q: bigint; inexact: boolean; rup: boolean } => {
    const sh = ulp - k;
    if (sh <= 0) return { q: T << BigInt(-sh), inexact: sticky, rup: false };
    let q = T >> BigInt(sh);
    const rem = T & ((1n << BigInt(sh)) - 1n);
    const rup = up(q, rem, 1n << BigInt(sh - 1), sticky);
    if (rup) q += 1n;
    return { q, inexact: rem !== 0n || sticky, rup };
  };
  const E = k + bitLength(T) - 1;
  let r = roundAt(E - prec + 1);
  let e = E;
  if (bitLength(r.q) > prec) e += 1;
  if (e > EMAX) {
    const inf = rc === 0 || (rc === 2 && sign === 0) || (rc === 1 && sign === 1);
    const max = ((1n << BigInt(prec)) - 1n) << BigInt(64 - prec);
    return { se: (sign << 15) | (inf ? 0x7fff : 0x7ffe), m: inf ? 1n << 63n : max, flags: SW_OE | SW_PE | (inf ? SW_C1 : 0) };
  }
  if (e < EMIN) {
    r = roundAt(EMIN - prec + 1);
    const m = r.q << BigInt(64 - prec);
    const exp = m >> 63n ? 1 : 0;
    return { se: (sign << 15) | exp, m, flags: (r.inexact ? SW_UE | SW_PE : 0) | (r.rup ? SW_C1 : 0) };
  }
  const m = bitLength(r.q) > prec ? r.q << BigInt(63 - prec) : r.q << BigInt(64 - prec);
  return { se: (sign << 15) | (e + 16383), m, flags: (r.inexact ? SW_PE : 0) | (r.rup ? SW_C1 : 0) };
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** The exact result of `op` as (sign, T, k, sticky), or null for a zero result. */
function exact(op: string, a: Operand, b: Operand): [number, bigint, number, boolean] | null {
  const ka = a.e - 63;
  const kb = b.e - 63;
  switch (op) {
    case 'add': case 'sub': {
      const bs = op === 'sub' ? b.s ^ 1 : b.s;
      const k = Math.min(ka, kb);
      const va = (a.m << BigInt(ka - k)) * (a.s ? -1n : 1n);
      const vb = (b.m << BigInt(kb - k)) * (bs ? -1n : 1n);
      const v = va + vb;
      return v === 0n ? null : [v < 0n ? 1 : 0, v < 0n ? -v : v, k, false];
    }
    case 'mul': return [a.s ^ b.s, a.m * b.m, ka + kb, false];
    case 'div': {
      const n = a.m << 200n;
      return [a.s ^ b.s, n / b.m, ka - kb - 200, n % b.m !== 0n];
    }
    default: {
      let n = a.m << 200n;
      let k = ka - 200;
      if (k & 1) {
        n <<= 1n;
        k -= 1;
      }
      const r = isqrt(n);
      return [0, r, k / 2, r * r !== n];
    }
  }
}

function operand(next: () => number, kind: number): Operand {
  let m = (BigInt((next() | 0x80000000) >>> 0) << 32n) | BigInt(next());
  if (kind === 1) m &= ~0x7ffn; // a binary64 value: the fast paths
  if (kind === 2) m &= ~((1n << 40n) - 1n); // a short significand
  return { s: next() & 1, e: 0, m };
}

const OPS = ['add', 'sub', 'mul', 'div', 'sqrt'] as const;

describe('x87 double-extended arithmetic against a BigInt model', () => {
  const vm = new Vm({ memorySize: 1 << 20 });
  const cpu = vm.cpu;
  const A = new Unpacked();
  const B = new Unpacked();
  for (const op of OPS) {
    it(`${op}: random operands, every PC and RC`, () => {
      const next = rng(0x8087 + op.length * 7919 + op.charCodeAt(1));
      const bad: string[] = [];
      for (let n = 0; n < 4000; n++) {
        // The result's exponent: mostly moderate, one in ten near the denormal range, one in ten
        // near overflow; operands always normal.
        const [lo, hi] = n % 10 === 0 ? [EMIN - 70, EMIN + 10] : n % 10 === 1 ? [EMAX - 10, EMAX + 2] : [-70, 70];
        const t = lo + (next() % (hi - lo + 1));
        const a = operand(next, next() % 3);
        const b = operand(next, next() % 3);
        if (op === 'add' || op === 'sub') {
          a.e = t;
          b.e = t - 70 + (next() % 74);
        } else if (op === 'mul') {
          a.e = Math.floor(t / 2) + (next() % 5) - 2;
          b.e = t - a.e;
        } else if (op === 'div') {
          a.e = Math.floor(t / 2) + (next() % 5) - 2;
          b.e = a.e - t;
        } else {
          a.s = 0;
          a.e = Math.max(EMIN, Math.min(EMAX, 2 * t));
        }
        if (a.e < EMIN || b.e < EMIN || a.e > EMAX || b.e > EMAX) continue;
        const pc = [0, 2, 3][next() % 3];
        const rc = next() & 3;
        setCw(cpu, 0x3f | (pc << 8) | (rc << 10));
        const enc = (o: Operand): [number, number, number] => [(o.s << 15) | (o.e + 16383), Number(o.m >> 32n) | 0, Number(o.m & 0xffffffffn) | 0];
        setReg(cpu, 0, ...enc(a));
        setReg(cpu, 1, ...enc(b));
        unpack(cpu, 0, A);
        unpack(cpu, 1, B);
        const prec = pc === 0 ? 24 : pc === 2 ? 53 : 64;
        const flags = op === 'add' ? addTo(cpu, 2, A, B, 0, prec) : op === 'sub' ? addTo(cpu, 2, A, B, 1, prec)
          : op === 'mul' ? mulTo(cpu, 2, A, B, prec) : op === 'div' ? divTo(cpu, 2, A, B, prec) : sqrtTo(cpu, 2, A, prec);
        const x = exact(op, a, b);
        const want = x ? model(x[0], x[1], x[2], x[3], prec, rc) : { se: (rc === 1 ? 1 : 0) << 15, m: 0n, flags: 0 };
        const got = { se: slotSe(cpu, 2), m: (BigInt(slotHi(cpu, 2) >>> 0) << 32n) | BigInt(slotLo(cpu, 2) >>> 0), flags: flags & (SW_OE | SW_UE | SW_PE | SW_C1) };
        if (got.se !== want.se || got.m !== want.m || got.flags !== want.flags) {
          bad.push(`${op} pc ${pc} rc ${rc} a ${a.s}:${a.e}:${a.m.toString(16)} b ${b.s}:${b.e}:${b.m.toString(16)}: got ${got.se.toString(16)}:${got.m.toString(16)} ${got.flags.toString(16)}, want ${want.se.toString(16)}:${want.m.toString(16)} ${want.flags.toString(16)}`);
        }
      }
      expect(bad.slice(0, 5)).toEqual([]);
    });
  }
});
