; Reserved bits in a 4 MiB PDE (SDM vol. 3, table 4-4 and 4.7): our CPU reports neither PSE-36
; nor PAT, so bits 21:12 of a 4 MiB PDE are reserved; using such an entry faults with RSVD = 1
; and P = 1 ("bit 3 of the error code can be set only if bit 0 is also set"), W/R and U/S from
; the access.
; @qemu-deviates QEMU reports reserved-bit page faults with P = 0 (error code 8 instead of 9) and, emulating PSE-36, takes bits 20:13 as address bits; the expected file is written from the SDM.
%include "boot.inc"

P   equ 1
RW  equ 2
US  equ 4
PS  equ 0x80

%macro ACCESS 2
    PRINT %1
    PRINT ": "
    TRY %%fault
    %2
    ENDTRY
    PRINT `ok\n`
%%fault:
%endmacro

test_main:
    mov dword [pd + 0], 0 | PS | P | RW | US                         ; 0..4 MiB identity
    mov dword [pd + 4], 0x400000 | (1 << 21) | PS | P | RW | US      ; bit 21
    mov dword [pd + 8], 0x800000 | (1 << 13) | PS | P | RW | US      ; bit 13 (PSE-36 address bit)
    mov dword [pd + 12], 0xC00000 | (1 << 12) | PS | P | RW | US     ; bit 12 (PAT)
    mov eax, pd
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov eax, 0x80000011
    mov cr0, eax
    ACCESS "read, bit 21", {mov eax, [0x400000]}
    ACCESS "write, bit 21", {mov dword [0x400000], 0}
    ACCESS "read, bit 13", {mov eax, [0x800000]}
    ACCESS "read, bit 12", {mov eax, [0xC00000]}
    TRY .r3
    mov eax, ring3
    mov ecx, 0x002
    call enter_user
    ENDTRY
.r3:
    mov eax, 0x11
    mov cr0, eax
    ret

ring3:
    UPRINT "ring 3 write, bit 21: "
    UTRY .a
    mov dword [0x400000], 0
    UPRINT `ok\n`
.a:
    UEXIT

section .bss
alignb 4096
pd: resb 4096
