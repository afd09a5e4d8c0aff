/**
 * The device registry of snapshots: one entry per device of the PC, each saving its state into
 * a section `dev:<name>` and loading it back. A device whose state is one plain JSON-able object
 * (`state`, as every device in runtime/devices keeps it) needs only a `plainState` line in
 * PC_DEVICES below; a device with binary state (a disk overlay) writes its own entry with
 * `save`/`load` of bytes. runtime/README.md ("Snapshots") explains how to add one.
 *
 * Loading replaces the device's state in place (the object keeps its identity, since closures
 * such as the PC's kvmclock wall clock hold it) after checking that the saved state has exactly
 * the shape of the live one: the same keys, the same JSON types, recursively. A snapshot made
 * by a build whose device has other fields is refused with the field's path, never half-loaded.
 */
import type { PcDevices } from '../pc/pc-machine.ts';
import { SnapshotError } from './container.ts';

/** One device's part of a snapshot. */
export interface SnapshotDevice {
  /** Unique name; the section is `dev:<name>`. */
  readonly name: string;
  /** The device's state as bytes. */
  save(devices: PcDevices): Uint8Array;
  /** Puts saved bytes back (throws SnapshotError if they do not fit this device). */
  load(devices: PcDevices, bytes: Uint8Array): void;
  /** Run after every device has loaded: recompute what the machine derives from this state. */
  afterLoad?(devices: PcDevices): void;
}

/** An entry for a device whose whole state is the plain object `state`. */
export function plainState(name: string, device: (d: PcDevices) => { state: object }, afterLoad?: (d: PcDevices) => void): SnapshotDevice {
  return {
    name,
    ...(afterLoad ? { afterLoad } : {}),
    save: (d) => new TextEncoder().encode(JSON.stringify(device(d).state, encodeNumber)),
    load: (d, bytes) => {
      let saved: unknown;
      try {
        saved = JSON.parse(new TextDecoder().decode(bytes), decodeNumber);
      } catch {
        throw new SnapshotError(`snapshot corrupt: the state of device '${name}' is not valid JSON`);
      }
      loadPlain(device(d).state, saved, name);
    },
  };
}

/** Typed arrays a device state may hold (saved as {"$typed": name, "values": [...]}). */
const TYPED = { Uint8Array, Uint16Array, Uint32Array, Int32Array, Float64Array } as const;
type TypedName = keyof typeof TYPED;

/**
 * JSON has no Infinity or NaN (a timer's "never" is Infinity) and no typed arrays (the APIC's
 * 256-bit registers): they are saved as {"$number": "Infinity"} and {"$typed": "Uint32Array",
 * "values": [...]}, and turned back on load.
 */
function encodeNumber(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
  if (ArrayBuffer.isView(v)) {
    const name = v.constructor.name;
    if (!(name in TYPED)) throw new TypeError(`snapshot: a device state holds a ${name}, which snapshots do not support`);
    return { $typed: name, values: Array.from(v as Uint32Array) };
  }
  return v;
}

function decodeNumber(_key: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const keys = Object.keys(v);
    const n = (v as { $number?: unknown }).$number;
    if (keys.length === 1 && (n === 'Infinity' || n === '-Infinity' || n === 'NaN')) return Number(n);
    const t = v as { $typed?: unknown; values?: unknown };
    if (keys.length === 2 && typeof t.$typed === 'string' && t.$typed in TYPED && Array.isArray(t.values) && t.values.every((x) => typeof x === 'number')) {
      return TYPED[t.$typed as TypedName].from(t.values as number[]);
    }
  }
  return v;
}

/** The PC's devices, in the order they are saved and loaded. */
export const PC_DEVICES: readonly SnapshotDevice[] = [
  plainState('pic', (d) => d.pic),
  plainState('pit', (d) => d.pit),
  plainState('rtc', (d) => d.rtc),
  plainState('com1', (d) => d.com1),
  plainState('com2', (d) => d.com2),
  // Both drive the A20 gate (the CPU's address mask is derived from their state).
  plainState('i8042', (d) => d.kbc, (d) => d.kbc.onA20()),
  plainState('pci', (d) => d.pci),
  plainState('system-ports', (d) => d.system, (d) => d.system.onA20()),
  plainState('acpi-pm', (d) => d.pm),
  plainState('local-apic', (d) => d.apic),
  plainState('io-apic', (d) => d.ioapic),
];

/** Replaces the fields of `live` with those of `saved` after checking that their shapes agree. */
export function loadPlain(live: object, saved: unknown, name: string): void {
  checkShape(live, saved, name);
  const target = live as Record<string, unknown>;
  for (const [k, v] of Object.entries(saved as Record<string, unknown>)) target[k] = v;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  return typeof v;
}

/**
 * Throws unless `saved` has the JSON shape of `live`: objects with the same keys, arrays whose
 * elements have the shape of the live array's first element (an empty live array accepts any
 * elements of one kind), typed arrays of the same type and length, and equal types otherwise.
 */
function checkShape(live: unknown, saved: unknown, path: string): void {
  const lk = kind(live);
  const sk = kind(saved);
  if (lk !== sk) throw new SnapshotError(`snapshot does not fit this machine: ${path} is ${sk} in the snapshot, ${lk} here`);
  if (lk === 'array') {
    const la = live as unknown[];
    const sa = saved as unknown[];
    const model = la.length ? la[0] : sa[0];
    sa.forEach((e, k) => checkShape(model, e, `${path}[${k}]`));
    return;
  }
  if (lk !== 'object') return;
  const lo = live as Record<string, unknown>;
  const so = saved as Record<string, unknown>;
  for (const k of Object.keys(lo)) {
    if (!(k in so)) throw new SnapshotError(`snapshot does not fit this machine: ${path}.${k} is missing from the snapshot`);
    checkShape(lo[k], so[k], `${path}.${k}`);
  }
  for (const k of Object.keys(so)) {
    if (!(k in lo)) throw new SnapshotError(`snapshot does not fit this machine: ${path}.${k} is in the snapshot but not on this machine`);
  }
}
