/**
 * Emits protocol-2 pickle opcodes, the subset `torch.save` itself produces for a state dict. Globals are written
 * once and fetched from the memo afterwards, as CPython's pickler does.
 */
export class PickleWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private memoCount = 0;
  private readonly globals = new Map<string, number>();
  private readonly encoder = new TextEncoder();

  constructor() {
    this.bytes(0x80, 2); // PROTO 2
  }

  private bytes(...b: number[]): void {
    this.push(Uint8Array.from(b));
  }

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.size += chunk.byteLength;
  }

  private u32(op: number, n: number): void {
    const b = new Uint8Array(5);
    b[0] = op;
    new DataView(b.buffer).setUint32(1, n, true);
    this.push(b);
  }

  mark(): void {
    this.bytes(0x28);
  }

  /** Ends a MARK-opened tuple. */
  tuple(): void {
    this.bytes(0x74);
  }

  emptyTuple(): void {
    this.bytes(0x29);
  }

  emptyDict(): void {
    this.bytes(0x7d);
    this.memoize();
  }

  setItems(): void {
    this.bytes(0x75);
  }

  reduce(): void {
    this.bytes(0x52);
  }

  binPersId(): void {
    this.bytes(0x51);
  }

  bool(v: boolean): void {
    this.bytes(v ? 0x88 : 0x89);
  }

  int(n: number): void {
    if (!Number.isSafeInteger(n)) throw new RangeError(`cannot pickle ${n} as an int`);
    if (n >= 0 && n < 0x100) this.bytes(0x4b, n);
    else if (n >= 0 && n < 0x10000) this.bytes(0x4d, n & 0xff, n >> 8);
    else if (n >= -0x80000000 && n < 0x80000000) {
      const b = new Uint8Array(5);
      b[0] = 0x4a;
      new DataView(b.buffer).setInt32(1, n, true);
      this.push(b);
    } else {
      // LONG1: little-endian two's complement, as short as it can be.
      let v = BigInt(n);
      const out: number[] = [];
      for (;;) {
        const byte = Number(v & 0xffn);
        out.push(byte);
        v >>= 8n;
        if ((v === 0n && !(byte & 0x80)) || (v === -1n && byte & 0x80)) break;
      }
      this.bytes(0x8a, out.length, ...out);
    }
  }

  intTuple(values: readonly number[]): void {
    if (values.length === 0) return this.emptyTuple();
    if (values.length > 3) this.mark();
    for (const v of values) this.int(v);
    if (values.length === 1) this.bytes(0x85);
    else if (values.length === 2) this.bytes(0x86);
    else if (values.length === 3) this.bytes(0x87);
    else this.tuple();
  }

  string(s: string): void {
    const b = this.encoder.encode(s);
    this.u32(0x58, b.byteLength); // BINUNICODE
    this.push(b);
  }

  global(module: string, name: string): void {
    const key = `${module}\n${name}\n`;
    const slot = this.globals.get(key);
    if (slot !== undefined) {
      this.get(slot);
      return;
    }
    this.bytes(0x63);
    this.push(this.encoder.encode(key));
    this.globals.set(key, this.memoize());
  }

  private memoize(): number {
    const slot = this.memoCount++;
    if (slot < 0x100) this.bytes(0x71, slot);
    else this.u32(0x72, slot);
    return slot;
  }

  private get(slot: number): void {
    if (slot < 0x100) this.bytes(0x68, slot);
    else this.u32(0x6a, slot);
  }

  finish(): Uint8Array {
    this.bytes(0x2e); // STOP
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  }
}
