/**
 * Structured loops over a region's segments (region.ts). Without them every backward goto
 * (a loop's back edge, a call to a lower address, a return to an earlier call site) branches to
 * the function's outer loop and dispatches through one `br_table` over all segments, so every
 * guest loop of a region shares one Wasm loop header where all locals merge.
 *
 * Here each backward edge `from -> to` (segment indices, to <= from) asks for a Wasm loop
 * spanning segments [to, from]. Crossing intervals are merged until the intervals nest; each
 * becomes a `loop` around its segments (nested ones inside). A backward goto then branches to
 * the innermost loop that contains both ends; at its head, a `L_PC > start` test dispatches into
 * the loop's body through a `br_table` over the loop's own segments, and a back edge to the
 * loop's first segment (the common case) skips it. A forward goto into the middle of a loop
 * enters at the loop's head with L_PC set, and the head dispatches the same way.
 *
 * Invariant that makes the head's test sound: whenever a segment runs without having been
 * dispatched to, L_PC holds a segment index at or below it (set by the last dispatch, which
 * targeted an earlier or the same segment; execution then only moved forward). So control that
 * reaches a loop's head by falling into it or by a forward branch to its first segment never
 * finds L_PC above the head.
 */

/** A loop over segments [start, end]; `id` 0 is the whole function (not a Wasm loop of its own). */
export interface SegmentLoop {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  readonly parent: SegmentLoop | null;
  readonly children: SegmentLoop[];
}

/** Where a goto from one segment to another branches. */
export interface Route {
  /** The label to branch to. */
  readonly label: string;
  /** L_PC must hold the target segment (the branch lands at a dispatch). */
  readonly setPc: boolean;
  /** A backward edge: test EXIT_REQUEST first. */
  readonly back: boolean;
}

export class SegmentLoops {
  readonly root: SegmentLoop;
  /** The innermost loop containing each segment. */
  private readonly inner: SegmentLoop[];

  /**
   * `n` segments; `backEdges` as [from, to] pairs with to <= from (others are ignored);
   * `topLabel` names the function-level dispatch loop (context.ts LBL_TOP).
   */
  constructor(n: number, backEdges: readonly (readonly [number, number])[], private readonly topLabel: string) {
    const root: SegmentLoop = { id: 0, start: 0, end: n - 1, parent: null, children: [] };
    this.root = root;
    // Intervals, merged until no two cross (a < c <= b < d).
    let iv: [number, number][] = [];
    for (const [from, to] of backEdges) if (to <= from && to >= 0 && from < n) iv.push([to, from]);
    let changed = true;
    while (changed) {
      changed = false;
      iv.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
      const out: [number, number][] = [];
      for (const cur of iv) {
        const last = out.length > 0 ? out[out.length - 1] : null;
        if (last && last[0] === cur[0] && last[1] === cur[1]) continue;
        // Any earlier interval that crosses this one: merge into it.
        let merged = false;
        for (const o of out) {
          if (o[0] < cur[0] && cur[0] <= o[1] && o[1] < cur[1]) {
            o[1] = cur[1];
            merged = changed = true;
            break;
          }
        }
        if (!merged) out.push([cur[0], cur[1]]);
      }
      iv = out;
    }
    // Nest them (sorted by start, longest first, so a parent precedes its children).
    iv.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
    iv = iv.filter((x, k) => k === 0 || x[0] !== iv[k - 1][0] || x[1] !== iv[k - 1][1]);
    const stack: SegmentLoop[] = [root];
    let id = 1;
    for (const [start, end] of iv) {
      while (stack[stack.length - 1].end < start) stack.pop();
      const parent = stack[stack.length - 1];
      const loop: SegmentLoop = { id: id++, start, end, parent, children: [] };
      parent.children.push(loop);
      stack.push(loop);
    }
    this.inner = new Array<SegmentLoop>(n).fill(root);
    const mark = (l: SegmentLoop): void => {
      for (let k = l.start; k <= l.end; k++) this.inner[k] = l;
      for (const ch of l.children) mark(ch);
    };
    for (const ch of root.children) mark(ch);
  }

  /** The label of loop `l`'s head (a backward goto continues there). */
  loopLabel(l: SegmentLoop): string {
    return l.id === 0 ? this.topLabel : `lp${l.id}`;
  }

  /** The label of the block that ends right before the item starting at segment `k` of loop `l`. */
  itemLabel(l: SegmentLoop, k: number): string {
    return l.id === 0 ? `s${k}` : `s${k}_${l.id}`;
  }

  /** How a goto from segment `from` continues at the start of segment `to`. */
  route(from: number, to: number): Route {
    if (to <= from) {
      let l = this.inner[from];
      while (l.id !== 0 && to < l.start) l = l.parent as SegmentLoop;
      return { label: this.loopLabel(l), setPc: true, back: true };
    }
    let l = this.inner[from];
    while (l.id !== 0 && to > l.end) l = l.parent as SegmentLoop;
    // The item of l that holds `to`: the segment itself, or a child loop.
    let c = this.inner[to];
    while (c !== l && c.parent !== l) c = c.parent as SegmentLoop;
    if (c === l) return { label: this.itemLabel(l, to), setPc: false, back: false };
    return { label: this.itemLabel(l, c.start), setPc: to !== c.start, back: false };
  }

  /** The items of loop `l` in order: a segment index, or a child loop. */
  items(l: SegmentLoop): (number | SegmentLoop)[] {
    const out: (number | SegmentLoop)[] = [];
    let ci = 0;
    for (let k = l.start; k <= l.end; ) {
      const ch = ci < l.children.length ? l.children[ci] : null;
      if (ch && ch.start === k) {
        out.push(ch);
        k = ch.end + 1;
        ci++;
      } else {
        out.push(k++);
      }
    }
    return out;
  }
}
