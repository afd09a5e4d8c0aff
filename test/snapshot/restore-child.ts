/**
 * Run by snapshot.test.ts in a process of its own: restores a snapshot file onto a ManualClock
 * at the snapshot's time, runs STEPS more slices of the workload (workload.ts `steps`) and
 * prints the machine's digest as JSON.
 *
 *   node --import tsx test/snapshot/restore-child.ts FILE ENGINE STEPS
 */
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { restorePc, snapshotInfo } from '../../runtime/snapshot/pc-snapshot.ts';
import { isEngine } from '../../runtime/vm.ts';
import { digestOf, imageOf, steps } from './workload.ts';

const [file, engine, count] = process.argv.slice(2);
if (!file || !isEngine(engine) || !(Number(count) >= 0)) throw new Error('usage: restore-child.ts FILE ENGINE STEPS');
const bytes = new Uint8Array(readFileSync(file));
const clock = new ManualClock(snapshotInfo(bytes).clockNs);
const pc = restorePc(bytes, { clock, engine });
await pc.vm.prepare();
steps(pc, clock, Number(count));
process.stdout.write(JSON.stringify({ digest: digestOf(imageOf(pc)), serial: new TextDecoder().decode(pc.takeSerialOutput()) }));
