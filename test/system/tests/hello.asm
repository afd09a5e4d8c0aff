; Smoke test of the test runtime: multiboot entry state, printing, a caught #UD, exit.
%include "boot.inc"

test_main:
    PRINT `hello from the system-test runtime\n`
    PRINT "boot eax="
    PRINTHEX 32, [boot_eax]
    NL
    TRY .after_ud
    ud2
    PRINT `no #UD?\n`
    ENDTRY
.after_ud:
    PRINT "faults so far: "
    PRINTHEX 8, [fault_count]
    NL
    ret
