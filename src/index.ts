/**
 * wasmvisor: an IA-32 virtual machine — an interpreter plus a dynamic binary translator from x86
 * to WebAssembly — as a library. The public surface: {@link Machine} (a PC booting a kernel),
 * {@link Program} (a raw flat 32-bit program, e.g. to measure one's own code), the default guest
 * builder, and the trace options both take; see README.md for embedding examples.
 */
export { EXIT_CODES, Machine } from './machine.ts';
export type { Engine, ExitReason, MachineExit, MachineOptions, MachineStats, RestoreOptions, WaitOptions } from './machine.ts';
export { SnapshotError } from '../runtime/snapshot/container.ts';
export { ImageError } from '../runtime/loaders/image-error.ts';
export { buildGuest, defaultCacheDir, DEFAULT_CMDLINE, GUEST_MARKER } from './guest/build.ts';
export type { BuildGuestOptions, GuestImages } from './guest/build.ts';
export { Program } from './program.ts';
export type { MeasureTranslationOptions, ProgramOptions, ProgramRun, ProgramRunOptions, ProgramStats, Registers } from './program.ts';
export { TRACE_ITEMS } from '../runtime/trace.ts';
export type { TraceItem, TraceOptions } from '../runtime/trace.ts';
