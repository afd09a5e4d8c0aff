/**
 * Peer runner: v86 (npm package `v86`, BSD-2-Clause), an x86 emulator with an x86-to-Wasm JIT,
 * in this same Node process — the peer the project means to beat on its own ground.
 *
 * v86 has no direct Linux boot: it runs a real BIOS, which in turn loads the bzImage and initrd
 * we hand it as ArrayBuffers. It ships no BIOS in the npm package, so we use Debian's SeaBIOS
 * (`/usr/share/seabios/bios.bin`, and the Bochs "stdvga" VGA BIOS, which matches v86's VGA).
 * In Node there is no screen, keyboard, mouse or speaker; the console is COM1, seen byte by byte
 * through the `serial0-output-byte` event.
 *
 * Time runs from just before `new V86(...)` (which loads and instantiates v86.wasm) to the
 * marker; `setupSeconds` is the part before the `emulator-started` event. CPU time is this
 * process's, which only v86 uses while it runs. Afterwards the instance is destroyed (its
 * timers stop and its memory can be collected) before `run` resolves.
 *
 * `probeV86` and `loadV86` (the checks, the import and the boot options) are shared with
 * bench/guest/runners.ts, which boots the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { V86Options } from 'v86';
import { cpuSecondsSince, failure, MarkerWatch, secondsSince } from './runner.ts';
import type { Availability, BootGuest, BootResult, RunContext, Runner } from './runner.ts';

/** Where Debian's `seabios` package puts its images. */
export const SEABIOS_DIR = '/usr/share/seabios';

/** Paths the v86 runner needs, overridable for hosts without Debian's layout. */
export interface V86Paths {
  bios: string;
  vgaBios: string;
}

/** An ArrayBuffer holding exactly a Uint8Array's bytes (v86 takes ArrayBuffers). */
function arrayBufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** The directory of the installed v86 package, or null. */
function v86Dir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('v86/package.json'));
  } catch {
    return null;
  }
}

/** Debian's SeaBIOS and its stdvga VGA BIOS. */
export function defaultV86Paths(): V86Paths {
  return { bios: join(SEABIOS_DIR, 'bios.bin'), vgaBios: join(SEABIOS_DIR, 'vgabios-stdvga.bin') };
}

/** Whether v86 can run here (package, its wasm, the BIOS images); shared with bench/guest. */
export async function probeV86(paths: V86Paths = defaultV86Paths()): Promise<Availability> {
  const dir = v86Dir();
  if (!dir) return { ok: false, reason: 'npm package v86 not installed (npm install --save-dev v86)' };
  if (!existsSync(join(dir, 'build', 'v86.wasm'))) return { ok: false, reason: `${join(dir, 'build', 'v86.wasm')} missing` };
  for (const p of [paths.bios, paths.vgaBios]) {
    if (!existsSync(p)) return { ok: false, reason: `BIOS image ${p} missing (install: apt-get install seabios)` };
  }
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  return { ok: true, version: `v86 ${version}` };
}

/** The V86 constructor. */
export type V86Class = typeof import('v86').V86;

/** The kernel, initramfs, command line and RAM size a v86 instance boots with. */
export interface V86Guest {
  kernel: Uint8Array;
  initrd: Uint8Array;
  cmdline: string;
  memory: number;
}

/**
 * Imports v86 (untimed: a once-per-process cost) and returns the constructor with the options
 * that boot `guest` through SeaBIOS (JIT on, no keyboard, mouse or speaker), or why it cannot.
 */
export async function loadV86(guest: V86Guest, paths: V86Paths = defaultV86Paths()): Promise<{ V86: V86Class; options: V86Options } | string> {
  const dir = v86Dir();
  if (!dir) return 'npm package v86 not installed';
  let V86: V86Class;
  try {
    ({ V86 } = await import('v86'));
  } catch (e) {
    return `cannot load v86: ${(e as Error).message}`;
  }
  const options: V86Options = {
    wasm_path: join(dir, 'build', 'v86.wasm'),
    memory_size: guest.memory,
    bios: { buffer: arrayBufferOf(readFileSync(paths.bios)) },
    vga_bios: { buffer: arrayBufferOf(readFileSync(paths.vgaBios)) },
    bzimage: { buffer: arrayBufferOf(guest.kernel) },
    initrd: { buffer: arrayBufferOf(guest.initrd) },
    cmdline: guest.cmdline,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  };
  return { V86, options };
}

/** The v86 runner (JIT on, its default). */
export function v86Runner(paths: V86Paths = defaultV86Paths()): Runner {
  return {
    name: 'v86',
    label: 'v86 (JIT, same process)',
    probe(): Promise<Availability> {
      return probeV86(paths);
    },
    async run(guest: BootGuest, ctx: RunContext): Promise<BootResult> {
      const loaded = await loadV86(guest, paths);
      if (typeof loaded === 'string') return failure('v86', loaded);
      const { V86, options } = loaded;
      const watch = new MarkerWatch(guest.marker);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let emu: InstanceType<typeof V86>;
      try {
        emu = new V86(options);
      } catch (e) {
        return failure('v86', `new V86() threw: ${(e as Error).message}`);
      }
      const result = await new Promise<BootResult>((resolve) => {
        let started: number | undefined;
        let done = false;
        const end = (r: BootResult): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          process.off('uncaughtException', crashed);
          resolve(r);
        };
        // v86 runs from timers and message callbacks: an exception in its loop surfaces here.
        const crashed = (e: Error): void => end(failure('v86', `v86 threw: ${e.message}`, watch.lastLine()));
        process.on('uncaughtException', crashed);
        const timer = setTimeout(
          () => end(failure('v86', `no marker after ${ctx.timeoutMs / 1000} s${started === undefined ? ' (never started)' : ''}`, watch.lastLine())),
          ctx.timeoutMs,
        );
        emu.add_listener('emulator-started', () => {
          started = secondsSince(t0);
        });
        emu.add_listener('serial0-output-byte', (byte: number) => {
          if (done) return;
          const c = String.fromCharCode(byte);
          ctx.onConsole?.(c);
          if (!watch.feed(c)) return;
          const seconds = secondsSince(t0);
          end({
            name: 'v86',
            secondsToPrompt: seconds,
            ok: true,
            detail: started !== undefined ? `setup ${started.toFixed(2)} s` : '',
            cpuSeconds: cpuSecondsSince(cpu0),
            ...(started !== undefined ? { setupSeconds: started } : {}),
          });
        });
      });
      try {
        await emu.destroy();
      } catch (e) {
        result.detail += `${result.detail ? '; ' : ''}destroy() threw: ${(e as Error).message}`;
      }
      return result;
    },
  };
}
