; @raw-real
; A boot sector (loaded at 0000:7C00, entered in real mode; under QEMU by its BIOS from a
; floppy): real-mode segment arithmetic, software interrupts and exceptions through the IVT,
; 32-bit operands in 16-bit code, the switch to protected mode (LGDT, MOV CR0, far JMP), LMSW
; unable to clear PE, and the way back to real mode through a 16-bit protected-mode segment.
; (SDM vol. 3, 20.1 "Real-Address Mode", 10.9 "Mode Switching".)
bits 16
org 0x7C00

start:
    cli
    cld
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00
    mov al, 0xFF                ; mask the PICs the BIOS programmed
    out 0x21, al
    out 0xA1, al
    mov si, s_real
    call puts16

    mov ax, 0x1234              ; 1234:0010 = physical 12350
    mov ds, ax
    mov byte [0x10], 0x5A
    mov ax, 0x1235
    mov es, ax
    mov al, [es:0]
    xor bx, bx
    mov ds, bx
    call hex16_al
    mov word [0x40 * 4], int40
    mov word [0x40 * 4 + 2], 0
    int 0x40
    mov word [6 * 4], ud_handler
    mov word [6 * 4 + 2], 0
    ud2
after_ud:
    mov si, s_op32
    call puts16
    mov eax, 0x89ABCDEF         ; 32-bit operand in 16-bit code
    shr eax, 16
    mov al, ah
    call hex16_al

    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm32

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esi, s_pm
    call puts32
    mov al, [0x12350]           ; the byte written through 1234:0010
    call hex32_al
    mov esi, s_lmsw
    call puts32
    xor eax, eax
    lmsw ax                     ; cannot clear PE
    smsw ax
    and al, 0x0F
    call hex32_al
    jmp 0x18:pm16

bits 16
pm16:
    mov ax, 0x20
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    jmp 0:real_again
real_again:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov si, s_back
    call puts16
    mov word [0x41 * 4], int40
    mov word [0x41 * 4 + 2], 0
    int 0x41
    xor al, al
    out 0xF4, al
    hlt

int40:
    push si
    mov si, s_int
    call puts16
    pop si
    iret

ud_handler:
    push bp
    mov bp, sp
    mov si, s_ud
    call puts16
    mov ax, [bp + 2]            ; IP pushed: the UD2 itself
    sub ax, start
    call hex16_al
    mov word [bp + 2], after_ud
    pop bp
    iret

puts16:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp puts16
.done:
    ret

; Prints AL as two hex digits and a newline (16-bit code).
hex16_al:
    push ax
    shr al, 4
    call .nib
    pop ax
    call .nib
    mov al, 10
    out 0xE9, al
    ret
.nib:
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    out 0xE9, al
    ret

bits 32
puts32:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp puts32
.done:
    ret

hex32_al:
    push eax
    shr al, 4
    call .nib
    pop eax
    call .nib
    mov al, 10
    out 0xE9, al
    ret
.nib:
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    out 0xE9, al
    ret

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF       ; 0x08 32-bit code
    dq 0x00CF92000000FFFF       ; 0x10 32-bit data
    dq 0x00009A000000FFFF       ; 0x18 16-bit code, base 0, limit 64 KiB
    dq 0x000092000000FFFF       ; 0x20 16-bit data
gdtr:
    dw 5 * 8 - 1
    dd gdt

s_real: db `real mode\nb@1235:0=`, 0
s_int:  db `int via IVT\n`, 0
s_ud:   db "#UD via IVT at +", 0
s_pm:   db `protected mode\nb@12350=`, 0
s_op32: db "op32 high=", 0
s_lmsw: db "lmsw 0: msw=", 0
s_back: db `real again\n`, 0

times 510 - ($ - $$) db 0
dw 0xAA55
