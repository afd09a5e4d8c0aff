; Multiboot v1 from an ELF32 executable (header flag 16 clear): the loader takes the PT_LOAD
; segment at its physical address, zeroes p_memsz beyond p_filesz, and enters at e_entry.
%define ELF_IMAGE
%include "boot.inc"

test_main:
    PRINT "entered at _start from an ELF image, magic="
    PRINTHEX 32, [boot_eax]
    NL
    PRINT "bss word: "
    PRINTHEX 32, [bss_word]
    NL
    PRINT "data word: "
    PRINTHEX 32, [data_word]
    NL
    ret

data_word: dd 0x600DF00D

section .bss
bss_word: resd 1
