;; 00001000  cld
;; 00001001  rep movsd
;; 00001003  xor edx, edx
;; 00001005  div ebx
;; 00001007  hlt

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
  (local $27 i32)
  (local $28 i32)
  (local $29 i32)
  (local $30 i32)
  (local $31 i32)
  (local $32 i32)
  (local $33 i32)
  (local $34 i64)
  (local $35 i64)
  (i32.store offset=360
   (i32.const 0)
   (i32.const 0)
  )
  (local.set $1
   (i32.load
    (i32.const 0)
   )
  )
  (local.set $2
   (i32.load offset=4
    (i32.const 0)
   )
  )
  (local.set $3
   (i32.load offset=8
    (i32.const 0)
   )
  )
  (local.set $4
   (i32.load offset=12
    (i32.const 0)
   )
  )
  (local.set $7
   (i32.load offset=24
    (i32.const 0)
   )
  )
  (local.set $8
   (i32.load offset=28
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
               (block $s0
                (block $bad
                 (if
                  (i32.const 1)
                  (then
                   (br_table $s0 $bad
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
                  (i32.const 5)
                 )
                )
               )
               (i32.store offset=36
                (i32.const 0)
                (i32.and
                 (i32.load offset=36
                  (i32.const 0)
                 )
                 (i32.const -1025)
                )
               )
               (local.set $24
                (select
                 (i32.const -4)
                 (i32.const 4)
                 (i32.and
                  (i32.load offset=36
                   (i32.const 0)
                  )
                  (i32.const 1024)
                 )
                )
               )
               (block $repEnd0
                (if
                 (i32.const 1)
                 (then
                  (loop $rep1
                   (br_if $repEnd0
                    (i32.eqz
                     (local.get $2)
                    )
                   )
                   (if
                    (i32.and
                     (i32.eqz
                      (i32.and
                       (i32.load offset=36
                        (i32.const 0)
                       )
                       (i32.const 1024)
                      )
                     )
                     (i32.and
                      (i32.eq
                       (i32.and
                        (local.tee $25
                         (i32.load offset=1048576
                          (i32.and
                           (i32.shr_u
                            (local.get $7)
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
                      (i32.eq
                       (i32.and
                        (local.tee $26
                         (i32.load offset=1048576
                          (i32.and
                           (i32.shr_u
                            (local.get $8)
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
                     )
                    )
                    (then
                     (local.set $27
                      (select
                       (local.get $2)
                       (i32.shr_u
                        (i32.sub
                         (i32.const 4096)
                         (i32.and
                          (local.get $8)
                          (i32.const 4095)
                         )
                        )
                        (i32.const 2)
                       )
                       (i32.lt_u
                        (local.get $2)
                        (i32.shr_u
                         (i32.sub
                          (i32.const 4096)
                          (i32.and
                           (local.get $8)
                           (i32.const 4095)
                          )
                         )
                         (i32.const 2)
                        )
                       )
                      )
                     )
                     (local.set $27
                      (select
                       (local.get $27)
                       (i32.shr_u
                        (i32.sub
                         (i32.const 4096)
                         (i32.and
                          (local.get $7)
                          (i32.const 4095)
                         )
                        )
                        (i32.const 2)
                       )
                       (i32.lt_u
                        (local.get $27)
                        (i32.shr_u
                         (i32.sub
                          (i32.const 4096)
                          (i32.and
                           (local.get $7)
                           (i32.const 4095)
                          )
                         )
                         (i32.const 2)
                        )
                       )
                      )
                     )
                     (local.set $29
                      (i32.xor
                       (i32.and
                        (local.get $25)
                        (i32.const -4096)
                       )
                       (local.get $7)
                      )
                     )
                     (local.set $30
                      (i32.xor
                       (i32.and
                        (local.get $26)
                        (i32.const -4096)
                       )
                       (local.get $8)
                      )
                     )
                     (local.set $28
                      (i32.shl
                       (local.get $27)
                       (i32.const 2)
                      )
                     )
                     (if
                      (i32.and
                       (i32.ne
                        (local.get $27)
                        (i32.const 0)
                       )
                       (i32.or
                        (i32.le_u
                         (local.get $30)
                         (local.get $29)
                        )
                        (i32.ge_u
                         (local.get $30)
                         (i32.add
                          (local.get $29)
                          (local.get $28)
                         )
                        )
                       )
                      )
                      (then
                       (memory.copy
                        (local.get $30)
                        (local.get $29)
                        (local.get $28)
                       )
                       (local.set $7
                        (i32.add
                         (local.get $7)
                         (local.get $28)
                        )
                       )
                       (local.set $8
                        (i32.add
                         (local.get $8)
                         (local.get $28)
                        )
                       )
                       (local.set $2
                        (i32.sub
                         (local.get $2)
                         (local.get $27)
                        )
                       )
                       (br $rep1)
                      )
                     )
                    )
                   )
                   (local.set $32
                    (if (result i32)
                     (i32.and
                      (i32.eq
                       (i32.and
                        (local.tee $31
                         (i32.load offset=1048576
                          (i32.and
                           (i32.shr_u
                            (local.get $7)
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
                        (local.get $7)
                        (i32.const 4095)
                       )
                       (i32.const 4092)
                      )
                     )
                     (then
                      (i32.load align=1
                       (i32.xor
                        (i32.and
                         (local.get $31)
                         (i32.const -4096)
                        )
                        (local.get $7)
                       )
                      )
                     )
                     (else
                      (call $hub
                       (i32.const 5)
                       (local.get $7)
                       (i32.const 12)
                       (i32.const 0)
                      )
                     )
                    )
                   )
                   (if
                    (i32.and
                     (i32.eq
                      (i32.and
                       (local.tee $33
                        (i32.load offset=1048576
                         (i32.and
                          (i32.shr_u
                           (local.get $8)
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
                       (local.get $8)
                       (i32.const 4095)
                      )
                      (i32.const 4092)
                     )
                    )
                    (then
                     (i32.store align=1
                      (i32.xor
                       (i32.and
                        (local.get $33)
                        (i32.const -4096)
                       )
                       (local.get $8)
                      )
                      (local.get $32)
                     )
                    )
                    (else
                     (if
                      (call $hub
                       (i32.const 8)
                       (local.get $8)
                       (local.get $32)
                       (i32.const 9)
                      )
                      (then
                       (local.set $22
                        (i32.const 1)
                       )
                      )
                     )
                    )
                   )
                   (local.set $7
                    (i32.add
                     (local.get $7)
                     (local.get $24)
                    )
                   )
                   (local.set $8
                    (i32.add
                     (local.get $8)
                     (local.get $24)
                    )
                   )
                   (local.set $2
                    (i32.sub
                     (local.get $2)
                     (i32.const 1)
                    )
                   )
                   (br $rep1)
                  )
                 )
                )
               )
               (drop
                (br_if $smc
                 (i32.const 1)
                 (local.get $22)
                )
               )
               (local.set $3
                (local.tee $12
                 (i32.xor
                  (local.tee $10
                   (local.get $3)
                  )
                  (local.tee $11
                   (local.get $3)
                  )
                 )
                )
               )
               (local.set $9
                (i32.const 22)
               )
               (local.set $33
                (local.get $4)
               )
               (if
                (i32.eqz
                 (local.get $33)
                )
                (then
                 (local.set $17
                  (i32.sub
                   (local.get $17)
                   (i32.const 3)
                  )
                 )
                 (local.set $16
                  (i32.const 256)
                 )
                 (br $exit
                  (i32.const 4101)
                 )
                )
               )
               (local.set $34
                (i64.or
                 (i64.shl
                  (i64.extend_i32_u
                   (local.get $3)
                  )
                  (i64.const 32)
                 )
                 (i64.extend_i32_u
                  (local.get $1)
                 )
                )
               )
               (local.set $35
                (i64.div_u
                 (local.get $34)
                 (i64.extend_i32_u
                  (local.get $33)
                 )
                )
               )
               (if
                (i64.ne
                 (i64.shr_u
                  (local.get $35)
                  (i64.const 32)
                 )
                 (i64.const 0)
                )
                (then
                 (local.set $17
                  (i32.sub
                   (local.get $17)
                   (i32.const 3)
                  )
                 )
                 (local.set $16
                  (i32.const 256)
                 )
                 (br $exit
                  (i32.const 4101)
                 )
                )
               )
               (local.set $32
                (i32.wrap_i64
                 (i64.rem_u
                  (local.get $34)
                  (i64.extend_i32_u
                   (local.get $33)
                  )
                 )
                )
               )
               (local.set $1
                (i32.wrap_i64
                 (local.get $35)
                )
               )
               (local.set $3
                (local.get $32)
               )
               (local.set $17
                (i32.sub
                 (local.get $17)
                 (i32.const 4)
                )
               )
               (local.set $15
                (i32.const 4103)
               )
               (local.set $14
                (i32.const -1)
               )
               (br $stub
                (i32.const 4)
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
      (i32.store offset=4
       (i32.const 0)
       (local.get $2)
      )
      (i32.store offset=8
       (i32.const 0)
       (local.get $3)
      )
      (i32.store offset=24
       (i32.const 0)
       (local.get $7)
      )
      (i32.store offset=28
       (i32.const 0)
       (local.get $8)
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
      (block $nochain2
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
         (local.set $32
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
         (br_if $nochain2
          (i32.ne
           (i32.load
            (local.get $32)
           )
           (local.get $15)
          )
         )
         (br_if $nochain2
          (i32.ne
           (i32.load offset=4
            (local.get $32)
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
         (local.set $33
          (i32.load offset=8
           (local.get $32)
          )
         )
         (br_if $nochain2
          (i32.ne
           (i32.and
            (local.get $33)
            (i32.const 255)
           )
           (i32.load offset=280
            (i32.const 0)
           )
          )
         )
         (br_if $nochain2
          (i32.gt_s
           (i32.shr_u
            (local.get $33)
            (i32.const 8)
           )
           (local.get $17)
          )
         )
         (local.set $31
          (i32.load offset=12
           (local.get $32)
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
           (local.get $31)
           (i32.const 16)
          )
          (i32.and
           (local.get $31)
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
        (block $nochain3
         (if
          (i32.eqz
           (i32.load offset=284
            (i32.const 0)
           )
          )
          (then
           (local.set $31
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
           (br_if $nochain3
            (i32.ne
             (i32.load
              (local.get $31)
             )
             (local.get $15)
            )
           )
           (br_if $nochain3
            (i32.ne
             (i32.load offset=4
              (local.get $31)
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
           (local.set $33
            (i32.load offset=8
             (local.get $31)
            )
           )
           (br_if $nochain3
            (i32.ne
             (i32.and
              (local.get $33)
              (i32.const 255)
             )
             (i32.load offset=280
              (i32.const 0)
             )
            )
           )
           (br_if $nochain3
            (i32.gt_s
             (i32.shr_u
              (local.get $33)
              (i32.const 8)
             )
             (local.get $17)
            )
           )
           (local.set $32
            (i32.load offset=12
             (local.get $31)
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
             (local.get $32)
             (i32.const 16)
            )
            (i32.and
             (local.get $32)
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
      (local.set $2
       (i32.load offset=4
        (i32.const 0)
       )
      )
      (local.set $3
       (i32.load offset=8
        (i32.const 0)
       )
      )
      (local.set $4
       (i32.load offset=12
        (i32.const 0)
       )
      )
      (local.set $7
       (i32.load offset=24
        (i32.const 0)
       )
      )
      (local.set $8
       (i32.load offset=28
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
