/**
 * The drive options of `wasmvisor run` (QEMU's `-drive`, `-hda`, `-snapshot`) and the `drives`
 * option of Machine.create: parsing, and what is refused before anything runs.
 */
import { describe, expect, it } from 'vitest';
import { parseArgs, helpText } from '../../src/cli/args.ts';
import { Machine } from '../../src/index.ts';

describe('drive options', () => {
  it('parses -drive as QEMU spells it, -hda as the first IDE disk, and -snapshot for every drive', () => {
    const a = parseArgs(['run', '-drive', 'file=a,,b.img,format=qcow2,if=virtio,readonly=on', '-hda', 'c.raw', '-drive', 'file=d.raw,snapshot=on,media=disk']);
    expect(a).toMatchObject({
      drives: [
        { file: 'a,b.img', format: 'qcow2', if: 'virtio', readOnly: true },
        { file: 'c.raw', if: 'ide' },
        { file: 'd.raw', snapshot: true },
      ],
    });
    const b = parseArgs(['run', '-hda', 'x.raw', '-drive', 'file=y.qcow2,readonly=off', '-snapshot']);
    expect(b).toMatchObject({ drives: [{ file: 'x.raw', if: 'ide', snapshot: true }, { file: 'y.qcow2', readOnly: false, snapshot: true }] });
    expect(parseArgs(['run'])).toMatchObject({ drives: [] });
    expect(helpText('run')).toMatch(/-drive, --drive SPEC .*file=F\[,format=raw\|qcow2\]/);
  });

  it('rejects what it does not know, naming it', () => {
    expect(() => parseArgs(['run', '-drive', 'format=raw'])).toThrow(/-drive needs file=FILE/);
    expect(() => parseArgs(['run', '-drive', 'file=x,format=vmdk'])).toThrow(/format must be raw or qcow2/);
    expect(() => parseArgs(['run', '-drive', 'file=x,if=scsi'])).toThrow(/if must be virtio or ide/);
    expect(() => parseArgs(['run', '-drive', 'file=x,cache=none'])).toThrow(/unknown parameter 'cache'/);
    expect(() => parseArgs(['run', '-drive', 'file=x,readonly=maybe'])).toThrow(/readonly must be on or off/);
  });

  it('Machine.create checks drives before opening anything, and reports an image it cannot open', async () => {
    const kernel = new Uint8Array(16);
    await expect(Machine.create({ kernel, drives: [{ file: '' }] })).rejects.toThrow(/drives\[0\]\.file/);
    await expect(Machine.create({ kernel, drives: [{ file: 'x', if: 'scsi' as 'ide' }] })).rejects.toThrow(/drives\[0\]\.if/);
    await expect(Machine.create({ kernel, drives: [{ file: 'x', cache: 'none' } as never] })).rejects.toThrow(/unknown field 'cache'/);
    const five = Array.from({ length: 5 }, () => ({ file: 'x' }));
    await expect(Machine.create({ kernel, drives: five })).rejects.toThrow(/at most 4 virtio disks/);
    await expect(Machine.create({ kernel, drives: [{ file: '/nonexistent/disk.img', format: 'raw' }] })).rejects.toThrow(/cannot open \/nonexistent\/disk\.img/);
  });
});
