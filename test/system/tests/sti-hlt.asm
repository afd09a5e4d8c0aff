; The STI interrupt shadow with a real interrupt source (SDM vol. 2, STI; vol. 3, 6.8.3): the
; 8254 timer raises IRQ 0 through the 8259A while IF = 0; then
;   "sti; hlt" must execute HLT before the pending interrupt is taken (the interrupt returns
;   past the HLT: the classic idle loop cannot miss its wake-up), and
;   "sti; cli" must not let the pending interrupt in at all.
; @needs pic pit
%include "boot.inc"

test_main:
    ; 8259A pair: vectors 0x20/0x28, only IRQ 0 unmasked.
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFE
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    mov eax, 0x20
    mov ebx, timer
    mov ecx, KCODE
    mov edx, 0x8E00
    call set_gate
    ; 8254 channel 0, mode 2, about 1 kHz.
    mov al, 0x34
    out 0x43, al
    mov al, 0xA9
    out 0x40, al
    mov al, 0x04
    out 0x40, al

    call wait_pending
    sti
    hlt
after_hlt:
    cli
    PRINT "sti; hlt: first interrupt returned to after_hlt"
    mov eax, [first_ret]
    sub eax, after_hlt
    jz .zero
    PRINT "-"
    neg eax
    PRINTHEX 8, eax
.zero:
    NL

    call wait_pending
    sti
    cli
    PRINT "sti; cli with IRQ 0 pending: interrupt taken="
    PRINTHEX 8, [late]
    NL
    sti
    nop
    cli
    PRINT "sti; nop; cli: interrupt taken="
    PRINTHEX 8, [late]
    NL
    mov al, 0xFF
    out 0x21, al
    ret

; Spins with IF = 0 until the PIC reports IRQ 0 requested (IRR bit 0).
wait_pending:
.poll:
    mov al, 0x0A
    out 0x20, al
    in al, 0x20
    test al, 1
    jz .poll
    mov dword [late], 0
    ret

timer:
    push eax
    mov eax, [esp + 4]
    cmp dword [first_ret], 0
    jne .seen
    mov [first_ret], eax
.seen:
    inc dword [ticks]
    mov dword [late], 1
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

section .bss
first_ret:    resd 1
ticks:        resd 1
late:         resd 1
