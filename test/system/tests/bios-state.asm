; The state a PC BIOS leaves for a multiboot kernel (QEMU: SeaBIOS; our machine without a BIOS:
; runtime/pc/bios-state.ts): the 8259As' masks at entry, PIT channel 0 in mode 2 (read-back
; status), the IVT's timer vector F000:FEA5 and every vector in segment F000h, the BDA's
; keyboard buffer pointers and keyboard flags, A20 open, the local APIC in virtual-wire mode
; (SVR, LINT0, LINT1); then, with IRQ 0 at vector 08h as the BIOS programmed it, "sti; hlt"
; wakes on the timer.
; @needs pic pit apic bios a20
%include "boot.inc"

test_main:
    PRINT "IMR at entry: "
    PRINTHEX 16, [boot_imr]
    NL
    PRINT "PIT channel 0 status: "
    mov al, 0xE2                    ; read-back: latch status of channel 0
    out 0x43, al
    in al, 0x40
    and eax, 0x3F                   ; without OUTPUT and NULL COUNT (they change with time)
    PRINTHEX 8, eax
    NL
    PRINT "IVT 08h: "
    PRINTHEX 32, [0x08 * 4]
    PRINT " vectors outside F000h:"
    xor esi, esi
.ivt:
    cmp word [esi * 4 + 2], 0xF000
    je .next
    PRINT " "
    PRINTHEX 8, esi
    PRINT "="
    PRINTHEX 32, [esi * 4]
.next:
    inc esi
    cmp esi, 256
    jb .ivt
    NL
    PRINT "BDA keyboard buffer: "
    PRINTHEX 16, [0x41A]
    PRINT " "
    PRINTHEX 16, [0x41C]
    PRINT " "
    PRINTHEX 16, [0x480]
    PRINT " "
    PRINTHEX 16, [0x482]
    PRINT " flags 496h: "
    PRINTHEX 8, [0x496]
    NL
    PRINT "A20: "
    mov dword [0x500], 0x11111111
    mov dword [0x100500], 0x22222222
    PRINTHEX 32, [0x500]
    NL
    PRINT "APIC SVR "
    PRINTHEX 32, [0xFEE000F0]
    PRINT " LINT0 "
    PRINTHEX 32, [0xFEE00350]
    PRINT " LINT1 "
    PRINTHEX 32, [0xFEE00360]
    NL

    mov eax, 0x08
    mov ebx, timer
    mov ecx, KCODE
    mov edx, 0x8E00
    call set_gate
    mov al, 0xFE                    ; only IRQ 0 (boot.inc masked everything)
    out 0x21, al
    sti
    hlt
    cli
    PRINT "sti; hlt woke on the timer: "
    PRINTHEX 32, [ticks]
    NL
    ret

timer:
    push eax
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iret

ticks: dd 0
