; The multiboot v1 boot information (Multiboot Specification 0.6.96, 3.3): EAX magic, the flags
; for memory, command line, modules and memory map, mem_lower/mem_upper (ranges), the command line
; (after the kernel name), each module's size, string, contents and page alignment, and whether
; the memory map covers low memory and all of upper memory as available RAM.
; @append alpha beta=2
; @module mod-a.txt first-arg
; @module mod-b.txt
%include "boot.inc"

test_main:
    mov ebx, [boot_ebx]
    PRINT "magic="
    PRINTHEX 32, [boot_eax]
    PRINT " flags(mem,cmdline,mods,mmap)="
    mov eax, [ebx]
    and eax, 0x4D
    PRINTHEX 8, eax
    NL
    ; The exact values depend on the firmware (QEMU's BIOS keeps an EBDA and ACPI tables; we
    ; have no firmware): check ranges.
    PRINT "mem_lower in [600, 640] KiB: "
    mov eax, [ebx + 4]
    sub eax, 600
    cmp eax, 40
    setbe al
    PRINTHEX 8, eax
    PRINT " mem_upper in [30, 31] MiB: "
    mov eax, [ebx + 8]
    sub eax, 30 * 1024
    cmp eax, 1024
    setbe al
    PRINTHEX 8, eax
    NL
    PRINT "cmdline args: "
    mov esi, [ebx + 16]
    call skip_word
    call puts
    NL
    PRINT "modules: "
    PRINTHEX 8, [ebx + 20]
    NL
    mov edi, [ebx + 24]
    mov ecx, [ebx + 20]
.mod:
    test ecx, ecx
    jz .mods_done
    PRINT "  size="
    mov eax, [edi + 4]
    sub eax, [edi]
    PRINTHEX 16, eax
    PRINT " page-aligned="
    mov eax, [edi]
    test eax, 0xFFF
    setz al
    PRINTHEX 8, eax
    PRINT " args='"
    mov esi, [edi + 8]
    call skip_word
    call puts
    PRINT "' first line: "
    mov esi, [edi]
.ch:
    mov al, [esi]
    call putc
    inc esi
    cmp al, 10
    jne .ch
    add edi, 16
    dec ecx
    jmp .mod
.mods_done:

    ; Memory map: look for type-1 entries covering [0, 0x9F000) and [1 MiB, 1 MiB + mem_upper KiB).
    mov eax, [ebx + 8]
    shl eax, 10
    add eax, 0x100000
    mov [upper_end], eax
    mov esi, [ebx + 48]
    mov edx, esi
    add edx, [ebx + 44]
.entry:
    cmp esi, edx
    jae .map_done
    cmp dword [esi + 20], 1
    jne .next
    cmp dword [esi + 8], 0      ; base_addr high
    jne .next
    mov eax, [esi + 4]          ; base
    mov edi, eax
    add edi, [esi + 12]         ; end = base + length (low)
    cmp eax, 0
    jne .not_low
    cmp edi, 0x9F000
    jb .not_low
    mov byte [low_ok], 1
.not_low:
    cmp eax, 0x100000
    ja .next
    cmp edi, [upper_end]
    jb .next
    mov byte [upper_ok], 1
.next:
    add esi, [esi]
    add esi, 4
    jmp .entry
.map_done:
    PRINT "mmap: low memory available="
    PRINTHEX 8, [low_ok]
    PRINT " upper memory available="
    PRINTHEX 8, [upper_ok]
    NL
    ret

; ESI -> the character after the first space of the string (or its end).
skip_word:
    cmp byte [esi], 0
    je .done
    cmp byte [esi], ' '
    je .space
    inc esi
    jmp skip_word
.space:
    inc esi
.done:
    ret

section .bss
upper_end: resd 1
low_ok:    resb 1
upper_ok:  resb 1
