/**
 * The oracle's references (test/oracle/reference.ts) and its known-deviation accounting
 * (test/oracle/deviations.ts):
 * - the probe refuses a host whose kernel cannot run i386 programs (simulated with the seccomp
 *   wrapper test/setup/no-ia32.c), and forcing the native reference there fails with a message
 *   that says why;
 * - the bare-metal harness under qemu-system-i386 reports exact vectors, error codes and state;
 * - a known deviation of QEMU excuses exactly its own difference: the same case with any other
 *   difference is a mismatch.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EX_BR, EX_GP, EX_UD } from '../../../translator/abi.ts';
import { rowByName } from '../../../translator/isa/table.ts';
import { compareOutcomes } from '../../oracle/compare.ts';
import { deviationTable, explainByDeviations } from '../../oracle/deviations.ts';
import { CODE, DATA32, SEL_USER_CS, SEL_USER_DS, STACK } from '../../oracle/layout.ts';
import { getReference } from '../../oracle/reference.ts';
import type { OracleCase, Outcome } from '../../oracle/types.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const WITHOUT_IA32 = join(ROOT, 'test', 'setup', 'without-ia32.sh');

/** A hand-made case: `code` at the code window, EBX pointing into the data window. */
function makeCase(row: string, code: number[], sel: [number, number, number, number] = [SEL_USER_DS, SEL_USER_DS, SEL_USER_DS, SEL_USER_DS], pokes: OracleCase['pokes'] = []): OracleCase {
  const regs = new Int32Array(8);
  regs[0] = 0x11223344;
  regs[3] = DATA32.addr + 0x100;
  regs[4] = STACK.addr + 0x1000;
  return {
    row: rowByName(row), form: { osz: 32, asz: 32, rm: 'mem', label: 'm32' }, eip: CODE.addr + 0x200, code: Uint8Array.from(code), regs,
    eflags: 0x202, sel, pokes, flagsIgnore: 0, mem: { addr: DATA32.addr + 0x100, size: 4 },
  };
}

describe('reference probe on a host without 32-bit execution (seccomp-simulated)', () => {
  it('the probe says the host does not run i386 programs', () => {
    const out = execFileSync('bash', [WITHOUT_IA32, 'npx', 'tsx', '-e',
      "import { probeNative } from './test/oracle/reference.ts'; console.log(JSON.stringify(probeNative()))"], { cwd: ROOT, encoding: 'utf8' });
    const p = JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; reason?: string };
    expect(p.ok).toBe(false);
    expect(p.reason).toMatch(/does not run i386 programs/);
  }, 120_000);

  it('forcing --reference native there fails with that reason; the default falls back to QEMU', () => {
    const forced = spawnSync('bash', [WITHOUT_IA32, 'npx', 'tsx', 'test/oracle/run.ts', '--reference', 'native', '--row', '^nop$', '--cases', '2'], { cwd: ROOT, encoding: 'utf8' });
    expect(forced.status).toBe(2);
    expect(forced.stderr).toMatch(/the native reference cannot run here: this host does not run i386 programs/);
    const auto = spawnSync('bash', [WITHOUT_IA32, 'npx', 'tsx', 'test/oracle/run.ts', '--row', '^nop$', '--cases', '2'], { cwd: ROOT, encoding: 'utf8' });
    expect(auto.stdout).toMatch(/^reference: qemu-system-i386 \d+\.\d+/m);
    expect(auto.stdout).toMatch(/^\d+ passed, 0 failed, known reference deviations: 0$/m);
  }, 120_000);
});

describe('the bare-metal harness under qemu-system-i386', () => {
  const qemu = getReference('qemu');

  it('reports the exact vector, error code, EIP and registers', () => {
    const cases = [
      // BOUND eax, [ebx] with EAX outside [lower, upper]: #BR (Linux would turn it into SIGSEGV)
      makeCase('boundGvMa', [0x62, 0x03], undefined, [{ addr: DATA32.addr + 0x100, bytes: Uint8Array.from([0, 0, 0, 0, 0x10, 0, 0, 0]) }]),
      makeCase('invalid', [0x0f, 0x0b]), // UD2
      makeCase('movSwEw', [0x8e, 0xd8]), // mov ds, ax with AX = 3344h (beyond the GDT): #GP(3344h)
      makeCase('nop', [0x90]),
    ];
    const [bound, ud, movds, nop] = qemu.run(cases, 5);
    expect([bound.kind, bound.vector, bound.eip]).toEqual(['fault', EX_BR, cases[0].eip]);
    expect([ud.kind, ud.vector, ud.errorCode]).toEqual(['fault', EX_UD, -1]);
    expect([movds.kind, movds.vector, movds.errorCode]).toEqual(['fault', EX_GP, 0x3344]);
    expect([nop.kind, nop.eip, nop.regs[0] >>> 0, nop.sel[1], nop.sel[3]]).toEqual(['stub', cases[3].eip + 1, 0x11223344, SEL_USER_CS, SEL_USER_DS]);
  }, 60_000);
});

describe('known deviations of QEMU excuse only their own difference', () => {
  const qemu = { kind: 'qemu' as const, quirks: new Set<string>() };
  // add byte [ebx], al through DS = 0 (null): the CPU raises #GP(0); QEMU completes it.
  const c = makeCase('addEbGb', [0x00, 0x03], [0, SEL_USER_DS, SEL_USER_DS, SEL_USER_DS]);
  const ref: Outcome = {
    kind: 'stub', vector: -1, errorCode: -1, cr2: 0, eip: c.eip + 2, eflags: 0x202, regs: Int32Array.from(c.regs), sel: [0x2b, 0x23, 0x2b, 0, 0x2b, 0x2b],
    mem: new Map([[DATA32.addr + 0x100, 0x44]]),
  };
  const vm: Outcome = {
    kind: 'fault', vector: EX_GP, errorCode: 0, cr2: 0, eip: c.eip, eflags: 0x202, regs: Int32Array.from(c.regs), sel: [0x2b, 0x23, 0x2b, 0, 0x2b, 0x2b], mem: new Map(),
  };

  it('the VM raising #GP(0) with nothing changed is the data-segment-checks deviation', () => {
    expect(compareOutcomes(c, ref, vm).length).toBeGreaterThan(0);
    expect(explainByDeviations(qemu, c, ref, vm)).toEqual(['data-segment-checks']);
  });

  it('a VM that also changed a register, wrote memory, or raised another error code is a mismatch', () => {
    const regs = Int32Array.from(c.regs);
    regs[0] ^= 1;
    expect(explainByDeviations(qemu, c, ref, { ...vm, regs })).toBeUndefined();
    expect(explainByDeviations(qemu, c, ref, { ...vm, mem: new Map([[DATA32.addr + 0x100, 0x44]]) })).toBeUndefined();
    expect(explainByDeviations(qemu, c, ref, { ...vm, errorCode: 8 })).toBeUndefined();
  });

  it('the same difference with flat segments is a mismatch (the precondition is not met)', () => {
    const flat = { ...c, sel: [SEL_USER_DS, SEL_USER_DS, SEL_USER_DS, SEL_USER_DS] as const };
    expect(explainByDeviations(qemu, flat, ref, vm)).toBeUndefined();
  });

  it('deviations of QEMU never excuse the real CPU', () => {
    expect(explainByDeviations({ kind: 'native', quirks: new Set() }, c, ref, vm)).toBeUndefined();
  });
});

describe('test/oracle/README.md', () => {
  it('lists the known deviations exactly as deviations.ts declares them (npm run oracle -- --deviations)', () => {
    const readme = readFileSync(join(ROOT, 'test', 'oracle', 'README.md'), 'utf8');
    const m = /<!-- deviations:begin -->\n([\s\S]*?)\n<!-- deviations:end -->/.exec(readme);
    expect(m?.[1]).toBe(deviationTable());
  });
});
