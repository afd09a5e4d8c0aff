/**
 * Translated code against a hand-written Wasm floor (issue: "what we emit for a hot loop against
 * a hand-written Wasm loop of the same work"): the call loop of calls-loop.asm run by the
 * translator (PcMachine, engine 'dbt', a multiboot kernel), and the same work written by hand in
 * calls-loop.wat (registers in locals, the same soft-TLB checks, a budget check per iteration, no
 * flags). Prints ns per iteration for both, min and median over --rounds (default 7) in this
 * process. A benchmark, not a test: nothing is asserted about time.
 *
 *   npx tsx bench/handwritten/run.ts [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import binaryen from 'binaryen';
import { PcMachine } from '../../runtime/pc/pc-machine.ts';

const ITERATIONS = 20_000_000;
const here = import.meta.dirname;
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 7) || 7;

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const ns = (t: number): string => ((t * 1e6) / ITERATIONS).toFixed(1);
  return `min ${ns(s[0])} ns, median ${ns(s[s.length >> 1])} ns per iteration (${s.length} rounds)`;
}

// The translator.
const dir = mkdtempSync(join(tmpdir(), 'wv-handwritten-'));
const bin = join(dir, 'calls-loop.bin');
execFileSync('nasm', ['-f', 'bin', '-o', bin, join(here, 'calls-loop.asm')]);
const kernel = new Uint8Array(readFileSync(bin));
const translated: number[] = [];
for (let r = 0; r < rounds; r++) {
  const m = new PcMachine({ kernel, memory: 32 << 20, engine: 'dbt' });
  await m.vm.prepare();
  const t0 = performance.now();
  const res = await m.run();
  translated.push(performance.now() - t0);
  if (res.reason !== 'exit' || res.executed !== ITERATIONS * 9 + 7) throw new Error(`translated run ended ${res.reason} after ${res.executed}`);
}

// The hand-written module: one stack page mapped through its TLB entry.
const mod = binaryen.parseText(readFileSync(join(here, 'calls-loop.wat'), 'utf8'));
mod.setFeatures(binaryen.Features.MVP);
if (!mod.validate()) throw new Error('calls-loop.wat does not validate');
const wasm = mod.emitBinary();
mod.dispose();
const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536 });
const TLB = 0x100000;
const ESP = 0x80000 - 0x40;
const host = 0x200000; // host page backing the guest's stack page
new Int32Array(memory.buffer, TLB + ((ESP >>> 12) << 2), 1)[0] = ((host ^ (ESP & ~0xfff)) & ~0xfff) | 1;
const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), { vm: { mem: memory } });
const run = inst.exports.run as (esp: number, esi: number, mask: number, tlb: number) => number;
const hand: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const ebx = run(ESP, ITERATIONS, 0x1, TLB);
  hand.push(performance.now() - t0);
  // EBX = sum of 3i + 1 for i < n (mod 2^32), as the guest loop leaves it.
  const n = BigInt(ITERATIONS);
  if (BigInt.asUintN(32, 3n * (n * (n - 1n) / 2n) + n) !== BigInt(ebx >>> 0)) throw new Error('hand-written loop: wrong EBX');
}

console.log(`translated (${ITERATIONS * 9} guest instructions): ${stats(translated)}`);
console.log(`hand-written Wasm:                   ${stats(hand)}`);
