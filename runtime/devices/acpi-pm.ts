/**
 * ACPI fixed-hardware power-management registers (ACPI 6.5 §4.8.3, "PM1 Event Grouping" and
 * "PM1 Control Grouping"; §4.8.3.3, "Power Management Timer"), at the I/O ports QEMU's PIIX4 PM
 * function uses once SeaBIOS has placed it (base 0x600), so an image written for QEMU powers
 * off here too:
 *
 *   0x600  PM1a_STS (16 bits, write 1 to clear)   0x602  PM1a_EN (16 bits)
 *   0x604  PM1a_CNT (16 bits)                     0x608  PM_TMR (32-bit read, 24 bits count)
 *
 * The FADT (runtime/pc/acpi-tables.ts) points at these blocks. SMI_CMD is 0 there, so the
 * machine is always in ACPI mode: SCI_EN reads as 1. Writing SLP_EN (bit 13) with SLP_TYP
 * (bits 12..10) = the \_S5 value (0, as QEMU) powers the machine off; other sleep types are not
 * implemented and are ignored (the DSDT declares no other \_Sx). No event sets a status bit,
 * so the SCI line is never raised; the PM timer counts at 3.579545 MHz of the machine's clock.
 */
import type { Clock } from './clock.ts';
import type { PortDevice } from './io.ts';

export const PM_BASE = 0x600;
/** PM1a event block (PM1_STS then PM1_EN), 4 bytes. */
export const PM1A_EVT_BLK = PM_BASE;
export const PM1_EVT_LEN = 4;
/** PM1a control block (PM1_CNT), 2 bytes. */
export const PM1A_CNT_BLK = PM_BASE + 4;
export const PM1_CNT_LEN = 2;
/** PM timer block (PM_TMR), 4 bytes. */
export const PM_TMR_BLK = PM_BASE + 8;
export const PM_TMR_LEN = 4;
/** Ports the device decodes, from PM_BASE. */
export const PM_PORTS = 12;
/** SLP_TYP of the soft-off state S5 (the \_S5 package in the DSDT). */
export const SLP_TYP_S5 = 0;
/** PM timer frequency (ACPI 6.5 §4.8.3.3). */
export const PM_TIMER_HZ = 3_579_545;

const PM1_CNT_SCI_EN = 0x0001;
const PM1_CNT_SLP_EN = 0x2000;
/** PM1_CNT bits that hold a value (SCI_EN, BM_RLD, GBL_RLS, SLP_TYP); SLP_EN is write-only. */
const PM1_CNT_KEPT = 0x1c07;
/** PM1_EN bits that exist (TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN). */
const PM1_EN_BITS = 0x0721;

export interface AcpiPmState {
  /** PM1_STS (nothing sets it; kept for reads and write-1-to-clear). */
  sts: number;
  en: number;
  cnt: number;
}

export class AcpiPm implements PortDevice {
  readonly state: AcpiPmState = { sts: 0, en: 0, cnt: PM1_CNT_SCI_EN };
  /** The guest entered S5 (soft off). May throw to end the run at once. */
  onPowerOff: () => void = () => {};

  constructor(private readonly clock: Clock) {}

  /** The 24-bit PM timer. */
  timer(): number {
    return Math.floor((this.clock.now() / 1e9) * PM_TIMER_HZ) & 0xffffff;
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    // One snapshot of the registers per access, so a 32-bit read of PM_TMR cannot tear.
    const st = this.state;
    const tmr = this.timer();
    const regs = [st.sts, st.sts >> 8, st.en, st.en >> 8, st.cnt, st.cnt >> 8, 0, 0, tmr, tmr >> 8, tmr >> 16, 0];
    let v = 0;
    for (let k = 0; k < size; k++) {
      const off = port - PM_BASE + k;
      v |= ((off < PM_PORTS ? regs[off] : 0xff) & 0xff) << (8 * k);
    }
    return size === 4 ? v | 0 : v;
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    // Byte by byte (ACPICA writes PM1_CNT as one 16-bit access; the SLP_EN byte comes last).
    for (let k = 0; k < size; k++) this.write8(port - PM_BASE + k, (value >>> (8 * k)) & 0xff);
  }

  private write8(off: number, v: number): void {
    const st = this.state;
    switch (off) {
      case 0: st.sts &= ~v; break;
      case 1: st.sts &= ~(v << 8); break;
      case 2: st.en = ((st.en & 0xff00) | v) & PM1_EN_BITS; break;
      case 3: st.en = ((st.en & 0x00ff) | (v << 8)) & PM1_EN_BITS; break;
      case 4: st.cnt = (st.cnt & 0xff00) | (v & PM1_CNT_KEPT & 0xff) | PM1_CNT_SCI_EN; break;
      case 5: {
        const cnt = (st.cnt & 0x00ff) | (v << 8);
        st.cnt = cnt & PM1_CNT_KEPT;
        if (cnt & PM1_CNT_SLP_EN && ((cnt >> 10) & 7) === SLP_TYP_S5) this.onPowerOff();
        break;
      }
      default: break; // PM_TMR is read-only
    }
  }
}
