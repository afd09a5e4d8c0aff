; Segment limit and rights checks on data accesses (SDM vol. 3, 5.3 "Limit Checking", 5.4
; "Type Checking"): null selectors, byte-granular limits, expand-down segments, writes through
; code and read-only segments, and stack-segment faults from ring 3 (where the handler gets a
; fresh stack).
; @qemu-deviates QEMU's TCG does not check segment limits, rights or null selectors on data accesses; the expected file is written from the SDM.
%include "boot.inc"

D_RX     equ 0x48   ; readable code
D_RO     equ 0x50   ; read-only data
D_SMALL  equ 0x68   ; writable data, limit 0xFFF (bytes), base buf
D_DOWN   equ 0x70   ; expand-down writable data, limit 0xFFF, B = 1
D_DOWN16 equ 0x80   ; expand-down writable data, limit 0xFFF, B = 0 (upper bound 0xFFFF)
D_USTK   equ 0x7B   ; DPL-3 writable data, limit 0xFFF, base ustk_small (RPL 3)

; ACCESS text, selector, instruction: print text, load ES with the selector, run the
; instruction under TRY (a fault's recovery reloads ES, so every case loads it afresh).
%macro ACCESS 3
    PRINT %1
    PRINT ": "
    mov ax, %2
    mov es, ax
    TRY %%fault
    %3
    ENDTRY
    PRINT `ok\n`
%%fault:
    mov ax, KDATA
    mov es, ax
%endmacro

test_main:
    mov eax, D_RX
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov edx, 0x9A | (FLG_4K32 << 8)
    call set_desc
    mov eax, D_RO
    mov edx, 0x90 | (FLG_4K32 << 8)
    call set_desc
    mov eax, D_DOWN
    xor ebx, ebx
    mov ecx, 0xFFF
    mov edx, 0x96 | (FLG_32 << 8)
    call set_desc
    mov eax, D_DOWN16
    xor ebx, ebx
    mov ecx, 0xFFF
    mov edx, 0x96
    call set_desc
    mov eax, D_SMALL
    mov ebx, buf
    mov ecx, 0xFFF
    mov edx, 0x92 | (FLG_32 << 8)
    call set_desc
    mov eax, D_USTK
    mov ebx, ustk_small
    mov ecx, 0xFFF
    mov edx, 0xF2 | (FLG_32 << 8)
    call set_desc

    PRINT `-- null segment use\n`
    ACCESS "read via null es", 0, {mov eax, [es:0x1000]}
    ACCESS "write via null es", 0, {mov [es:0x1000], eax}

    PRINT `-- limits\n`
    ACCESS "dword at ffc", D_SMALL, {mov eax, [es:0xFFC]}
    ACCESS "dword at ffd", D_SMALL, {mov eax, [es:0xFFD]}
    ACCESS "byte at fff", D_SMALL, {mov al, [es:0xFFF]}
    ACCESS "byte at 1000", D_SMALL, {mov al, [es:0x1000]}
    ACCESS "word write at ffe", D_SMALL, {mov word [es:0xFFE], 0x1234}
    ACCESS "dword at ffffffff", D_SMALL, {mov eax, [es:0xFFFFFFFF]}
    ACCESS "expand-down byte at fff", D_DOWN, {mov al, [es:0xFFF]}
    ACCESS "expand-down byte at 1000", D_DOWN, {mov al, [es:0x1000]}
    ACCESS "expand-down dword at ffe", D_DOWN, {mov eax, [es:0xFFE]}
    ACCESS "expand-down dword at fffffffc", D_DOWN, {mov eax, [es:0xFFFFFFFC]}
    ACCESS "expand-down dword at fffffffd", D_DOWN, {mov eax, [es:0xFFFFFFFD]}
    ACCESS "16-bit expand-down byte at ffff", D_DOWN16, {mov al, [es:0xFFFF]}
    ACCESS "16-bit expand-down word at ffff", D_DOWN16, {mov ax, [es:0xFFFF]}
    ACCESS "16-bit expand-down byte at 10000", D_DOWN16, {mov al, [es:0x10000]}
    ACCESS "read via readable code es", D_RX, {mov eax, [es:buf]}
    ACCESS "write via readable code es", D_RX, {mov [es:buf], eax}
    ACCESS "write via cs", D_RX, {mov [cs:buf], eax}
    ACCESS "write via read-only es", D_RO, {mov byte [es:buf], 1}

    PRINT `-- ring 3\n`
    TRY .ring3_done
    mov eax, ring3
    mov ecx, 0x002
    call enter_user
    ENDTRY
.ring3_done:
    ret

ring3:
    UPRINT "push beyond the limit of a small dpl3 ss: "
    UTRY .d
    mov ax, D_USTK
    mov ss, ax
    mov esp, 0x2000
    push eax
    mov ax, UDATA
    mov ss, ax
    mov esp, ustack_top
    UPRINT `ok\n`
.d:
    mov ax, UDATA
    mov ss, ax
    mov esp, ustack_top
    UPRINT "pop beyond the limit: "
    UTRY .e
    mov ax, D_USTK
    mov ss, ax
    mov esp, 0xFFE
    pop eax
    mov ax, UDATA
    mov ss, ax
    mov esp, ustack_top
    UPRINT `ok\n`
.e:
    mov ax, UDATA
    mov ss, ax
    mov esp, ustack_top
    UPRINT "ss-relative read beyond the limit: "
    UTRY .f
    mov ax, D_USTK
    mov ss, ax
    mov eax, [ss:0x2000]
    mov ax, UDATA
    mov ss, ax
    UPRINT `ok\n`
.f:
    mov ax, UDATA
    mov ss, ax
    mov esp, ustack_top
    UEXIT

section .bss
alignb 4096
buf:        resb 4096
ustk_small: resb 4096
