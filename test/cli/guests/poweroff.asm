; Powers off through ACPI: SLP_TYP 0 (S5) with SLP_EN in PM1a_CNT at 0x604 (QEMU's PIIX4 PM
; block as SeaBIOS places it, and ours).
%include "multiboot.inc"
start:
    mov esi, msg
    call puts
    mov dx, 0x604
    mov ax, 0x2000
    out dx, ax
    jmp $                       ; QEMU powers off asynchronously: wait for it
msg: db "powering off", 0       ; no newline: the CLI's message must start a line of its own
IMAGE_END
