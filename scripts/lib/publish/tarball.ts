// A byte-reproducible .tar.gz of one file, made here rather than with tar(1): GNU tar's --sort and
// --mtime flags are not in macOS's bsdtar, and one regular file needs only a ustar header. Every
// field that could vary is fixed (mtime 0, uid/gid 0, no user or group names, mode 0644), and so
// is the gzip header (mtime 0, no file name, OS byte "Unix"), so the same bytes in give the same
// archive, and so the same layer digest, every time.
import { gunzipSync, gzipSync } from 'node:zlib';

const BLOCK = 512;

/** Octal, zero-padded to `width - 1` digits and NUL-terminated, as ustar writes numbers. */
function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (offset: number, text: string) => h.write(text, offset, 'latin1');
  put(0, name);
  put(100, octal(0o644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(0, 12));
  put(148, '        '); // the checksum is computed over these eight spaces
  put(156, '0');
  put(257, 'ustar\0');
  put(263, '00');
  put(329, octal(0, 8));
  put(337, octal(0, 8));
  let sum = 0;
  for (const byte of h) sum += byte;
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** A tar archive holding `name` (at its root) with `content`. */
export function tarOneFile(name: string, content: Buffer): Buffer {
  if (Buffer.byteLength(name) > 100 || name.includes('/')) throw new Error(`tar entry ${name}: a plain file name of at most 100 bytes`);
  const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
  return Buffer.concat([header(name, content.length), content, Buffer.alloc(padding), Buffer.alloc(2 * BLOCK)]);
}

/** Offset 9 of a gzip header: the OS that wrote it. zlib puts its build's OS there (3 on Linux, 19 on macOS). */
const GZIP_OS = 9;
const GZIP_OS_UNIX = 3;

/** `tarOneFile`, gzipped at level 9 with a fixed header. */
export function tarGzOneFile(name: string, content: Buffer): Buffer {
  const gz = gzipSync(tarOneFile(name, content), { level: 9 });
  gz[GZIP_OS] = GZIP_OS_UNIX;
  return gz;
}

/** The entries of a ustar archive (regular files only), for tests and for reading an artifact back. */
export function readTarGz(archive: Buffer): Array<{ name: string; mode: number; mtime: number; content: Buffer }> {
  const tar = gunzipSync(archive);
  const entries: Array<{ name: string; mode: number; mtime: number; content: Buffer }> = [];
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const h = tar.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const field = (start: number, length: number) => h.subarray(start, start + length).toString('latin1').replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12), 8);
    const start = offset + BLOCK;
    entries.push({ name: field(0, 100), mode: Number.parseInt(field(100, 8), 8), mtime: Number.parseInt(field(136, 12), 8), content: tar.subarray(start, start + size) });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
