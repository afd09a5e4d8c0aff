; The I/O permission bitmap (SDM vol. 1, 19.5.2): at CPL 3 with IOPL 0 every IN/OUT/INS/OUTS
; consults the TSS bitmap; each port of the access must have a clear bit; the processor reads
; two bitmap bytes, both of which must lie within the TSS limit; IOPL 3 bypasses the bitmap.
%include "boot.inc"

MAP equ tss_main + 0x68

%macro UIO 2
    UPRINT %1
    UPRINT ": "
    UTRY %%f
    %2
    UPRINT `ok\n`
%%f:
%endmacro

test_main:
    ; Deny everything, then allow 0xE8, 0xE9 (debug console), 0xF8 and 0x100.
    mov edi, MAP
    mov ecx, 8192 + 1
    mov al, 0xFF
    rep stosb
    and byte [MAP + 0xE8 / 8], ~((1 << (0xE8 & 7)) | (1 << (0xE9 & 7)))
    and byte [MAP + 0xF8 / 8], ~(1 << (0xF8 & 7))
    and byte [MAP + 0x100 / 8], ~(1 << (0x100 & 7))

    PRINT `-- full bitmap (limit 0x68 + 8192)\n`
    mov ecx, 0x68 + 8192
    call reload_tr
    mov eax, ring3_full
    call run_user
    PRINT `-- bitmap cut after byte 0x1f\n`
    mov ecx, 0x68 + 0x1F
    call reload_tr
    mov eax, ring3_cut
    call run_user
    PRINT `-- bitmap cut after byte 0x20\n`
    mov ecx, 0x68 + 0x20
    call reload_tr
    mov eax, ring3_cut
    call run_user
    PRINT `-- IOPL 3\n`
    mov eax, ring3_iopl3
    mov ecx, 0x3002
    call run_user_flags
    mov ecx, 0x67
    call reload_tr
    ret

run_user:
    mov ecx, 0x002
run_user_flags:
    TRY .done
    call enter_user
    ENDTRY
.done:
    ret

ring3_full:
    mov al, `*`
    UIO "out 0xe9 (allowed)", {out 0xE9, al}
    UIO "in al, 0xe9 (allowed)", {in al, 0xE9}
    UPRINT "  value read: "
    movzx eax, al
    UHEX eax
    UPRINT `\n`
    UIO "in al, 0x80 (denied)", {in al, 0x80}
    UIO "in al, 0xe8 (allowed)", {in al, 0xE8}
    mov dx, 0xE8
    UIO "in ax, 0xe8 (0xe8, 0xe9 allowed)", {in ax, dx}
    mov dx, 0xE9
    UIO "in ax, 0xe9 (0xea denied)", {in ax, dx}
    mov dx, 0xE8
    UIO "in eax, 0xe8 (0xea, 0xeb denied)", {in eax, dx}
    UPRINT "rep outsb to 0xe9: "
    UTRY .o
    mov esi, msg
    mov ecx, msg_len
    mov dx, 0xE9
    rep outsb
.o:
    mov dx, 0x80
    mov edi, scratch
    UIO "insb from 0x80 (denied)", {insb}
    mov dx, 0x100
    UIO "in al, 0x100 (allowed)", {in al, dx}
    UIO "in al, 0xf8 (allowed)", {in al, 0xF8}
    UEXIT

ring3_cut:
    mov dx, 0x100
    UIO "in al, 0x100 (allowed, bit beyond or at the limit)", {in al, dx}
    UIO "in al, 0xf8 (allowed, second byte at the limit edge)", {in al, 0xF8}
    UIO "in al, 0xe9 (allowed)", {in al, 0xE9}
    UEXIT

ring3_iopl3:
    UIO "in al, 0x80 (denied in the bitmap)", {in al, 0x80}
    UEXIT

msg: db `hi from outsb\n`
msg_len equ $ - msg

section .bss
scratch: resb 16
