; Waits for three timer ticks with `sti; hlt` and nothing else: no PIC or PIT programming, only
; a GDT and an IDT gate for vector 08h, where the BIOS (or the state our PC leaves without one)
; put IRQ 0. Ends through isa-debug-exit with 3 (exit status 7) once it has counted three ticks
; (ticks the PIT owes from before the first STI — the translator's load — may arrive back to
; back, so the count itself can be higher).
%include "multiboot.inc"
start:
    lgdt [gdt_desc]
    jmp 0x08:.cs
.cs:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    mov eax, tick
    mov [idt + 8 * 8], ax
    mov word [idt + 8 * 8 + 2], 0x08
    mov word [idt + 8 * 8 + 4], 0x8E00
    shr eax, 16
    mov [idt + 8 * 8 + 6], ax
    lidt [idt_desc]
.wait:
    sti
    hlt
    cli
    cmp dword [ticks], 3
    jb .wait
    mov al, 3
    out 0xf4, al
    jmp $

tick:
    push eax
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iret

align 8
gdt: dq 0, 0x00CF9A000000FFFF, 0x00CF92000000FFFF
gdt_desc: dw 3 * 8 - 1
    dd gdt
idt_desc: dw 9 * 8 - 1
    dd idt
ticks: dd 0
idt: times 9 * 8 db 0
IMAGE_END
