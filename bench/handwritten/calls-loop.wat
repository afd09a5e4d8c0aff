;; The guest call loop of bench/handwritten/run.ts written by hand in Wasm, as a floor for what
;; the translator emits for it: registers in locals, every memory access through the soft TLB
;; (one i32 entry per 4 KiB page at TLB_OFFSET; usable when (entry & mask) == 1 and the access
;; stays in the page; host address = (entry & ~0xfff) ^ linear), a budget decrement per
;; iteration, no flags (the loop's only flag reader is the fused cmp/jne).
;;   loop: mov [esp], edi; inc edi; call f; add ebx, eax; cmp esi, edi; jne loop
;;   f:    mov eax, [esp+4]; lea eax, [eax+eax*2+1]; ret
(module
  (import "vm" "mem" (memory 1 65536))
  (func $miss (unreachable))
  (func (export "run") (param $esp i32) (param $esi i32) (param $mask i32) (param $tlb i32) (result i32)
    (local $edi i32) (local $ebx i32) (local $eax i32) (local $e i32) (local $lin i32) (local $budget i32) (local $ret i32)
    (local.set $budget (i32.const 0x7fffffff))
    (loop $top
      ;; mov [esp], edi
      (local.set $e (i32.load (i32.add (local.get $tlb) (i32.shl (i32.shr_u (local.get $esp) (i32.const 12)) (i32.const 2)))))
      (if (i32.or (i32.ne (i32.and (local.get $e) (local.get $mask)) (i32.const 1))
                  (i32.gt_u (i32.and (local.get $esp) (i32.const 4095)) (i32.const 4092))) (then (call $miss)))
      (i32.store (i32.xor (i32.and (local.get $e) (i32.const -4096)) (local.get $esp)) (local.get $edi))
      ;; inc edi
      (local.set $edi (i32.add (local.get $edi) (i32.const 1)))
      ;; call f: push the return address
      (local.set $lin (i32.sub (local.get $esp) (i32.const 4)))
      (local.set $e (i32.load (i32.add (local.get $tlb) (i32.shl (i32.shr_u (local.get $lin) (i32.const 12)) (i32.const 2)))))
      (if (i32.or (i32.ne (i32.and (local.get $e) (local.get $mask)) (i32.const 1))
                  (i32.gt_u (i32.and (local.get $lin) (i32.const 4095)) (i32.const 4092))) (then (call $miss)))
      (i32.store (i32.xor (i32.and (local.get $e) (i32.const -4096)) (local.get $lin)) (i32.const 0x1234))
      (local.set $esp (local.get $lin))
      ;; f: mov eax, [esp+4]
      (local.set $lin (i32.add (local.get $esp) (i32.const 4)))
      (local.set $e (i32.load (i32.add (local.get $tlb) (i32.shl (i32.shr_u (local.get $lin) (i32.const 12)) (i32.const 2)))))
      (if (i32.or (i32.ne (i32.and (local.get $e) (local.get $mask)) (i32.const 1))
                  (i32.gt_u (i32.and (local.get $lin) (i32.const 4095)) (i32.const 4092))) (then (call $miss)))
      (local.set $eax (i32.load (i32.xor (i32.and (local.get $e) (i32.const -4096)) (local.get $lin))))
      ;; lea eax, [eax+eax*2+1]
      (local.set $eax (i32.add (i32.add (local.get $eax) (i32.shl (local.get $eax) (i32.const 1))) (i32.const 1)))
      ;; ret: pop and compare with the return site
      (local.set $e (i32.load (i32.add (local.get $tlb) (i32.shl (i32.shr_u (local.get $esp) (i32.const 12)) (i32.const 2)))))
      (if (i32.or (i32.ne (i32.and (local.get $e) (local.get $mask)) (i32.const 1))
                  (i32.gt_u (i32.and (local.get $esp) (i32.const 4095)) (i32.const 4092))) (then (call $miss)))
      (local.set $ret (i32.load (i32.xor (i32.and (local.get $e) (i32.const -4096)) (local.get $esp))))
      (local.set $esp (i32.add (local.get $esp) (i32.const 4)))
      (if (i32.ne (local.get $ret) (i32.const 0x1234)) (then (call $miss)))
      ;; add ebx, eax; cmp esi, edi; jne loop (with a budget check per iteration)
      (local.set $ebx (i32.add (local.get $ebx) (local.get $eax)))
      (local.set $budget (i32.sub (local.get $budget) (i32.const 9)))
      (br_if $top (i32.and (i32.ne (local.get $esi) (local.get $edi)) (i32.gt_s (local.get $budget) (i32.const 0))))
    )
    (local.get $ebx)
  )
)
