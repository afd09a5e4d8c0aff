; The sensitive and privileged instructions at CPL 0 and CPL 3 (design.md §2; SDM vol. 2 entry
; by entry): the Robin & Irvine sensitive-but-unprivileged ones (SGDT, SIDT, SLDT, SMSW, STR,
; LAR, LSL, VERR, VERW, PUSHF, POPF, MOV from CS/SS, PUSH CS) must give the same answers in
; ring 3 as the hardware does, POPF must silently keep IF and IOPL, and every privileged
; instruction must raise #GP(0) at CPL 3 (CLI/STI/IN/OUT only while CPL > IOPL).
; LAR results hide the accessed bit: QEMU does not set it when it loads CS (the SDM says it
; does, and we do), so it is not a comparison we can make against QEMU.
%include "boot.inc"

S_LDT    equ 0x30   ; an LDT descriptor (system type 2)
S_GATE   equ 0x38   ; a DPL-3 call gate
S_NP     equ 0x40   ; data, not present, DPL 3
S_CONF   equ 0x48   ; conforming code, DPL 0

; Probe selectors for LAR/LSL/VERR/VERW.
probe_sels: dw KCODE, KDATA, UCODE, UDATA, TSS_SEL, S_LDT, S_GATE, S_NP, S_CONF, 0, 0x100, 0x33
PROBES equ 12

test_main:
    mov eax, 0x11               ; CR0 = PE (ET reads as 1): the loader left other bits undefined
    mov cr0, eax
    xor eax, eax
    lldt ax
    mov eax, S_LDT
    mov ebx, 0x2000
    mov ecx, 0x17
    mov edx, 0x82
    call set_desc
    mov eax, S_NP
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov edx, 0x72 | (FLG_4K32 << 8)
    call set_desc
    mov eax, S_CONF
    mov edx, 0x9E | (FLG_4K32 << 8)
    call set_desc
    mov dword [gdt + S_GATE], (KCODE << 16) | 0x1234
    mov dword [gdt + S_GATE + 4], 0x0000EC00

    PRINT `== CPL 0\n`
    call show_tables
    call probe_all
    PRINT "pushf: "
    pushfd
    pop eax
    and eax, 0x3200
    PRINTHEX 32, eax
    PRINT " popf(IOPL 3, IF): "
    pushfd
    push dword 0x3202
    popfd
    pushfd
    pop eax
    popfd
    and eax, 0x3200
    PRINTHEX 32, eax
    NL

    PRINT `== CPL 3, IOPL 0\n`
    TRY .u0
    mov eax, ring3_iopl0
    mov ecx, 0x002
    call enter_user
    ENDTRY
.u0:
    PRINT `== CPL 3, IOPL 3\n`
    TRY .u3
    mov eax, ring3_iopl3
    mov ecx, 0x3002
    call enter_user
    ENDTRY
.u3:
    ret

; Prints SGDT/SIDT (base relative to our tables), SLDT, STR, SMSW: works at any CPL.
show_tables:
    sgdt [tbl]
    PRINT "sgdt: limit="
    PRINTHEX 16, [tbl]
    mov eax, [tbl + 2]
    sub eax, gdt
    PRINT " base-gdt="
    PRINTHEX 32, eax
    sidt [tbl]
    PRINT " sidt: limit="
    PRINTHEX 16, [tbl]
    mov eax, [tbl + 2]
    sub eax, idt
    PRINT " base-idt="
    PRINTHEX 32, eax
    mov eax, 0xFFFFFFFF
    sldt ax
    PRINT " sldt="
    PRINTHEX 32, eax
    mov eax, 0xFFFFFFFF
    str ax
    PRINT " str="
    PRINTHEX 32, eax
    mov eax, 0xFFFFFFFF
    smsw ax
    PRINT " smsw="
    PRINTHEX 32, eax
    NL
    ret

; The same through the ring-3 print service (PRINT uses port 0xE9, which needs IOPL).
ushow_tables:
    sgdt [tbl]
    UPRINT "sgdt: limit="
    movzx eax, word [tbl]
    UHEX eax
    mov eax, [tbl + 2]
    sub eax, gdt
    UPRINT " base-gdt="
    UHEX eax
    sidt [tbl]
    UPRINT " sidt: limit="
    movzx eax, word [tbl]
    UHEX eax
    mov eax, [tbl + 2]
    sub eax, idt
    UPRINT " base-idt="
    UHEX eax
    mov eax, 0xFFFFFFFF
    sldt ax
    UPRINT " sldt="
    UHEX eax
    mov eax, 0xFFFFFFFF
    str ax
    UPRINT " str="
    UHEX eax
    mov eax, 0xFFFFFFFF
    smsw ax
    UPRINT " smsw="
    UHEX eax
    UPRINT `\n`
    ret

; probe: BX = selector; returns the four results in probe_out (ZF and value for LAR/LSL).
probe:
    mov dword [probe_out], 0xDEADBEEF
    mov dword [probe_out + 4], 0xDEADBEEF
    mov eax, 0xDEADBEEF
    lar eax, bx
    setz byte [probe_out + 8]
    and eax, 0x00F0FE00         ; bits 16..19 are undefined; the accessed bit: see the header
    mov [probe_out], eax
    mov eax, 0xDEADBEEF
    lsl eax, bx
    setz byte [probe_out + 9]
    mov [probe_out + 4], eax
    verr bx
    setz byte [probe_out + 10]
    verw bx
    setz byte [probe_out + 11]
    ret

probe_all:
    xor esi, esi
.next:
    movzx ebx, word [probe_sels + esi * 2]
    call probe
    PRINT "sel "
    PRINTHEX 16, ebx
    PRINT ": lar "
    PRINTHEX 8, [probe_out + 8]
    PRINT " "
    PRINTHEX 32, [probe_out]
    PRINT " lsl "
    PRINTHEX 8, [probe_out + 9]
    PRINT " "
    PRINTHEX 32, [probe_out + 4]
    PRINT " verr "
    PRINTHEX 8, [probe_out + 10]
    PRINT " verw "
    PRINTHEX 8, [probe_out + 11]
    NL
    inc esi
    cmp esi, PROBES
    jb .next
    ret

uprobe_all:
    xor esi, esi
.next:
    movzx ebx, word [probe_sels + esi * 2]
    call probe
    UPRINT "sel "
    UHEX ebx
    UPRINT ": lar "
    movzx eax, byte [probe_out + 8]
    UHEX eax
    UPRINT " "
    UHEX [probe_out]
    UPRINT " lsl "
    movzx eax, byte [probe_out + 9]
    UHEX eax
    UPRINT " "
    UHEX [probe_out + 4]
    UPRINT " verr "
    movzx eax, byte [probe_out + 10]
    UHEX eax
    UPRINT " verw "
    movzx eax, byte [probe_out + 11]
    UHEX eax
    UPRINT `\n`
    inc esi
    cmp esi, PROBES
    jb .next
    ret

; UTRYI text, instruction: run one instruction at CPL 3, print "ok" or the exception.
%macro UTRYI 2
    UPRINT %1
    UPRINT ": "
    UTRY %%f
    %2
    UPRINT `ok\n`
%%f:
%endmacro

ring3_iopl0:
    call ushow_tables
    call uprobe_all
    xor eax, eax
    mov ax, cs
    UPRINT "mov cs="
    UHEX eax
    mov ax, ss
    UPRINT " mov ss="
    UHEX eax
    push cs
    pop eax
    UPRINT " push cs="
    UHEX eax
    UPRINT `\n`
    UPRINT "pushf&3200="
    pushfd
    pop eax
    and eax, 0x3200
    UHEX eax
    UPRINT " after popf(IOPL 3, IF, DF)&3600="
    push dword 0x3602
    popfd
    pushfd
    pop eax
    and eax, 0x3600
    UHEX eax
    cld
    UPRINT `\n`
    UTRYI "cli", cli
    UTRYI "sti", sti
    UTRYI "hlt", hlt
    UTRYI "mov eax, cr0", {mov eax, cr0}
    UTRYI "mov cr3, eax", {mov cr3, eax}
    UTRYI "mov eax, dr7", {mov eax, dr7}
    UTRYI "lgdt", {lgdt [gdt_desc]}
    UTRYI "lidt", {lidt [idt_desc]}
    UTRYI "lldt", {lldt ax}
    UTRYI "ltr", {ltr ax}
    UTRYI "lmsw", {lmsw ax}
    UTRYI "clts", clts
    UTRYI "invlpg", {invlpg [0]}
    UTRYI "invd", invd
    UTRYI "wbinvd", wbinvd
    UTRYI "rdmsr", rdmsr
    UTRYI "wrmsr", wrmsr
    UTRYI "rdpmc", rdpmc
    UTRYI "rdtsc", rdtsc
    UTRYI "in al, 0xe9", {in al, 0xE9}
    UTRYI "out 0xe9, al", {out 0xE9, al}
    UTRYI "insb", insb
    UTRYI "outsb", outsb
    UEXIT

ring3_iopl3:
    UTRYI "cli", cli
    UTRYI "sti", sti
    UPRINT "popf(IOPL 0, IF=0)&3200="
    push dword 0x0002
    popfd
    pushfd
    pop eax
    and eax, 0x3200
    UHEX eax
    UPRINT `\n`
    UPRINT "in al, 0xe9 = "
    UTRY .f
    mov eax, 0
    in al, 0xE9
    UHEX eax
    UPRINT `\n`
.f:
    UTRYI "hlt", hlt
    UTRYI "mov eax, cr0", {mov eax, cr0}
    UEXIT

section .bss
tbl:        resb 8
probe_out:  resb 12
