; Copies the first line received on COM2 (the host's control line) to the debug console, then
; exits through isa-debug-exit 0 (status 1).
%include "multiboot.inc"
start:
    mov dx, 0x2fd
.wait:
    in al, dx
    test al, 1
    jz .wait
    mov dx, 0x2f8
    in al, dx
    out 0xe9, al
    cmp al, 10
    jne start
    mov al, 0
    out 0xf4, al
    jmp $
IMAGE_END
