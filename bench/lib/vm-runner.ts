/**
 * Runs a workload on a wasmvisor Vm: flat 32-bit protected mode, code at LOAD_ADDRESS, each run
 * restarting at the entry with the same registers (and without touching the code pages, so
 * translations survive between runs).
 */
import { EFLAGS, LF_NONE, LF_OP } from '../../translator/abi.ts';
import { Vm } from '../../runtime/vm.ts';
import type { Engine } from '../../runtime/vm.ts';
import type { Loaded } from './engines.ts';
import { LOAD_ADDRESS } from './workloads.ts';
import type { Workload } from './workloads.ts';

export const EAX_TO_EDI = 8;
const MAX_INSNS = 2_000_000_000;
/** Blocks re-translated to measure the steady-state translation cost (Dbt.measureTranslation). */
const STEADY_BLOCKS = 3000;

export async function runOnVm(engine: Engine, w: Workload, image: Uint8Array, forceTranslate = false): Promise<Loaded> {
  const vm = new Vm({ memorySize: w.memorySize, engine, forceTranslate });
  await vm.prepare();
  vm.resetFlat32(LOAD_ADDRESS, 0x80000);
  vm.writePhys(LOAD_ADDRESS, image);
  const s = vm.cpu.s;
  const regs0 = Array.from(s.subarray(0, EAX_TO_EDI));
  const flags0 = s[EFLAGS >> 2];
  return {
    run(): number {
      s.set(regs0, 0);
      s[EFLAGS >> 2] = flags0;
      s[LF_OP >> 2] = LF_NONE;
      vm.cpu.halted = false;
      vm.cpu.eip = LOAD_ADDRESS;
      const r = vm.run(MAX_INSNS);
      if (r.reason !== 'halted') throw new Error(`${w.name} on ${engine}: stopped with '${r.reason}' ${r.detail ?? r.fault?.toString() ?? ''} at EIP 0x${(vm.cpu.eip >>> 0).toString(16)}`);
      const bad = w.check(s.subarray(0, EAX_TO_EDI));
      if (bad) throw new Error(`${w.name} on ${engine}: wrong result: ${bad}`);
      return r.executed;
    },
    translation() {
      const st = vm.stats().dbt;
      if (!st || !vm.dbt) return null;
      return { blocks: st.blocks, ms: st.translateMs, steadyUsPerBlock: vm.dbt.measureTranslation(STEADY_BLOCKS) };
    },
  };
}
