/**
 * The one shared WebAssembly.Memory and every typed-array view of it (design.md §4).
 *
 * The memory is allocated once at its final size and never grown, so views never detach.
 * Only this module creates views; everything else borrows them from a SharedMemory.
 */
import { RAM_OFFSET } from '../translator/abi.ts';

const PAGE = 65536;
const MIB = 1 << 20;

/** Guest RAM sizes a VM accepts: multiples of 4 KiB from MIN_RAM to MAX_RAM (the 32-bit Wasm memory). */
export const MIN_RAM = MIB;
export const MAX_RAM = 1792 * MIB;

/**
 * Why `bytes` is not a usable guest RAM size (at least `min`, default MIN_RAM), or undefined.
 * Every front end (Vm, the public Machine and Program, the CLI) asks this one function.
 */
export function ramSizeProblem(bytes: number, min = MIN_RAM): string | undefined {
  if (Number.isInteger(bytes) && bytes % 4096 === 0 && bytes >= min && bytes <= MAX_RAM) return undefined;
  return `must be a multiple of 4 KiB between ${min / MIB} MiB and ${MAX_RAM / MIB} MiB (got ${bytes})`;
}

export class SharedMemory {
  readonly memory: WebAssembly.Memory;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly dv: DataView;
  /** Guest RAM size in bytes (a multiple of 4 KiB). */
  readonly ramSize: number;

  constructor(ramSize: number) {
    const problem = ramSizeProblem(ramSize);
    if (problem) throw new RangeError(`guest RAM size ${problem}`);
    const bytes = RAM_OFFSET + ramSize;
    const pages = Math.ceil(bytes / PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.buffer = this.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.i8 = new Int8Array(this.buffer);
    this.u16 = new Uint16Array(this.buffer);
    this.i16 = new Int16Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.dv = new DataView(this.buffer);
    this.ramSize = ramSize;
  }

  /** Guest RAM as a byte array (physical address 0 at index 0). */
  ram(): Uint8Array {
    return new Uint8Array(this.buffer, RAM_OFFSET, this.ramSize);
  }
}
