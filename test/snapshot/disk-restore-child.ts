/**
 * Run by disk-snapshot.test.ts in a process of its own: restores a snapshot of the disk
 * workload (its drives reopened from the paths it records) onto a ManualClock at the
 * snapshot's time, runs STEPS slices, takes the machine's digest (disk state included; under
 * dbt without the dead flags, disk-image.ts withoutDeadFlags), then runs the workload to its
 * end and takes how it ended and the whole final digest; prints them as JSON.
 *
 *   node --import tsx test/snapshot/disk-restore-child.ts FILE ENGINE STEPS
 */
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../runtime/devices/clock.ts';
import { restorePc, snapshotInfo } from '../../runtime/snapshot/pc-snapshot.ts';
import { isEngine } from '../../runtime/vm.ts';
import { DISK_SLICE, diskDigestOf, diskImageOf, diskSteps } from './disk-image.ts';

const [file, engine, count] = process.argv.slice(2);
if (!file || !isEngine(engine) || !(Number(count) >= 0)) throw new Error('usage: disk-restore-child.ts FILE ENGINE STEPS');
const bytes = new Uint8Array(readFileSync(file));
const clock = new ManualClock(snapshotInfo(bytes).clockNs);
const pc = restorePc(bytes, { clock, engine });
await pc.vm.prepare();
diskSteps(pc, clock, Number(count));
const digest = diskDigestOf(diskImageOf(pc), engine === 'dbt');
let end: unknown = null;
for (let k = 0; k < 2000 && end === null; k++) {
  const r = pc.step(DISK_SLICE);
  if (r.reason !== 'budget') end = { reason: r.reason, ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}), serial: new TextDecoder().decode(pc.takeSerialOutput()) };
}
const final = diskDigestOf(diskImageOf(pc), false);
pc.closeDisks();
process.stdout.write(JSON.stringify({ digest, end, final }));
