/**
 * wasmvisor: an IA-32 virtual machine — an interpreter plus a dynamic binary translator from x86
 * to WebAssembly — as a library. The public surface is {@link Machine}; see README.md for an
 * embedding example.
 */
export { Machine } from './machine.ts';
export type { Engine, MachineExit, MachineOptions, MachineStats, WaitOptions } from './machine.ts';
export { buildGuest, defaultCacheDir, DEFAULT_CMDLINE, GUEST_MARKER } from './guest/build.ts';
export type { BuildGuestOptions, GuestImages } from './guest/build.ts';
export { Program } from './program.ts';
export type { MeasureTranslationOptions, ProgramOptions, ProgramRun, ProgramRunOptions, ProgramStats, Registers } from './program.ts';
