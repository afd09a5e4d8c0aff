/**
 * The disk snapshot tests' view of a machine: everything workload.ts's imageOf compares, plus
 * the disk controllers' state and the snapshot=on overlays' contents (disk-snapshot.test.ts).
 */
import { createHash } from 'node:crypto';
import { MemoryOverlay } from '../../runtime/block/memory-overlay.ts';
import type { ManualClock } from '../../runtime/devices/clock.ts';
import type { IdeState } from '../../runtime/devices/ide.ts';
import type { VirtioPciState } from '../../runtime/devices/virtio-pci.ts';
import type { PcMachine } from '../../runtime/pc/pc-machine.ts';
import { EFLAGS, F_ARITH, LF_C, LF_OP } from '../../translator/abi.ts';
import { architectural, imageOf } from './workload.ts';
import type { MachineImage } from './workload.ts';

/** Guest instructions per step (smaller than workload.ts's: the disk workload is short) and the time per step. */
export const DISK_SLICE = 5_000;
export const DISK_STEP_NS = 100_000;

/** Runs `n` slices, advancing the clock after each. */
export function diskSteps(pc: PcMachine, clock: ManualClock, n: number): void {
  for (let k = 0; k < n; k++) {
    const r = pc.step(DISK_SLICE);
    if (r.reason !== 'budget') throw new Error(`the workload ended early: ${r.reason} ${r.detail ?? ''}`);
    clock.advance(DISK_STEP_NS);
  }
}

export interface DiskState {
  virtio: VirtioPciState[];
  ide: IdeState;
  /** Per virtio disk, then IDE disk: chunks written to its overlay and their SHA-256 (with offsets). */
  overlays: { chunks: number; sha: string }[];
}

export interface DiskMachineImage extends MachineImage {
  disks: DiskState;
}

export function diskImageOf(pc: PcMachine): DiskMachineImage {
  const storage = pc.devices.storage;
  const backends = [...storage.virtio.map((b) => b.disk), ...(storage.ide?.disks ?? [])];
  const overlays = backends.map((b) => {
    if (!(b instanceof MemoryOverlay)) return { chunks: 0, sha: '' };
    const h = createHash('sha256');
    const chunks = b.chunks();
    for (const [offset, data] of chunks) h.update(`${offset}:`).update(data);
    return { chunks: chunks.length, sha: h.digest('hex') };
  });
  return {
    ...imageOf(pc),
    disks: {
      virtio: structuredClone(storage.virtio.map((b) => b.transport.state)),
      ide: structuredClone(storage.ide!.state),
      overlays,
    },
  };
}

/**
 * The CPU state block without the arithmetic flags: EFLAGS' status bits and the lazy-flag words.
 * Translated code does not compute flags that the code after a slice exit overwrites before
 * reading (dead flags), while the interpreter computes every flag; so when the uninterrupted
 * machine runs a region it has translated and the restored one (whose translations were not
 * saved) interprets the same code until it is hot again, their states at a slice boundary may
 * differ in those dead bits alone. Used only where that can happen (engine dbt without
 * forceTranslate, mid-run); the workload's end state is always compared whole.
 */
export function withoutDeadFlags(state: Uint8Array): Uint8Array {
  const out = architectural(state);
  const dv = new DataView(out.buffer);
  dv.setUint32(EFLAGS, dv.getUint32(EFLAGS, true) & ~F_ARITH, true);
  out.fill(0, LF_OP, LF_C + 4);
  return out;
}

/** A disk machine image as a child process prints it: RAM as its SHA-256, the state block as hex (without dead flags if asked). */
export function diskDigestOf(m: DiskMachineImage, deadFlagsMayDiffer: boolean): unknown {
  const state = deadFlagsMayDiffer ? withoutDeadFlags(m.state) : architectural(m.state);
  return JSON.parse(JSON.stringify({ ...m, state: Buffer.from(state).toString('hex'), ram: createHash('sha256').update(m.ram).digest('hex') }));
}
