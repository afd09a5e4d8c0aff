; Sensitive-heavy loop: every iteration runs PUSHF, POPF, CLI, STI and two port accesses
; (IN from and OUT to port 0x80), which the translator never runs as plain code: each is a VMM
; exit into the runtime. 20000 iterations; the VMM-exit test counts them per reason.
bits 32
org 0x1000
%define ITER 20000

start:
    mov esp, 0x80000
    mov ecx, ITER
    xor ebx, ebx
.loop:
    pushfd
    popfd
    cli
    sti
    in al, 0x80
    add bl, al
    out 0x80, al
    add ebx, ecx
    dec ecx
    jnz .loop
    cli
    mov eax, ebx
    hlt
