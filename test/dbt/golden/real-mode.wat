;; 00001000  mov ax, word [bx]
;; 00001002  add word [bx+0x2], ax
;; 00001005  inc bx
;; 00001006  inc bx
;; 00001007  jne 0x1000
;;
;; 00001009  hlt

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
  (i32.store offset=360
   (i32.const 0)
   (i32.const 0)
  )
  (local.set $1
   (i32.load
    (i32.const 0)
   )
  )
  (local.set $4
   (i32.load offset=12
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
                    (br_table $s0 $s1 $bad
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
                (loop $L0
                 (local.set $1
                  (i32.or
                   (i32.and
                    (local.get $1)
                    (i32.const -65536)
                   )
                   (block (result i32)
                    (local.set $25
                     (if (result i32)
                      (i32.or
                       (i32.or
                        (i32.lt_u
                         (local.tee $24
                          (i32.and
                           (local.get $4)
                           (i32.const 65535)
                          )
                         )
                         (i32.load offset=780
                          (i32.const 0)
                         )
                        )
                        (i32.gt_u
                         (i32.add
                          (local.get $24)
                          (i32.const 1)
                         )
                         (i32.load offset=804
                          (i32.const 0)
                         )
                        )
                       )
                       (i32.lt_u
                        (i32.add
                         (local.get $24)
                         (i32.const 1)
                        )
                        (local.get $24)
                       )
                      )
                      (then
                       (call $hub
                        (i32.const 10)
                        (i32.const 3)
                        (local.get $24)
                        (i32.const 2)
                       )
                      )
                      (else
                       (i32.add
                        (i32.load offset=100
                         (i32.const 0)
                        )
                        (local.get $24)
                       )
                      )
                     )
                    )
                    (if (result i32)
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
                        (local.get $20)
                       )
                       (i32.const 1)
                      )
                      (i32.ne
                       (i32.and
                        (local.get $25)
                        (i32.const 4095)
                       )
                       (i32.const 4095)
                      )
                     )
                     (then
                      (i32.load16_u align=1
                       (i32.xor
                        (i32.and
                         (local.get $26)
                         (i32.const -4096)
                        )
                        (local.get $25)
                       )
                      )
                     )
                     (else
                      (call $hub
                       (i32.const 4)
                       (local.get $25)
                       (i32.const 0)
                       (i32.const 0)
                      )
                     )
                    )
                   )
                  )
                 )
                 (local.set $25
                  (if (result i32)
                   (i32.or
                    (i32.or
                     (i32.lt_u
                      (local.tee $26
                       (i32.and
                        (i32.add
                         (local.get $4)
                         (i32.const 2)
                        )
                        (i32.const 65535)
                       )
                      )
                      (i32.load offset=828
                       (i32.const 0)
                      )
                     )
                     (i32.gt_u
                      (i32.add
                       (local.get $26)
                       (i32.const 1)
                      )
                      (i32.load offset=852
                       (i32.const 0)
                      )
                     )
                    )
                    (i32.lt_u
                     (i32.add
                      (local.get $26)
                      (i32.const 1)
                     )
                     (local.get $26)
                    )
                   )
                   (then
                    (call $hub
                     (i32.const 11)
                     (i32.const 3)
                     (local.get $26)
                     (i32.const 18)
                    )
                   )
                   (else
                    (i32.add
                     (i32.load offset=100
                      (i32.const 0)
                     )
                     (local.get $26)
                    )
                   )
                  )
                 )
                 (local.set $27
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
                      (local.get $21)
                     )
                     (i32.const 1)
                    )
                    (i32.ne
                     (i32.and
                      (local.get $25)
                      (i32.const 4095)
                     )
                     (i32.const 4095)
                    )
                   )
                   (then
                    (i32.xor
                     (i32.and
                      (local.get $24)
                      (i32.const -4096)
                     )
                     (local.get $25)
                    )
                   )
                   (else
                    (drop
                     (call $hub
                      (i32.const 9)
                      (local.get $25)
                      (i32.const 2)
                      (i32.const 8)
                     )
                    )
                    (i32.const -1)
                   )
                  )
                 )
                 (local.set $28
                  (if (result i32)
                   (i32.eq
                    (local.get $27)
                    (i32.const -1)
                   )
                   (then
                    (call $hub
                     (i32.const 4)
                     (local.get $25)
                     (i32.const 8)
                     (i32.const 0)
                    )
                   )
                   (else
                    (i32.load16_u align=1
                     (local.get $27)
                    )
                   )
                  )
                 )
                 (local.set $29
                  (i32.and
                   (local.get $1)
                   (i32.const 65535)
                  )
                 )
                 (local.set $30
                  (i32.and
                   (i32.add
                    (local.get $28)
                    (local.get $29)
                   )
                   (i32.const 65535)
                  )
                 )
                 (if
                  (i32.eq
                   (local.get $27)
                   (i32.const -1)
                  )
                  (then
                   (if
                    (call $hub
                     (i32.const 7)
                     (local.get $25)
                     (local.get $30)
                     (i32.const 8)
                    )
                    (then
                     (local.set $22
                      (i32.const 1)
                     )
                    )
                   )
                  )
                  (else
                   (i32.store16 align=1
                    (local.get $27)
                    (local.get $30)
                   )
                  )
                 )
                 (local.set $10
                  (local.get $28)
                 )
                 (local.set $11
                  (local.get $29)
                 )
                 (local.set $12
                  (local.get $30)
                 )
                 (local.set $9
                  (i32.const 5)
                 )
                 (drop
                  (br_if $smc
                   (i32.const 1)
                   (local.get $22)
                  )
                 )
                 (local.set $30
                  (i32.and
                   (local.get $4)
                   (i32.const 65535)
                  )
                 )
                 (local.set $29
                  (i32.and
                   (i32.add
                    (local.get $30)
                    (i32.const 1)
                   )
                   (i32.const 65535)
                  )
                 )
                 (local.set $28
                  (i32.lt_u
                   (local.get $12)
                   (local.get $10)
                  )
                 )
                 (local.set $13
                  (local.get $28)
                 )
                 (local.set $10
                  (local.get $30)
                 )
                 (local.set $11
                  (i32.const 1)
                 )
                 (local.set $12
                  (local.get $29)
                 )
                 (local.set $9
                  (i32.const 25)
                 )
                 (local.set $4
                  (i32.or
                   (i32.and
                    (local.get $4)
                    (i32.const -65536)
                   )
                   (local.get $29)
                  )
                 )
                 (local.set $28
                  (i32.and
                   (local.get $4)
                   (i32.const 65535)
                  )
                 )
                 (local.set $29
                  (i32.and
                   (i32.add
                    (local.get $28)
                    (i32.const 1)
                   )
                   (i32.const 65535)
                  )
                 )
                 (local.set $30
                  (i32.and
                   (local.get $13)
                   (i32.const 1)
                  )
                 )
                 (local.set $13
                  (local.get $30)
                 )
                 (local.set $10
                  (local.get $28)
                 )
                 (local.set $11
                  (i32.const 1)
                 )
                 (local.set $12
                  (local.get $29)
                 )
                 (local.set $4
                  (i32.or
                   (i32.and
                    (local.get $4)
                    (i32.const -65536)
                   )
                   (local.get $29)
                  )
                 )
                 (local.set $17
                  (i32.sub
                   (local.get $17)
                   (i32.const 5)
                  )
                 )
                 (local.set $18
                  (i32.add
                   (local.get $18)
                   (i32.const 1)
                  )
                 )
                 (if
                  (i32.ne
                   (local.get $12)
                   (i32.const 0)
                  )
                  (then
                   (drop
                    (br_if $exit
                     (i32.const 4096)
                     (i32.or
                      (i32.load offset=284
                       (i32.const 0)
                      )
                      (i32.lt_s
                       (local.get $17)
                       (i32.const 5)
                      )
                     )
                    )
                   )
                   (br $L0)
                  )
                 )
                )
               )
               (drop
                (br_if $exit
                 (i32.const 4105)
                 (i32.lt_s
                  (local.get $17)
                  (i32.const 1)
                 )
                )
               )
               (local.set $15
                (i32.const 4105)
               )
               (local.set $14
                (i32.const -1)
               )
               (br $stub
                (i32.const 5)
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
      (i32.store offset=12
       (i32.const 0)
       (local.get $4)
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
      (br_if $out
       (i32.or
        (local.get $19)
        (i32.lt_s
         (local.get $14)
         (i32.const 0)
        )
       )
      )
      (local.set $1
       (i32.load
        (i32.const 0)
       )
      )
      (local.set $4
       (i32.load offset=12
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
