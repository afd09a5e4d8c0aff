/**
 * Our own runners: the public `Machine` (src/index.ts) with engine 'dbt' (the translator) or
 * 'interp' (the interpreter), in this process, booting the guest by the Linux boot protocol.
 *
 * `Machine` is loaded with a dynamic import so that a src/ tree that does not build (other work
 * in progress) makes these runners "not available" instead of taking the peers down with them.
 * Time runs from just before `Machine.create` (machine build and kernel load) to the marker;
 * `setupSeconds` is the part up to `start()`. Importing binaryen happens once, in `probe()`. The detail line carries the guest instruction
 * count and rate from `Machine.stats()`, which tell a slow engine from a guest that waits.
 */
import type { Engine, Machine as MachineClass } from '../../src/index.ts';
import { cpuSecondsSince, failure, lastConsoleLine, secondsSince } from './runner.ts';
import type { Availability, BootGuest, BootResult, RunContext, Runner } from './runner.ts';

type MachineModule = { Machine: typeof MachineClass };

/** Loads src/index.ts, or explains why it cannot be used. */
async function loadMachine(): Promise<MachineModule | string> {
  try {
    const mod = (await import(new URL('../../src/index.ts', import.meta.url).href)) as Partial<MachineModule>;
    if (typeof mod.Machine?.create !== 'function') return 'src/index.ts exports no Machine.create';
    return mod as MachineModule;
  } catch (e) {
    return `cannot load src/index.ts: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** A runner for our VM with the given engine. */
export function wasmvisorRunner(engine: Engine): Runner {
  const name = engine;
  return {
    name,
    label: engine === 'dbt' ? 'wasmvisor translator' : 'wasmvisor interpreter',
    async probe(): Promise<Availability> {
      const mod = await loadMachine();
      if (typeof mod === 'string') return { ok: false, reason: mod };
      // Importing binaryen is a once-per-process cost, like importing v86, and not part of a
      // boot: done here, outside the timing. (Under tsx, which runs this benchmark, the import
      // takes ~11 s instead of ~0.5 s under node: its loader processes binaryen's 13 MB module.)
      if (engine === 'dbt') {
        const t0 = performance.now();
        await import('binaryen');
        return { ok: true, version: `wasmvisor ${engine} (binaryen imported in ${secondsSince(t0).toFixed(1)} s, untimed)` };
      }
      return { ok: true, version: `wasmvisor ${engine}` };
    },
    async run(guest: BootGuest, ctx: RunContext): Promise<BootResult> {
      const mod = await loadMachine();
      if (typeof mod === 'string') return failure(name, mod);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let m: MachineClass;
      try {
        m = await mod.Machine.create({ memory: guest.memory, kernel: guest.kernel, initrd: guest.initrd, cmdline: guest.cmdline, engine });
      } catch (e) {
        return failure(name, `Machine.create failed: ${(e as Error).message}`);
      }
      if (ctx.onConsole) {
        const echo = ctx.onConsole;
        m.serial.output.on('data', (chunk: Buffer) => echo(chunk.toString('latin1')));
      } else {
        m.serial.output.resume(); // nobody reads it: let it drain instead of buffering the boot log
      }
      let result: BootResult;
      let setup = 0;
      try {
        await m.start();
        setup = secondsSince(t0);
        await m.waitFor(guest.marker, { timeoutMs: ctx.timeoutMs, fromStart: true });
        result = { name, secondsToPrompt: secondsSince(t0), ok: true, detail: '', cpuSeconds: cpuSecondsSince(cpu0), setupSeconds: setup };
      } catch (e) {
        result = failure(name, (e as Error).message, lastConsoleLine(m.consoleText()), { cpuSeconds: cpuSecondsSince(cpu0) });
      }
      try {
        const s = m.stats();
        const note = `${(s.instructions / 1e6).toFixed(0)} M instructions, ${(s.instructions / Math.max(s.seconds, 1e-9) / 1e6).toFixed(1)} MIPS, setup ${setup.toFixed(2)} s`;
        result.detail = result.detail ? `${result.detail} (${note})` : note;
      } catch {
        // Statistics are a nicety; a machine that cannot give them still has a time.
      }
      try {
        await m.stop();
      } catch (e) {
        result.detail += `; stop() failed: ${(e as Error).message}`;
      }
      return result;
    },
  };
}
