; Memory copy with an explicit loop (load, store, pointer updates): 256 KiB, 8 times.
; Result: EAX = checksum of the destination. Ends with HLT.
bits 32
org 0x1000
%define SRC 0x100000
%define DST 0x200000
%define DWORDS 65536

start:
    mov esp, 0x80000
    ; fill the source with a pattern
    mov edi, SRC
    mov ecx, DWORDS
    mov eax, 0x12345678
.fill:
    mov [edi], eax
    add eax, 0x9e3779b9
    add edi, 4
    dec ecx
    jnz .fill
    mov ebp, 8
.rep:
    mov esi, SRC
    mov edi, DST
    mov ecx, DWORDS
.copy:
    mov eax, [esi]
    mov [edi], eax
    add esi, 4
    add edi, 4
    dec ecx
    jnz .copy
    dec ebp
    jnz .rep
    ; checksum
    xor eax, eax
    mov esi, DST
    mov ecx, DWORDS
.sum:
    add eax, [esi]
    add esi, 4
    dec ecx
    jnz .sum
    hlt
