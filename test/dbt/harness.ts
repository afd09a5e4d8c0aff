/**
 * Test harness for the translator: runs a guest program on a Vm of either engine and takes a
 * full-state snapshot (registers, EIP, EFLAGS as the guest would read them, memory windows,
 * instruction and class counts, how the run ended) for differential comparison.
 */
import { EFLAGS } from '../../translator/abi.ts';
import { getEflags } from '../../runtime/lazy-flags.ts';
import { Vm } from '../../runtime/vm.ts';
import type { Engine } from '../../runtime/vm.ts';
import { CODE, COUNTER, DATA, DATA_SIZE, STACK_TOP } from './gen.ts';
import type { Case } from './gen.ts';

export interface Snapshot {
  regs: number[];
  eip: number;
  eflags: number;
  data: number[];
  stack: number[];
  executed: number;
  classes: number[];
  end: string;
}

/** A Vm for differential runs: flat 32-bit protected mode; dbt engines translate on first run. */
export async function makeVm(engine: Engine, memorySize = 1 << 20): Promise<Vm> {
  const vm = new Vm({ memorySize, engine, forceTranslate: engine === 'dbt', dbt: { validate: true } });
  await vm.prepare();
  vm.stopOnFault = true;
  return vm;
}

/** Loads `c` into `vm` (resetting it) and runs it to its end. */
export function runCase(vm: Vm, c: Case, budget = 10_000): Snapshot {
  vm.resetFlat32(CODE, c.regs[4]);
  vm.writePhys(DATA, c.data);
  vm.writePhys(STACK_TOP - 0x200, new Uint8Array(0x200));
  vm.writePhys(CODE, c.code);
  if (c.counter !== undefined) vm.writePhys(COUNTER, [c.counter & 0xff, 0, 0, 0]);
  const s = vm.cpu.s;
  for (let r = 0; r < 8; r++) s[r] = c.regs[r];
  s[EFLAGS >> 2] = c.eflags;
  vm.cpu.refreshMode();
  const before = Array.from(vm.classCounts);
  const res = vm.run(budget);
  return snapshot(vm, res.executed, before, res.reason + (res.fault ? ` ${res.fault.toString()}` : '') + (res.detail ? ` ${res.detail}` : ''));
}

export function snapshot(vm: Vm, executed: number, classesBefore: number[], end: string): Snapshot {
  const s = vm.cpu.s;
  return {
    regs: Array.from(s.subarray(0, 8)),
    eip: vm.cpu.eip,
    eflags: getEflags(s),
    data: Array.from(vm.readPhys(DATA, DATA_SIZE)),
    stack: Array.from(vm.readPhys(STACK_TOP - 0x200, 0x200)),
    executed,
    classes: Array.from(vm.classCounts, (v, k) => v - classesBefore[k]),
    end,
  };
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

/** Differences between two snapshots (empty if equal), EFLAGS compared under `flagMask`. */
export function diff(a: Snapshot, b: Snapshot, flagMask: number): string[] {
  const out: string[] = [];
  const names = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
  for (let r = 0; r < 8; r++) if (a.regs[r] !== b.regs[r]) out.push(`${names[r]} ${hex(a.regs[r])} != ${hex(b.regs[r])}`);
  if (a.eip !== b.eip) out.push(`eip ${hex(a.eip)} != ${hex(b.eip)}`);
  if ((a.eflags & flagMask) !== (b.eflags & flagMask)) out.push(`eflags ${hex(a.eflags & flagMask)} != ${hex(b.eflags & flagMask)}`);
  const firstDiff = (x: number[], y: number[]): number => x.findIndex((v, k) => v !== y[k]);
  const d = firstDiff(a.data, b.data);
  if (d >= 0) out.push(`data[${hex(DATA + d)}] ${a.data[d]} != ${b.data[d]}`);
  const st = firstDiff(a.stack, b.stack);
  if (st >= 0) out.push(`stack[${hex(STACK_TOP - 0x200 + st)}] ${a.stack[st]} != ${b.stack[st]}`);
  if (a.executed !== b.executed) out.push(`executed ${a.executed} != ${b.executed}`);
  if (a.classes.join() !== b.classes.join()) out.push(`classes ${a.classes.join()} != ${b.classes.join()}`);
  if (a.end !== b.end) out.push(`end '${a.end}' != '${b.end}'`);
  return out;
}
