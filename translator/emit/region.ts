/**
 * The region emitter: turns the blocks of a region (scan/region.ts) into one Wasm function
 * `(entry: i32) -> i32` with guest registers and the lazy-flags record in locals and guest loops
 * as Wasm loops (design.md §5: 30-40x a JS interpreter, against 4-11x for one function per
 * block with registers in memory).
 *
 * Shape of the function (labels from context.ts):
 *
 *   prologue: load used registers, lazy flags, BUDGET, TLB masks; pc = entry
 *   block $done
 *     block $flush
 *       loop $top
 *         block $stub
 *           block $s<N-1> ... block $s0  block $bad br_table($s0..$s<N-1>, $bad, pc) end unreachable
 *           end  item 0 ... end  item N-1
 *         end
 *         interp stub: flush; status = interp(arg); reload; continue at segment pc, or exit
 *       end
 *     end
 *     flush: store written registers, lazy flags, EIP
 *   end                      (all of $done inside try ... catch_all: store registers and flags)
 *   epilogue: store BUDGET and the counters; return code
 *
 * An item is a segment, or a Wasm loop over several (emit/loops.ts) with the same shape inside:
 *   loop $lp<k>  block $s<e>_<k> ... block $s<h>_<k>  if (pc > h) br_table(...)  end  item ... end
 *
 * A segment is a maximal run of inline instructions of one block; an instruction without an
 * emitter (and every sensitive, privileged and I/O instruction) ends its segment with a branch
 * to the interp stub, which runs the interpreter's handler for it and resumes at the next
 * segment. Consecutive segments fall through into each other; a forward goto branches to the
 * block that ends where its target starts; a backward goto branches to the head of the innermost
 * loop that holds both ends (emit/loops.ts), and a block that jumps to itself is its own Wasm
 * loop. Back edges and dynamic transfers test EXIT_REQUEST; each block start tests that the
 * budget covers the whole block (a self-loop: on entry, then on its back edge), so a slice never
 * overruns its budget.
 */
import type { Insn } from '../decoder/insn.ts';
import {
  BUDGET, DBT_CHAINS, DBT_INLINE, DBT_INSN, DBT_NCTL, DBT_REGION, EIP, EXIT_AFTER, EXIT_PENDING, EXIT_REQUEST, JUMP_CACHE,
  JUMP_CACHE_ENTRIES, MODE, MODE_CS32, STUB_EXIT, TLB_OFFSET, TLB_READ_MASK, TLB_WRITE_MASK,
} from '../abi.ts';
import { EXIT_REASONS } from '../isa/types.ts';
import { TABLE, endsBlock } from '../isa/table.ts';
import { directTarget } from '../scan/region.ts';
import type { ScannedBlock } from '../scan/scan-block.ts';
import type { Expr, ModuleBuilder } from '../wasm/backend.ts';
import {
  EmitCtx, L_ARG, L_BUDGET, L_CODE, L_EIP, L_ENTRY, L_NCTL, L_PC, L_RMASK, L_SMCK, L_WMASK, LBL_EXIT, LBL_OUT,
  LBL_SMC, LBL_STUB, LBL_TOP,
} from './context.ts';
import type { RegionLayout } from './context.ts';
import { flagsLiveAfter } from './liveness.ts';
import { SegmentLoops } from './loops.ts';
import type { SegmentLoop } from './loops.ts';
import { endsSegment, inlineEmitter, isVmmInline } from './table.ts';

/** Most dynamic-transfer targets compared inline (RET to a call site of the region, ...). */
const MAX_DYNAMIC_TARGETS = 16;
/** Rows whose target is computed: emit/control.ts compares it with the region's return sites. */
const DYNAMIC_ROWS: ReadonlySet<string> = new Set(['ret', 'retIw', 'jmpEv', 'callEv']);

/** What the runtime needs to know about an emitted region function. */
export interface RegionCode {
  /** Segment index to pass as `entry` for each block start (CS offset). */
  readonly entries: ReadonlyMap<number, number>;
  /** Every instruction of the region, by the index helpers are given. */
  readonly insns: readonly Insn[];
  /**
   * Per instruction: inline instructions completed in its segment before it and not yet counted
   * in the budget when it runs (what the runtime adds when a helper throws for it).
   */
  readonly doneBefore: Int32Array;
  /** Guest instructions in the region, and how many of them were emitted inline. */
  readonly insnCount: number;
  readonly inlineCount: number;
  readonly segments: number;
}

interface Segment {
  code: Expr[];
}

/**
 * Emits the region function `name` into `mb`. `blocks` must be sorted by EIP and non-empty;
 * `slot` is the region's slot in the shared region table (0 when it will not be installed).
 */
export function emitRegion(mb: ModuleBuilder, name: string, blocks: readonly ScannedBlock[], mode: number, slot = 0): RegionCode {
  const m = mb;
  const i32 = m.i32;

  // Pass 1: segment numbering, so that jumps can name segments that are emitted later; each
  // block's first segment, and the segment of its last instruction (where its transfer is).
  const blockSeg = new Map<number, number>();
  const lastSeg: number[] = [];
  let nseg = 0;
  for (const b of blocks) {
    blockSeg.set(b.eip, nseg++);
    b.insns.forEach((insn, k) => {
      if (endsSegment(insn) && k < b.insns.length - 1) nseg++;
    });
    lastSeg.push(nseg - 1);
  }
  const dynamicTargets: number[] = [];
  for (const b of blocks) {
    const last = TABLE[b.insns[b.insns.length - 1].row].name;
    if ((last === 'callJz' || last === 'callEv') && blockSeg.has(b.endEip) && dynamicTargets.length < MAX_DYNAMIC_TARGETS) {
      dynamicTargets.push(b.endEip);
    }
  }
  const loops = new SegmentLoops(nseg, backEdges(blocks, blockSeg, lastSeg, (mode & MODE_CS32) !== 0, dynamicTargets), LBL_TOP);
  const layout: RegionLayout = {
    segmentAt: (eip) => blockSeg.get(eip) ?? -1,
    dynamicTargets,
    route: (from, to) => loops.route(from, to),
  };
  const c = new EmitCtx(m, mode, layout);

  // Pass 2: emit every segment.
  const segments: Segment[] = [];
  const insns: Insn[] = [];
  const done: number[] = [];
  let inlineCount = 0;
  const code32 = c.code32;
  for (const b of blocks) {
    const n = b.insns.length;
    const selfLoop = isSelfLoop(b, code32);
    const live = flagsLiveAfter(b.insns);
    startSegment(c, segments, b, selfLoop);
    for (let k = 0; k < n; k++) {
      const insn = b.insns[k];
      const row = TABLE[insn.row];
      const index = insns.length;
      insns.push(insn);
      c.insn = insn;
      c.insnIndex = index;
      c.next = code32 ? (insn.eip + insn.len) | 0 : (insn.eip + insn.len) & 0xffff;
      c.mayWriteCode = false;
      c.flagsLive = live[k] !== 0;
      const e = inlineEmitter(insn);
      const isLast = k === n - 1;
      if (e !== null && isVmmInline(insn)) {
        emitVmmRow(c, insn, e, isLast ? (row.leaves ? -1 : layout.segmentAt(b.endEip)) : segments.length);
        done.push(0);
        inlineCount++;
        if (isLast) {
          c.emit(...c.goto(b.endEip, true));
        } else {
          closeSegment(c, segments);
          startSegment(c, segments, null, false);
        }
        continue;
      }
      // The interp stub counts the segment's inline instructions before calling the helper.
      done.push(e !== null ? c.done : 0);
      if (e !== null) {
        e(c, insn);
        inlineCount++;
        if (row.cls !== 'control' && c.mayWriteCode) c.emit(c.smcAfter());
        c.releaseTemps();
        c.done++;
        if (isLast && row.cls !== 'control') {
          // The block ended at the page end, a limit, or a row that ends blocks.
          if (c.done) c.emit(m.set(L_BUDGET, i32.sub(m.get(L_BUDGET), i32.const(c.done))));
          c.emit(...(endsBlock(row) ? [c.exitTo(c.nextEip())] : c.goto(b.endEip, true)));
        }
        continue;
      }
      // The interp stub: the segment ends here; execution resumes at the next segment. After
      // the block's last instruction it resumes at the fall-through block when the region has
      // it: the helper reports everything that must return to the run loop instead (a
      // transfer, a mode, IF or interrupt-shadow change, invalidated code; see runtime/dbt).
      // Rows whose effects it cannot see (address-space changes: the table's `leaves`) always leave.
      const cont = !isLast ? segments.length : row.leaves ? -1 : layout.segmentAt(b.endEip);
      if (c.done) c.emit(m.set(L_BUDGET, i32.sub(m.get(L_BUDGET), i32.const(c.done))));
      c.usesStub = true;
      c.emit(
        m.set(L_EIP, i32.const(insn.eip)),
        m.set(L_PC, i32.const(cont)),
        m.br(LBL_STUB, undefined, i32.const(index)),
      );
      if (!isLast) {
        closeSegment(c, segments);
        startSegment(c, segments, null, false);
      }
    }
    closeSegment(c, segments);
  }

  if (segments.length !== nseg) throw new Error(`region: ${segments.length} segments emitted, ${nseg} numbered`);
  const body = assemble(c, segments, loops, slot);
  m.addFunction(name, 1, c.vars, body);
  const entries = new Map<number, number>(blockSeg);
  return { entries, insns, doneBefore: Int32Array.from(done), insnCount: insns.length, inlineCount, segments: segments.length };
}

/**
 * A sensitive, privileged or I/O row with a VMM emitter (emit/vmm.ts): the segment's earlier
 * instructions are counted first, so that both of its paths see the budget the same way (the
 * stub path, taken by `c.toStub`, resumes at segment `resume` after the handler ran); the fast
 * path counts the instruction and its VMM work (DBT_INLINE under the row's exit reason) and
 * leaves after it when the emitter asks (`exitAfter`: a segment load changed the mode).
 */
function emitVmmRow(c: EmitCtx, insn: Insn, e: (c: EmitCtx, i: Insn) => void, resume: number): void {
  const { m } = c;
  const i32 = m.i32;
  if (c.done) c.emit(m.set(L_BUDGET, i32.sub(m.get(L_BUDGET), i32.const(c.done))));
  c.done = 0;
  c.resumeSeg = resume;
  c.exitAfter = null;
  c.exitAt = null;
  c.mayWriteCode = false;
  e(c, insn);
  // Counted when it completes (a fault on the fast path is counted by the runtime, which
  // learns it from the fault's instruction index; the stub path counts in the VMM's handler).
  const counter = DBT_INLINE + 4 * EXIT_REASONS.indexOf(TABLE[insn.row].exit as (typeof EXIT_REASONS)[number]);
  c.emit(i32.store(counter, 4, i32.const(0), i32.add(i32.load(counter, 4, i32.const(0)), i32.const(1))));
  // A write into this region's code: the runtime counts the instruction (EXIT_AFTER).
  if (c.mayWriteCode) c.emit(c.smcAfter());
  c.emit(m.set(L_BUDGET, i32.sub(m.get(L_BUDGET), i32.const(1))));
  if (c.exitAfter) c.emit(m.if(c.exitAfter, c.exitTo(c.nextEip())));
  if (c.exitAt) c.emit(c.exitTo(c.exitAt));
  c.exitAfter = null;
  c.exitAt = null;
  c.releaseTemps();
}

/**
 * Direct entry into the next region (abi.ts JUMP_CACHE): when `cond` holds and the jump cache
 * has an entry for the EIP in L_EIP that is valid in `mode` (the region's own, or the one an
 * instruction the stub ran switched to), stores what the epilogue would and tail-calls that
 * region. The state block is exact at this point (the flush, or the stub's handler, made it so).
 */
function chain(c: EmitCtx, cond: Expr, mode: Expr): Expr {
  const { m } = c;
  const i32 = m.i32;
  const e = c.tmp();
  const w2 = c.tmp();
  const w3 = c.tmp();
  const eip = m.get(L_EIP);
  const miss = c.label('nochain');
  // e = JUMP_CACHE + 16 * jumpCacheIndex(eip)
  const index = i32.and(i32.xor(eip, i32.shr_u(eip, i32.const(12))), i32.const(JUMP_CACHE_ENTRIES - 1));
  const hit = m.block(null, [
    m.set(e, i32.add(i32.shl(index, i32.const(4)), i32.const(JUMP_CACHE))),
    m.br(miss, i32.ne(i32.load(0, 4, m.get(e)), eip)),
    m.br(miss, i32.ne(i32.load(4, 4, m.get(e)), i32.load(TLB_OFFSET, 4, i32.shl(i32.shr_u(eip, i32.const(12)), i32.const(2))))),
    m.set(w2, i32.load(8, 4, m.get(e))),
    m.br(miss, i32.ne(i32.and(m.get(w2), i32.const(0xff)), mode)),
    m.br(miss, i32.gt_s(i32.shr_u(m.get(w2), i32.const(8)), m.get(L_BUDGET))),
    m.set(w3, i32.load(12, 4, m.get(e))),
    i32.store(BUDGET, 4, i32.const(0), m.get(L_BUDGET)),
    i32.store(DBT_NCTL, 4, i32.const(0), m.get(L_NCTL)),
    i32.store(DBT_CHAINS, 4, i32.const(0), i32.add(i32.load(DBT_CHAINS, 4, i32.const(0)), i32.const(1))),
    m.tailCallRegion(i32.shr_u(m.get(w3), i32.const(16)), i32.and(m.get(w3), i32.const(0xffff))),
  ]);
  c.releaseTemps();
  return m.block(miss, [m.if(cond, hit)]);
}

/**
 * The region's backward gotos between segments, as [from, to] (to <= from): direct transfers
 * and transfers to the return sites (emit/context.ts gotoDynamic) that do not go forward,
 * except a self-loop block's jump to itself (its own Wasm loop inside its segment).
 */
function backEdges(
  blocks: readonly ScannedBlock[], blockSeg: ReadonlyMap<number, number>, lastSeg: readonly number[], code32: boolean,
  dynamicTargets: readonly number[],
): [number, number][] {
  const out: [number, number][] = [];
  for (let n = 0; n < blocks.length; n++) {
    const b = blocks[n];
    const last = lastSeg[n];
    const insn = b.insns[b.insns.length - 1];
    const targets: number[] = [];
    const t = directTarget(insn, code32);
    if (t !== null && !(t === b.eip && isSelfLoop(b, code32))) targets.push(t);
    if (DYNAMIC_ROWS.has(TABLE[insn.row].name)) targets.push(...dynamicTargets);
    for (const eip of targets) {
      const to = blockSeg.get(eip);
      if (to !== undefined && to <= last) out.push([last, to]);
    }
  }
  return out;
}

/** True if the block's only way back to itself is its last instruction's direct jump. */
function isSelfLoop(b: ScannedBlock, code32: boolean): boolean {
  const last = b.insns[b.insns.length - 1];
  if (directTarget(last, code32) !== b.eip) return false;
  return b.insns.every((i) => !endsSegment(i));
}

function startSegment(c: EmitCtx, segments: Segment[], block: ScannedBlock | null, selfLoop: boolean): void {
  const { m } = c;
  const i32 = m.i32;
  c.segment = segments.length;
  c.out = [];
  c.done = 0;
  // Several predecessors: the producer of the flags is unknown here.
  c.flagKind = -1;
  c.selfLoopLabel = selfLoop ? `L${c.segment}` : null;
  c.selfLoopEip = block ? block.eip : 0;
  c.selfLoopLen = block ? block.insns.length : 0;
  segments.push({ code: [] });
  if (block) {
    // Enter a block only if the budget covers all of it (a self-loop: before its Wasm loop; its
    // back edge checks again for the next turn, emit/context.ts goto).
    const check = c.exitIf(i32.lt_s(m.get(L_BUDGET), i32.const(block.insns.length)), block.eip);
    if (selfLoop) segments[segments.length - 1].code.push(check);
    else c.emit(check);
  }
}

function closeSegment(c: EmitCtx, segments: Segment[]): void {
  const seg = segments[segments.length - 1];
  seg.code = c.selfLoopLabel !== null ? [...seg.code, c.m.loop(c.selfLoopLabel, c.m.block(null, c.out))] : c.out;
  c.out = [];
}

/**
 * The statements of loop `l` (the whole function for the root): a dispatch on L_PC, then each
 * item (a segment, or a nested loop) after the end of the block its label names (emit/loops.ts).
 */
function nest(c: EmitCtx, segments: Segment[], loops: SegmentLoops, l: SegmentLoop): Expr[] {
  const { m } = c;
  const i32 = m.i32;
  const items = loops.items(l);
  const startOf = (it: number | SegmentLoop): number => (typeof it === 'number' ? it : it.start);
  // The label of the item holding each segment of l.
  const itemOf: string[] = [];
  for (const it of items) {
    const label = loops.itemLabel(l, startOf(it));
    const end = typeof it === 'number' ? it : it.end;
    for (let k = startOf(it); k <= end; k++) itemOf.push(label);
  }
  let cur: Expr;
  if (l.id === 0) {
    cur = m.block(itemOf[0], [m.block('bad', [m.switch(itemOf, 'bad', m.get(L_PC))]), m.unreachable()]);
  } else {
    // Entered at the head with L_PC above it: dispatch into the body (a back edge to the first
    // segment sets L_PC to it and skips this).
    const inBody = itemOf.slice(1);
    cur = m.block(itemOf[0], inBody.length === 0 ? [m.nop()] : [
      m.if(i32.gt_s(m.get(L_PC), i32.const(l.start)), m.switch(inBody, itemOf[0], i32.sub(m.get(L_PC), i32.const(l.start + 1)))),
    ]);
  }
  for (let k = 0; k < items.length; k++) {
    const it = items[k];
    const code = typeof it === 'number' ? segments[it].code : [m.loop(loops.loopLabel(it), m.block(null, nest(c, segments, loops, it)))];
    const last = k + 1 === items.length;
    if (last) return [cur, ...code, ...(l.id === 0 ? [m.unreachable()] : [])];
    cur = m.block(loops.itemLabel(l, startOf(items[k + 1])), [cur, ...code]);
  }
  return [cur];
}

function assemble(c: EmitCtx, segments: Segment[], loops: SegmentLoops, slot: number): Expr {
  const { m } = c;
  const i32 = m.i32;
  let cur = m.block(null, nest(c, segments, loops, loops.root));
  // A write into the region's own code: the instruction completed; the runtime continues after it.
  if (c.usesSmc) cur = m.block(null, [m.set(L_SMCK, m.block(LBL_SMC, [cur], m.i32Type)), m.set(L_CODE, i32.const(EXIT_AFTER))]);
  // A helper that throws (a guest fault) lands in catch_all: the locals hold the state as before
  // the faulting instruction and are stored like at any exit (the runtime sets EIP, which the
  // flush also stores, from the faulting instruction's index, and rethrows).
  const guarded = m.tryCatchAll('guard', cur, m.set(L_CODE, i32.const(EXIT_PENDING)));
  // Every way out of the segments reaches one flush: an exit carries the EIP to continue at,
  // the interp stub the instruction to run (L_ARG; -1 for an exit).
  let exits = m.set(L_EIP, m.block(LBL_EXIT, [guarded, m.get(L_EIP)], m.i32Type));
  if (c.usesStub) exits = m.set(L_ARG, m.block(LBL_STUB, [exits, i32.const(-1)], m.i32Type));
  const loopBody: Expr[] = [exits, ...c.flushState(), i32.store(EIP, 4, i32.const(0), m.get(L_EIP))];
  // A plain exit (not the stub's) enters the region the jump cache names for the EIP directly,
  // in the mode now in force: an instruction that changed it (a segment load, SYSENTER) left
  // through here too, and must not enter code compiled for the region's own mode.
  if (c.flat) {
    let plain = i32.eqz(i32.or(m.get(L_CODE), i32.load(EXIT_REQUEST, 4, i32.const(0))));
    if (c.usesStub) plain = i32.and(plain, i32.lt_s(m.get(L_ARG), i32.const(0)));
    loopBody.push(chain(c, plain, i32.load(MODE, 4, i32.const(0))));
  }
  if (c.usesStub) {
    // The interp stub: the state block is exact; the helper runs the instruction (a fault it
    // throws leaves the state as before it), then execution resumes at segment L_PC or leaves.
    loopBody.push(
      m.br(LBL_OUT, i32.lt_s(m.get(L_ARG), i32.const(0))),
      m.set(L_ARG, m.tryCatchAll('stubGuard', m.call('interp', [m.get(L_ARG)]),
        m.block(null, [m.set(L_CODE, i32.const(EXIT_PENDING)), m.br(LBL_OUT)]))),
      m.set(L_BUDGET, i32.sub(m.get(L_BUDGET), i32.const(1))),
      m.br(LBL_OUT, i32.eq(m.get(L_ARG), i32.const(STUB_EXIT))),
    );
    // A transfer or mode change (STUB_JUMP), or a row after which the region must not go on
    // (L_PC < 0: its mapping may have changed; the jump cache checks the TLB again): enter
    // the next region directly if the jump cache has it, in the mode now in force.
    if (c.flat) {
      loopBody.push(m.if(i32.or(m.get(L_ARG), i32.lt_s(m.get(L_PC), i32.const(0))), m.block(null, [
        m.set(L_EIP, i32.load(EIP, 4, i32.const(0))),
        chain(c, i32.eqz(i32.load(EXIT_REQUEST, 4, i32.const(0))), i32.load(MODE, 4, i32.const(0))),
        m.br(LBL_OUT),
      ])));
    } else {
      loopBody.push(m.br(LBL_OUT, i32.or(m.get(L_ARG), i32.lt_s(m.get(L_PC), i32.const(0)))));
    }
    loopBody.push(...c.reloadState(), m.br(LBL_TOP));
  }
  const prologue: Expr[] = [
    i32.store(DBT_REGION, 4, i32.const(0), i32.const(slot)),
    ...c.reloadState(),
    m.set(L_BUDGET, i32.load(BUDGET, 4, i32.const(0))),
    m.set(L_NCTL, i32.load(DBT_NCTL, 4, i32.const(0))),
  ];
  if (c.usesMemory) {
    prologue.push(
      m.set(L_RMASK, i32.load(TLB_READ_MASK, 4, i32.const(0))),
      m.set(L_WMASK, i32.load(TLB_WRITE_MASK, 4, i32.const(0))),
    );
  }
  prologue.push(m.set(L_PC, m.get(L_ENTRY)));
  const epilogue: Expr[] = [
    i32.store(BUDGET, 4, i32.const(0), m.get(L_BUDGET)),
    i32.store(DBT_NCTL, 4, i32.const(0), m.get(L_NCTL)),
  ];
  if (c.usesSmc) epilogue.push(i32.store(DBT_INSN, 4, i32.const(0), m.get(L_SMCK)));
  return m.block(null, [
    ...prologue,
    m.block(LBL_OUT, [m.loop(LBL_TOP, m.block(null, loopBody))]),
    ...epilogue,
    m.get(L_CODE),
  ], m.i32Type);
}
