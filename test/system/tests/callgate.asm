; Far CALL/JMP/RET and call gates (SDM vol. 3, 5.8 "Privilege Level Checking When Transferring
; Program Control Between Code Segments"; vol. 2 CALL, JMP, RET): a call gate from ring 3 to
; ring 0 with parameter copying and a stack switch, RETF imm back (data segments nulled on the
; way out), the gate and target checks with their error codes, conforming code segments, and
; direct far transfers that the privilege rules forbid. (A call gate to conforming code is in
; callgate-conforming.asm: QEMU gets it wrong.)
%include "boot.inc"

G_RING0   equ 0x30      ; call gate, DPL 3 -> KCODE:gate_target, 2 parameters
G_DPL0    equ 0x38      ; call gate, DPL 0 -> KCODE:gate_target
C_NP      equ 0x40      ; code segment, not present
G_NP      equ 0x48      ; call gate, DPL 3 -> C_NP
C_CONF    equ 0x50      ; conforming code, DPL 0
G_CONF    equ 0x58      ; call gate, DPL 3 -> C_CONF:conf_target
G_JMP     equ 0x60      ; call gate, DPL 3 -> KCODE:gate_target, no parameters (for JMP)

test_main:
    mov eax, G_RING0
    mov ebx, gate_target
    mov ecx, KCODE
    mov edx, 0xEC02
    call set_gdt_gate
    mov eax, G_DPL0
    mov edx, 0x8C00
    call set_gdt_gate
    mov eax, G_JMP
    mov edx, 0xEC00
    call set_gdt_gate
    mov eax, G_NP
    mov ecx, C_NP
    call set_gdt_gate
    mov eax, G_CONF
    mov ebx, conf_target
    mov ecx, C_CONF
    call set_gdt_gate
    mov eax, C_NP
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov edx, 0x1A | (FLG_4K32 << 8)
    call set_desc
    mov eax, C_CONF
    mov edx, 0x9E | (FLG_4K32 << 8)
    call set_desc

    TRY .done
    mov eax, ring3
    mov ecx, 0x002
    call enter_user
    ENDTRY
.done:
    ret

; set_gdt_gate: EAX = selector, EBX = offset, ECX = target selector, EDX = attribute word.
set_gdt_gate:
    pushad
    and eax, 0xFFF8
    lea edi, [gdt + eax]
    mov eax, ebx
    and eax, 0xFFFF
    shl ecx, 16
    or eax, ecx
    mov [edi], eax
    and ebx, 0xFFFF0000
    and edx, 0xFFFF
    or ebx, edx
    mov [edi + 4], ebx
    popad
    ret

ring3:
    UPRINT `call gate to ring 0 with 2 parameters:\n`
    mov ebp, esp
    push dword 0x1111
    push dword 0x2222
    call G_RING0 | 3:0
    mov ebx, esp
    sub ebx, ebp
    UPRINT "back in ring 3: esp delta="
    UHEX ebx
    UPRINT " eax="
    UHEX eax
    UPRINT " ds="
    xor eax, eax
    mov ax, ds
    UHEX eax
    UPRINT " es="
    mov ax, es
    UHEX eax
    UPRINT `\n`
    mov ax, UDATA
    mov ds, ax
    mov es, ax

    UPRINT "call through a DPL-0 gate: "
    UTRY .a
    call G_DPL0:0
    UPRINT `no fault\n`
.a:
    UPRINT "call through a gate to a non-present segment: "
    UTRY .b
    call G_NP:0
    UPRINT `no fault\n`
.b:
    UPRINT "direct call to conforming code: "
    UTRY .d
    call C_CONF:conf_target
    UPRINT `returned\n`
.d:
    UPRINT "jmp through a gate to ring-0 code: "
    UTRY .e
    jmp G_JMP:0
.e:
    UPRINT "direct call to ring-0 code: "
    UTRY .f
    call KCODE:gate_target
.f:
    UPRINT "retf to ring 0: "
    UTRY .g
    push dword KCODE
    push dword .g
    retf
.g:
    UPRINT "call gate with RPL 3 selector above a DPL-0 gate: "
    UTRY .h
    call G_DPL0 | 3:0
.h:
    UEXIT

; Reached at CPL 0 through G_RING0: the inner stack holds EIP, CS, the two copied parameters,
; then the caller's ESP and SS.
gate_target:
    push ebp
    mov ebp, esp                ; [ebp+4] EIP, +8 CS, +12 param 2, +16 param 1, +20 ESP, +24 SS
    PRINT "  at cs="
    xor eax, eax
    mov ax, cs
    PRINTHEX 16, eax
    PRINT " ss="
    mov ax, ss
    PRINTHEX 16, eax
    PRINT " esp=top-"
    mov eax, kstack0_top
    sub eax, ebp
    sub eax, 4
    PRINTHEX 8, eax
    PRINT " caller cs="
    PRINTHEX 16, [ebp + 8]
    PRINT " params="
    PRINTHEX 32, [ebp + 16]
    PRINT ","
    PRINTHEX 32, [ebp + 12]
    PRINT " caller ss="
    PRINTHEX 16, [ebp + 24]
    NL
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov eax, 0xCAFE
    pop ebp
    retf 8

; Conforming code: runs at the caller's CPL.
conf_target:
    xor eax, eax
    mov ax, cs
    UPRINT "cs="
    UHEX eax
    UPRINT " "
    retf
