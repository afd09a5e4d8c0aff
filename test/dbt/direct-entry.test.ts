/**
 * Direct entry from region to region (translator/abi.ts JUMP_CACHE): compiled code that leaves
 * its region for another translated region enters it by a tail call, without the run loop. The
 * reference is the interpreter: every program here runs under both engines and the full state
 * (registers, EFLAGS, memory, instruction counts per class, how the run ended) must be equal,
 * also when a budget ends the run in the middle of a chain of direct entries. The entries must
 * stop being used when the code they lead to is rewritten, or its page mapped elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { CR, R_EAX } from '../../translator/abi.ts';
import { EMPTY_BUS } from '../../runtime/cpu.ts';
import { getEflags } from '../../runtime/lazy-flags.ts';
import { Vm } from '../../runtime/vm.ts';
import type { Engine } from '../../runtime/vm.ts';
import { assemble } from '../unit/interp/interp-harness.ts';

const ORG = 0x1000;
const STACK = 0x80000;
const DATA = 0x20000;

/**
 * The caller loops in page 0x1000 over routines in pages 0x3000, 0x5000 and 0x6000 (calls,
 * returns and a jump between pages, each a region of its own), accumulating into EBX and
 * memory, then stops at UD2.
 */
const CROSS_PAGE = `
  mov ecx, 300
  xor ebx, ebx
top:
  call f
  add ebx, eax
  call g
  xor ebx, eax
  dec ecx
  jnz top
  mov [${DATA}], ebx
  ud2
times 0x2000-($-$$) db 0
f:                       ; 0x3000
  lea eax, [ecx*3+7]
  add dword [${DATA + 4}], eax
  ret
times 0x4000-($-$$) db 0
g:                       ; 0x5000
  mov eax, ecx
  shl eax, 5
  jmp h
times 0x5000-($-$$) db 0
h:                       ; 0x6000
  sub eax, ecx
  inc dword [${DATA + 8}]
  ret
`;

interface State {
  regs: number[];
  eip: number;
  eflags: number;
  data: number[];
  executed: number;
  classes: number[];
  end: string;
}

async function makeVm(engine: Engine, opts: { threshold?: number } = {}): Promise<Vm> {
  const force = engine === 'dbt' && opts.threshold === undefined;
  const vm = new Vm({ memorySize: 1 << 20, engine, forceTranslate: force, dbt: { validate: true, threshold: opts.threshold } });
  await vm.prepare();
  vm.stopOnFault = true;
  return vm;
}

function load(vm: Vm, code: Uint8Array): void {
  vm.resetFlat32(ORG, STACK);
  vm.writePhys(ORG, code);
  vm.writePhys(DATA, new Uint8Array(16));
}

function state(vm: Vm, executed: number, classes0: number[], end: string): State {
  const s = vm.cpu.s;
  return {
    regs: Array.from(s.subarray(0, 8)),
    eip: vm.cpu.eip,
    eflags: getEflags(s),
    data: Array.from(vm.readPhys(DATA, 16)),
    executed,
    classes: Array.from(vm.classCounts, (v, k) => v - classes0[k]),
    end,
  };
}

/** Runs from the loaded state in slices of `slice` instructions until the run ends (not 'budget'). */
function runSliced(vm: Vm, slice: number, limit = 200_000): State {
  const classes0 = Array.from(vm.classCounts);
  let executed = 0;
  for (;;) {
    const r = vm.run(slice);
    executed += r.executed;
    if (r.reason !== 'budget' || executed >= limit) return state(vm, executed, classes0, r.reason + (r.fault ? ` #${r.fault.vector}` : ''));
  }
}

describe('direct entry between regions', () => {
  const code = assemble(CROSS_PAGE, ORG, 32);

  it('gives the interpreter\'s full state, and enters regions directly', async () => {
    const ref = await makeVm('interp');
    load(ref, code);
    const want = runSliced(ref, 1_000_000);
    expect(want.end).toBe('fault #6');
    for (const threshold of [undefined, 20]) {
      const vm = await makeVm('dbt', { threshold });
      load(vm, code);
      expect(runSliced(vm, 1_000_000), `threshold ${threshold}`).toEqual(want);
      expect(vm.stats().dbt?.direct, `threshold ${threshold}`).toBeGreaterThan(500);
    }
  });

  it('stops exactly at every budget, also inside a chain of direct entries', async () => {
    const ref = await makeVm('interp');
    const vm = await makeVm('dbt');
    for (const slice of [1, 2, 3, 5, 7, 11, 13, 64, 97, 1000]) {
      load(ref, code);
      load(vm, code);
      // One slice of each size at several points of the run (state compared after each).
      const classes0 = Array.from(ref.classCounts);
      const classes1 = Array.from(vm.classCounts);
      let done = 0;
      for (let k = 0; k < 40; k++) {
        const a = ref.run(slice);
        const b = vm.run(slice);
        done += a.executed;
        expect(state(vm, b.executed, classes1, b.reason), `slice ${slice}, round ${k}`).toEqual(state(ref, a.executed, classes0, a.reason));
        ref.run(1000 + k);
        vm.run(1000 + k);
        if (a.reason !== 'budget') break;
      }
      expect(done).toBeGreaterThan(0);
    }
    expect(vm.stats().dbt?.direct).toBeGreaterThan(0);
  });

  it('runs the new code of a routine rewritten after direct entries into it were made', async () => {
    // Calls f 200 times (entries into f's region made and used), rewrites f's immediate from the
    // guest, calls it 200 times more; then the host rewrites it (as a loader would) and the run
    // goes on from the start.
    const src = `
  xor ebx, ebx
  mov ecx, 200
a: call f
  add ebx, eax
  dec ecx
  jnz a
  mov byte [f + 1], 5
  mov ecx, 200
b: call f
  add ebx, eax
  dec ecx
  jnz b
  ud2
times 0x2000-($-$$) db 0
f: mov eax, 1
  ret
`;
    const prog = assemble(src, ORG, 32);
    for (const engine of ['interp', 'dbt'] as const) {
      const vm = await makeVm(engine);
      load(vm, prog);
      const r = runSliced(vm, 1_000_000);
      expect(r.end).toBe('fault #6');
      expect(r.regs[3], engine).toBe(200 * 1 + 200 * 5);
      if (engine === 'dbt') expect(vm.stats().dbt?.direct).toBeGreaterThan(100);
      // The host patches f (mov eax, 9) and reruns the program from the start, keeping the VM.
      vm.resetFlat32(ORG, STACK);
      vm.writePhys(ORG, prog);
      vm.writePhys(0x3001, [9]);
      const r2 = runSliced(vm, 1_000_000);
      expect(r2.regs[3], engine).toBe(200 * 9 + 200 * 5);
    }
  });

  it('follows a remapped page: a page-table change and INVLPG end the direct entries into it', async () => {
    // Paging with one page table identity-mapping the first 4 MiB; linear 0x3000 first maps
    // physical 0x3000 (f returns 1), then physical 0x4000 (f returns 2).
    const PD = 0x10000;
    const PT = 0x11000;
    const src = `
  mov eax, ${PD}
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80000000
  mov cr0, eax
  xor ebx, ebx
  mov ecx, 100
a: call 0x3000
  add ebx, eax
  dec ecx
  jnz a
  mov dword [${PT + 3 * 4}], 0x4003
  invlpg [0x3000]
  mov ecx, 100
b: call 0x3000
  add ebx, eax
  dec ecx
  jnz b
  ud2
times 0x2000-($-$$) db 0
  mov eax, 1
  ret
times 0x3000-($-$$) db 0
  mov eax, 2
  ret
`;
    const prog = assemble(src, ORG, 32);
    const states: State[] = [];
    for (const engine of ['interp', 'dbt'] as const) {
      const vm = await makeVm(engine);
      load(vm, prog);
      const pd = new Uint8Array(4096);
      pd.set([(PT & 0xff) | 3, (PT >>> 8) & 0xff, PT >>> 16, 0]);
      const pt = new Uint8Array(4096);
      for (let p = 0; p < 1024; p++) new DataView(pt.buffer).setUint32(p * 4, (p << 12) | 3, true);
      vm.writePhys(PD, pd);
      vm.writePhys(PT, pt);
      const r = runSliced(vm, 1_000_000);
      expect(r.end).toBe('fault #6');
      expect(r.regs[3], engine).toBe(100 * 1 + 100 * 2);
      expect(vm.cpu.s[(CR >> 2)] >>> 31).toBe(1);
      if (engine === 'dbt') expect(vm.stats().dbt?.direct).toBeGreaterThan(50);
      states.push(r);
    }
    expect(states[1]).toEqual(states[0]);
  });

  it('leaves compiled code when an exit is requested while regions enter each other', async () => {
    // Each iteration writes device memory (past the 1 MiB of RAM) and then calls f in another
    // page; the 500th write requests a stop from inside compiled code. The call after it must
    // not enter f's region directly: the run stops with EIP at f, before f runs.
    let writes = 0;
    const vm = new Vm({
      memorySize: 1 << 20, engine: 'dbt', forceTranslate: true, dbt: { validate: true },
      io: { ...EMPTY_BUS, mmioWrite: () => { if (++writes === 500) vm.requestStop(); } },
    });
    await vm.prepare();
    vm.stopOnFault = true;
    load(vm, assemble(`
top:
  mov [0x200000], eax
  call f
  inc dword [${DATA}]
  jmp top
times 0x2000-($-$$) db 0
f: mov eax, 1
  ret
`, ORG, 32));
    const r = vm.run(1_000_000);
    expect(r.reason).toBe('stopped');
    expect(writes).toBe(500);
    expect(vm.cpu.eip).toBe(0x3000);
    expect(vm.readPhys(DATA, 4)[0] | (vm.readPhys(DATA + 1, 1)[0] << 8)).toBe(499);
    expect(vm.stats().dbt?.direct).toBeGreaterThan(900);
    expect(vm.cpu.s[R_EAX]).toBe(1);
  });
});
