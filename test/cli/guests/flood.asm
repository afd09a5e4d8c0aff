; Floods COM1 with LINES numbered lines ("%08x\n"), waiting for THRE before each byte as a
; driver should (unless BLIND is defined: then it writes regardless), then exits through
; isa-debug-exit 0 (status 1). For the backpressure tests: a reader that stops reading.
%ifndef FLOOD_INCLUDED
%define FLOOD_INCLUDED
%include "multiboot.inc"
%endif
LINES equ 50000
start:
    xor ebx, ebx
.line:
    mov ecx, 8
    mov edx, ebx
.digit:
    rol edx, 4
    mov eax, edx
    and eax, 0xf
    mov al, [hex + eax]
    call putc
    loop .digit
    mov al, 10
    call putc
    inc ebx
    cmp ebx, LINES
    jb .line
    mov al, 0
    out 0xf4, al
    jmp $

; Sends AL on COM1.
putc:
    push eax
    push edx
    mov ah, al
%ifndef BLIND
    mov dx, 0x3fd
.wait:
    in al, dx
    test al, 0x20
    jz .wait
%endif
    mov dx, 0x3f8
    mov al, ah
    out dx, al
    pop edx
    pop eax
    ret
hex: db "0123456789abcdef"
IMAGE_END
