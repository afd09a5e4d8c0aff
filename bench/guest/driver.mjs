// bench:guest's driver for our VM: runs THE BUILT PACKAGE (dist/src/index.js, the public Machine
// API) under plain node, as an embedder would. bench/guest/runners.ts spawns it:
//
//   node bench/guest/driver.mjs DIST_INDEX_JS KERNEL INITRD MEMORY_BYTES CMDLINE
//
// stdout: the guest's serial console, byte for byte, as it comes (the parent timestamps lines).
// fd 3:   JSON lines for the parent:
//   {"type":"hello", node, execArgv, nodeOptions, importMs}     the package is loaded
//   {"type":"started", createMs}                                 Machine.create + start() done
//   {"type":"stats", workload, n, delta}                         at a workload's end line
//   {"type":"exit", reason, exitCode, detail, total}            the machine stopped
// `delta` is machine.stats() at the end line minus machine.stats() at the start line ("boot": at
// the init line minus at start()), flattened to "group.key" paths; every numeric leaf is there,
// so counters added to MachineStats later show up without changes here.
// stderr: errors. No signal handlers: SIGTERM/SIGKILL end it at once, even when the guest has the
// event loop (a slice that does not return).
import { Buffer } from 'node:buffer';
import { readFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [distIndex, kernelPath, initrdPath, memoryText, cmdline] = process.argv.slice(2);
if (!cmdline) {
  process.stderr.write('usage: node driver.mjs DIST_INDEX_JS KERNEL INITRD MEMORY_BYTES CMDLINE\n');
  process.exit(2);
}

/** One JSON line to the parent on fd 3. */
function report(message) {
  const bytes = Buffer.from(JSON.stringify(message) + '\n');
  for (let off = 0; off < bytes.length; ) off += writeSync(3, bytes, off, bytes.length - off);
}

/** Numeric leaves of a stats object as { "a.b": n }. */
function flatten(value, prefix = '', out = {}) {
  if (typeof value === 'number') out[prefix] = value;
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

/** after - before for every key of either (a key missing on one side counts as 0). */
function delta(after, before) {
  const out = {};
  for (const k of new Set([...Object.keys(after), ...Object.keys(before)])) out[k] = (after[k] ?? 0) - (before[k] ?? 0);
  return out;
}

const t0 = performance.now();
const { Machine } = await import(pathToFileURL(distIndex).href);
report({ type: 'hello', node: process.version, execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS ?? '', importMs: performance.now() - t0 });

const machine = await Machine.create({
  kernel: new Uint8Array(readFileSync(kernelPath)),
  initrd: new Uint8Array(readFileSync(initrdPath)),
  cmdline,
  memory: Number(memoryText),
});

let snapshot = {};
let open = null; // { workload, n } between a start line and its end line
let partial = '';
const PREFIX = '@wvb ';

/** Takes the statistics at the bench's own console lines. */
function onLine(line) {
  const at = line.indexOf(PREFIX);
  if (at < 0) return;
  const words = line.slice(at + PREFIX.length).trim().split(/\s+/);
  if (words[0] === 'init') {
    const now = flatten(machine.stats());
    report({ type: 'stats', workload: 'boot', n: 1, delta: delta(now, snapshot) });
  } else if (words[0] === 'start') {
    snapshot = flatten(machine.stats());
    const n = /^n=(\d+)$/.exec(words[2] ?? '');
    open = { workload: words[1], n: n ? Number(n[1]) : 1 };
  } else if (words[0] === 'end' && open && words[1] === open.workload) {
    report({ type: 'stats', workload: open.workload, n: open.n, delta: delta(flatten(machine.stats()), snapshot) });
    open = null;
  }
}

machine.serial.output.on('data', (chunk) => {
  process.stdout.write(chunk);
  const text = partial + chunk.toString('latin1');
  const lines = text.split('\n');
  partial = lines.pop() ?? '';
  if (partial.length > 65536) partial = partial.slice(-4096);
  for (const l of lines) onLine(l.replace(/\r/g, ''));
});

await machine.start();
snapshot = flatten(machine.stats());
report({ type: 'started', createMs: performance.now() - t0 });

const exit = await machine.exited;
report({ type: 'exit', reason: exit.reason, exitCode: exit.exitCode, detail: exit.detail ?? '', total: flatten(machine.stats()) });
// Let stdout drain, then leave even if a timer of the machine is still pending.
process.stdout.write('', () => process.exit(0));
