/**
 * Writes fp16 safetensors shards of random values tensor by tensor, for full-size benchmark checkpoints (a 7B
 * is 7e9 values): nothing but one chunk buffer is ever in memory, and the values come from a table lookup
 * per 16 random bits instead of a float conversion per value, so disk speed, not the generator, sets the pace.
 */
import { open, rename, rm } from 'node:fs/promises';
import { floatToHalf } from '../src/main/core/weights/safetensors';

export interface HalfTensorPlan {
  name: string;
  shape: number[];
  /** values are uniform with this mean and standard deviation */
  mean: number;
  std: number;
}

/** Values per write: 16 MB of fp16, big enough for sequential disk speed, small enough to be invisible in RSS. */
const CHUNK_VALUES = 8 * 1024 * 1024;

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** 65 536 evenly spaced fp16 values spanning U(mean − √3·std, mean + √3·std): 16 random bits pick one. */
function uniformHalfTable(mean: number, std: number): Uint16Array {
  const a = std * Math.sqrt(3);
  const table = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = floatToHalf(mean + (((i + 0.5) / 65536) * 2 - 1) * a);
  return table;
}

/** xorshift32 over a table: two fp16 values per 32 random bits. Not for statistics; only sizes matter here. */
class HalfFiller {
  private state: number;
  private readonly tables = new Map<string, Uint16Array>();

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  private table(mean: number, std: number): Uint16Array {
    const key = `${mean}/${std}`;
    let t = this.tables.get(key);
    if (!t) this.tables.set(key, (t = uniformHalfTable(mean, std)));
    return t;
  }

  /** Fills `out` (an even-length view at a 4-byte-aligned offset) with values of the tensor's distribution. */
  fill(out: Uint16Array, mean: number, std: number): void {
    const t = this.table(mean, std);
    const pairs = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 1);
    let x = this.state;
    for (let i = 0; i < pairs.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      pairs[i] = (t[x & 0xffff]! | (t[x >>> 16]! << 16)) >>> 0;
    }
    if (out.length & 1) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[out.length - 1] = t[x & 0xffff]!;
    }
    this.state = x;
  }
}

/** The safetensors header for tensors laid out in name order (as the safetensors library writes them). */
function header(tensors: readonly HalfTensorPlan[]): { bytes: Buffer; order: HalfTensorPlan[]; dataBytes: number } {
  const order = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const json: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of order) {
    const size = numel(t.shape) * 2;
    json[t.name] = { dtype: 'F16', shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let text = JSON.stringify(json);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const body = Buffer.from(text, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(body.byteLength));
  return { bytes: Buffer.concat([len, body]), order, dataBytes: offset };
}

export interface HalfShardWriter {
  /** Writes one shard file (renamed into place when complete); `onBytes` gets the data bytes written so far. */
  write(path: string, tensors: readonly HalfTensorPlan[], onBytes?: (bytes: number) => void): Promise<number>;
}

export function halfShardWriter(seed: number): HalfShardWriter {
  const filler = new HalfFiller(seed);
  // Two buffers: one is filled while the other is on its way to disk.
  const buffers = [new Uint16Array(CHUNK_VALUES), new Uint16Array(CHUNK_VALUES)];
  return {
    async write(path, tensors, onBytes) {
      const { bytes, order, dataBytes } = header(tensors);
      const tmp = `${path}.tmp-${process.pid}`;
      const fh = await open(tmp, 'w');
      try {
        let pos = 0;
        const put = async (b: Uint8Array, at: number) => {
          let done = 0;
          while (done < b.byteLength) {
            const r = await fh.write(b, done, b.byteLength - done, at + done);
            done += r.bytesWritten;
          }
        };
        await put(bytes, 0);
        pos += bytes.byteLength;
        let written = 0;
        let pending: Promise<void> = Promise.resolve();
        let which = 0;
        for (const t of order) {
          let left = numel(t.shape);
          while (left > 0) {
            const n = Math.min(left, CHUNK_VALUES);
            const buf = buffers[which]!.subarray(0, n);
            which ^= 1;
            filler.fill(buf, t.mean, t.std);
            await pending;
            pending = put(new Uint8Array(buf.buffer, buf.byteOffset, n * 2), pos).then(() => {
              written += n * 2;
              onBytes?.(written);
            });
            pos += n * 2;
            left -= n;
          }
        }
        await pending;
        if (written !== dataBytes) throw new Error(`${path}: wrote ${written} of ${dataBytes} bytes`);
      } catch (err) {
        await fh.close();
        await rm(tmp, { force: true });
        throw err;
      }
      await fh.close();
      await rename(tmp, path);
      return bytes.byteLength + dataBytes;
    },
  };
}
