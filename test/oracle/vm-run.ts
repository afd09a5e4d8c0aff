/**
 * The VM side of the oracle: one reused Vm per run; per case, the windows are restored (same
 * background as the references, LOCK-prefix stubs in the code windows), the setup enters the
 * case's state, and the VM runs until a fault (stopOnFault). A #GP(0) outside the instruction
 * inside a code window is a stub: control went there. A bounded instruction budget catches
 * instructions that never stop (REP forms execute as many steps as they iterate).
 */
import { CR, RAM_OFFSET } from '../../translator/abi.ts';
import { getEflags } from '../../runtime/lazy-flags.ts';
import { Vm } from '../../runtime/vm.ts';
import type { Engine } from '../../runtime/vm.ts';
import { CODE_WINDOWS, VM_RAM, VM_STUB, WINDOWS, fillBackground } from './layout.ts';
import type { Window } from './layout.ts';
import { hasErrorCode } from './protocol.ts';
import type { OracleCase, Outcome, VmSetup, X87Plugin } from './types.ts';

/** Instructions a case may execute before it counts as not stopping. */
const BUDGET = 100_000;

interface WindowState {
  readonly w: Window;
  readonly master: Uint8Array;
  /** The case's initial contents of the window (master plus pokes and code). */
  readonly shadow: Uint8Array;
  /** The window in guest RAM. */
  readonly ram: Uint8Array;
  /** RAM may differ from the master (poked, or written by the last case). */
  dirty: boolean;
  /** Poked by the current case. */
  poked: boolean;
}

export interface VmRunnerOptions {
  readonly engine: Engine;
  readonly setup: VmSetup;
  readonly seed: number;
  readonly x87?: X87Plugin;
}

export class VmRunner {
  readonly vm: Vm;
  private readonly wins: WindowState[];

  constructor(private readonly opts: VmRunnerOptions) {
    this.vm = new Vm({ memorySize: VM_RAM, engine: opts.engine, forceTranslate: opts.engine === 'dbt' });
    this.vm.stopOnFault = true;
    opts.setup.init(this.vm);
    const buf = this.vm.mem.buffer;
    this.wins = WINDOWS.map((w) => {
      const master = new Uint8Array(w.size);
      if (w.kind === 'code') master.fill(VM_STUB);
      else fillBackground(master, w, opts.seed);
      return { w, master, shadow: new Uint8Array(w.size), ram: new Uint8Array(buf, RAM_OFFSET + w.addr, w.size), dirty: true, poked: false };
    });
  }

  /** Loads what the engine needs before the first case (the translator, for 'dbt'). */
  async prepare(): Promise<void> {
    await this.vm.prepare();
  }

  /** Runs one case and reports its outcome. */
  run(c: OracleCase): Outcome {
    const vm = this.vm;
    const cpu = vm.cpu;
    for (const ws of this.wins) ws.poked = false;
    for (const p of c.pokes) this.shadowWrite(p.addr, p.bytes);
    this.shadowWrite(c.eip, c.code);
    // Only windows that were poked or changed are rewritten; writePhys also drops any code
    // cached from their pages.
    for (const ws of this.wins) {
      if (ws.poked) vm.writePhys(ws.w.addr, ws.shadow);
      else if (ws.dirty) vm.writePhys(ws.w.addr, ws.master);
      ws.dirty = ws.poked;
    }
    this.opts.setup.enter(vm, c);
    if (c.fpu) {
      if (!this.opts.x87) throw new Error(`${c.row.name}: case has x87 state but no x87 plug-in is loaded`);
      this.opts.x87.loadVm(cpu, c.fpu);
    }

    const o: Outcome = {
      kind: 'fault', vector: -1, errorCode: -1, cr2: 0, eip: 0, eflags: 0, regs: new Int32Array(8), sel: [], mem: new Map(),
    };
    try {
      const r = vm.run(BUDGET);
      if (r.reason === 'fault' && r.fault) {
        const f = r.fault;
        const eip = cpu.eip >>> 0;
        const outside = eip < c.eip || eip >= c.eip + c.code.length;
        if (f.vector === 13 && f.errorCode === 0 && outside && CODE_WINDOWS.some((w) => eip >= w.addr && eip < w.addr + w.size)) {
          o.kind = 'stub';
        } else {
          o.vector = f.vector;
          o.errorCode = hasErrorCode(f.vector) ? f.errorCode & 0xffff : -1;
          if (f.vector === 14) o.cr2 = cpu.s[(CR >> 2) + 2];
        }
      } else {
        o.kind = 'no-stop';
        o.message = `run ended with '${r.reason}' after ${r.executed} instructions${r.detail ? `: ${r.detail}` : ''}`;
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      o.kind = /no handler/.test(msg) ? 'no-handler' : 'host-error';
      o.message = e instanceof Error && o.kind === 'host-error' ? `${msg}\n${e.stack ?? ''}` : msg;
    }
    o.eip = cpu.eip >>> 0;
    o.eflags = getEflags(cpu.s);
    for (let r = 0; r < 8; r++) o.regs[r] = cpu.s[r];
    for (let seg = 0; seg < 6; seg++) o.sel.push(cpu.segSel(seg) & 0xffff);
    for (const ws of this.wins) this.diff(ws, o.mem);
    if (c.captureFpu || c.fpu) o.fpu = this.opts.x87?.readVm(cpu);
    return o;
  }

  private shadowWrite(addr: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length;) {
      const a = (addr + i) >>> 0;
      const ws = this.wins.find((x) => a >= x.w.addr && a < x.w.addr + x.w.size);
      if (!ws) throw new Error(`oracle: write at 0x${a.toString(16)} outside the windows`);
      if (!ws.poked) {
        ws.shadow.set(ws.master);
        ws.poked = true;
      }
      const n = Math.min(bytes.length - i, ws.w.addr + ws.w.size - a);
      ws.shadow.set(bytes.subarray(i, i + n), a - ws.w.addr);
      i += n;
    }
  }

  private diff(ws: WindowState, out: Map<number, number>): void {
    const { ram, w } = ws;
    const initial = ws.poked ? ws.shadow : ws.master;
    if (Buffer.compare(ram, initial) === 0) return; // native memcmp: the common case
    ws.dirty = true;
    for (let j = 0; j < w.size; j++) if (ram[j] !== initial[j]) out.set(w.addr + j, ram[j]);
  }
}
