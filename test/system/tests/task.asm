; Hardware task switching (SDM vol. 3, chapter 8): JMP to a TSS (the old task's busy bit is
; cleared, no back link), CALL through a task gate (NT and the back link set, the old task stays
; busy) and IRET back, the general registers saved and restored through the TSSs, a switch to a
; busy TSS (#GP), and a double fault delivered through a task gate after an exception whose
; handler gate is not present (#GP, then #NP with EXT set while delivering it, then #DF).
%include "boot.inc"

T_B   equ 0x30
T_C   equ 0x38
G_C   equ 0x40
T_D   equ 0x48

; init_tss edi = TSS, eax = EIP, ebx = ESP
init_tss:
    mov dword [edi + 0x20], eax
    mov dword [edi + 0x24], 0x2
    mov dword [edi + 0x38], ebx
    mov dword [edi + 0x4C], KCODE
    mov dword [edi + 0x48], KDATA
    mov dword [edi + 0x50], KDATA
    mov dword [edi + 0x54], KDATA
    mov dword [edi + 0x58], KDATA
    mov dword [edi + 0x5C], KDATA
    mov word [edi + 0x66], 0x68
    ret

%macro SHOW 0
    PRINT " str="
    xor eax, eax
    str ax
    PRINTHEX 16, eax
    PRINT " NT="
    pushfd
    pop eax
    shr eax, 14
    and eax, 1
    PRINTHEX 8, eax
    PRINT " types A/B/C: "
    PRINTHEX 8, [gdt + TSS_SEL + 5]
    PRINT "/"
    PRINTHEX 8, [gdt + T_B + 5]
    PRINT "/"
    PRINTHEX 8, [gdt + T_C + 5]
%endmacro

test_main:
    mov edi, tss_b
    mov eax, task_b
    mov ebx, stack_b_top
    call init_tss
    mov dword [tss_b + 0x28], 0xB0B0
    mov edi, tss_c
    mov eax, task_c
    mov ebx, stack_c_top
    call init_tss
    mov edi, tss_d
    mov eax, task_d
    mov ebx, stack_d_top
    call init_tss
    mov eax, T_B
    mov ebx, tss_b
    mov ecx, 0x67
    mov edx, 0x89
    call set_desc
    mov eax, T_C
    mov ebx, tss_c
    call set_desc
    mov eax, T_D
    mov ebx, tss_d
    call set_desc
    mov dword [gdt + G_C], T_C << 16
    mov dword [gdt + G_C + 4], 0xE500
    mov eax, 8
    mov ecx, T_D
    mov edx, 0x8500
    call set_gate

    PRINT "task A:"
    SHOW
    NL
    mov eax, 0x1234AAAA
    mov esi, 0x5151
    jmp T_B:0
back_from_b:
    push eax
    PRINT "back in A: eax="
    PRINTHEX 32, [esp]
    PRINT " esi="
    PRINTHEX 32, esi
    pop eax
    SHOW
    NL

    PRINT `call through a task gate:\n`
    mov eax, 0x2222AAAA
    call G_C:0
    push eax
    PRINT "back in A: eax="
    PRINTHEX 32, [esp]
    pop eax
    SHOW
    PRINT " C's link="
    PRINTHEX 16, [tss_c]
    NL

    PRINT "jmp to the busy current task: "
    TRY .busy
    jmp TSS_SEL:0
    PRINT `no fault\n`
    ENDTRY
.busy:

    PRINT `#GP with a not-present #GP gate:\n`
    mov eax, 13
    mov ebx, 0
    mov ecx, KCODE
    mov edx, 0x0E00
    call set_gate
    mov ax, 0x100
    mov ds, ax
    PRINT `no fault\n`
    ret

task_b:
    PRINT "task B: eax="
    PRINTHEX 32, eax
    PRINT " esi="
    PRINTHEX 32, esi
    SHOW
    PRINT " link="
    PRINTHEX 16, [tss_b]
    NL
    mov eax, 0xB1B1
    jmp TSS_SEL:0
    PRINT `B resumed?\n`
    EXIT 1

task_c:
    PRINT "task C: eax="
    PRINTHEX 32, eax
    SHOW
    PRINT " link="
    PRINTHEX 16, [tss_c]
    NL
    iretd
    PRINT `C resumed?\n`
    EXIT 1

task_d:
    PRINT "double-fault task: error code="
    PRINTHEX 32, [esp]
    PRINT " link="
    PRINTHEX 16, [tss_d]
    PRINT " A's saved eip=+"
    mov eax, [tss_main + 0x20]
    sub eax, test_main
    PRINTHEX 16, eax
    SHOW
    NL
    PRINT `end\n`
    EXIT 0

section .bss
alignb 16
tss_b:  resb 0x68
tss_c:  resb 0x68
tss_d:  resb 0x68
alignb 16
        resb 4096
stack_b_top:
        resb 4096
stack_c_top:
        resb 4096
stack_d_top:
