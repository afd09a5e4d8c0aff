; Reports a panic through pvpanic (port 0x505), then spins as a panicking kernel does.
%include "multiboot.inc"
start:
    mov esi, msg
    call puts
    mov dx, 0x505
    mov al, 1
    out dx, al
    jmp $
msg: db "Kernel panic - not syncing: test image", 10, 0
IMAGE_END
