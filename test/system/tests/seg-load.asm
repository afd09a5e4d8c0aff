; Segment-register loads (SDM vol. 3, 5.4–5.7; vol. 2 MOV, POP): descriptor type, present and
; privilege checks with their exact exception and error code, null selectors, LDT selectors and
; the accessed bit, at CPL 0 and CPL 3. (Limit checks are in seg-limits.asm.)
%include "boot.inc"

D_NP     equ 0x38   ; writable data, not present
D_XO     equ 0x40   ; execute-only code
D_RX     equ 0x48   ; readable code
D_RO     equ 0x50   ; read-only data
D_DPL3   equ 0x58   ; writable data, DPL 3
D_LDT    equ 0x60   ; LDT descriptor (system)
D_SMALL  equ 0x68   ; writable data, limit 0xFFF (bytes), base buf
D_DOWN   equ 0x70   ; expand-down writable data, limit 0xFFF, B = 1
D_DATA   equ 0x30   ; plain writable data (accessed bit starts clear)
D_USTK   equ 0x7B   ; DPL-3 writable data, limit 0xFFF, base ustk_small (RPL 3)
D_USTK_RO equ 0x83  ; DPL-3 read-only data (RPL 3)

; SEG reg, selector: print "reg<-sel: " then "ok" or the exception line.
%macro SEG 2
    PRINT %str(%1)
    PRINT "<-"
    PRINTHEX 16, %2
    PRINT ": "
    TRY %%fault
    mov ax, %2
    mov %1, ax
    ENDTRY
    call restore_segs
    PRINT `ok\n`
    jmp %%done
%%fault:
    call restore_segs
%%done:
%endmacro



; ACCESS text, instruction: print text, run the instruction under TRY.
%macro ACCESS 2
    PRINT %1
    PRINT ": "
    TRY %%fault
    %2
    ENDTRY
    PRINT `ok\n`
%%fault:
%endmacro

restore_segs:
    push eax
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    pop eax
    ret

test_main:
    mov eax, D_DATA
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov edx, 0x92 | (FLG_4K32 << 8)
    call set_desc
    mov eax, D_NP
    mov edx, 0x12 | (FLG_4K32 << 8)
    call set_desc
    mov eax, D_XO
    mov edx, 0x98 | (FLG_4K32 << 8)
    call set_desc
    mov eax, D_RX
    mov edx, 0x9A | (FLG_4K32 << 8)
    call set_desc
    mov eax, D_RO
    mov edx, 0x90 | (FLG_4K32 << 8)
    call set_desc
    mov eax, D_DPL3
    mov edx, 0xF2 | (FLG_4K32 << 8)
    call set_desc
    mov eax, D_DOWN
    xor ebx, ebx
    mov ecx, 0xFFF
    mov edx, 0x96 | (FLG_32 << 8)
    call set_desc
    mov eax, D_SMALL
    mov ebx, buf
    mov ecx, 0xFFF
    mov edx, 0x92 | (FLG_32 << 8)
    call set_desc
    mov eax, D_LDT
    mov ebx, ldt
    mov ecx, 15
    mov edx, 0x82
    call set_desc
    mov eax, D_USTK
    mov ebx, ustk_small
    mov ecx, 0xFFF
    mov edx, 0xF2 | (FLG_32 << 8)
    call set_desc
    mov eax, D_USTK_RO
    mov ebx, 0
    mov ecx, 0xFFFFF
    mov edx, 0xF0 | (FLG_4K32 << 8)
    call set_desc
    ; LDT entry 1: flat writable data DPL 0.
    mov dword [ldt + 8], 0x0000FFFF
    mov dword [ldt + 12], 0x00CF9200

    xor eax, eax
    lldt ax                     ; the multiboot state leaves LDTR undefined
    PRINT `-- data-segment loads at CPL 0\n`
    PRINT "access byte before: "
    PRINTHEX 8, [gdt + D_DATA + 5]
    NL
    SEG ds, D_DATA
    PRINT "access byte after: "
    PRINTHEX 8, [gdt + D_DATA + 5]
    NL
    SEG ds, D_NP
    SEG ds, D_XO
    SEG es, D_RX
    SEG fs, D_RO
    SEG gs, D_DPL3
    SEG ds, D_LDT
    SEG ds, 0x100
    SEG ds, 0x0C                ; LDT selector, no LDT loaded
    SEG ds, 0x33                ; RPL 3 > DPL 0
    SEG ds, 0x0003              ; null with RPL 3: allowed
    SEG es, 0

    PRINT `-- stack-segment loads at CPL 0\n`
    SEG ss, 0
    SEG ss, D_RO
    SEG ss, D_RX
    SEG ss, D_DPL3
    SEG ss, 0x13                ; RPL 3 != CPL 0
    SEG ss, D_NP
    mov ax, KDATA
    mov ss, ax

    PRINT `-- LDT\n`
    mov ax, D_LDT
    lldt ax
    SEG ds, 0x0C
    SEG ds, 0x14                ; beyond the LDT limit
    xor eax, eax
    lldt ax

    PRINT `-- ring 3\n`
    TRY .ring3_done
    mov eax, ring3
    mov ecx, 0x002
    call enter_user
    ENDTRY
.ring3_done:
    ret

ring3:
    UPRINT "ss<-dpl0 data: "
    UTRY .a
    mov ax, KDATA
    mov ss, ax
    UPRINT `ok\n`
.a:
    UPRINT "ds<-dpl0 data: "
    UTRY .b
    mov ax, KDATA | 3
    mov ds, ax
    UPRINT `ok\n`
.b:
    mov ax, UDATA
    mov ds, ax
    UPRINT "ss<-read-only dpl3: "
    UTRY .c
    mov ax, D_USTK_RO
    mov ss, ax
    UPRINT `ok\n`
.c:
    UEXIT

section .bss
alignb 8
ldt:        resb 16
alignb 4096
buf:        resb 4096
ustk_small: resb 4096
