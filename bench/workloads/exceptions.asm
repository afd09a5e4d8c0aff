; Exception delivery: every iteration divides by zero; the #DE handler (an interrupt gate in an
; IDT built here, with a flat GDT) counts it, steps over the 2-byte DIV and
; returns with IRETD. 20000 iterations, so a run's time per iteration is the cost of one delivery
; and return (the loop and the handler are 9 instructions). EBX = the count.
bits 32
org 0x1000
%define ITER 20000

start:
    mov esp, 0x80000
    lgdt [gdtr]                 ; flat code 0x08 and data 0x10: the loader's selectors
    jmp 0x08:.cs
.cs:
    mov eax, de_handler         ; IDT entry 0: interrupt gate, DPL 0, present
    mov [idt], ax
    mov [idt + 2], cs
    mov word [idt + 4], 0x8e00
    shr eax, 16
    mov [idt + 6], ax
    lidt [idtr]
    mov ecx, ITER
    xor ebx, ebx
    xor esi, esi
.loop:
    mov eax, ecx
    xor edx, edx
    div esi                     ; #DE
    dec ecx
    jnz .loop
    mov eax, ebx
    hlt

de_handler:
    inc ebx
    add dword [esp], 2          ; past DIV ESI
    iretd

align 8
idt:
    dq 0
idtr:
    dw 7
    dd idt
gdt:
    dq 0
    dq 0x00cf9a000000ffff
    dq 0x00cf92000000ffff
gdtr:
    dw 23
    dd gdt
