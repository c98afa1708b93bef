/**
 * Minimal zip reader and writer for PyTorch checkpoints.
 *
 * Why our own instead of `yauzl`/`adm-zip`: a checkpoint is a handful of entries that are stored (PyTorch never
 * compresses them) and may weigh gigabytes, so what we need is "where does entry X start in the file" plus
 * positional reads — a central-directory walk of ~150 lines. `adm-zip` loads the whole file into memory and
 * `yauzl` is stream/callback based; neither can write the 64-byte aligned stored entries PyTorch produces.
 * Deflated entries (a zip re-packed by another tool) are still read, through node:zlib.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { asModelFileError, ModelFileError } from '../errors';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** Deflate cannot expand more than ~1032:1; a directory claiming more is lying about its sizes. */
const MAX_DEFLATE_RATIO = 1032;
/**
 * All entries read from one archive together may produce at most this many times the file's size. PyTorch stores
 * entries uncompressed (ratio 1), and re-packed float weights barely compress, so honest checkpoints stay far
 * below it while a zip bomb or entries overlapping the same bytes are cut off before they allocate.
 */
const READ_BUDGET_FACTOR = 16;
/** …with a floor so tiny archives of compressible test data still open. */
const MIN_READ_BUDGET = 16 * 1024 * 1024;

export interface ZipOpenOptions {
  /** Most bytes all `read()` calls together may return; default max(16 × file size, 16 MiB). */
  maxTotalBytes?: number;
}

/** An open zip file: read its directory once, then read entries on demand by position. */
export class ZipReader {
  private constructor(
    private readonly fh: FileHandle,
    readonly file: string,
    readonly fileSize: number,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    /** bytes `read()` may still return */
    private budget: number,
  ) {}

  static async open(file: string, options: ZipOpenOptions = {}): Promise<ZipReader> {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const entries = await readCentralDirectory(fh, file, size);
      const budget = options.maxTotalBytes ?? Math.max(READ_BUDGET_FACTOR * size, MIN_READ_BUDGET);
      return new ZipReader(fh, file, size, entries, budget);
    } catch (err) {
      await fh.close();
      // A hostile directory can provoke RangeErrors in DataView reads; the user still needs the file's name.
      throw asModelFileError(file, err, 'is not a readable zip archive');
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Bytes of one entry, decompressed and CRC-checked, in a fresh (8-byte aligned) buffer. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    // Charge the budget before allocating: the declared size is all we know yet, and inflate is capped to it.
    if (entry.size + entry.compressedSize > this.budget) {
      throw new ModelFileError(
        this.file,
        `${this.file}: zip entry ${entry.name} would unpack to more data than a ${this.fileSize}-byte file can honestly hold`,
      );
    }
    this.budget -= entry.size + entry.compressedSize;
    const local = await readExactly(this.fh, this.file, entry.localHeaderOffset, 30, this.fileSize);
    const view = new DataView(local.buffer, local.byteOffset, local.byteLength);
    if (view.getUint32(0, true) !== SIG_LOCAL) {
      throw new ModelFileError(this.file, `${this.file}: zip entry ${entry.name} has no local header (damaged file)`);
    }
    const dataStart = entry.localHeaderOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
    const raw = await readExactly(this.fh, this.file, dataStart, entry.compressedSize, this.fileSize, entry.name);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else if (entry.method === 8) {
      try {
        // maxOutputLength stops a bomb at its declared size instead of after it has filled memory.
        data = new Uint8Array(inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) }));
      } catch (cause) {
        throw new ModelFileError(this.file, `${this.file}: zip entry ${entry.name} does not inflate to its declared size (damaged file)`, { cause });
      }
      if (data.byteLength !== entry.size) {
        throw new ModelFileError(this.file, `${this.file}: zip entry ${entry.name} inflates to the wrong size`);
      }
    } else {
      throw new ModelFileError(this.file, `${this.file}: zip entry ${entry.name} uses compression method ${entry.method}, which is not supported`);
    }
    if (crc32(data) >>> 0 !== entry.crc32) {
      throw new ModelFileError(this.file, `${this.file}: zip entry ${entry.name} fails its CRC check (damaged file)`);
    }
    return data;
  }
}

async function readExactly(
  fh: FileHandle,
  file: string,
  position: number,
  length: number,
  fileSize: number,
  what?: string,
): Promise<Uint8Array> {
  if (position + length > fileSize) {
    const subject = what ? `zip entry ${what}` : 'zip data';
    throw new ModelFileError(file, `${file}: ${subject} runs past the end of the file (truncated download?)`);
  }
  // A fresh ArrayBuffer per read keeps typed-array views over it aligned.
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, position + done);
    if (bytesRead === 0) throw new ModelFileError(file, `${file}: unexpected end of file`);
    done += bytesRead;
  }
  return out;
}

async function readCentralDirectory(fh: FileHandle, file: string, fileSize: number): Promise<Map<string, ZipEntry>> {
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tail = await readExactly(fh, file, fileSize - tailLength, tailLength, fileSize);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new ModelFileError(file, `${file}: not a zip archive, or truncated (no end-of-central-directory record)`);
  }
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // Zip64: a locator sits right before the classic record and points at the 64-bit one.
    const loc = eocd - 20;
    if (loc < 0 || tv.getUint32(loc, true) !== SIG_ZIP64_LOCATOR) {
      throw new ModelFileError(file, `${file}: zip64 archive without a zip64 locator (damaged file)`);
    }
    const z64Offset = Number(tv.getBigUint64(loc + 8, true));
    const z = await readExactly(fh, file, z64Offset, 56, fileSize);
    const zv = new DataView(z.buffer);
    if (zv.getUint32(0, true) !== SIG_ZIP64_EOCD) {
      throw new ModelFileError(file, `${file}: zip64 end record is missing (damaged file)`);
    }
    count = Number(zv.getBigUint64(32, true));
    cdSize = Number(zv.getBigUint64(40, true));
    cdOffset = Number(zv.getBigUint64(48, true));
  }
  const cd = await readExactly(fh, file, cdOffset, cdSize, fileSize);
  const cv = new DataView(cd.buffer);
  const decoder = new TextDecoder();
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cv.getUint32(p, true) !== SIG_CENTRAL) {
      throw new ModelFileError(file, `${file}: zip central directory is damaged`);
    }
    const method = cv.getUint16(p + 10, true);
    const crc = cv.getUint32(p + 16, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let size = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true);
    const extraLen = cv.getUint16(p + 30, true);
    const commentLen = cv.getUint16(p + 32, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) {
      throw new ModelFileError(file, `${file}: zip central directory is damaged`);
    }
    const name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extra field (id 1) carries, in order, only the fields whose 32-bit slot is saturated.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      const fieldEnd = e + 4 + len;
      if (fieldEnd > extraEnd) throw new ModelFileError(file, `${file}: zip entry ${name} has a damaged extra field`);
      if (id === 1) {
        let q = e + 4;
        const u64 = (): number => {
          if (q + 8 > fieldEnd) throw new ModelFileError(file, `${file}: zip entry ${name} has a damaged zip64 field`);
          const v = Number(cv.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = u64();
        if (compressedSize === 0xffffffff) compressedSize = u64();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64();
      }
      e = fieldEnd;
    }
    checkEntrySizes(file, { name, method, compressedSize, size, localHeaderOffset }, fileSize);
    // Two entries of one name make "which one is the checkpoint" ambiguous: a classic way to smuggle data.
    if (entries.has(name)) throw new ModelFileError(file, `${file}: zip archive holds ${name} twice`);
    entries.set(name, { name, method, crc32: crc, compressedSize, size, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Sizes the directory declares must be possible for an entry of this file before anything is read. */
function checkEntrySizes(file: string, e: Omit<ZipEntry, 'crc32'>, fileSize: number): void {
  if (e.localHeaderOffset + 30 + e.compressedSize > fileSize) {
    throw new ModelFileError(file, `${file}: zip entry ${e.name} runs past the end of the file (truncated download?)`);
  }
  if (e.method === 0 && e.size !== e.compressedSize) {
    throw new ModelFileError(file, `${file}: stored zip entry ${e.name} declares ${e.size} bytes but holds ${e.compressedSize}`);
  }
  if (e.method === 8 && e.size > e.compressedSize * MAX_DEFLATE_RATIO + 1024) {
    throw new ModelFileError(file, `${file}: zip entry ${e.name} claims to inflate ${e.compressedSize} bytes to ${e.size}, which deflate cannot do`);
  }
}

/** One entry to write; the data is written as-is ("stored"). */
export interface ZipWriteEntry {
  name: string;
  data: Uint8Array;
}

/** PyTorch aligns every record's data to 64 bytes (so storages can be mmapped); we do the same. */
const DATA_ALIGNMENT = 64;
/** DOS date for 1980-01-01: fixed, so the same weights always give the same bytes. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/**
 * Writes a zip of stored entries the way PyTorch's PyTorchStreamWriter does: each local header carries an
 * "FB" extra field whose padding puts the entry's data on a 64-byte boundary. Classic (non-zip64) records only:
 * archives past 4 GiB are refused, which no model Tandem writes comes near.
 */
export async function writeStoredZip(file: string, entries: readonly ZipWriteEntry[]): Promise<void> {
  const encoder = new TextEncoder();
  const fh = await open(file, 'w');
  try {
    let offset = 0;
    const central: Uint8Array[] = [];
    const write = async (bytes: Uint8Array): Promise<void> => {
      let done = 0;
      while (done < bytes.byteLength) {
        const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, offset + done);
        done += bytesWritten;
      }
      offset += bytes.byteLength;
    };
    for (const entry of entries) {
      const name = encoder.encode(entry.name);
      const size = entry.data.byteLength;
      const headerOffset = offset;
      const unpadded = headerOffset + 30 + name.byteLength + 4;
      const padding = (DATA_ALIGNMENT - (unpadded % DATA_ALIGNMENT)) % DATA_ALIGNMENT;
      if (headerOffset + 30 + name.byteLength + 4 + padding + size >= 0xffffffff) {
        throw new ModelFileError(file, `${file}: archive would exceed 4 GiB, which this writer does not support`);
      }
      const crc = crc32(entry.data) >>> 0;
      const local = new Uint8Array(30 + name.byteLength + 4 + padding);
      const lv = new DataView(local.buffer);
      lv.setUint32(0, SIG_LOCAL, true);
      lv.setUint16(4, 20, true); // version needed: 2.0
      lv.setUint16(6, 0, true); // flags
      lv.setUint16(8, 0, true); // stored
      lv.setUint16(10, 0, true); // time
      lv.setUint16(12, DOS_DATE, true);
      lv.setUint32(14, crc, true);
      lv.setUint32(18, size, true);
      lv.setUint32(22, size, true);
      lv.setUint16(26, name.byteLength, true);
      lv.setUint16(28, 4 + padding, true);
      local.set(name, 30);
      const x = 30 + name.byteLength;
      lv.setUint8(x, 0x46); // 'F'
      lv.setUint8(x + 1, 0x42); // 'B'
      lv.setUint16(x + 2, padding, true);
      local.fill(0x5a, x + 4); // 'Z', as PyTorch pads
      await write(local);
      await write(entry.data);

      const c = new Uint8Array(46 + name.byteLength);
      const cv = new DataView(c.buffer);
      cv.setUint32(0, SIG_CENTRAL, true);
      cv.setUint16(4, 20, true); // made by
      cv.setUint16(6, 20, true); // needed
      cv.setUint16(12, 0, true);
      cv.setUint16(14, DOS_DATE, true);
      cv.setUint32(16, crc, true);
      cv.setUint32(20, size, true);
      cv.setUint32(24, size, true);
      cv.setUint16(28, name.byteLength, true);
      cv.setUint32(42, headerOffset, true);
      c.set(name, 46);
      central.push(c);
    }
    const cdOffset = offset;
    let cdSize = 0;
    for (const c of central) {
      await write(c);
      cdSize += c.byteLength;
    }
    const eocd = new Uint8Array(EOCD_SIZE);
    const ev = new DataView(eocd.buffer);
    ev.setUint32(0, SIG_EOCD, true);
    ev.setUint16(8, entries.length, true);
    ev.setUint16(10, entries.length, true);
    ev.setUint32(12, cdSize, true);
    ev.setUint32(16, cdOffset, true);
    await write(eocd);
  } finally {
    await fh.close();
  }
}
