; The I/O APIC (Intel 82093AA data sheet) at FEC00000h as a PC board wires it, after the BIOS:
; the ID, version and arbitration registers and IOREGSEL read back; the redirection table's
; reset state and which bits of an entry are writable (Remote IRR and delivery status are not);
; the PIT's IRQ0 through pin 2 as an edge-triggered fixed interrupt, nothing while the pin is
; masked, nothing for a destination that is not this processor; the RTC's IRQ8 through pin 8
; level-triggered: TMR set and Remote IRR set while in service, the same interrupt again after
; an EOI while the RTC still requests it, none once register C is read, Remote IRR clear after
; the EOI. The 8259As are masked and LINT0 too, so every interrupt comes through the I/O APIC.
; QEMU's I/O APIC is made an 82093AA (version 11h) for the reference run.
; @needs pic pit apic ioapic rtc bios
; @qemu-args -global ioapic.version=0x11
%include "boot.inc"

APIC        equ 0xFEE00000
A_EOI       equ APIC + 0xB0
A_ISR       equ APIC + 0x100
A_TMR       equ APIC + 0x180
A_IRR       equ APIC + 0x200
A_LVT_TIMER equ APIC + 0x320
A_LVT_LINT0 equ APIC + 0x350
A_INIT      equ APIC + 0x380
A_DIV       equ APIC + 0x3E0
IOREGSEL    equ 0xFEC00000
IOWIN       equ 0xFEC00010

; IORD index: EAX = the I/O APIC register `index`.
%macro IORD 1
    mov dword [IOREGSEL], %1
    mov eax, [IOWIN]
%endmacro

; IOWR index, value
%macro IOWR 2
    mov dword [IOREGSEL], %1
    mov dword [IOWIN], %2
%endmacro

test_main:
    ; Everything through the I/O APIC: both 8259As masked, LINT0 masked.
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al
    or dword [A_LVT_LINT0], 0x10000
    mov eax, 0x30
    mov ebx, pit_handler
    call gate
    mov eax, 0x38
    mov ebx, rtc_handler
    call gate
    mov eax, 0xA0
    mov ebx, timer_handler
    call gate

    PRINT "ID "
    IORD 0
    PRINTHEX 32, eax
    PRINT " version "
    IORD 1
    PRINTHEX 32, eax
    PRINT " arbitration "
    IORD 2
    PRINTHEX 32, eax
    NL
    IOWR 0, 0xFFFFFFFF
    PRINT "ID written FFFFFFFFh: ID "
    IORD 0
    PRINTHEX 32, eax
    PRINT " arbitration "
    IORD 2
    PRINTHEX 32, eax
    IOWR 1, 0
    PRINT " version "
    IORD 1
    PRINTHEX 32, eax
    IOWR 0, 0
    mov dword [IOREGSEL], 0x2B
    PRINT " IOREGSEL "
    PRINTHEX 8, [IOREGSEL]
    NL

    ; The redirection table as the BIOS left it.
    PRINT "entries:"
    mov ecx, 0x10
.entries:
    mov [IOREGSEL], ecx
    mov eax, [IOWIN]
    PRINT " "
    PRINTHEX 32, eax
    inc ecx
    mov [IOREGSEL], ecx
    mov eax, [IOWIN]
    PRINT "/"
    PRINTHEX 8, eax
    inc ecx
    cmp ecx, 0x40
    jb .entries
    NL

    ; Every defined bit written as 1 (masked, so nothing is sent).
    IOWR 0x24, 0x0001FFFF
    IOWR 0x25, 0xFF000000
    PRINT "entry 10 written 0001FFFFh/FF000000h: "
    IORD 0x24
    PRINTHEX 32, eax
    PRINT "/"
    IORD 0x25
    PRINTHEX 32, eax
    NL
    IOWR 0x24, 0x00010000
    IOWR 0x25, 0

    ; The PIT at 1 kHz (mode 2) on pin 2, edge-triggered, vector 30h, physical APIC 0.
    mov al, 0x34
    out 0x43, al
    mov al, 0xA9
    out 0x40, al
    mov al, 0x04
    out 0x40, al
    IOWR 0x15, 0
    IOWR 0x14, 0x30
    sti
.wait_pit:
    hlt
    cmp dword [pit_count], 3
    jb .wait_pit
    cli
    PRINT "pin 2 edge: at least 3 ticks: 1 TMR[20h..3Fh] in handler "
    PRINTHEX 32, [tmr_seen]
    PRINT " ISR[20h..3Fh] in handler "
    PRINTHEX 32, [isr_seen]
    NL

    ; Masked: 20 ms (about 20 ticks) and none arrives.
    IOWR 0x14, 0x10030
    call settle
    mov dword [pit_count], 0
    mov ecx, 20
    call wait_ms
    PRINT "masked 20 ms: ticks "
    PRINTHEX 32, [pit_count]
    IOWR 0x14, 0x30
    sti
.wait_unmasked:
    hlt
    cmp dword [pit_count], 0
    je .wait_unmasked
    cli
    PRINT " unmasked: ticks again: 1"
    NL

    ; Destination physical APIC 1: nobody takes it.
    IOWR 0x15, 0x01000000
    call settle
    mov dword [pit_count], 0
    mov ecx, 20
    call wait_ms
    PRINT "destination APIC 1, 20 ms: ticks "
    PRINTHEX 32, [pit_count]
    NL
    IOWR 0x14, 0x10030
    IOWR 0x15, 0
    call settle

    ; The RTC's periodic interrupt (1024 Hz) on pin 8, level-triggered, vector 38h.
    mov al, 0x0A
    out 0x70, al
    mov al, 0x26
    out 0x71, al
    mov al, 0x0C
    out 0x70, al
    in al, 0x71                         ; no request left over
    IOWR 0x21, 0
    IOWR 0x20, 0x8038
    mov al, 0x0B
    out 0x70, al
    in al, 0x71
    or al, 0x40                         ; PIE
    mov ah, al
    mov al, 0x0B
    out 0x70, al
    mov al, ah
    out 0x71, al
    sti
.wait_rtc:
    hlt
    cmp dword [rtc_count], 2
    jb .wait_rtc
    mov ecx, 20
    call wait_ms
    cli
    PRINT "pin 8 level: interrupts "
    PRINTHEX 32, [rtc_count]
    PRINT " Remote IRR in handler "
    PRINTHEX 8, [rirr_seen]
    PRINTHEX 8, [rirr_seen + 1]
    PRINT " TMR bit "
    PRINTHEX 8, [tmr38_seen]
    PRINTHEX 8, [tmr38_seen + 1]
    PRINT " entry after "
    IORD 0x20
    PRINTHEX 32, eax
    NL
    IOWR 0x20, 0x10000
    ret

; gate: EAX = vector, EBX = handler.
gate:
    mov ecx, KCODE
    mov edx, 0x8E00
    jmp set_gate

; Lets any interrupt already accepted come in.
settle:
    sti
    nop
    nop
    cli
    ret

; Waits ECX milliseconds on the local APIC timer (one-shot, vector A0h), interrupts on.
wait_ms:
    mov dword [timer_count], 0
    mov dword [A_DIV], 0x0B
    mov dword [A_LVT_TIMER], 0xA0
    imul ecx, ecx, 1000000
    mov [A_INIT], ecx
    sti
.wait:
    hlt
    cmp dword [timer_count], 0
    je .wait
    cli
    ret

pit_handler:
    push eax
    inc dword [pit_count]
    mov eax, [A_TMR + 0x10]
    mov [tmr_seen], eax
    mov eax, [A_ISR + 0x10]
    mov [isr_seen], eax
    mov dword [A_EOI], 0
    pop eax
    iret

; First interrupt: EOI only, the RTC still requests it. Second: PIE off, register C read, EOI.
rtc_handler:
    push eax
    push ebx
    mov ebx, [rtc_count]
    inc dword [rtc_count]
    cmp ebx, 2
    jae .eoi
    IORD 0x20
    shr eax, 14
    and al, 1
    mov [rirr_seen + ebx], al
    mov eax, [A_TMR + 0x10]
    shr eax, 24
    and al, 1
    mov [tmr38_seen + ebx], al
    test ebx, ebx
    jz .eoi
    mov al, 0x0B
    out 0x70, al
    in al, 0x71
    and al, ~0x40
    mov ah, al
    mov al, 0x0B
    out 0x70, al
    mov al, ah
    out 0x71, al
    mov al, 0x0C
    out 0x70, al
    in al, 0x71
.eoi:
    mov dword [A_EOI], 0
    pop ebx
    pop eax
    iret

timer_handler:
    inc dword [timer_count]
    mov dword [A_EOI], 0
    iret

pit_count:   dd 0
rtc_count:   dd 0
timer_count: dd 0
tmr_seen:    dd 0
isr_seen:    dd 0
rirr_seen:   db 0, 0
tmr38_seen:  db 0, 0
