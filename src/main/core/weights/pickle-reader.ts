/**
 * A pickle interpreter that never runs code. It understands the opcodes `torch.save` emits (protocol 2, and the
 * protocol 4/5 framing opcodes for files saved by other tools) and models every object as plain data. A GLOBAL is
 * only a name: the caller decides, through `resolveGlobal`, what each allowed name means when REDUCEd, and any name
 * it does not know stops the load.
 */

export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}
export class PickleList {
  constructor(readonly items: PickleValue[]) {}
}
export type PickleKey = string | number | bigint | boolean | null;
export class PickleDict {
  readonly map = new Map<PickleKey, PickleValue>();
  /** Attributes set by BUILD (e.g. a state dict's `_metadata`); kept but never interpreted. */
  state: PickleValue | undefined;
}
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}
/** The argument of a BINPERSID: PyTorch uses it to point at a storage record. */
export class PicklePersistentId {
  constructor(readonly id: PickleValue) {}
}
/** Anything the host builds from a REDUCE (tensors, storages…). */
export class PickleOpaque<T = unknown> {
  constructor(
    readonly kind: string,
    readonly value: T,
  ) {}
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleTuple
  | PickleList
  | PickleDict
  | PickleGlobal
  | PicklePersistentId
  | PickleOpaque;

export interface PickleHost {
  /**
   * Called for every GLOBAL/STACK_GLOBAL. Return normally to allow the name (it stays a PickleGlobal on the stack);
   * throw to refuse the whole pickle.
   */
  checkGlobal(global: PickleGlobal): void;
  /** REDUCE / NEWOBJ: `callable(*args)`. */
  call(callable: PickleGlobal, args: readonly PickleValue[]): PickleValue;
  /** BINPERSID: resolve an external reference (PyTorch storages). */
  persistentLoad(id: PickleValue): PickleValue;
}

export class PickleError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'PickleError';
  }
}

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

/**
 * Longest LONG1/LONG4 payload accepted. torch only pickles sizes, strides and offsets (< 2^63, 9 bytes at most);
 * a bigger integer has no business in a weights file and BigInt arithmetic on it is what made huge ones slow.
 */
export const MAX_LONG_BYTES = 16;

export function unpickle(data: Uint8Array, host: PickleHost): PickleValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  let result: PickleValue = null;

  const fail = (message: string): never => {
    throw new PickleError(message, pos);
  };
  const need = (n: number): void => {
    if (pos + n > data.byteLength) fail('pickle ends in the middle of an instruction (truncated file?)');
  };
  const u8 = (): number => {
    need(1);
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('pickle length field is too large');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    // A negative length would move `pos` backwards and replay the same opcodes forever.
    if (!Number.isSafeInteger(n) || n < 0) fail(`pickle declares a negative or invalid length (${n})`);
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail('pickle ends in the middle of a text line');
    const s = latin1.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    try {
      return utf8.decode(bytes(n));
    } catch {
      return fail('pickle holds a string that is not valid UTF-8');
    }
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined) return fail('pickle pops from an empty stack');
    if (v === MARK) return fail('pickle pops a MARK as a value');
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail('pickle expects a value on the stack');
    return v;
  };
  const popMark = (): PickleValue[] => {
    const items: PickleValue[] = [];
    for (;;) {
      const v = stack.pop();
      if (v === undefined) return fail('pickle has no MARK to pop to');
      if (v === MARK) break;
      items.push(v);
    }
    return items.reverse();
  };
  const toKey = (v: PickleValue): PickleKey => {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v;
    return fail('pickle uses an unsupported dictionary key type');
  };
  const setItems = (target: PickleValue, items: readonly PickleValue[]): void => {
    if (!(target instanceof PickleDict)) fail('pickle sets items on something that is not a dict');
    const dict = target as PickleDict;
    if (items.length % 2) fail('pickle SETITEMS has an odd number of values');
    for (let i = 0; i < items.length; i += 2) dict.map.set(toKey(items[i]!), items[i + 1]!);
  };
  const appendItems = (target: PickleValue, items: readonly PickleValue[]): void => {
    if (!(target instanceof PickleList)) fail('pickle appends to something that is not a list');
    // push(...items) passes every item as an argument: a million of them overflow the call stack.
    const list = (target as PickleList).items;
    for (const item of items) list.push(item);
  };
  const pushGlobal = (module: string, name: string): void => {
    const g = new PickleGlobal(module, name);
    host.checkGlobal(g);
    stack.push(g);
  };
  const memoGet = (i: number): PickleValue => {
    const v = memo.get(i);
    if (v === undefined) return fail(`pickle reads memo slot ${i}, which was never written`);
    return v;
  };
  const reduce = (callable: PickleValue, args: PickleValue): PickleValue => {
    if (!(callable instanceof PickleGlobal)) return fail('pickle calls something that is not an allowed global');
    if (!(args instanceof PickleTuple)) return fail('pickle calls a global without an argument tuple');
    return host.call(callable, args.items);
  };

  for (;;) {
    const start = pos;
    const op = u8();
    const stopped = execute(op);
    // Every opcode consumes at least its own byte; anything else means a length sent us backwards.
    if (pos <= start) fail('pickle reader did not move forward');
    if (stopped) return result;
  }

  /** Runs one opcode; true at STOP, whose value is left in `result`. */
  function execute(op: number): boolean {
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol is newer than 5');
        break;
      case 0x95: // FRAME (protocol 4): a length prefix we can ignore
        u64();
        break;
      case 0x2e: // STOP
        result = pop();
        return true;
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack.pop() === undefined) fail('pickle pops from an empty stack');
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        const n = op === 0x8a ? u8() : u32();
        if (n > MAX_LONG_BYTES) fail(`pickle holds a ${n}-byte integer, far larger than any tensor size`);
        stack.push(decodeLong(bytes(n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (py2 str): treat as latin1 text, as `encoding='latin1'` loading does
        stack.push(latin1.decode(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PickleTuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new PickleTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PickleTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PickleTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push(new PickleList([]));
        break;
      case 0x6c: // LIST
        stack.push(new PickleList(popMark()));
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PickleDict());
        break;
      case 0x64: {
        // DICT
        const d = new PickleDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        pushGlobal(module, name);
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('pickle STACK_GLOBAL needs two strings');
        pushGlobal(module as string, name as string);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(reduce(callable, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args) — same allow-list as REDUCE
        const args = pop();
        const cls = pop();
        stack.push(reduce(cls, args));
        break;
      }
      case 0x62: {
        // BUILD: only dicts take state, and it is stored, never applied as code would
        const state = pop();
        const target = top();
        if (target instanceof PickleDict) target.state = state;
        else if (!(target instanceof PickleOpaque)) fail('pickle BUILDs an object that cannot take state');
        break;
      }
      case 0x51: // BINPERSID
        stack.push(host.persistentLoad(pop()));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      default:
        fail(`pickle uses opcode 0x${op.toString(16).padStart(2, '0')}, which a weights file has no need for`);
    }
    return false;
  }
}

/** Little-endian two's complement, in one BigInt conversion rather than a shift per byte. */
function decodeLong(b: Uint8Array): number | bigint {
  if (b.byteLength === 0) return 0;
  let hex = '';
  for (let i = b.byteLength - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, '0');
  const v = BigInt.asIntN(8 * b.byteLength, BigInt(`0x${hex}`));
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
