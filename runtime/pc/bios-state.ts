/**
 * The state a PC BIOS leaves for the operating system, for boots without one (a Linux bzImage
 * or a multiboot kernel loaded directly, as `qemu -kernel` does after SeaBIOS has run). The
 * values are those measured under qemu-system-i386 (SeaBIOS 1.16) at a multiboot kernel's entry
 * (test/system/tests/bios-state.asm prints them from a guest):
 *
 * - 8259A pair initialized as on every PC since the AT: master vectors 08h–0Fh, slave 70h–77h,
 *   cascade on IR2, 8086 mode, edge-triggered; IMR B8h/8Eh (IRQ 0, 1, 2, 6, 8, 12, 13 and 14
 *   unmasked: the timer ticks at vector 08h as soon as a kernel sets IF).
 * - 8254 channel 0: mode 2 (rate generator), binary, lobyte/hibyte, count 0 (65 536): IRQ 0 at
 *   18.2 Hz. Channels 1 and 2 untouched.
 * - The interrupt vector table: every vector points into the system ROM segment F000h: an IRET
 *   at F000:FF53, the timer handler at F000:FEA5 (INT 08h: counts the BDA's tick counter,
 *   calls INT 1Ch, EOI), EOI-and-return stubs for the other hardware IRQs (09h–0Fh on the
 *   master, 70h–77h on both); 60h–66h and 79h are 0. F000:FEA5 and F000:FF53 are the IBM PC's
 *   fixed entry points; no BIOS services exist behind the other vectors.
 * - The BIOS data area (40:0): COM1/COM2 base ports, the equipment word (x87, two serial
 *   ports), base memory in KiB, the EBDA segment when there is one, the keyboard buffer
 *   pointers, the tick counter (ticks since midnight, from the RTC's time) and the
 *   enhanced-keyboard flag.
 * - The local APIC in virtual-wire mode (LocalApic.setBiosState), A20 open (the ports' reset
 *   state).
 */
import type { Vm } from '../vm.ts';

/** The IBM PC BIOS's fixed entry points in segment F000h. */
export const BIOS_SEGMENT = 0xf000;
const IRET_AT = 0xff53;
const TIMER_AT = 0xfea5;
/** Our EOI stubs, in the unused space between the fixed entry points. */
const EOI_MASTER_AT = 0xff00;
const EOI_SLAVE_AT = 0xff10;

/** PIT input clock (Hz) and the BIOS's tick period (the full 65 536 count). */
const PIT_HZ = 1193182;

const TIMER_HANDLER = [
  0x1e, // push ds
  0x66, 0x50, // push eax
  0x31, 0xc0, // xor ax, ax
  0x8e, 0xd8, // mov ds, ax
  0x66, 0xff, 0x06, 0x6c, 0x04, // inc dword [0x46c]
  0xcd, 0x1c, // int 0x1c
  0xb0, 0x20, // mov al, 0x20
  0xe6, 0x20, // out 0x20, al
  0x66, 0x58, // pop eax
  0x1f, // pop ds
  0xcf, // iret
];
const EOI_MASTER = [0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf]; // push ax; mov al, 20h; out 20h, al; pop ax; iret
const EOI_SLAVE = [0x50, 0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf]; // ... out A0h, al; out 20h, al ...

export interface BiosStateOptions {
  /** Where conventional memory ends: 0xA0000, or the EBDA's start (its size is 1 KiB). */
  lowMemoryEnd: number;
  /** The wall-clock time now (ms since the Unix epoch, the RTC's), for the tick counter. */
  wallClockMs: number;
  /** Port I/O to the machine's devices (the PIC and PIT are programmed through their ports). */
  out: (port: number, value: number) => void;
}

/** Programs the devices and writes the IVT, BDA and ROM stubs as a BIOS leaves them. */
export function writeBiosState(vm: Vm, o: BiosStateOptions): void {
  // 8259A pair: ICW1 (edge, cascade, ICW4), ICW2 vector bases, ICW3 cascade on IR2, ICW4 8086.
  for (const [port, vector, icw3, imr] of [[0x20, 0x08, 0x04, 0xb8], [0xa0, 0x70, 0x02, 0x8e]]) {
    o.out(port, 0x11);
    o.out(port + 1, vector);
    o.out(port + 1, icw3);
    o.out(port + 1, 0x01);
    o.out(port + 1, imr);
  }
  // 8254 channel 0: mode 2, lobyte/hibyte, count 0 = 65 536.
  o.out(0x43, 0x34);
  o.out(0x40, 0);
  o.out(0x40, 0);

  const rom = BIOS_SEGMENT << 4;
  vm.writePhys(rom + TIMER_AT, TIMER_HANDLER);
  vm.writePhys(rom + IRET_AT, [0xcf]);
  vm.writePhys(rom + EOI_MASTER_AT, EOI_MASTER);
  vm.writePhys(rom + EOI_SLAVE_AT, EOI_SLAVE);
  const ivt = new Uint8Array(0x400);
  const dv = new DataView(ivt.buffer);
  const vector = (n: number, offset: number): void => dv.setUint32(n * 4, (BIOS_SEGMENT << 16) | offset, true);
  for (let n = 0; n < 256; n++) vector(n, IRET_AT);
  vector(0x08, TIMER_AT);
  for (let n = 0x09; n <= 0x0f; n++) vector(n, EOI_MASTER_AT);
  for (let n = 0x70; n <= 0x77; n++) vector(n, EOI_SLAVE_AT);
  // Left 0000:0000 for programs, as SeaBIOS does: the user vectors 60h–66h, and 79h.
  for (const n of [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x79]) dv.setUint32(n * 4, 0, true);
  vm.writePhys(0, ivt);

  const bda = new Uint8Array(0x100);
  const b = new DataView(bda.buffer);
  b.setUint16(0x00, 0x3f8, true); // COM1
  b.setUint16(0x02, 0x2f8, true); // COM2
  const ebda = o.lowMemoryEnd < 0xa0000;
  if (ebda) b.setUint16(0x0e, o.lowMemoryEnd >>> 4, true);
  b.setUint16(0x10, (2 << 9) | 0x02, true); // equipment: two serial ports, x87 present
  b.setUint16(0x13, o.lowMemoryEnd >>> 10, true); // base memory, KiB
  b.setUint16(0x1a, 0x1e, true); // keyboard buffer head and tail (empty)
  b.setUint16(0x1c, 0x1e, true);
  const msOfDay = ((o.wallClockMs % 86_400_000) + 86_400_000) % 86_400_000;
  b.setUint32(0x6c, Math.floor((msOfDay / 1000) * PIT_HZ / 65536), true);
  b.setUint16(0x80, 0x1e, true); // keyboard buffer start and end
  b.setUint16(0x82, 0x3e, true);
  b.setUint8(0x96, 0x10); // 101/102-key keyboard
  vm.writePhys(0x400, bda);
  if (ebda) vm.writePhys(o.lowMemoryEnd, [1, 0]); // the EBDA's first word: its size in KiB
}
