; Memory copy with REP MOVSD: 256 KiB, 64 times (REP MOVS counts as one instruction per copy, so
; the copy is repeated more often than in memcpy-loop; MIPS are not comparable between the two).
; Result: EAX = checksum of the destination. Ends with HLT.
bits 32
org 0x1000
%define SRC 0x100000
%define DST 0x200000
%define DWORDS 65536

start:
    mov esp, 0x80000
    cld
    mov edi, SRC
    mov ecx, DWORDS
    mov eax, 0x12345678
.fill:
    stosd
    add eax, 0x9e3779b9
    dec ecx
    jnz .fill
    mov ebp, 64
.rep:
    mov esi, SRC
    mov edi, DST
    mov ecx, DWORDS
    rep movsd
    dec ebp
    jnz .rep
    xor eax, eax
    mov esi, DST
    mov ecx, DWORDS
.sum:
    add eax, [esi]
    add esi, 4
    dec ecx
    jnz .sum
    hlt
