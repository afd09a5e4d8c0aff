/**
 * `npx tsx bench/disk/run.ts [--mib N]`: disk throughput with `dd` inside the default guest, on
 * a raw image as a virtio-blk disk, under our translator and under QEMU TCG (qemu-system-i386,
 * same kernel, initramfs, command line and `-drive file=…,format=raw,if=virtio`). The guest
 * writes N MiB to /dev/vda with `conv=fsync` (so the flush reaches the host file), drops its
 * page cache and reads them back; each dd is timed by busybox `time` in the guest (guest time,
 * which both machines take from the host clock). v86 is not compared: it has no virtio-blk. A benchmark,
 * not a test: it prints a table and asserts nothing; run it on a quiet host.
 */
import { spawn } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Machine } from '../../src/index.ts';
import { buildGuest } from '../../src/guest/build.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '32' } } });
const MIB = Number(values.mib);
const SCRIPT = `time dd if=/dev/zero of=/dev/vda bs=1M count=${MIB} conv=fsync; echo 3 > /proc/sys/vm/drop_caches; time dd if=/dev/vda of=/dev/null bs=1M count=${MIB}; echo __bench_$((40+2))_done__\n`;
/** What the last command prints (computed by the shell, so the terminal's echo of the line never matches). */
const DONE = /__bench_42_done__\r?\n/;

/** busybox `time`'s "real XmY.YYs" after each dd → MB/s (10^6 bytes) for the MIB MiB moved. */
function rates(text: string): { write: number; read: number } {
  const found = [...text.matchAll(/real\s+(\d+)m\s*([\d.]+)s/g)].map((m) => (MIB * (1 << 20)) / (Number(m[1]) * 60 + Number(m[2])) / 1e6);
  if (found.length < 2) throw new Error(`no timings in:\n${text.slice(-2000)}`);
  return { write: found[found.length - 2], read: found[found.length - 1] };
}

async function ours(kernel: string, initrd: string, cmdline: string, image: string): Promise<{ write: number; read: number }> {
  const m = await Machine.create({ kernel: new Uint8Array(readFileSync(kernel)), initrd: new Uint8Array(readFileSync(initrd)), cmdline, onReset: 'stop', drives: [{ file: image, format: 'raw', if: 'virtio' }] });
  m.serial.output.resume();
  await m.start();
  await m.waitFor('/ # ', { timeoutMs: 1_200_000, fromStart: true });
  const done = m.waitFor(DONE, { timeoutMs: 1_200_000 });
  const from = m.consoleText().length;
  m.write(SCRIPT);
  await done;
  const r = rates(m.consoleText().slice(from));
  await m.stop();
  return r;
}

function qemu(kernel: string, initrd: string, cmdline: string, image: string): Promise<{ write: number; read: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn('qemu-system-i386', ['-M', 'pc', '-accel', 'tcg', '-cpu', 'pentium2', '-m', '128M', '-nodefaults', '-nographic', '-serial', 'stdio', '-no-reboot',
      '-kernel', kernel, '-initrd', initrd, '-append', cmdline, '-drive', `file=${image},format=raw,if=virtio`], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let sent = false;
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString('latin1');
      if (!sent && out.includes('/ # ')) {
        sent = true;
        p.stdin.write(SCRIPT);
      }
      if (sent && DONE.test(out)) {
        p.kill();
        try {
          resolve(rates(out));
        } catch (e) {
          reject(e as Error);
        }
      }
    });
    p.on('exit', () => reject(new Error(`qemu exited before the benchmark finished:\n${out.slice(-2000)}`)));
  });
}

const guest = await buildGuest({});
const work = mkdtempSync(join(tmpdir(), 'wasmvisor-bench-disk-'));
try {
  const results: Record<string, { write: number; read: number }> = {};
  for (const [name, run] of [['wasmvisor (dbt)', ours], ['qemu TCG', qemu]] as const) {
    const image = join(work, `${name.replace(/\W+/g, '-')}.raw`);
    // A sparse image of twice the transfer.
    const fd = openSync(image, 'w');
    ftruncateSync(fd, 2 * MIB * (1 << 20));
    closeSync(fd);
    results[name] = await run(guest.kernel, guest.initrd, guest.cmdline, image);
  }
  console.log(`dd of ${MIB} MiB to and from /dev/vda (virtio-blk, raw image), MB/s (busybox time in the guest); load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log('runner'.padEnd(20) + 'write (conv=fsync)'.padStart(20) + 'read (cold cache)'.padStart(20));
  for (const [name, r] of Object.entries(results)) console.log(name.padEnd(20) + r.write.toFixed(2).padStart(20) + r.read.toFixed(2).padStart(20));
} finally {
  rmSync(work, { recursive: true, force: true });
}
