/**
 * `npm run bench:snapshot`: how long a snapshot of a booted 128 MiB guest (the default Debian
 * guest at its shell prompt) takes to save and to restore, and how big it is — for wasmvisor
 * (`Machine.saveState` / `Machine.restore`), v86 (`save_state` / `restore_state`, same process)
 * and QEMU TCG (`migrate` to a file through QMP, and a new QEMU with `-incoming` from it). A
 * benchmark, not a test: it prints a table; nothing asserts a time.
 *
 * Every restored machine must answer a shell command (`echo snap-ok-$((6*7))`) before its row
 * counts, so a restore that only looks fast cannot win. What each time covers:
 *   save     wasmvisor: saveState() (state copied, RAM compressed); v86: save_state(); QEMU:
 *            from the migrate command to query-migrate reporting "completed" (file written).
 *   restore  wasmvisor: Machine.restore() (file checked, machine built, state loaded; the
 *            translator is already loaded in this process); v86: restore_state() into the
 *            running instance; QEMU: from spawning `qemu -incoming "exec:cat FILE"` to
 *            query-status "running" (includes QEMU's start-up).
 *   answer   from the end of the restore to the command's output on the console.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuest, GUEST_MARKER } from '../../src/guest/build.ts';
import { Machine } from '../../src/machine.ts';
import { qemuArgs } from '../boot/qemu.ts';
import type { BootGuest } from '../boot/runner.ts';
import { loadV86, probeV86 } from '../boot/v86.ts';

const MEMORY = 128 << 20;
const COMMAND = 'echo snap-ok-$((6*7))\n';
const ANSWER = 'snap-ok-42';
const BOOT_TIMEOUT_MS = 600_000;

interface Row {
  name: string;
  bootS?: number;
  saveS?: number;
  sizeBytes?: number;
  restoreS?: number;
  answerS?: number;
  note?: string;
}

const secondsSince = (t0: number): number => (performance.now() - t0) / 1000;

async function wasmvisor(guest: BootGuest): Promise<Row> {
  const t0 = performance.now();
  const m = await Machine.create({ memory: MEMORY, kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline, engine: 'dbt' });
  m.serial.output.resume();
  await m.start();
  await m.waitFor(guest.marker, { timeoutMs: BOOT_TIMEOUT_MS, fromStart: true });
  const bootS = secondsSince(t0);
  const t1 = performance.now();
  const bytes = await m.saveState();
  const saveS = secondsSince(t1);
  await m.stop();
  const t2 = performance.now();
  const r = await Machine.restore(bytes, { engine: 'dbt' });
  const restoreS = secondsSince(t2);
  r.serial.output.resume();
  await r.start();
  const t3 = performance.now();
  r.write(COMMAND);
  await r.waitFor(ANSWER, { timeoutMs: 60_000 });
  const answerS = secondsSince(t3);
  await r.stop();
  return { name: 'wasmvisor (dbt)', bootS, saveS, sizeBytes: bytes.length, restoreS, answerS };
}

async function v86(guest: BootGuest): Promise<Row> {
  const avail = await probeV86();
  if (!avail.ok) return { name: 'v86', note: avail.reason };
  const loaded = await loadV86(guest);
  if (typeof loaded === 'string') return { name: 'v86', note: loaded };
  const t0 = performance.now();
  const emu = new loaded.V86(loaded.options);
  let text = '';
  const waiters: { s: string; resolve: () => void }[] = [];
  emu.add_listener('serial0-output-byte', (b: number) => {
    text = (text + String.fromCharCode(b)).slice(-65536);
    for (const w of waiters.splice(0)) if (text.includes(w.s)) w.resolve(); else waiters.push(w);
  });
  const waitFor = (s: string, ms: number): Promise<void> => new Promise((resolve, reject) => {
    if (text.includes(s)) return resolve();
    const timer = setTimeout(() => reject(new Error(`v86: no '${s}' after ${ms} ms`)), ms);
    waiters.push({ s, resolve: () => { clearTimeout(timer); resolve(); } });
  });
  try {
    await waitFor(guest.marker, BOOT_TIMEOUT_MS);
    const bootS = secondsSince(t0);
    const t1 = performance.now();
    const state = await emu.save_state();
    const saveS = secondsSince(t1);
    text = '';
    const t2 = performance.now();
    await emu.restore_state(state);
    const restoreS = secondsSince(t2);
    const t3 = performance.now();
    emu.serial0_send(COMMAND);
    await waitFor(ANSWER, 60_000);
    return { name: `v86 (${avail.version})`, bootS, saveS, sizeBytes: state.byteLength, restoreS, answerS: secondsSince(t3), note: 'restored into the running instance' };
  } finally {
    await emu.destroy();
  }
}

/** A QMP connection: one command at a time, replies in order (events skipped). */
class Qmp {
  private buf = '';
  private pending: ((v: Record<string, unknown>) => void)[] = [];
  private constructor(private readonly sock: ReturnType<typeof createConnection>) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, nl)) as Record<string, unknown>;
        this.buf = this.buf.slice(nl + 1);
        if ('return' in msg || 'error' in msg) this.pending.shift()?.(msg);
      }
    });
  }

  static async open(path: string): Promise<Qmp> {
    for (let k = 0; ; k++) {
      try {
        const sock = await new Promise<ReturnType<typeof createConnection>>((resolve, reject) => {
          const s = createConnection(path, () => resolve(s));
          s.once('error', reject);
        });
        const q = new Qmp(sock);
        await q.run('qmp_capabilities');
        return q;
      } catch (e) {
        if (k > 200) throw e;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
  }

  run(execute: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.pending.push((msg) => ('error' in msg ? reject(new Error(`QMP ${execute}: ${JSON.stringify(msg.error)}`)) : resolve(msg.return as Record<string, unknown>)));
      this.sock.write(JSON.stringify({ execute, ...(args ? { arguments: args } : {}) }) + '\n');
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A QEMU process with its console text and a QMP socket. */
function startQemu(guest: BootGuest, dir: string, name: string, extra: string[]): { proc: ChildProcess; qmpPath: string; waitFor: (s: string, ms: number) => Promise<void> } {
  const qmpPath = join(dir, `${name}.qmp`);
  // The greeting waits for QMP's (skipped) greeting line: replies are matched by order.
  const proc = spawn('qemu-system-i386', [...qemuArgs(guest), '-qmp', `unix:${qmpPath},server=on,wait=off`, ...extra], { stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  proc.stdout!.setEncoding('latin1');
  const waiters: { s: string; resolve: () => void }[] = [];
  proc.stdout!.on('data', (d: string) => {
    text = (text + d).slice(-65536);
    for (const w of waiters.splice(0)) if (text.includes(w.s)) w.resolve(); else waiters.push(w);
  });
  proc.stderr!.resume();
  const waitFor = (s: string, ms: number): Promise<void> => new Promise((resolve, reject) => {
    if (text.includes(s)) return resolve();
    const timer = setTimeout(() => reject(new Error(`QEMU: no '${s}' after ${ms} ms`)), ms);
    waiters.push({ s, resolve: () => { clearTimeout(timer); resolve(); } });
  });
  return { proc, qmpPath, waitFor };
}

async function qemu(guest: BootGuest): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmvisor-bench-snap-'));
  const file = join(dir, 'vm.state');
  const procs: ChildProcess[] = [];
  try {
    const t0 = performance.now();
    const a = startQemu(guest, dir, 'a', []);
    procs.push(a.proc);
    await a.waitFor(guest.marker, BOOT_TIMEOUT_MS);
    const bootS = secondsSince(t0);
    const qa = await Qmp.open(a.qmpPath);
    const t1 = performance.now();
    await qa.run('migrate', { uri: `exec:cat > ${file}` });
    for (;;) {
      const st = (await qa.run('query-migrate')).status;
      if (st === 'completed') break;
      if (st === 'failed' || st === 'cancelled') throw new Error(`QEMU migrate ${String(st)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const saveS = secondsSince(t1);
    qa.close();
    a.proc.kill('SIGKILL');
    const sizeBytes = statSync(file).size;
    const t2 = performance.now();
    const b = startQemu(guest, dir, 'b', ['-incoming', `exec:cat ${file}`]);
    procs.push(b.proc);
    const qb = await Qmp.open(b.qmpPath);
    for (;;) {
      const st = (await qb.run('query-status')).status;
      if (st === 'running') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const restoreS = secondsSince(t2);
    qb.close();
    const t3 = performance.now();
    b.proc.stdin!.write(COMMAND);
    await b.waitFor(ANSWER, 60_000);
    return { name: 'QEMU TCG (migrate to file)', bootS, saveS, sizeBytes, restoreS, answerS: secondsSince(t3), note: 'restore includes QEMU start-up' };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(rows: Row[]): string {
  const f = (v: number | undefined, d = 3): string => (v === undefined ? '—' : v.toFixed(d));
  const lines = ['| runner | boot s | save s | size MiB | restore s | answer s | note |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${f(r.bootS, 1)} | ${f(r.saveS)} | ${r.sizeBytes === undefined ? '—' : (r.sizeBytes / (1 << 20)).toFixed(1)} | ${f(r.restoreS)} | ${f(r.answerS)} | ${r.note ?? ''} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const g = await buildGuest({ onProgress: (m) => process.stderr.write(`${m}\n`) });
  const guest: BootGuest = {
    kernelPath: g.kernel, initrdPath: g.initrd, kernel: new Uint8Array(readFileSync(g.kernel)), initrd: new Uint8Array(readFileSync(g.initrd)),
    cmdline: g.cmdline, marker: GUEST_MARKER, memory: MEMORY,
  };
  const load0 = loadavg()[0];
  const rows: Row[] = [];
  for (const [name, fn] of [['wasmvisor', wasmvisor], ['v86', v86], ['qemu', qemu]] as const) {
    if (only.length && !only.includes(name)) continue;
    process.stderr.write(`${name}: booting, saving, restoring...\n`);
    try {
      rows.push(await fn(guest));
    } catch (e) {
      rows.push({ name, note: `failed: ${(e as Error).message}` });
    }
    process.stderr.write(`${table(rows.slice(-1))}\n`);
  }
  console.log(`128 MiB guest at its shell prompt; load average ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)}\n`);
  console.log(table(rows));
  process.exit(0);
}

await main();
