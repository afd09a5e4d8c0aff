/**
 * The default guest's first phase alone: from power-on until the bzImage's XZ decompressor has
 * unpacked the kernel and jumped to it (the first instruction at or above 0xC0000000, i.e. the
 * kernel running with paging on). Those ~2.3 G guest instructions are a third of the boot and
 * the same work every time (no timers, no devices), so they measure the translator's hot-loop
 * code without the noise of a whole boot. Engine 'dbt', asynchronous compilation and a return
 * to the event loop after every slice, as PcMachine.run does while a module compiles.
 *
 *   npx tsx bench/boot/decompress.ts [--rounds N]
 *
 * Prints, per round, the seconds to the kernel, and the MIPS over the instructions after the
 * first 1 G (by then the hot regions have their optimized code), then the median and range.
 * A benchmark, never a test: nothing asserts a time.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildGuest } from '../../src/guest/build.ts';
import { EIP } from '../../translator/abi.ts';
import { PcMachine } from '../../runtime/pc/pc-machine.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const guest = await buildGuest({ onProgress: (m) => process.stderr.write(`decompress: guest: ${m}\n`) });
const kernel = new Uint8Array(await readFile(guest.kernel));
const initrd = new Uint8Array(await readFile(guest.initrd));
const KERNEL_VIRT = 0xc0000000;
const WARM = 1e9;
const SLICE = 200_000;

const seconds: number[] = [];
const mips: number[] = [];
for (let r = 0; r < rounds; r++) {
  const pc = new PcMachine({ kernel, initrd, cmdline: guest.cmdline, engine: 'dbt' });
  await pc.vm.prepare();
  const t0 = performance.now();
  let n = 0;
  let tWarm = 0;
  while ((pc.vm.cpu.s[EIP >> 2] >>> 0) < KERNEL_VIRT) {
    const res = pc.step(SLICE);
    if (res.reason !== 'budget') throw new Error(`decompress: the guest stopped (${res.reason}) before reaching the kernel`);
    n += res.executed;
    if (tWarm === 0 && n >= WARM) tWarm = performance.now();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const t1 = performance.now();
  seconds.push((t1 - t0) / 1000);
  mips.push((n - WARM) / (t1 - tWarm) / 1000);
  console.log(`round ${r + 1}: ${((t1 - t0) / 1000).toFixed(2)} s, ${(n / 1e9).toFixed(3)} G instructions, ${mips[r].toFixed(0)} MIPS after the first 1 G`);
}
const med = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`median ${med(seconds).toFixed(2)} s (${Math.min(...seconds).toFixed(2)}..${Math.max(...seconds).toFixed(2)}), ${med(mips).toFixed(0)} MIPS after warm-up`);
