; Writes 21 to isa-debug-exit: exit status (21 << 1) | 1 = 43.
%include "multiboot.inc"
start:
    mov al, 21
    out 0xf4, al
    jmp $
IMAGE_END
