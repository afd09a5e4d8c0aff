/**
 * The Wasm backend: the only module that imports binaryen. It owns the life cycle of every module
 * (create, build, validate, optimize, emit, dispose) and hands emitters a small, binaryen-free
 * builder surface, so the rest of the translator never sees binaryen and could move to another
 * code generator by rewriting this file alone.
 *
 * binaryen is loaded lazily (`loadWasmBackend`): loading costs 0.4-0.9 s and ~75 MB
 * (design.md §5) and a VM that only interprets should never pay it. The load is asynchronous
 * because the binaryen package is an ES module with top-level await.
 *
 * Every region module imports the shared memory and the hub's one function (translator/abi.ts
 * WASM_HUB_NAME: the fixed helpers, and `jump`, through which regions tail-call each other) under
 * WASM_IMPORT_MODULE; it is built with tail calls, bulk memory, sign extension and (legacy,
 * try/catch_all) exception handling enabled: all available in Node 20 without flags.
 */
import type binaryenNs from 'binaryen';
import { HELPERS, HELPER_INDEX, JUMP_INDEX, WASM_HUB_NAME, WASM_IMPORT_MODULE, WASM_JUMP_NAME, WASM_MEMORY_NAME, WASM_TABLE_NAME } from '../abi.ts';
import type { HelperName } from '../abi.ts';

type Binaryen = typeof binaryenNs;

/** An expression handle (opaque to emitters). */
export type Expr = number;
/** A value type handle. */
export type ValType = number;

/** The i32 operators emitters use (a structural subset of binaryen's `module.i32`). */
export interface I32Ops {
  const(v: number): Expr;
  load(offset: number, align: number, ptr: Expr): Expr;
  load8_s(offset: number, align: number, ptr: Expr): Expr;
  load8_u(offset: number, align: number, ptr: Expr): Expr;
  load16_s(offset: number, align: number, ptr: Expr): Expr;
  load16_u(offset: number, align: number, ptr: Expr): Expr;
  store(offset: number, align: number, ptr: Expr, value: Expr): Expr;
  store8(offset: number, align: number, ptr: Expr, value: Expr): Expr;
  store16(offset: number, align: number, ptr: Expr, value: Expr): Expr;
  clz(a: Expr): Expr;
  ctz(a: Expr): Expr;
  popcnt(a: Expr): Expr;
  eqz(a: Expr): Expr;
  extend8_s(a: Expr): Expr;
  extend16_s(a: Expr): Expr;
  wrap(a: Expr): Expr;
  add(a: Expr, b: Expr): Expr;
  sub(a: Expr, b: Expr): Expr;
  mul(a: Expr, b: Expr): Expr;
  div_s(a: Expr, b: Expr): Expr;
  div_u(a: Expr, b: Expr): Expr;
  rem_s(a: Expr, b: Expr): Expr;
  rem_u(a: Expr, b: Expr): Expr;
  and(a: Expr, b: Expr): Expr;
  or(a: Expr, b: Expr): Expr;
  xor(a: Expr, b: Expr): Expr;
  shl(a: Expr, b: Expr): Expr;
  shr_u(a: Expr, b: Expr): Expr;
  shr_s(a: Expr, b: Expr): Expr;
  rotl(a: Expr, b: Expr): Expr;
  rotr(a: Expr, b: Expr): Expr;
  eq(a: Expr, b: Expr): Expr;
  ne(a: Expr, b: Expr): Expr;
  lt_s(a: Expr, b: Expr): Expr;
  lt_u(a: Expr, b: Expr): Expr;
  le_s(a: Expr, b: Expr): Expr;
  le_u(a: Expr, b: Expr): Expr;
  gt_s(a: Expr, b: Expr): Expr;
  gt_u(a: Expr, b: Expr): Expr;
  ge_s(a: Expr, b: Expr): Expr;
  ge_u(a: Expr, b: Expr): Expr;
}

/** The i64 operators emitters use (wide multiply and divide). */
export interface I64Ops {
  const(v: bigint): Expr;
  extend_s(a: Expr): Expr;
  extend_u(a: Expr): Expr;
  add(a: Expr, b: Expr): Expr;
  sub(a: Expr, b: Expr): Expr;
  mul(a: Expr, b: Expr): Expr;
  div_s(a: Expr, b: Expr): Expr;
  div_u(a: Expr, b: Expr): Expr;
  rem_s(a: Expr, b: Expr): Expr;
  rem_u(a: Expr, b: Expr): Expr;
  or(a: Expr, b: Expr): Expr;
  shl(a: Expr, b: Expr): Expr;
  shr_u(a: Expr, b: Expr): Expr;
  shr_s(a: Expr, b: Expr): Expr;
  eq(a: Expr, b: Expr): Expr;
  ne(a: Expr, b: Expr): Expr;
}

/**
 * One Wasm module under construction. Create it with `WasmBackend.newModule()`, add functions,
 * then `finish()` (emit + dispose) exactly once; `dispose()` alone abandons it. The backend
 * builds every module in one long-lived binaryen module that already holds the imports (module
 * creation is the largest fixed cost of a small translation); disposing removes what this
 * builder added.
 *
 * Emitters may use one leaf expression (a local.get or a constant) at several places of the
 * tree: binaryen's validator and binary writer handle that, and we never run passes that
 * rewrite the tree in place (`optimize` is for experiments on modules without shared leaves).
 */
export class ModuleBuilder {
  readonly i32: I32Ops;
  readonly i64: I64Ops;
  readonly none: ValType;
  readonly i32Type: ValType;
  readonly i64Type: ValType;
  private readonly m: binaryenNs.Module;
  private disposed = false;
  private readonly functions: string[] = [];
  private readonly exports: string[] = [];
  /** local.get expressions made by `get`, by the local they read. */
  private readonly gets = new Map<Expr, number>();
  /** The i32 local.get expression of each local index, made on first use. */
  private readonly i32Gets: Expr[] = [];
  private readonly leafIds: ReadonlySet<number>;

  constructor(private readonly b: Binaryen, m: binaryenNs.Module, consts: Map<number, Expr>, private readonly onDispose: () => void) {
    this.m = m;
    // i32 constants are leaves: one expression per value serves every use in every module built
    // in this binaryen module (binaryen's i32.const is its most expensive leaf to make: a
    // literal built on its stack; emitters make ~4 per guest instruction).
    const mkConst = m.i32.const;
    const cachedConst = (v: number): Expr => {
      let e = consts.get(v);
      if (e === undefined) consts.set(v, (e = mkConst(v)));
      return e;
    };
    this.i32 = { ...(m.i32 as unknown as I32Ops), const: cachedConst };
    this.i64 = m.i64 as unknown as I64Ops;
    this.none = b.none;
    this.i32Type = b.i32;
    this.i64Type = b.i64;
    this.leafIds = new Set([b.LocalGetId, b.ConstId]);
  }

  // ------------------------------------------------------------------ locals and control
  get(local: number, type: ValType = this.i32Type): Expr {
    // A local.get is a leaf too: one expression per i32 local serves every use.
    if (type === this.i32Type) {
      let e = this.i32Gets[local];
      if (e === undefined) {
        e = this.i32Gets[local] = this.m.local.get(local, type);
        this.gets.set(e, local);
      }
      return e;
    }
    const e = this.m.local.get(local, type);
    this.gets.set(e, local);
    return e;
  }
  /** The local a `get` expression reads, or -1 for any other expression. */
  localOf(e: Expr): number { return this.gets.get(e) ?? -1; }
  /** True for a local.get or a constant: free to evaluate again, safe to use at several places. */
  isLeaf(e: Expr): boolean { return this.gets.has(e) || this.leafIds.has(this.b.getExpressionId(e)); }
  set(local: number, value: Expr): Expr { return this.m.local.set(local, value); }
  tee(local: number, value: Expr, type: ValType = this.i32Type): Expr { return this.m.local.tee(local, value, type); }
  block(label: string | null, children: readonly Expr[], type: ValType = this.none): Expr {
    if (label === null || type !== this.none) return this.m.block(label, children, type);
    // binaryen types a named value-less block with an unreachable child (one that ends in a
    // branch) by searching its whole subtree for branches to it; the region skeleton nests one
    // named block per segment, so that made emitting a region quadratic in its segments. A child
    // wrapped in `if (1)` is typed none: the block is none, found without a search.
    let out: Expr[] | null = null;
    for (let k = 0; k < children.length; k++) {
      if (this.b.getExpressionType(children[k]) !== this.b.unreachable) continue;
      out ??= children.slice();
      out[k] = this.m.if(this.i32.const(1), children[k]);
    }
    return this.m.block(label, out ?? children, type);
  }
  loop(label: string, body: Expr): Expr { return this.m.loop(label, body); }
  /** `br` / `br_if` to `label`, carrying `value` when the target block has a result. */
  br(label: string, cond?: Expr, value?: Expr): Expr { return this.m.br(label, cond, value); }
  switch(labels: readonly string[], defaultLabel: string, index: Expr): Expr {
    return this.m.switch(labels, defaultLabel, index);
  }
  if(cond: Expr, then: Expr, otherwise?: Expr): Expr { return this.m.if(cond, then, otherwise); }
  select(cond: Expr, ifTrue: Expr, ifFalse: Expr): Expr { return this.m.select(cond, ifTrue, ifFalse); }
  /** `try body catch_all handler` (the handler runs for any exception a callee throws). */
  tryCatchAll(label: string, body: Expr, handler: Expr): Expr { return this.m.try(label, body, [], [handler]); }
  drop(e: Expr): Expr { return this.m.drop(e); }
  return(e?: Expr): Expr { return this.m.return(e); }
  nop(): Expr { return this.m.nop(); }
  unreachable(): Expr { return this.m.unreachable(); }
  /**
   * Tail-calls the region function in slot `slot` of the shared region table with `entry`
   * (a region's signature: one i32 in, one i32 out); its result is this function's result.
   */
  tailCallRegion(slot: Expr, entry: Expr): Expr {
    return this.m.return_call(WASM_HUB_NAME, [this.i32.const(JUMP_INDEX), slot, entry, this.i32.const(0)], this.b.i32);
  }
  /** Calls a helper of the fixed table (translator/abi.ts). */
  call(helper: HelperName, args: readonly Expr[]): Expr {
    if (args.length !== HELPERS[helper].params.length) throw new Error(`helper ${helper}: wrong arity`);
    const zero = this.i32.const(0);
    return this.m.call(WASM_HUB_NAME, [this.i32.const(HELPER_INDEX[helper]), args[0] ?? zero, args[1] ?? zero, args[2] ?? zero], this.b.i32);
  }
  memoryCopy(dest: Expr, src: Expr, size: Expr): Expr { return this.m.memory.copy(dest, src, size); }
  memoryFill(dest: Expr, value: Expr, size: Expr): Expr { return this.m.memory.fill(dest, value, size); }

  // ------------------------------------------------------------------ functions
  /** Adds an exported function with i32 parameters and result. */
  addFunction(name: string, nParams: number, vars: readonly ValType[], body: Expr): void {
    this.addInternal(name, nParams, vars, body);
    this.m.addFunctionExport(name, name);
    this.exports.push(name);
  }

  /** Adds a module-internal function with i32 parameters and result (a shared code sequence). */
  addInternal(name: string, nParams: number, vars: readonly ValType[], body: Expr): void {
    const b = this.b;
    const params = b.createType(Array.from({ length: nParams }, () => b.i32));
    this.m.addFunction(name, params, b.i32, vars, body);
    this.functions.push(name);
  }

  /** Calls a function of this module. */
  callInternal(name: string, args: readonly Expr[]): Expr { return this.m.call(name, args, this.b.i32); }

  // ------------------------------------------------------------------ life cycle
  /** Validates the module; returns false (and binaryen prints why) if it is malformed. */
  validate(): boolean { return this.m.validate() !== 0; }

  /** Runs binaryen's default optimization pipeline (measured: no run-time gain; see README). */
  optimize(): void { this.m.optimize(); }

  /** The module in binaryen's text format (golden tests, traces). */
  text(): string { return this.m.emitText(); }

  /**
   * Emits the binary and disposes of the module. `names`: with a name section (function names
   * as given to addFunction), so that CPU profiles name the functions (see translator/README).
   */
  finish(names = false): Uint8Array {
    const bytes = emitBinary(this.b, this.m, names);
    this.dispose();
    return bytes;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const name of this.exports) this.m.removeExport(name);
    for (const name of this.functions) this.m.removeFunction(name);
    this.onDispose();
  }
}

/**
 * `m`'s binary; with a name section when `names` (binaryen's debug-info switch is global: set
 * only for this emit).
 */
function emitBinary(b: Binaryen, m: binaryenNs.Module, names: boolean): Uint8Array {
  if (!names) return m.emitBinary();
  b.setDebugInfo(true);
  try {
    return m.emitBinary();
  } finally {
    b.setDebugInfo(false);
  }
}

/** Modules built in one binaryen module before it is recreated (its arena only grows). */
const RECYCLE_AFTER = 256;

/** A loaded binaryen: a factory of modules (one at a time). */
export class WasmBackend {
  private shared: binaryenNs.Module | null = null;
  /** i32.const expressions of `shared`, by value (valid as long as `shared` lives). */
  private readonly consts = new Map<number, Expr>();
  private uses = 0;
  private busy = false;

  constructor(private readonly b: Binaryen) {}

  newModule(): ModuleBuilder {
    if (this.busy) throw new Error('WasmBackend: one module at a time');
    if (this.shared === null || this.uses >= RECYCLE_AFTER) {
      this.shared?.dispose();
      this.consts.clear();
      this.shared = this.createShared();
      this.uses = 0;
    }
    this.uses++;
    this.busy = true;
    return new ModuleBuilder(this.b, this.shared, this.consts, () => { this.busy = false; });
  }

  private createShared(): binaryenNs.Module {
    const b = this.b;
    const m = new b.Module();
    m.setFeatures(b.Features.MVP | b.Features.TailCall | b.Features.BulkMemory | b.Features.BulkMemoryOpt | b.Features.SignExt |
      b.Features.MutableGlobals | b.Features.ExceptionHandling);
    m.addMemoryImport('0', WASM_IMPORT_MODULE, WASM_MEMORY_NAME);
    m.addFunctionImport(WASM_HUB_NAME, WASM_IMPORT_MODULE, WASM_HUB_NAME, b.createType([b.i32, b.i32, b.i32, b.i32]), b.i32);
    return m;
  }

  /**
   * The hub module (abi.ts WASM_HUB_NAME): imports the JS helpers of HELPERS, and defines and
   * exports the region table (`initialSlots`, growable), `jump(slot, entry)`, which tail-calls
   * the region in `slot` (regions reach it through `hub`, the runtime directly), and
   * `hub(k, a, b, c)`, which tail-calls helper k (then `jump`) with its own arity. `inWasm`
   * may define some helpers as Wasm functions of the hub (it adds them through the builder it is
   * given and returns their names); those are not imported. Instantiated once per translator tier.
   */
  hubModule(initialSlots: number, inWasm?: (mb: ModuleBuilder) => readonly HelperName[], nameSection = false): Uint8Array {
    const b = this.b;
    const m = new b.Module();
    try {
      m.setFeatures(b.Features.MVP | b.Features.TailCall | b.Features.ReferenceTypes | b.Features.SignExt);
      m.addMemoryImport('0', WASM_IMPORT_MODULE, WASM_MEMORY_NAME);
      const names = Object.keys(HELPERS) as HelperName[];
      const defined = new Set(inWasm ? inWasm(new ModuleBuilder(b, m, new Map(), () => {})) : []);
      for (const name of names) {
        if (defined.has(name)) continue;
        m.addFunctionImport(name, WASM_IMPORT_MODULE, name, b.createType(HELPERS[name].params.map(() => b.i32)), b.i32);
      }
      m.addTable(WASM_TABLE_NAME, initialSlots, 0xffffffff);
      m.addTableExport(WASM_TABLE_NAME, WASM_TABLE_NAME);
      const jumpBody = m.return_call_indirect(WASM_TABLE_NAME, m.local.get(0, b.i32), [m.local.get(1, b.i32)], b.createType([b.i32]), b.i32);
      m.addFunction(WASM_JUMP_NAME, b.createType([b.i32, b.i32]), b.i32, [], jumpBody);
      m.addFunctionExport(WASM_JUMP_NAME, WASM_JUMP_NAME);
      const entries = [...names, WASM_JUMP_NAME];
      if (entries.length !== JUMP_INDEX + 1) throw new Error('translator: hub entries out of order');
      // hub(k, a, b, c): a br_table on k to a tail call of entry k with its own arity (k is
      // always an emitter's constant; the default target is never taken).
      const arg = (n: number): number => m.local.get(n, b.i32);
      const labels = entries.map((_, k) => `e${k}`);
      let hubBody: number = m.block(labels[0], [m.switch(labels, labels[0], arg(0))]);
      for (let k = 0; k < entries.length; k++) {
        const name = entries[k];
        const arity = name === WASM_JUMP_NAME ? 2 : HELPERS[name as HelperName].params.length;
        const call = m.return_call(name, [arg(1), arg(2), arg(3)].slice(0, arity), b.i32);
        hubBody = k + 1 < entries.length ? m.block(labels[k + 1], [hubBody, call]) : m.block(null, [hubBody, call], b.i32);
      }
      m.addFunction(WASM_HUB_NAME, b.createType([b.i32, b.i32, b.i32, b.i32]), b.i32, [], hubBody);
      m.addFunctionExport(WASM_HUB_NAME, WASM_HUB_NAME);
      if (!m.validate()) throw new Error('translator: invalid hub module');
      return emitBinary(b, m, nameSection);
    } finally {
      m.dispose();
    }
  }

  /** Frees binaryen's memory held for module building. */
  dispose(): void {
    this.shared?.dispose();
    this.shared = null;
    this.consts.clear();
  }
}

/** Loads binaryen (once per process: the ES module loader caches it). */
export async function loadWasmBackend(): Promise<WasmBackend> {
  const mod = await import('binaryen');
  return new WasmBackend(mod.default);
}
