/**
 * A fake Hugging Face hub on 127.0.0.1 for download tests. It follows the real hub's URL layout
 * and headers: `/<repo>/resolve/<revision>/<path>`; LFS files answer with a 302 to a storage URL
 * carrying `x-linked-etag` (the sha256) and `x-linked-size`; small files are served directly with
 * a git-sha1 ETag; every answer names the commit in `x-repo-commit`; errors carry `x-error-code`.
 * Faults can be injected per file: cut the transfer, stall it, damage the bytes, advertise a
 * wrong hash, ignore Range. Redirects can be set up as the hub makes them: LFS storage on another
 * host (a CDN), a renamed repo (relative 307), or every resolve URL moved to another host.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  repo: string | null;
  /** The repo file the request was about (also for storage URLs). */
  file: string | null;
  range: string | null;
  authorization: string | null;
}

export type FileFault =
  /** End the connection after `afterBytes` bytes of the body, `times` times (then serve normally). */
  | { kind: 'cut'; afterBytes: number; times?: number }
  /** Send `afterBytes` bytes, then nothing more (the client's stall timeout or abort must end it). */
  | { kind: 'stall'; afterBytes: number }
  /** Serve the content with one byte flipped, while advertising the true sha256. */
  | { kind: 'corrupt' }
  /** Advertise a sha256 (x-linked-etag) that is not the content's. */
  | { kind: 'wrong-hash' }
  /** Answer 200 with the whole file even when asked for a range. */
  | { kind: 'ignore-range' };

export interface FakeRepoOptions {
  /** 40-hex commit that `main` points at. */
  commit?: string;
  /** When set, requests need `Authorization: Bearer <token>` (401 without, 403 with a wrong one). */
  token?: string;
}

interface FakeRepo {
  files: Map<string, Buffer>;
  commit: string;
  token: string | undefined;
}

export interface HubServer {
  endpoint: string;
  requests: RecordedRequest[];
  addRepo(repo: string, files: Record<string, Buffer | string>, options?: FakeRepoOptions): void;
  removeFile(repo: string, path: string): void;
  fault(repo: string, path: string, fault: FileFault): void;
  clearFaults(): void;
  /** GET requests that carried body bytes of this file (the storage hop for LFS files). */
  downloadsOf(path: string): RecordedRequest[];
  /** LFS files redirect to `/lfs/…` on this origin (another server: a CDN on another host); null: this server. */
  useStorage(origin: string | null): void;
  /** Every resolve request answers 307 to the same path on `origin` (the repo moved host); null stops it. */
  redirectResolves(origin: string | null): void;
  /** Resolve requests for `from` answer 307 with a relative location into `to`, as the hub does for a renamed repo. */
  renameRepo(from: string, to: string): void;
  close(): Promise<void>;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Git-LFS is used for weights on the hub; config and tokenizer files are plain git blobs. */
function isLfs(path: string): boolean {
  return /\.(safetensors|bin|onnx|onnx_data|h5|msgpack)$/.test(path);
}

function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function splitResolvePath(pathname: string): { repo: string; revision: string; file: string } | null {
  const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(pathname);
  if (!match) return null;
  return { repo: decodeURIComponent(match[1]!), revision: decodeURIComponent(match[2]!), file: match[3]!.split('/').map(decodeURIComponent).join('/') };
}

export async function startHubServer(): Promise<HubServer> {
  const repos = new Map<string, FakeRepo>();
  const faults = new Map<string, FileFault>();
  const requests: RecordedRequest[] = [];
  const renamed = new Map<string, string>();
  let endpoint = '';
  let storageOrigin: string | null = null;
  let movedTo: string | null = null;

  const key = (repo: string, file: string): string => `${repo}::${file}`;

  function fail(res: ServerResponse, status: number, code: string | null, message: string): void {
    res.statusCode = status;
    if (code) res.setHeader('x-error-code', code);
    res.setHeader('x-error-message', message);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ error: message }));
  }

  function serveBody(req: IncomingMessage, res: ServerResponse, repo: string, file: string, content: Buffer): void {
    const fault = faults.get(key(repo, file));
    let body = content;
    if (fault?.kind === 'corrupt') {
      body = Buffer.from(content);
      body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
    }
    const size = body.length;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && fault?.kind !== 'ignore-range') {
      start = Number(range[1]);
      if (start >= size) {
        res.statusCode = 416;
        res.setHeader('content-range', `bytes */${size}`);
        res.end();
        return;
      }
      status = 206;
      res.setHeader('content-range', `bytes ${start}-${size - 1}/${size}`);
    }
    res.statusCode = status;
    res.setHeader('accept-ranges', 'bytes');
    res.setHeader('content-length', String(size - start));
    res.setHeader('content-type', 'application/octet-stream');
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const slice = body.subarray(start);
    if (fault?.kind === 'cut' && (fault.times ?? 1) > 0) {
      fault.times = (fault.times ?? 1) - 1;
      res.flushHeaders();
      res.write(slice.subarray(0, fault.afterBytes), () => res.socket?.destroy());
      return;
    }
    if (fault?.kind === 'stall') {
      res.flushHeaders();
      res.write(slice.subarray(0, fault.afterBytes));
      return; // never ends; close() tears the socket down
    }
    res.end(slice);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      url: url.pathname,
      repo: null,
      file: null,
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
    };
    requests.push(record);

    // Storage hop: /lfs/<repo>/<path>, as a CDN would serve a redirected LFS object.
    const lfs = /^\/lfs\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
    if (lfs) {
      const repo = decodeURIComponent(lfs[1]!);
      const file = lfs[2]!.split('/').map(decodeURIComponent).join('/');
      record.repo = repo;
      record.file = file;
      const content = repos.get(repo)?.files.get(file);
      if (!content) return fail(res, 404, null, 'no such object');
      return serveBody(req, res, repo, file, content);
    }

    const parts = splitResolvePath(url.pathname);
    if (!parts) return fail(res, 404, null, 'not a resolve URL');
    record.repo = parts.repo;
    record.file = parts.file;
    if (movedTo !== null) {
      res.writeHead(307, { location: `${movedTo}${url.pathname}` });
      return void res.end();
    }
    const newName = renamed.get(parts.repo);
    if (newName !== undefined) {
      const rest = url.pathname.slice(`/${parts.repo}`.length);
      res.writeHead(307, { location: `/${newName}${rest}` });
      return void res.end();
    }
    const repo = repos.get(parts.repo);
    // The real hub answers 401 for unknown repos too, so private repos do not leak.
    if (!repo) return fail(res, 401, 'RepositoryNotFound', 'Repository not found');
    if (repo.token !== undefined) {
      if (!req.headers.authorization) return fail(res, 401, 'GatedRepo', 'Access to this model requires a token');
      if (req.headers.authorization !== `Bearer ${repo.token}`) return fail(res, 403, 'GatedRepo', 'Token has no access to this model');
    }
    if (parts.revision !== 'main' && parts.revision !== repo.commit) return fail(res, 404, 'RevisionNotFound', 'Invalid rev id');
    const content = repo.files.get(parts.file);
    if (!content) return fail(res, 404, 'EntryNotFound', 'Entry not found');

    res.setHeader('x-repo-commit', repo.commit);
    if (isLfs(parts.file)) {
      const advertised = faults.get(key(parts.repo, parts.file))?.kind === 'wrong-hash' ? sha256(Buffer.concat([content, Buffer.from('x')])) : sha256(content);
      res.statusCode = 302;
      res.setHeader('x-linked-etag', `"${advertised}"`);
      res.setHeader('x-linked-size', String(content.length));
      res.setHeader('etag', `"${advertised}"`);
      res.setHeader('location', `${storageOrigin ?? endpoint}/lfs/${parts.repo}/${parts.file}`);
      res.end();
      return;
    }
    res.setHeader('etag', `"${gitBlobSha1(content)}"`);
    serveBody(req, res, parts.repo, parts.file, content);
  }

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    requests,
    addRepo(repo, files, options = {}) {
      const map = new Map<string, Buffer>();
      for (const [path, content] of Object.entries(files)) map.set(path, typeof content === 'string' ? Buffer.from(content) : content);
      repos.set(repo, { files: map, commit: options.commit ?? sha256(repo).slice(0, 40), token: options.token });
    },
    removeFile(repo, path) {
      repos.get(repo)?.files.delete(path);
    },
    fault(repo, path, fault) {
      faults.set(key(repo, path), fault);
    },
    clearFaults() {
      faults.clear();
    },
    useStorage(origin) {
      storageOrigin = origin;
    },
    redirectResolves(origin) {
      movedTo = origin;
    },
    renameRepo(from, to) {
      renamed.set(from, to);
    },
    downloadsOf(path) {
      return requests.filter((r) => r.method === 'GET' && r.file === path && (!isLfs(path) || r.url.startsWith('/lfs/')));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An endpoint on 127.0.0.1 where nothing listens: connections are refused. */
export async function refusedEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Deterministic pseudo-random bytes (sha256 in counter mode), so failures reproduce. */
export function seededBytes(length: number, seed: string): Buffer {
  const out = Buffer.alloc(length);
  let offset = 0;
  for (let counter = 0; offset < length; counter++) {
    const block = createHash('sha256').update(`${seed}:${counter}`).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

/** A safetensors file with one uint8 tensor: valid header, random payload. */
export function fakeSafetensors(payloadBytes: number, seed: string): Buffer {
  const header = Buffer.from(JSON.stringify({ 'dummy.weight': { dtype: 'U8', shape: [payloadBytes], data_offsets: [0, payloadBytes] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, seededBytes(payloadBytes, seed)]);
}

/** Starts like a torch zip checkpoint ("PK\3\4"); the downloader never looks inside. */
export function fakeTorchBin(bytes: number, seed: string): Buffer {
  const body = seededBytes(bytes, seed);
  body.write('PK\u0003\u0004', 0, 'latin1');
  return body;
}

export interface FakeBlipOptions {
  weights?: 'model.safetensors' | 'pytorch_model.bin' | 'both';
  weightBytes?: number;
  vqa?: boolean;
  seed?: string;
}

/** The files of a BLIP repo in the Hugging Face layout, with small random weights. */
export function fakeBlipRepo(options: FakeBlipOptions = {}): Record<string, Buffer | string> {
  const seed = options.seed ?? 'blip';
  const bytes = options.weightBytes ?? 256 * 1024;
  const architecture = options.vqa ? 'BlipForQuestionAnswering' : 'BlipForConditionalGeneration';
  const files: Record<string, Buffer | string> = {
    'config.json': JSON.stringify({ architectures: [architecture], model_type: 'blip', text_config: { vocab_size: 8 }, vision_config: { image_size: 32 } }),
    'preprocessor_config.json': JSON.stringify({ image_processor_type: 'BlipImageProcessor', size: { height: 32, width: 32 } }),
    'tokenizer.json': JSON.stringify({ version: '1.0', model: { type: 'WordPiece', vocab: { '[PAD]': 0, '[UNK]': 1, red: 2 } } }),
    'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'BertTokenizer' }),
    'special_tokens_map.json': JSON.stringify({ pad_token: '[PAD]' }),
    'vocab.txt': '[PAD]\n[UNK]\nred\n',
  };
  const weights = options.weights ?? 'pytorch_model.bin';
  if (weights === 'model.safetensors' || weights === 'both') files['model.safetensors'] = fakeSafetensors(bytes, `${seed}:st`);
  if (weights === 'pytorch_model.bin' || weights === 'both') files['pytorch_model.bin'] = fakeTorchBin(bytes, `${seed}:bin`);
  return files;
}

/** A LLaVA repo in the transformers.js onnx/ layout; `onnx` names the graph files to include. */
export function fakeLlavaRepo(onnx: readonly string[], seed = 'llava'): Record<string, Buffer | string> {
  const files: Record<string, Buffer | string> = {
    'config.json': JSON.stringify({ architectures: ['LlavaForConditionalGeneration'], model_type: 'llava' }),
    'generation_config.json': JSON.stringify({ eos_token_id: 2 }),
    'preprocessor_config.json': JSON.stringify({ image_processor_type: 'SiglipImageProcessor' }),
    'processor_config.json': JSON.stringify({ patch_size: 14 }),
    'tokenizer.json': JSON.stringify({ version: '1.0' }),
    'tokenizer_config.json': JSON.stringify({ tokenizer_class: 'Qwen2Tokenizer' }),
    'chat_template.json': JSON.stringify({ chat_template: '{{ messages }}' }),
  };
  for (const path of onnx) files[path] = seededBytes(8 * 1024, `${seed}:${path}`);
  return files;
}

/** Every file of a folder (recursively), keyed by '/'-separated path: serve a generated model as a fake repo. */
export async function folderAsRepo(dir: string): Promise<Record<string, Buffer>> {
  const { readdir, readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const out: Record<string, Buffer> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out[path] = await readFile(join(dir, path));
    }
  };
  await walk('');
  return out;
}
