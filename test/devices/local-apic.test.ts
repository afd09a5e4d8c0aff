/**
 * The local APIC (runtime/devices/local-apic.ts) where the SDM (vol. 3, chapter 10) says more
 * than test/system/tests/apic.asm can compare with QEMU: the software-disabled state's forced
 * masks, IA32_APIC_BASE (relocation, disable for good, reserved bits, CPUID.APIC), ESR, the
 * cluster logical model, level-triggered TMR, the priorities' corner cases, the divide
 * configuration and the timer on a manual clock; and the A20 gate's two sources ORed.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { I8042 } from '../../runtime/devices/i8042.ts';
import {
  APIC_APR, APIC_DFR, APIC_EOI, APIC_ESR, APIC_ICR_HI, APIC_ICR_LO, APIC_ISR, APIC_LDR, APIC_LVT_ERROR,
  APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_TIMER, APIC_PPR, APIC_SVR, APIC_TIMER_CURRENT, APIC_TIMER_DIVIDE,
  APIC_TIMER_INITIAL, APIC_TMR, APIC_TPR, LocalApic,
} from '../../runtime/devices/local-apic.ts';
import { SystemPorts } from '../../runtime/devices/system-ports.ts';
import { GuestFault } from '../../runtime/fault.ts';
import { Vm } from '../../runtime/vm.ts';
import { cpuid, FEAT_APIC } from '../../runtime/vmm/cpuid.ts';
import { MSR_IA32_APIC_BASE, readMsr, writeMsr } from '../../runtime/vmm/msr.ts';
import { inb, outb } from './helpers.ts';

/** An 8259A stand-in: one pending vector or none. */
class FakePic {
  pending: number | null = null;
  hasInterrupt(): boolean {
    return this.pending !== null;
  }
  acknowledge(): number {
    const v = this.pending ?? 0x0f;
    this.pending = null;
    return v;
  }
}

function setup(): { apic: LocalApic; clock: ManualClock; pic: FakePic; r: (o: number) => number; w: (o: number, v: number) => void } {
  const clock = new ManualClock();
  const pic = new FakePic();
  const apic = new LocalApic(clock, pic);
  return { apic, clock, pic, r: (o) => apic.readRegister(o) >>> 0, w: (o, v) => apic.writeRegister(o, v) };
}

/** Sends a fixed self-IPI (shorthand self) with `vector`; `level` sets the trigger mode. */
function selfIpi(w: (o: number, v: number) => void, vector: number, level = false): void {
  w(APIC_ICR_LO, 0x00044000 | (level ? 0x8000 : 0) | vector);
}

describe('local APIC: reset and the software-disabled state', () => {
  it('resets as the SDM says (LINT0 in ExtINT mode, as QEMU for the BSP)', () => {
    const { apic, r } = setup();
    expect(apic.baseMsr >>> 0).toBe(0xfee00900);
    expect(r(APIC_SVR)).toBe(0xff);
    expect(r(APIC_DFR)).toBe(0xffffffff);
    expect(r(APIC_LVT_TIMER)).toBe(0x10000);
    expect(r(APIC_LVT_LINT0)).toBe(0x700);
    expect(r(APIC_LVT_LINT1)).toBe(0x10000);
    expect(r(APIC_LVT_ERROR)).toBe(0x10000);
  });

  it('keeps every LVT masked while software-disabled, and masks them all when disabled', () => {
    const { apic, pic, r, w } = setup();
    w(APIC_LVT_TIMER, 0x40);
    expect(r(APIC_LVT_TIMER)).toBe(0x10040);
    apic.setBiosState();
    w(APIC_LVT_TIMER, 0x40);
    expect(r(APIC_LVT_TIMER)).toBe(0x40);
    pic.pending = 0x20;
    expect(apic.hasInterrupt()).toBe(true); // LINT0 ExtINT: the 8259A's INTR
    w(APIC_SVR, 0xff);
    expect(r(APIC_LVT_TIMER)).toBe(0x10040);
    expect(r(APIC_LVT_LINT0)).toBe(0x18700);
    expect(apic.hasInterrupt()).toBe(false); // LINT0 masked: the 8259A is cut off
  });

  it('holds IRR while software-disabled and delivers once enabled', () => {
    const { apic, w } = setup();
    selfIpi(w, 0x50);
    expect(apic.hasInterrupt()).toBe(false);
    w(APIC_SVR, 0x1ff);
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x50);
  });

  it('reads SVR bits 3:0 as 1 (P6)', () => {
    const { r, w } = setup();
    w(APIC_SVR, 0x120);
    expect(r(APIC_SVR)).toBe(0x12f);
  });
});

describe('local APIC: IA32_APIC_BASE and CPUID', () => {
  it('relocates the page, disables it for good, and rejects reserved bits', () => {
    const vm = new Vm({ memorySize: 2 << 20 });
    const { apic, pic } = setup();
    vm.cpu.apic = apic;
    expect(readMsr(vm.cpu, MSR_IA32_APIC_BASE)).toEqual([0xfee00900 | 0, 0]);
    expect(cpuid(1, apic.enabled).edx & FEAT_APIC).toBe(FEAT_APIC);
    writeMsr(vm.cpu, MSR_IA32_APIC_BASE, 0xfec10900 | 0, 0);
    expect(apic.claims(0xfec10020 | 0)).toBe(true);
    expect(apic.claims(0xfee00020 | 0)).toBe(false);
    expect(vm.cpu.mmioRead(0xfec10030 | 0, 4)).toBe(0x00050014);
    expect(() => writeMsr(vm.cpu, MSR_IA32_APIC_BASE, 0xfee00901 | 0, 0)).toThrow(GuestFault);
    expect(() => writeMsr(vm.cpu, MSR_IA32_APIC_BASE, 0xfee00900 | 0, 1)).toThrow(GuestFault);
    // Disabled: no page, no CPUID bit, the 8259A straight to the CPU; the enable bit cannot return.
    writeMsr(vm.cpu, MSR_IA32_APIC_BASE, 0xfee00100 | 0, 0);
    expect(apic.claims(0xfee00020 | 0)).toBe(false);
    expect(cpuid(1, apic.enabled).edx & FEAT_APIC).toBe(0);
    pic.pending = 0x33;
    expect(apic.hasInterrupt()).toBe(true);
    expect(apic.acknowledge()).toBe(0x33);
    writeMsr(vm.cpu, MSR_IA32_APIC_BASE, 0xfee00900 | 0, 0);
    expect(apic.enabled).toBe(false);
  });

  it('raises #GP for IA32_APIC_BASE on a machine without an APIC', () => {
    const vm = new Vm({ memorySize: 2 << 20 });
    expect(() => readMsr(vm.cpu, MSR_IA32_APIC_BASE)).toThrow(GuestFault);
    expect(cpuid(1).edx & FEAT_APIC).toBe(0);
  });
});

describe('local APIC: priorities, EOI, errors, destinations', () => {
  it('delivers by class above PPR, nests higher classes, and EOIs the highest in service', () => {
    const { apic, r, w } = setup();
    apic.setBiosState();
    selfIpi(w, 0x61);
    selfIpi(w, 0x62); // same class as 61h: one waits for the other
    expect(apic.acknowledge()).toBe(0x62);
    expect(r(APIC_PPR)).toBe(0x60);
    expect(apic.hasInterrupt()).toBe(false); // 61h's class is not above PPR's
    selfIpi(w, 0x71);
    expect(apic.acknowledge()).toBe(0x71);
    expect(r(APIC_ISR + 0x30)).toBe(0x00020000 | 0x00000004 | 0); // 71h and 62h in service (ISR[60h..7Fh])
    w(APIC_EOI, 0);
    expect(r(APIC_PPR)).toBe(0x60);
    w(APIC_EOI, 0);
    expect(r(APIC_PPR)).toBe(0);
    expect(apic.acknowledge()).toBe(0x61);
  });

  it('computes PPR and APR from TPR, ISR and IRR (10.8.3.1, 10.6.2.4)', () => {
    const { apic, r, w } = setup();
    apic.setBiosState();
    w(APIC_TPR, 0x35);
    expect(r(APIC_PPR)).toBe(0x35);
    expect(r(APIC_APR)).toBe(0x35);
    selfIpi(w, 0x80);
    expect(r(APIC_APR)).toBe(0x80); // IRRV's class is above TPR's
    apic.acknowledge();
    expect(r(APIC_PPR)).toBe(0x80);
    expect(r(APIC_APR)).toBe(0x80);
  });

  it('answers an acknowledge with nothing deliverable with the spurious vector', () => {
    const { apic, w } = setup();
    apic.setBiosState();
    w(APIC_SVR, 0x1f0);
    expect(apic.acknowledge()).toBe(0xff); // P6: bits 3:0 are 1
  });

  it('records level-triggered interrupts in TMR until their EOI', () => {
    const { apic, r, w } = setup();
    apic.setBiosState();
    selfIpi(w, 0x45, true);
    expect(r(APIC_TMR + 0x20)).toBe(1 << 5);
    apic.acknowledge();
    w(APIC_EOI, 0);
    expect(r(APIC_TMR + 0x20)).toBe(0);
  });

  it('latches errors into ESR on a write and raises the error LVT (10.5.3)', () => {
    const { apic, r, w } = setup();
    apic.setBiosState();
    w(APIC_LVT_ERROR, 0xfe);
    selfIpi(w, 0x05); // illegal vector, sent to ourselves
    expect(r(APIC_ESR)).toBe(0); // not latched yet
    w(APIC_ESR, 0);
    expect(r(APIC_ESR)).toBe(0x60);
    expect(apic.acknowledge()).toBe(0xfe);
    r(0x40); // reserved offset
    w(APIC_ESR, 0);
    expect(r(APIC_ESR)).toBe(0x80);
    w(APIC_ESR, 0);
    expect(r(APIC_ESR)).toBe(0);
  });

  it('matches logical destinations in the cluster model', () => {
    const { apic, w } = setup();
    apic.setBiosState();
    w(APIC_DFR, 0x0fffffff); // cluster
    w(APIC_LDR, 0x32000000); // cluster 3, member bit 1
    w(APIC_ICR_HI, 0x31000000);
    w(APIC_ICR_LO, 0x00000850);
    expect(apic.hasInterrupt()).toBe(false);
    w(APIC_ICR_HI, 0x23000000);
    w(APIC_ICR_LO, 0x00000851);
    expect(apic.hasInterrupt()).toBe(false);
    w(APIC_ICR_HI, 0x36000000);
    w(APIC_ICR_LO, 0x00000852);
    expect(apic.acknowledge()).toBe(0x52);
  });
});

describe('local APIC: the timer', () => {
  it('divides the 1 GHz bus clock by 1, 2, 4 ... 128', () => {
    const want: [number, number][] = [[0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1]];
    for (const [code, divisor] of want) {
      const { clock, r, w } = setup();
      w(APIC_TIMER_DIVIDE, code);
      w(APIC_TIMER_INITIAL, 1_000_000);
      clock.advance(1024);
      expect(r(APIC_TIMER_CURRENT)).toBe(1_000_000 - 1024 / divisor);
      expect(r(APIC_TIMER_DIVIDE)).toBe(code);
    }
  });

  it('fires a one-shot once and a periodic timer every period, and stops at count 0', () => {
    const { apic, clock, r, w } = setup();
    apic.setBiosState();
    w(APIC_TIMER_DIVIDE, 0xb);
    w(APIC_LVT_TIMER, 0xa0);
    w(APIC_TIMER_INITIAL, 1000);
    expect(apic.nextEventNs()).toBe(1000);
    clock.advance(999);
    apic.update();
    expect(apic.hasInterrupt()).toBe(false);
    clock.advance(1);
    apic.update();
    expect(apic.acknowledge()).toBe(0xa0);
    w(APIC_EOI, 0);
    clock.advance(5000);
    apic.update();
    expect(apic.hasInterrupt()).toBe(false);
    expect(r(APIC_TIMER_CURRENT)).toBe(0);
    expect(apic.nextEventNs()).toBe(Infinity);

    w(APIC_LVT_TIMER, 0x200a0); // periodic
    w(APIC_TIMER_INITIAL, 1000);
    let fired = 0;
    for (let k = 0; k < 10; k++) {
      clock.advance(1000);
      apic.update();
      if (apic.hasInterrupt()) {
        fired++;
        apic.acknowledge();
        w(APIC_EOI, 0);
      }
    }
    expect(fired).toBe(10);
    clock.advance(250);
    expect(r(APIC_TIMER_CURRENT)).toBe(750);
    w(APIC_TIMER_INITIAL, 0);
    expect(r(APIC_TIMER_CURRENT)).toBe(0);
    clock.advance(5000);
    apic.update();
    expect(apic.hasInterrupt()).toBe(false);
  });

  it('counts down but raises nothing while its LVT entry is masked', () => {
    const { apic, clock, r, w } = setup();
    apic.setBiosState();
    w(APIC_TIMER_DIVIDE, 0xb);
    w(APIC_LVT_TIMER, 0x100a0);
    w(APIC_TIMER_INITIAL, 100);
    clock.advance(40);
    expect(r(APIC_TIMER_CURRENT)).toBe(60);
    clock.advance(100);
    apic.update();
    expect(apic.hasInterrupt()).toBe(false);
  });
});

describe('A20 gate', () => {
  it('wraps physical addresses at 1 MiB only while both port 92h and the 8042 close it', () => {
    const vm = new Vm({ memorySize: 4 << 20 });
    const system = new SystemPorts();
    const kbc = new I8042({ setIrq: () => {} });
    const a20 = (): void => vm.cpu.setA20(system.a20 || kbc.a20);
    system.onA20 = a20;
    kbc.onA20 = a20;
    vm.writePhys(0x000500, [0x11]);
    vm.writePhys(0x100500, [0x22]);
    const read = (): number => vm.cpu.read8(0x100500);
    expect(read()).toBe(0x22);
    outb(system, 0x92, 0x00); // 92h closed, the 8042 still open
    expect(read()).toBe(0x22);
    outb(kbc.ports, 0x64, 0xd1);
    outb(kbc.ports, 0x60, 0x01); // 8042 closed too (reset line kept high)
    expect(read()).toBe(0x11);
    outb(system, 0x92, 0x02);
    expect(read()).toBe(0x22);
    expect(inb(system, 0x92)).toBe(0x02);
  });
});
