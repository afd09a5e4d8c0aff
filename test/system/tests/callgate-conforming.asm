; A call gate whose target is a conforming code segment (SDM vol. 3, 5.8.6 and CALL in vol. 2):
; the transfer stays at the caller's privilege level — CS gets the caller's CPL as RPL, no
; stack switch, no parameter copy — and RETF returns at the same level.
; @qemu-deviates QEMU (TCG helper_lcall_protected) sets CPL to the target segment's DPL after any call-gate call, so it runs conforming code at ring 0; the expected file is written from the SDM.
%include "boot.inc"

C_CONF    equ 0x50      ; conforming code, DPL 0
G_CONF    equ 0x58      ; call gate, DPL 3 -> C_CONF:conf_target, 2 parameters (ignored: no stack switch)

test_main:
    mov eax, C_CONF
    xor ebx, ebx
    mov ecx, 0xFFFFF
    mov edx, 0x9E | (FLG_4K32 << 8)
    call set_desc
    ; The gate descriptor, written in place.
    mov eax, conf_target
    and eax, 0xFFFF
    or eax, C_CONF << 16
    mov [gdt + G_CONF], eax
    mov eax, conf_target
    and eax, 0xFFFF0000
    or eax, 0xEC02
    mov [gdt + G_CONF + 4], eax
    TRY .done
    mov eax, ring3
    mov ecx, 0x002
    call enter_user
    ENDTRY
.done:
    ret

ring3:
    UPRINT `call through a gate to conforming code:\n`
    mov ebp, esp
    call G_CONF:0
    mov ebx, ebp
    sub ebx, esp
    UPRINT "returned, esp delta="
    UHEX ebx
    UPRINT `\n`
    UEXIT

conf_target:
    mov ebx, ebp
    sub ebx, esp
    xor eax, eax
    mov ax, cs
    UPRINT "  cs="
    UHEX eax
    UPRINT " ss="
    mov ax, ss
    UHEX eax
    UPRINT " stack used="
    UHEX ebx
    UPRINT `\n  cli at this level: `
    UTRY .a
    cli
    UPRINT `no fault\n`
.a:
    retf
