/**
 * `npx tsx bench/disk/run.ts [--mib N] [--rounds R]`: disk throughput with `dd` inside the
 * default guest, on raw images, under our translator, QEMU TCG (qemu-system-i386, same kernel,
 * initramfs and command line) and v86 (npm package, SeaBIOS; bench/boot/v86.ts):
 *
 *   virtio-blk  /dev/vda: ours and QEMU (`-drive file=…,format=raw,if=virtio`); v86 has none
 *   IDE         /dev/sda: ours (PIIX IDE, PIO), QEMU (`if=ide`: PIIX3 IDE with bus-master DMA)
 *               and v86 (`hda`: its IDE controller, bus-master DMA; the image is an ArrayBuffer
 *               in memory — v86 in Node has no file-backed writable disk)
 *
 * Each boot has the runner's disks (ours and QEMU: both) and runs, per disk, `dd` of N MiB from
 * /dev/zero with `conv=fsync` (so the flush reaches the host file), `drop_caches`, and `dd` of
 * N MiB back to /dev/null — twice: the first pass ("cold") right after boot runs the guest
 * kernel's block-layer code for the first time (a translating emulator translates it then), the
 * second ("warm") repeats it. Each dd is timed twice: by busybox `time` in the guest, and on the
 * host between two markers the guest prints around it (the host clock is the same for every
 * runner; a guest clock may drift). R rounds, the runners' order rotating each round; the table
 * gives medians. A benchmark, not a test: it prints and asserts nothing; run it on a quiet host.
 */
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Machine } from '../../src/index.ts';
import { buildGuest } from '../../src/guest/build.ts';
import { loadV86, probeV86 } from '../boot/v86.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '16' }, rounds: { type: 'string', default: '3' } } });
const MIB = Number(values.mib);
const ROUNDS = Number(values.rounds);
const BYTES = MIB * (1 << 20);
const MEMORY = 128 << 20;

type Dev = 'vda' | 'sda';
const PASSES = ['cold', 'warm'] as const;
type Pass = (typeof PASSES)[number];
interface Rate { write: number; read: number }
/** One boot's results per disk and pass: MB/s by the host clock and by the guest's. */
type BootResult = Partial<Record<Dev, Record<Pass, { host: Rate; guest: Rate }>>>;

/**
 * The commands for `devs`: around each dd, a marker the host timestamps (computed by the shell,
 * so the terminal's echo of the line never matches); at the end a done marker.
 */
function script(devs: readonly Dev[]): string {
  let k = 0;
  const mark = (): string => `echo @@M$((${k++}+1000))@@`;
  const parts = PASSES.flatMap(() => devs.map((d) => `${mark()}; time dd if=/dev/zero of=/dev/${d} bs=1M count=${MIB} conv=fsync; ${mark()}; echo 3 > /proc/sys/vm/drop_caches; ` +
    `${mark()}; time dd if=/dev/${d} of=/dev/null bs=1M count=${MIB}; ${mark()}`));
  return `${parts.join('; ')}; echo __bench_$((40+2))_done__\n`;
}
const DONE = /__bench_42_done__\r?\n/;
const MARK = /@@M(\d+)@@/g;

/** Watches a console for the markers and the end; `times[k]` is when marker 1000+k arrived. */
class Watch {
  text = '';
  times: number[] = [];
  private seen = 0;
  feed(s: string): boolean {
    const now = performance.now();
    this.text += s;
    MARK.lastIndex = Math.max(0, this.seen - 12);
    for (let m = MARK.exec(this.text); m; m = MARK.exec(this.text)) {
      const k = Number(m[1]) - 1000;
      if (k >= 0 && this.times[k] === undefined) this.times[k] = now;
    }
    this.seen = this.text.length;
    return DONE.test(this.text.slice(-64));
  }
  /** The rates of `devs`, in script order. */
  result(devs: readonly Dev[]): BootResult {
    const guest = [...this.text.matchAll(/real\s+(\d+)m\s*([\d.]+)s/g)].map((m) => BYTES / (Number(m[1]) * 60 + Number(m[2])) / 1e6);
    const n = PASSES.length * devs.length;
    if (guest.length < 2 * n) throw new Error(`missing timings in:\n${this.text.slice(-2000)}`);
    const g = guest.slice(-2 * n);
    const out: BootResult = {};
    PASSES.forEach((pass, p) => devs.forEach((d, i) => {
      const k = p * devs.length + i;
      const t = this.times.slice(4 * k, 4 * k + 4);
      if (t.length < 4 || t.some((x) => x === undefined)) throw new Error(`missing markers for ${d} (${pass})`);
      const r = { host: { write: BYTES / (t[1] - t[0]) / 1e3, read: BYTES / (t[3] - t[2]) / 1e3 }, guest: { write: g[2 * k], read: g[2 * k + 1] } };
      out[d] = { ...out[d]!, [pass]: r };
    }));
    return out;
  }
}

/** A sparse raw image of twice the transfer. */
function image(dir: string, name: string): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, 2 * BYTES);
  closeSync(fd);
  return path;
}

interface Guest { kernel: string; initrd: string; cmdline: string }
interface Runner { name: string; devs: Dev[]; run(g: Guest, dir: string): Promise<BootResult> }

const ours: Runner = {
  name: 'wasmvisor (dbt)',
  devs: ['vda', 'sda'],
  async run(g, dir) {
    const m = await Machine.create({ kernel: new Uint8Array(readFileSync(g.kernel)), initrd: new Uint8Array(readFileSync(g.initrd)), cmdline: g.cmdline, memory: MEMORY, onReset: 'stop',
      drives: [{ file: image(dir, 'ours-vd.raw'), format: 'raw', if: 'virtio' }, { file: image(dir, 'ours-sd.raw'), format: 'raw', if: 'ide' }] });
    const w = new Watch();
    let finished: () => void = () => {};
    const done = new Promise<void>((r) => (finished = r));
    m.serial.output.on('data', (b: Buffer) => {
      if (w.feed(b.toString('latin1'))) finished();
    });
    await m.start();
    await m.waitFor('/ # ', { timeoutMs: 1_200_000, fromStart: true });
    m.write(script(this.devs));
    await done;
    await m.stop();
    return w.result(this.devs);
  },
};

const qemu: Runner = {
  name: 'qemu TCG',
  devs: ['vda', 'sda'],
  run(g, dir) {
    return new Promise((resolve, reject) => {
      const p = spawn('qemu-system-i386', ['-M', 'pc', '-accel', 'tcg', '-cpu', 'pentium2', '-m', String(MEMORY >> 20), '-nodefaults', '-nographic', '-serial', 'stdio', '-no-reboot',
        '-kernel', g.kernel, '-initrd', g.initrd, '-append', g.cmdline,
        '-drive', `file=${image(dir, 'qemu-vd.raw')},format=raw,if=virtio`, '-drive', `file=${image(dir, 'qemu-sd.raw')},format=raw,if=ide`], { stdio: ['pipe', 'pipe', 'inherit'] });
      const w = new Watch();
      let sent = false;
      let over = false;
      p.stdout.on('data', (b: Buffer) => {
        const end = w.feed(b.toString('latin1'));
        if (!sent && w.text.includes('/ # ')) {
          sent = true;
          p.stdin.write(script(this.devs));
        }
        if (sent && end && !over) {
          over = true;
          p.kill();
          try {
            resolve(w.result(this.devs));
          } catch (e) {
            reject(e as Error);
          }
        }
      });
      p.on('exit', () => {
        if (!over) reject(new Error(`qemu exited before the benchmark finished:\n${w.text.slice(-2000)}`));
      });
    });
  },
};

const v86: Runner = {
  name: 'v86',
  devs: ['sda'],
  async run(g) {
    const loaded = await loadV86({ kernel: new Uint8Array(readFileSync(g.kernel)), initrd: new Uint8Array(readFileSync(g.initrd)), cmdline: g.cmdline, memory: MEMORY });
    if (typeof loaded === 'string') throw new Error(loaded);
    const emu = new loaded.V86({ ...loaded.options, hda: { buffer: new ArrayBuffer(2 * BYTES) } });
    const w = new Watch();
    let sent = false;
    try {
      await new Promise<void>((resolve) => {
        emu.add_listener('serial0-output-byte', (byte: number) => {
          const end = w.feed(String.fromCharCode(byte));
          if (!sent && w.text.includes('/ # ')) {
            sent = true;
            emu.serial0_send(script(this.devs));
          }
          if (sent && end) resolve();
        });
      });
    } finally {
      await emu.destroy();
    }
    return w.result(this.devs);
  },
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const guest = await buildGuest({});
const work = mkdtempSync(join(tmpdir(), 'wasmvisor-bench-disk-'));
const runners: Runner[] = [ours, qemu];
const v86Probe = await probeV86();
if (v86Probe.ok) runners.push(v86);
else console.log(`v86: absent (${v86Probe.reason})`);
const loadBefore = loadavg();
const results = new Map<string, BootResult[]>(runners.map((r) => [r.name, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = runners.map((_, i) => runners[(i + round) % runners.length]);
    for (const r of order) {
      const t0 = performance.now();
      const res = await r.run(guest, work);
      results.get(r.name)!.push(res);
      console.log(`round ${round + 1} ${r.name} (${((performance.now() - t0) / 1000).toFixed(0)} s): ${JSON.stringify(res, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const fmt = (xs: number[]): string => `${median(xs).toFixed(2)} [${xs.map((x) => x.toFixed(1)).join(' ')}]`;
console.log(`\ndd of ${MIB} MiB, MB/s (10^6 bytes/s), median [each round] of ${ROUNDS} rounds, runners alternating; host clock, then the guest's (busybox time)`);
console.log(`load average before ${loadBefore.map((x) => x.toFixed(1)).join(' ')}, after ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(['disk', 'pass', 'runner', 'write host', 'read host', 'write guest', 'read guest'].join(' | '));
for (const dev of ['vda', 'sda'] as const) {
  for (const pass of PASSES) {
    for (const r of runners) {
      const rs = results.get(r.name)!.map((x) => x[dev]?.[pass]).filter((x) => x !== undefined);
      if (!rs.length) {
        console.log(`${dev} | ${pass} | ${r.name} | absent (${dev === 'vda' ? 'no virtio-blk' : 'no IDE'})`);
        continue;
      }
      console.log([dev, pass, r.name, fmt(rs.map((x) => x.host.write)), fmt(rs.map((x) => x.host.read)), fmt(rs.map((x) => x.guest.write)), fmt(rs.map((x) => x.guest.read))].join(' | '));
    }
  }
}
