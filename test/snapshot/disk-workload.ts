/**
 * The disk snapshot tests' guest: a small kernel (Linux boot protocol, test/devices/
 * fake-bzimage.ts) that drives both disk controllers as a driver does — the PIIX IDE master by
 * PIO (WRITE SECTORS of three sectors, one DRQ block each, then READ SECTORS back, polling the
 * alternate status) and by bus-master DMA (READ DMA of two sectors through a one-entry
 * descriptor table, waiting for the bus-master interrupt bit), and virtio-blk 00:03.0 through its legacy virtqueue (OUT and IN requests of
 * eight sectors, one descriptor chain each) — with IRQ 14, IRQ 11 and a 1 kHz PIT interrupt
 * acknowledged by handlers, writing pseudo-random data at moving sectors and summing what it
 * reads back (unwritten sectors included, so the image's own bytes count). It ends by printing
 * the sum and exiting through isa-debug-exit; a dot every four rounds.
 */
import { assembleKernel, fakeBzImage } from '../devices/fake-bzimage.ts';

/** Rounds of the main loop. */
export const DISK_ROUNDS = 48;
/** Sectors of each test disk the workload touches (its disks must be at least this large). */
export const DISK_SECTORS = 96;

const SOURCE = `
%macro gate 2
  mov eax, %2
  mov [idt + %1*8], ax
  mov word [idt + %1*8 + 2], 0x10
  mov word [idt + %1*8 + 4], 0x8e00
  shr eax, 16
  mov [idt + %1*8 + 6], ax
%endmacro
  mov esp, 0x90000
  gate 0x30, irq0
  gate 0x3b, irq11
  gate 0x3e, irq14
  lidt [idtr]
  mov al, 0x11
  out 0x20, al
  out 0xa0, al
  mov al, 0x30
  out 0x21, al
  mov al, 0x38
  out 0xa1, al
  mov al, 4
  out 0x21, al
  mov al, 2
  out 0xa1, al
  mov al, 1
  out 0x21, al
  out 0xa1, al
  mov al, 0xfa          ; master: IRQ0 and the cascade
  out 0x21, al
  mov al, 0xb7          ; slave: IRQ11 and IRQ14
  out 0xa1, al
  mov al, 0x34          ; PIT channel 0, 1 kHz
  out 0x43, al
  mov al, 1193 & 0xff
  out 0x40, al
  mov al, 1193 >> 8
  out 0x40, al
  ; virtio-blk at 0xC000 (the BAR the machine preassigns): acknowledge, driver, features, queue 0
  mov dx, 0xc012
  mov al, 3
  out dx, al
  mov dx, 0xc000
  in eax, dx
  mov dx, 0xc004
  out dx, eax
  mov dx, 0xc00e
  xor eax, eax
  out dx, ax
  mov dx, 0xc008
  mov eax, 0x300        ; ring at 0x300000: descriptors, avail at +0x1000, used at +0x2000
  out dx, eax
  mov dx, 0xc012
  mov al, 7
  out dx, al
  sti
  mov ebx, 12345
  xor ebp, ebp
.round:
  ; 4 KiB of pseudo-random data at 0x200000
  mov edi, 0x200000
  mov ecx, 1024
.fill:
  imul ebx, ebx, 1103515245
  add ebx, 12345
  mov [edi], ebx
  add edi, 4
  loop .fill
  ; IDE: WRITE SECTORS, 3 sectors at (round*7) mod 64
  mov eax, ebp
  imul eax, eax, 7
  and eax, 63
  push eax
  call ide_regs
  mov dx, 0x1f7
  mov al, 0x30
  out dx, al
  mov esi, 0x200000
  mov ecx, 3
.wsec:
  call ide_drq
  push ecx
  mov ecx, 256
  mov dx, 0x1f0
  rep outsw
  pop ecx
  loop .wsec
  call ide_idle
  ; and READ SECTORS of 4 from one sector earlier, into 0x201000
  pop eax
  add eax, 63
  and eax, 63
  call ide_regs4
  mov dx, 0x1f7
  mov al, 0x20
  out dx, al
  mov edi, 0x201000
  mov ecx, 4
.rsec:
  call ide_drq
  push ecx
  mov ecx, 256
  mov dx, 0x1f0
  rep insw
  pop ecx
  loop .rsec
  mov esi, 0x201000
  mov ecx, 512
  call addsum
  ; IDE bus-master DMA (BAR4 at 0xC100): READ DMA, 2 sectors at (round*11) mod 64, into 0x203000
  mov dword [0x320000], 0x203000
  mov dword [0x320004], 0x80000400   ; 1024 bytes, end of table
  mov dx, 0xc104
  mov eax, 0x320000
  out dx, eax
  mov dx, 0xc102
  mov al, 6                          ; clear interrupt and error
  out dx, al
  mov dx, 0xc100
  mov al, 8                          ; into memory, stopped
  out dx, al
  mov eax, ebp
  imul eax, eax, 11
  and eax, 63
  call ide_regs2
  mov dx, 0x1f7
  mov al, 0xc8
  out dx, al
  mov dx, 0xc100
  mov al, 9                          ; start
  out dx, al
  mov dx, 0xc102
.dmawait:
  in al, dx
  test al, 4
  jz .dmawait
  test al, 2
  jz .dmaok
  inc dword [errors]
.dmaok:
  mov dx, 0xc100
  mov al, 8                          ; stop
  out dx, al
  call ide_idle
  mov esi, 0x203000
  mov ecx, 256
  call addsum
  ; virtio: OUT of 8 sectors at (round*5) mod 80 from 0x200000, IN of 8 at (round*3) mod 80
  mov eax, ebp
  imul eax, eax, 5
  xor edx, edx
  mov ecx, 80
  div ecx
  mov eax, 1
  mov esi, 0x200000
  call vblk
  mov eax, ebp
  imul eax, eax, 3
  xor edx, edx
  mov ecx, 80
  div ecx
  xor eax, eax
  mov esi, 0x202000
  call vblk
  mov esi, 0x202000
  mov ecx, 1024
  call addsum
  inc ebp
  test ebp, 3
  jnz .nodot
  mov al, '.'
  call putc
.nodot:
  cmp ebp, ${DISK_ROUNDS}
  jb .round
  mov edx, [sum]
  xor edx, [errors]
  mov ecx, 8
.hex:
  rol edx, 4
  mov eax, edx
  and eax, 15
  mov al, [digits + eax]
  call putc
  loop .hex
  mov al, 10
  call putc
  mov al, 0x21
  out 0xf4, al
  hlt

; ecx dwords at esi into [sum] (rotating, so order counts)
addsum:
  mov eax, [sum]
.a:
  rol eax, 5
  add eax, [esi]
  add esi, 4
  loop .a
  mov [sum], eax
  ret

; IDE taskfile: LBA eax, 3 sectors (ide_regs), 4 (ide_regs4) or 2 (ide_regs2), master, LBA mode
ide_regs:
  push ecx
  mov cl, 3
  jmp ide_regs_n
ide_regs2:
  push ecx
  mov cl, 2
  jmp ide_regs_n
ide_regs4:
  push ecx
  mov cl, 4
ide_regs_n:
  push edx
  push eax
  mov dx, 0x1f2
  mov al, cl
  out dx, al
  pop eax
  mov dx, 0x1f3
  out dx, al
  shr eax, 8
  mov dx, 0x1f4
  out dx, al
  shr eax, 8
  mov dx, 0x1f5
  out dx, al
  mov dx, 0x1f6
  mov al, 0xe0
  out dx, al
  pop edx
  pop ecx
  ret

; wait (alternate status) until not busy and DRQ
ide_drq:
  mov dx, 0x3f6
.w:
  in al, dx
  test al, 0x80
  jnz .w
  test al, 1
  jnz .err
  test al, 8
  jz .w
  ret
.err:
  inc dword [errors]
  ret

; wait until not busy
ide_idle:
  mov dx, 0x3f6
.w:
  in al, dx
  test al, 0x80
  jnz .w
  ret

; virtio-blk request: type eax (0 IN, 1 OUT), sector edx, 4096 bytes at esi
vblk:
  mov [0x310000], eax
  mov dword [0x310004], 0
  mov [0x310008], edx
  mov dword [0x31000c], 0
  mov byte [0x310010], 0xff
  mov dword [0x300000], 0x310000
  mov dword [0x300004], 0
  mov dword [0x300008], 16
  mov dword [0x30000c], 0x00010001  ; NEXT, next 1
  mov [0x300010], esi
  mov dword [0x300014], 0
  mov dword [0x300018], 4096
  mov ecx, 0x00020001               ; NEXT, next 2
  test eax, eax
  jnz .out
  or ecx, 2                          ; IN: the device writes the buffer
.out:
  mov [0x30001c], ecx
  mov dword [0x300020], 0x310010
  mov dword [0x300024], 0
  mov dword [0x300028], 1
  mov dword [0x30002c], 2           ; WRITE, no next
  movzx eax, word [0x301002]
  movzx ecx, al                      ; ring slot (idx mod 256)
  mov word [0x301004 + ecx*2], 0
  inc eax
  mov [0x301002], ax
  mov dx, 0xc010
  xor eax, eax
  out dx, ax
  mov ax, [0x301002]
  cmp ax, [0x302002]
  jne .bad
  cmp byte [0x310010], 0
  je .ok
.bad:
  inc dword [errors]
.ok:
  ret

putc:
  push edx
  mov ah, al
.wait:
  mov dx, 0x3fd
  in al, dx
  test al, 0x20
  jz .wait
  mov dx, 0x3f8
  mov al, ah
  out dx, al
  pop edx
  ret

irq0:
  push eax
  inc dword [ticks]
  mov al, 0x20
  out 0x20, al
  pop eax
  iret

irq11:
  push eax
  push edx
  mov dx, 0xc013        ; virtio ISR: read to acknowledge
  in al, dx
  add [isrsum], al
  mov al, 0x20
  out 0xa0, al
  out 0x20, al
  pop edx
  pop eax
  iret

irq14:
  push eax
  push edx
  mov dx, 0x1f7         ; IDE status: read to acknowledge
  in al, dx
  inc dword [idecount]
  mov al, 0x20
  out 0xa0, al
  out 0x20, al
  pop edx
  pop eax
  iret

align 4
sum: dd 0
errors: dd 0
ticks: dd 0
isrsum: dd 0
idecount: dd 0
digits: db '0123456789abcdef'
idtr: dw 256*8-1
      dd idt
align 8
idt: times 256*8 db 0
`;

let cached: Uint8Array | null = null;

/** The workload as a bzImage. */
export function diskWorkloadKernel(): Uint8Array {
  cached ??= fakeBzImage({ kernel: assembleKernel(SOURCE), initSize: 0x10000 });
  return cached;
}
