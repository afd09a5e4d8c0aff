;; 00001000  push ebp
;; 00001001  mov ebp, esp
;; 00001003  mov eax, dword [ebp+0x8]
;; 00001006  add eax, dword [0x9000]
;; 0000100c  mov dword [0x9004], eax
;; 00001011  call 0x1017
;;
;; 00001016  hlt
;;
;; 00001017  ret

(module
 (type $0 (func (param i32 i32 i32 i32) (result i32)))
 (type $1 (func (param i32) (result i32)))
 (import "vm" "mem" (memory $0 0 65536))
 (import "vm" "hub" (func $hub (param i32 i32 i32 i32) (result i32)))
 (export "r0" (func $r0))
 (func $r0 (param $0 i32) (result i32)
  (local $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local $5 i32)
  (local $6 i32)
  (local $7 i32)
  (local $8 i32)
  (local $9 i32)
  (local $10 i32)
  (local $11 i32)
  (local $12 i32)
  (local $13 i32)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local $17 i32)
  (local $18 i32)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 i32)
  (local $23 i32)
  (local $24 i32)
  (local $25 i32)
  (local $26 i32)
  (i32.store offset=360
   (i32.const 0)
   (i32.const 0)
  )
  (local.set $1
   (i32.load
    (i32.const 0)
   )
  )
  (local.set $5
   (i32.load offset=16
    (i32.const 0)
   )
  )
  (local.set $6
   (i32.load offset=20
    (i32.const 0)
   )
  )
  (local.set $9
   (i32.load offset=40
    (i32.const 0)
   )
  )
  (local.set $10
   (i32.load offset=48
    (i32.const 0)
   )
  )
  (local.set $11
   (i32.load offset=52
    (i32.const 0)
   )
  )
  (local.set $12
   (i32.load offset=44
    (i32.const 0)
   )
  )
  (local.set $13
   (i32.load offset=56
    (i32.const 0)
   )
  )
  (local.set $17
   (i32.load offset=288
    (i32.const 0)
   )
  )
  (local.set $18
   (i32.load offset=356
    (i32.const 0)
   )
  )
  (local.set $20
   (i32.load offset=272
    (i32.const 0)
   )
  )
  (local.set $21
   (i32.load offset=276
    (i32.const 0)
   )
  )
  (local.set $14
   (local.get $0)
  )
  (block $out
   (if
    (i32.const 1)
    (then
     (loop $top
      (local.set $19
       (block $stub (result i32)
        (local.set $15
         (block $exit (result i32)
          (try $guard
           (do
            (local.set $23
             (block $smc (result i32)
              (block
               (block $s1
                (block $s0
                 (block $bad
                  (if
                   (i32.const 1)
                   (then
                    (br_table $s0 $s1 $s1 $bad
                     (local.get $14)
                    )
                   )
                  )
                 )
                 (if
                  (i32.const 1)
                  (then
                   (unreachable)
                  )
                 )
                )
                (drop
                 (br_if $exit
                  (i32.const 4096)
                  (i32.lt_s
                   (local.get $17)
                   (i32.const 6)
                  )
                 )
                )
                (local.set $24
                 (i32.add
                  (local.get $5)
                  (i32.const -4)
                 )
                )
                (if
                 (i32.and
                  (i32.eq
                   (i32.and
                    (local.tee $25
                     (i32.load offset=1048576
                      (i32.and
                       (i32.shr_u
                        (local.get $24)
                        (i32.const 10)
                       )
                       (i32.const 4194300)
                      )
                     )
                    )
                    (local.get $21)
                   )
                   (i32.const 1)
                  )
                  (i32.le_u
                   (i32.and
                    (local.get $24)
                    (i32.const 4095)
                   )
                   (i32.const 4092)
                  )
                 )
                 (then
                  (i32.store align=1
                   (i32.xor
                    (i32.and
                     (local.get $25)
                     (i32.const -4096)
                    )
                    (local.get $24)
                   )
                   (local.get $6)
                  )
                 )
                 (else
                  (if
                   (call $hub
                    (i32.const 8)
                    (local.get $24)
                    (local.get $6)
                    (i32.const 3)
                   )
                   (then
                    (local.set $22
                     (i32.const 1)
                    )
                   )
                  )
                 )
                )
                (local.set $5
                 (local.get $24)
                )
                (drop
                 (br_if $smc
                  (i32.const 0)
                  (local.get $22)
                 )
                )
                (local.set $6
                 (local.get $5)
                )
                (local.set $1
                 (block (result i32)
                  (local.set $25
                   (i32.add
                    (local.get $6)
                    (i32.const 8)
                   )
                  )
                  (if (result i32)
                   (i32.and
                    (i32.eq
                     (i32.and
                      (local.tee $24
                       (i32.load offset=1048576
                        (i32.and
                         (i32.shr_u
                          (local.get $25)
                          (i32.const 10)
                         )
                         (i32.const 4194300)
                        )
                       )
                      )
                      (local.get $20)
                     )
                     (i32.const 1)
                    )
                    (i32.le_u
                     (i32.and
                      (local.get $25)
                      (i32.const 4095)
                     )
                     (i32.const 4092)
                    )
                   )
                   (then
                    (i32.load align=1
                     (i32.xor
                      (i32.and
                       (local.get $24)
                       (i32.const -4096)
                      )
                      (local.get $25)
                     )
                    )
                   )
                   (else
                    (call $hub
                     (i32.const 5)
                     (local.get $25)
                     (i32.const 19)
                     (i32.const 0)
                    )
                   )
                  )
                 )
                )
                (local.set $26
                 (block (result i32)
                  (local.set $24
                   (i32.const 36864)
                  )
                  (if (result i32)
                   (i32.and
                    (i32.eq
                     (i32.and
                      (local.tee $25
                       (i32.load offset=1048576
                        (i32.and
                         (i32.shr_u
                          (local.get $24)
                          (i32.const 10)
                         )
                         (i32.const 4194300)
                        )
                       )
                      )
                      (local.get $20)
                     )
                     (i32.const 1)
                    )
                    (i32.le_u
                     (i32.and
                      (local.get $24)
                      (i32.const 4095)
                     )
                     (i32.const 4092)
                    )
                   )
                   (then
                    (i32.load align=1
                     (i32.xor
                      (i32.and
                       (local.get $25)
                       (i32.const -4096)
                      )
                      (local.get $24)
                     )
                    )
                   )
                   (else
                    (call $hub
                     (i32.const 5)
                     (local.get $24)
                     (i32.const 28)
                     (i32.const 0)
                    )
                   )
                  )
                 )
                )
                (local.set $1
                 (local.tee $12
                  (i32.add
                   (local.tee $10
                    (local.get $1)
                   )
                   (local.tee $11
                    (local.get $26)
                   )
                  )
                 )
                )
                (local.set $9
                 (i32.const 6)
                )
                (block
                 (local.set $26
                  (i32.const 36868)
                 )
                 (if
                  (i32.and
                   (i32.eq
                    (i32.and
                     (local.tee $25
                      (i32.load offset=1048576
                       (i32.and
                        (i32.shr_u
                         (local.get $26)
                         (i32.const 10)
                        )
                        (i32.const 4194300)
                       )
                      )
                     )
                     (local.get $21)
                    )
                    (i32.const 1)
                   )
                   (i32.le_u
                    (i32.and
                     (local.get $26)
                     (i32.const 4095)
                    )
                    (i32.const 4092)
                   )
                  )
                  (then
                   (i32.store align=1
                    (i32.xor
                     (i32.and
                      (local.get $25)
                      (i32.const -4096)
                     )
                     (local.get $26)
                    )
                    (local.get $1)
                   )
                  )
                  (else
                   (drop
                    (br_if $smc
                     (i32.const 4)
                     (call $hub
                      (i32.const 8)
                      (local.get $26)
                      (local.get $1)
                      (i32.const 36)
                     )
                    )
                   )
                  )
                 )
                )
                (local.set $25
                 (i32.add
                  (local.get $5)
                  (i32.const -4)
                 )
                )
                (if
                 (i32.and
                  (i32.eq
                   (i32.and
                    (local.tee $26
                     (i32.load offset=1048576
                      (i32.and
                       (i32.shr_u
                        (local.get $25)
                        (i32.const 10)
                       )
                       (i32.const 4194300)
                      )
                     )
                    )
                    (local.get $21)
                   )
                   (i32.const 1)
                  )
                  (i32.le_u
                   (i32.and
                    (local.get $25)
                    (i32.const 4095)
                   )
                   (i32.const 4092)
                  )
                 )
                 (then
                  (i32.store align=1
                   (i32.xor
                    (i32.and
                     (local.get $26)
                     (i32.const -4096)
                    )
                    (local.get $25)
                   )
                   (i32.const 4118)
                  )
                 )
                 (else
                  (if
                   (call $hub
                    (i32.const 8)
                    (local.get $25)
                    (i32.const 4118)
                    (i32.const 43)
                   )
                   (then
                    (local.set $22
                     (i32.const 1)
                    )
                   )
                  )
                 )
                )
                (local.set $5
                 (local.get $25)
                )
                (local.set $17
                 (i32.sub
                  (local.get $17)
                  (i32.const 6)
                 )
                )
                (local.set $18
                 (i32.add
                  (local.get $18)
                  (i32.const 1)
                 )
                )
                (if
                 (local.get $22)
                 (then
                  (br $exit
                   (i32.const 4119)
                  )
                 )
                )
                (local.set $14
                 (i32.const 2)
                )
                (if
                 (i32.const 1)
                 (then
                  (br $s1)
                 )
                )
               )
               (loop $lp1
                (block $s2_1
                 (block $s1_1
                  (if
                   (i32.gt_s
                    (local.get $14)
                    (i32.const 1)
                   )
                   (then
                    (br_table $s2_1 $s1_1
                     (i32.sub
                      (local.get $14)
                      (i32.const 2)
                     )
                    )
                   )
                  )
                 )
                 (drop
                  (br_if $exit
                   (i32.const 4118)
                   (i32.lt_s
                    (local.get $17)
                    (i32.const 1)
                   )
                  )
                 )
                 (local.set $15
                  (i32.const 4118)
                 )
                 (local.set $14
                  (i32.const -1)
                 )
                 (if
                  (i32.const 1)
                  (then
                   (br $stub
                    (i32.const 6)
                   )
                  )
                 )
                )
                (drop
                 (br_if $exit
                  (i32.const 4119)
                  (i32.lt_s
                   (local.get $17)
                   (i32.const 1)
                  )
                 )
                )
                (local.set $25
                 (if (result i32)
                  (i32.and
                   (i32.eq
                    (i32.and
                     (local.tee $26
                      (i32.load offset=1048576
                       (i32.and
                        (i32.shr_u
                         (local.get $5)
                         (i32.const 10)
                        )
                        (i32.const 4194300)
                       )
                      )
                     )
                     (local.get $20)
                    )
                    (i32.const 1)
                   )
                   (i32.le_u
                    (i32.and
                     (local.get $5)
                     (i32.const 4095)
                    )
                    (i32.const 4092)
                   )
                  )
                  (then
                   (i32.load align=1
                    (i32.xor
                     (i32.and
                      (local.get $26)
                      (i32.const -4096)
                     )
                     (local.get $5)
                    )
                   )
                  )
                  (else
                   (call $hub
                    (i32.const 5)
                    (local.get $5)
                    (i32.const 59)
                    (i32.const 0)
                   )
                  )
                 )
                )
                (local.set $5
                 (i32.add
                  (local.get $5)
                  (i32.const 4)
                 )
                )
                (local.set $17
                 (i32.sub
                  (local.get $17)
                  (i32.const 1)
                 )
                )
                (local.set $18
                 (i32.add
                  (local.get $18)
                  (i32.const 1)
                 )
                )
                (if
                 (i32.eq
                  (local.get $25)
                  (i32.const 4118)
                 )
                 (then
                  (drop
                   (br_if $exit
                    (i32.const 4118)
                    (i32.load offset=284
                     (i32.const 0)
                    )
                   )
                  )
                  (local.set $14
                   (i32.const 1)
                  )
                  (br $lp1)
                 )
                )
                (br $exit
                 (local.get $25)
                )
               )
               (unreachable)
              )
             )
            )
            (local.set $16
             (i32.const 2)
            )
           )
           (catch_all
            (local.set $16
             (i32.const 1)
            )
           )
          )
          (local.get $15)
         )
        )
        (i32.const -1)
       )
      )
      (i32.store
       (i32.const 0)
       (local.get $1)
      )
      (i32.store offset=16
       (i32.const 0)
       (local.get $5)
      )
      (i32.store offset=20
       (i32.const 0)
       (local.get $6)
      )
      (i32.store offset=40
       (i32.const 0)
       (local.get $9)
      )
      (i32.store offset=48
       (i32.const 0)
       (local.get $10)
      )
      (i32.store offset=52
       (i32.const 0)
       (local.get $11)
      )
      (i32.store offset=44
       (i32.const 0)
       (local.get $12)
      )
      (i32.store offset=56
       (i32.const 0)
       (local.get $13)
      )
      (i32.store offset=32
       (i32.const 0)
       (local.get $15)
      )
      (block $nochain0
       (if
        (i32.and
         (i32.eqz
          (i32.or
           (local.get $16)
           (i32.load offset=284
            (i32.const 0)
           )
          )
         )
         (i32.lt_s
          (local.get $19)
          (i32.const 0)
         )
        )
        (then
         (local.set $25
          (i32.add
           (i32.shl
            (i32.and
             (i32.xor
              (local.get $15)
              (i32.shr_u
               (local.get $15)
               (i32.const 12)
              )
             )
             (i32.const 32767)
            )
            (i32.const 4)
           )
           (i32.const 65536)
          )
         )
         (br_if $nochain0
          (i32.ne
           (i32.load
            (local.get $25)
           )
           (local.get $15)
          )
         )
         (br_if $nochain0
          (i32.ne
           (i32.load offset=4
            (local.get $25)
           )
           (i32.load offset=1048576
            (i32.shl
             (i32.shr_u
              (local.get $15)
              (i32.const 12)
             )
             (i32.const 2)
            )
           )
          )
         )
         (local.set $26
          (i32.load offset=8
           (local.get $25)
          )
         )
         (br_if $nochain0
          (i32.ne
           (i32.and
            (local.get $26)
            (i32.const 255)
           )
           (i32.load offset=280
            (i32.const 0)
           )
          )
         )
         (br_if $nochain0
          (i32.gt_s
           (i32.shr_u
            (local.get $26)
            (i32.const 8)
           )
           (local.get $17)
          )
         )
         (local.set $24
          (i32.load offset=12
           (local.get $25)
          )
         )
         (i32.store offset=288
          (i32.const 0)
          (local.get $17)
         )
         (i32.store offset=356
          (i32.const 0)
          (local.get $18)
         )
         (i32.store offset=364
          (i32.const 0)
          (i32.add
           (i32.load offset=364
            (i32.const 0)
           )
           (i32.const 1)
          )
         )
         (return_call $hub
          (i32.const 16)
          (i32.shr_u
           (local.get $24)
           (i32.const 16)
          )
          (i32.and
           (local.get $24)
           (i32.const 65535)
          )
          (i32.const 0)
         )
        )
       )
      )
      (br_if $out
       (i32.lt_s
        (local.get $19)
        (i32.const 0)
       )
      )
      (local.set $19
       (try $stubGuard (result i32)
        (do
         (call $hub
          (i32.const 0)
          (local.get $19)
          (i32.const 0)
          (i32.const 0)
         )
        )
        (catch_all
         (local.set $16
          (i32.const 1)
         )
         (br $out)
        )
       )
      )
      (local.set $17
       (i32.sub
        (local.get $17)
        (i32.const 1)
       )
      )
      (br_if $out
       (i32.eq
        (local.get $19)
        (i32.const 1)
       )
      )
      (if
       (i32.or
        (local.get $19)
        (i32.lt_s
         (local.get $14)
         (i32.const 0)
        )
       )
       (then
        (local.set $15
         (i32.load offset=32
          (i32.const 0)
         )
        )
        (block $nochain1
         (if
          (i32.eqz
           (i32.load offset=284
            (i32.const 0)
           )
          )
          (then
           (local.set $24
            (i32.add
             (i32.shl
              (i32.and
               (i32.xor
                (local.get $15)
                (i32.shr_u
                 (local.get $15)
                 (i32.const 12)
                )
               )
               (i32.const 32767)
              )
              (i32.const 4)
             )
             (i32.const 65536)
            )
           )
           (br_if $nochain1
            (i32.ne
             (i32.load
              (local.get $24)
             )
             (local.get $15)
            )
           )
           (br_if $nochain1
            (i32.ne
             (i32.load offset=4
              (local.get $24)
             )
             (i32.load offset=1048576
              (i32.shl
               (i32.shr_u
                (local.get $15)
                (i32.const 12)
               )
               (i32.const 2)
              )
             )
            )
           )
           (local.set $26
            (i32.load offset=8
             (local.get $24)
            )
           )
           (br_if $nochain1
            (i32.ne
             (i32.and
              (local.get $26)
              (i32.const 255)
             )
             (i32.load offset=280
              (i32.const 0)
             )
            )
           )
           (br_if $nochain1
            (i32.gt_s
             (i32.shr_u
              (local.get $26)
              (i32.const 8)
             )
             (local.get $17)
            )
           )
           (local.set $25
            (i32.load offset=12
             (local.get $24)
            )
           )
           (i32.store offset=288
            (i32.const 0)
            (local.get $17)
           )
           (i32.store offset=356
            (i32.const 0)
            (local.get $18)
           )
           (i32.store offset=364
            (i32.const 0)
            (i32.add
             (i32.load offset=364
              (i32.const 0)
             )
             (i32.const 1)
            )
           )
           (return_call $hub
            (i32.const 16)
            (i32.shr_u
             (local.get $25)
             (i32.const 16)
            )
            (i32.and
             (local.get $25)
             (i32.const 65535)
            )
            (i32.const 0)
           )
          )
         )
        )
        (br $out)
       )
      )
      (local.set $1
       (i32.load
        (i32.const 0)
       )
      )
      (local.set $5
       (i32.load offset=16
        (i32.const 0)
       )
      )
      (local.set $6
       (i32.load offset=20
        (i32.const 0)
       )
      )
      (local.set $9
       (i32.load offset=40
        (i32.const 0)
       )
      )
      (local.set $10
       (i32.load offset=48
        (i32.const 0)
       )
      )
      (local.set $11
       (i32.load offset=52
        (i32.const 0)
       )
      )
      (local.set $12
       (i32.load offset=44
        (i32.const 0)
       )
      )
      (local.set $13
       (i32.load offset=56
        (i32.const 0)
       )
      )
      (br $top)
     )
    )
   )
  )
  (i32.store offset=288
   (i32.const 0)
   (local.get $17)
  )
  (i32.store offset=356
   (i32.const 0)
   (local.get $18)
  )
  (i32.store offset=352
   (i32.const 0)
   (local.get $23)
  )
  (local.get $16)
 )
)
