; Triple-faults: with an empty IDT, INT3 raises #GP, which cannot be delivered either.
%include "multiboot.inc"
start:
    lidt [null_idtr]
    int3
    jmp $
null_idtr: dw 0
    dd 0
IMAGE_END
