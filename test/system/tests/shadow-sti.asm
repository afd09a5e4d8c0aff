; STI and single-step (SDM vol. 3, 6.8.3 and STI in vol. 2): STI holds back maskable
; interrupts for one instruction, but not debug exceptions — only MOV SS / POP SS block those
; (the VMX "blocking by STI" state likewise blocks only maskable interrupts). With TF set, a #DB
; trap follows STI itself.
; @qemu-deviates QEMU's single interrupt-inhibit flag also holds back the single-step trap after STI (the trap comes one instruction late); the expected file is written from the SDM.
%include "boot.inc"

test_main:
    mov eax, 1
    mov ebx, db_handler
    mov ecx, KCODE
    mov edx, 0x8E00
    call set_gate
    mov eax, dr6
    and eax, ~0x4000
    mov dr6, eax

    pushfd
    or dword [esp], 0x100
    popfd
step_start:
    nop
    sti
    nop
    cli
    pushfd
    and dword [esp], ~0x100
    popfd
    nop
    PRINT "traps: "
    PRINTHEX 8, [db_count]
    NL
    ret

db_handler:
    push eax
    inc dword [db_count]
    PRINT "#DB, return to step_start+"
    mov eax, [esp + 4]
    sub eax, step_start
    PRINTHEX 8, eax
    PRINT " bs="
    mov eax, dr6
    shr eax, 14
    and eax, 1
    PRINTHEX 8, eax
    NL
    mov eax, dr6
    and eax, ~0x4000
    mov dr6, eax
    pop eax
    iretd

section .bss
db_count: resd 1
