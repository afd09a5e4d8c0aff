/**
 * QEMU's drive options for `wasmvisor run`: `-drive file=F[,format=raw|qcow2][,if=virtio|ide]
 * [,readonly=on][,snapshot=on]` (a comma list of key=value, `,,` for a comma inside the file
 * name, as QEMU), `-hda F` (the first IDE disk) and `-snapshot` (every drive snapshot=on).
 */
import type { DriveSpec } from '../../runtime/block/drive.ts';

/** QEMU's spellings of on/off. */
function onOff(key: string, v: string): boolean {
  if (['on', 'yes', 'true', ''].includes(v)) return true;
  if (['off', 'no', 'false'].includes(v)) return false;
  throw new Error(`-drive: ${key} must be on or off (got '${v}')`);
}

/** Parses the value of one `-drive` option. */
export function parseDriveOption(text: string): DriveSpec {
  // Split on single commas; ",," is a literal comma.
  const parts: string[] = [];
  let cur = '';
  for (let k = 0; k < text.length; k++) {
    if (text[k] === ',' && text[k + 1] === ',') {
      cur += ',';
      k++;
    } else if (text[k] === ',') {
      parts.push(cur);
      cur = '';
    } else cur += text[k];
  }
  parts.push(cur);
  const spec: Partial<DriveSpec> = {};
  for (const p of parts) {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    const v = eq < 0 ? '' : p.slice(eq + 1);
    switch (key) {
      case 'file': spec.file = v; break;
      case 'format':
        if (v !== 'raw' && v !== 'qcow2') throw new Error(`-drive: format must be raw or qcow2 (got '${v}')`);
        spec.format = v;
        break;
      case 'if':
        if (v !== 'virtio' && v !== 'ide') throw new Error(`-drive: if must be virtio or ide (got '${v}')`);
        spec.if = v;
        break;
      case 'readonly': spec.readOnly = onOff(key, v); break;
      case 'snapshot': spec.snapshot = onOff(key, v); break;
      case 'media':
        if (v !== 'disk') throw new Error(`-drive: only media=disk is supported (got '${v}')`);
        break;
      default: throw new Error(`-drive: unknown parameter '${key}' (file, format, if, readonly, snapshot are known)`);
    }
  }
  if (!spec.file) throw new Error('-drive needs file=FILE');
  return spec as DriveSpec;
}
