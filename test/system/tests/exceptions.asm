; Exceptions raised by ordinary instructions and by the delivery mechanism (SDM vol. 3, 6.15
; "Exception and Interrupt Reference"): #DE, #BR, INTO, INT3, #UD forms, #NM under CR0.TS/EM/MP,
; #GP for an instruction longer than 15 bytes, and #GP for a software interrupt beyond the IDT
; limit (no EXT bit: INT n is not an external event). Faults report the faulting instruction,
; traps the next one. (The EXT bit for a fault while delivering an exception is in
; exceptions-ext.asm: QEMU leaves it clear.)
%include "boot.inc"

%macro CASE 2
    PRINT %1
    PRINT ": "
    TRY %%f
    %2
    ENDTRY
    PRINT `ok\n`
%%f:
%endmacro

test_main:
    xor edx, edx
    mov eax, 1
    xor ecx, ecx
    CASE "div by zero", {div ecx}
    mov edx, 2
    xor eax, eax
    mov ebx, 1
    CASE "div overflow", {div ebx}
    mov edx, -1
    mov eax, 0x80000000
    mov esi, -1
    CASE "idiv -2^31 / -1", {idiv esi}
    mov eax, 21
    CASE "bound out of range", {bound eax, [bounds]}
    mov edi, 20
    CASE "bound in range", {bound edi, [bounds]}
    mov al, 0x7F
    add al, 1
    CASE "into with OF=1", {into}
    CASE "int3", {int3}
    CASE "ud2", {ud2}
    CASE "lock add reg", {lock add eax, ebx}
    CASE "mov cs, ax", {db 0x8E, 0xC8}
    CASE "lea with a register operand", {db 0x8D, 0xC0}
    CASE "16-byte instruction", {db 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90}
    CASE "15-byte instruction", {db 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90}

    mov eax, cr0
    or eax, 8                   ; TS
    mov cr0, eax
    CASE "fld1 with CR0.TS", {fld1}
    CASE "wait with CR0.TS, MP=0", {wait}
    mov eax, cr0
    or eax, 2                   ; MP
    mov cr0, eax
    CASE "wait with CR0.TS, MP=1", {wait}
    clts
    CASE "fld1 after clts", {fld1}
    fninit
    mov eax, cr0
    or eax, 4                   ; EM
    mov cr0, eax
    CASE "fld1 with CR0.EM", {fld1}
    CASE "wait with CR0.EM, MP=1", {wait}
    mov eax, cr0
    and eax, ~6
    mov cr0, eax

    PRINT `-- delivery faults\n`
    mov word [idt_small], 0x7F  ; 16 gates
    mov dword [idt_small + 2], idt
    lidt [idt_small]
    CASE "int 0x20 beyond the IDT limit", {int 0x20}
    lidt [idt_desc]
    ret

bounds: dd 10, 20

section .bss
idt_small: resb 6
