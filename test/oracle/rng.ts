/**
 * Seeded random numbers for the oracle and the fuzzer (xoshiro128**), plus the value
 * distributions that make instruction tests find bugs: edge values (0, 1, all ones, sign
 * boundaries, single bits) mixed with uniform noise, and shift counts around the operand sizes.
 * Deterministic for a given seed, so every reported case can be replayed.
 */

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 expands the seed into the four state words.
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() | 1;
  }

  /** A uniform unsigned 32-bit value. */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** A uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** A uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** A new generator derived from this one (for independent streams). */
  fork(): Rng {
    return new Rng(this.u32());
  }

  /**
   * A value of `bits` bits (8, 16 or 32), unsigned, biased towards edge values: zero, one, all
   * ones, the sign bit and its neighbours, small and small negative numbers, single bits.
   */
  edge(bits: number): number {
    const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
    const sign = 2 ** (bits - 1);
    const k = this.below(100);
    let v: number;
    if (k < 35) v = this.u32();
    else if (k < 45) v = 0;
    else if (k < 50) v = 1;
    else if (k < 58) v = mask;
    else if (k < 65) v = sign;
    else if (k < 70) v = sign - 1;
    else if (k < 74) v = sign + 1;
    else if (k < 81) v = this.range(2, 16);
    else if (k < 86) v = mask - this.range(1, 16);
    else if (k < 93) v = 2 ** this.below(bits);
    else v = mask - 2 ** this.below(bits);
    return bits === 32 ? v >>> 0 : v & mask;
  }

  /** A shift or rotate count byte: mostly around 0, 1 and the operand sizes, sometimes random. */
  shiftCount(): number {
    if (this.chance(0.35)) return this.u32() & 0xff;
    return this.pick([0, 1, 1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 255]);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
