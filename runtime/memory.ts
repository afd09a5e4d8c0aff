/**
 * The one shared WebAssembly.Memory and every typed-array view of it (design.md §4).
 *
 * The memory is allocated once at its final size and never grown, so views never detach.
 * Only this module creates views; everything else borrows them from a SharedMemory.
 */
import { RAM_OFFSET } from '../translator/abi.ts';

const PAGE = 65536;

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
    if (!Number.isInteger(ramSize) || ramSize < 1 << 20 || ramSize % 4096 !== 0) {
      throw new RangeError(`guest RAM size must be a multiple of 4 KiB and at least 1 MiB (got ${ramSize})`);
    }
    if (ramSize > 0x7000_0000) throw new RangeError(`guest RAM size ${ramSize} exceeds the 1.75 GiB limit`);
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
