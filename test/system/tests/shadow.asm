; Single-step traps and the MOV SS / POP SS shadow (SDM vol. 3, 6.8.3 "Masking Exceptions and
; Interrupts When Switching Stacks", 17.3.1.4 "Single-Step Exception Condition"): with EFLAGS.TF
; set, a #DB trap follows every instruction, except that the instruction after MOV SS or POP SS
; runs before the trap is taken (one trap for the pair). The #DB handler prints where each trap
; returns to and DR6.BS. (STI with TF is in shadow-sti.asm: QEMU differs.)
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
    mov ax, ss
    mov ss, ax
    nop
    nop
    push ss
    pop ss
    inc eax
    nop
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
