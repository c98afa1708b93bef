/**
 * E2E harness for the renderer (DESIGN.md §5): the real page, built like the app's, in Debian's Chromium,
 * with `window.tandem` built by the preload's own `createTandemApi` and every call answered by a real core
 * (real SQLite, real thumbnails) in the test process. Only the Electron shell itself is stood in for:
 * the IPC hop becomes a Playwright binding, the `tandem:` scheme an HTTP route, the folder dialog a stub that answers
 * the folder the test chose. The stub sits behind `createAppHandlers` like Electron's dialog does, so the page gets a
 * single-use grant, never a path it could send back, exactly as in the app.
 *
 *   const h = await startRendererHarness({ dataDir });
 *   h.setPickedFolder('/tmp/photos');            // what "Add folder…" picks next
 *   await h.page.getByRole('button', { name: 'Add folder…' }).click();
 *   await h.screenshot('after-scan');            // tests/e2e/screenshots/after-scan.png
 *   await h.close();
 */
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import { RENDERER_ENTRY, RENDERER_ROOT, rendererPlugins } from '../../electron.vite.config';
import { createAppHandlers, type AppHandlers } from '../../src/main/app/app-handlers';
import { mediaResponse } from '../../src/main/app/media-response';
import { dispatch } from '../../src/main/core/api-handlers';
import { openCore, type Core, type OpenCoreOptions } from '../../src/main/core/core';
import { FolderGrants } from '../../src/main/core/grants/folder-grants';
import { ipcEvent, type EventName, type EventOf, type FolderPurpose } from '../../src/shared/api';

export const CHROMIUM_PATH = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../e2e/screenshots');

export interface RendererHarnessOptions {
  /** The core's data folder; a fresh temp folder (removed on close) when omitted. */
  dataDir?: string;
  /** Replace or add handlers, e.g. to make a channel fail on purpose. */
  overrides?: Partial<AppHandlers>;
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  /** More options for the core the page talks to (e.g. `retrieval`: the model search by meaning uses). */
  coreOptions?: Omit<OpenCoreOptions, 'dataDir'>;
}

export interface RendererHarness {
  page: Page;
  core: Core;
  /** Where the page is served, e.g. http://127.0.0.1:41234/ */
  baseUrl: string;
  /** The folder the next picker "dialog" returns (null = the user cancelled); the page receives a grant for it. */
  setPickedFolder(path: string | null): void;
  /**
   * Delivers `event` to the page at most one per `ms` (null: as fast as they come). The tiny models write
   * thousands of tokens a second, faster than a page renders; a test of streaming needs them at a human pace.
   */
  paceEvents(event: EventName | null, ms: number): void;
  /** What each picker opened so far was for, in order. */
  pickerPurposes: FolderPurpose[];
  /** The registry the picker issues grants into, as main's does (tests forge, expire and reuse grants against it). */
  grants: FolderGrants;
  /** Every call the page made, in order, with whether it succeeded. */
  calls: { channel: string; ok: boolean; message?: string }[];
  /** Events forwarded to the page, in order. */
  events: { event: EventName; payload: unknown }[];
  /** Uncaught page errors, console errors and CSP violations: a passing test expects none. */
  pageErrors: string[];
  /** Pushes an event to the page as the app shell would. */
  emit<E extends EventName>(event: E, payload: EventOf<E>): Promise<void>;
  /** Saves tests/e2e/screenshots/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

type BuiltRenderer = { dir: string; bridgeScript: string };
let built: Promise<BuiltRenderer> | null = null;

/** Builds the renderer (once per test process) with the app's own plugins, CSP included, plus the bridge script. */
function buildRenderer(): Promise<BuiltRenderer> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-renderer-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    // Vitest sets NODE_ENV=test, which would give the page React's development build and JSX transform
    // (double effects under StrictMode, several times slower); the app is always built for production.
    const nodeEnv = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    await build({
      configFile: false,
      root: RENDERER_ROOT,
      base: './',
      mode: 'production',
      // The app build reports bundle sizes; here they would only clutter test output.
      logLevel: 'error',
      plugins: rendererPlugins(),
      build: { outDir: dir, emptyOutDir: true, rollupOptions: { input: RENDERER_ENTRY } },
    }).finally(() => {
      if (nodeEnv === undefined) delete process.env['NODE_ENV'];
      else process.env['NODE_ENV'] = nodeEnv;
    });
    const bridge = await build({
      configFile: false,
      logLevel: 'warn',
      build: {
        write: false,
        minify: false,
        lib: { entry: resolve(import.meta.dirname, 'renderer-harness-bridge.ts'), formats: ['iife'], name: 'TandemHarnessBridge' },
      },
    });
    const outputs = (Array.isArray(bridge) ? bridge : [bridge]) as Rolldown.RolldownOutput[];
    const chunk = outputs.flatMap((o) => o.output).find((o) => o.type === 'chunk');
    if (!chunk || chunk.type !== 'chunk') throw new Error('the harness bridge build produced no script');
    return { dir, bridgeScript: chunk.code };
  })();
  return built;
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
};

async function serve(req: IncomingMessage, res: ServerResponse, staticDir: string, core: Core): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname.startsWith('/media/')) {
    // The same code that answers `tandem://` in the app, fed the same `thumb/12?size=small` form.
    const response = await mediaResponse(core.media, `${url.pathname.slice('/media/'.length)}${url.search}`, req.method);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) Readable.fromWeb(response.body).pipe(res);
    else res.end();
    return;
  }
  const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
  const file = resolve(staticDir, rel);
  if (!file.startsWith(staticDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    return;
  }
  res.writeHead(200, { 'content-type': STATIC_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  createReadStream(file).pipe(res);
}

export async function startRendererHarness(opts: RendererHarnessOptions = {}): Promise<RendererHarness> {
  const ownDataDir = opts.dataDir ? null : mkdtempSync(join(tmpdir(), 'tandem-e2e-data-'));
  const dataDir = opts.dataDir ?? ownDataDir!;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });

  const { dir: staticDir, bridgeScript } = await buildRenderer();
  const core = openCore({ ...opts.coreOptions, dataDir });
  let pickedFolder: string | null = null;
  const pickerPurposes: FolderPurpose[] = [];
  const grants = new FolderGrants();
  const picker = {
    pickFolder: async (purpose: FolderPurpose) => {
      pickerPurposes.push(purpose);
      return pickedFolder;
    },
  };
  const handlers: AppHandlers = {
    ...createAppHandlers(core, picker, grants),
    ...opts.overrides,
  };

  const server: Server = createServer((req, res) => {
    serve(req, res, staticDir, core).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? err.message : String(err));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  let browser: Browser | null = null;
  const calls: RendererHarness['calls'] = [];
  const events: RendererHarness['events'] = [];
  const pageErrors: string[] = [];
  let unsubscribe = (): void => undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const context = await browser.newContext({
      viewport: opts.viewport ?? { width: 1280, height: 860 },
      colorScheme: opts.colorScheme ?? 'light',
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(`console: ${msg.text()}${msg.location().url ? ` (${msg.location().url})` : ''}`);
    });

    // What the app shell's ipcMain handlers do: dispatch against the contract, answer with an Envelope.
    await page.exposeBinding('__tandemInvoke', async (_source, channel: string, payload: unknown) => {
      const name = channel.replace(/^tandem:/, '');
      const envelope = channel.startsWith('tandem:')
        ? await dispatch(handlers, name, payload, (err) => pageErrors.push(`core: ${String(err)}`))
        : { ok: false as const, error: { code: 'unknown_channel', message: `Unknown request: ${channel}` } };
      calls.push({ channel: name, ok: envelope.ok, ...(envelope.ok ? {} : { message: envelope.error.message }) });
      return envelope;
    });
    await page.addInitScript({ content: bridgeScript });

    const emit = async <E extends EventName>(event: E, payload: EventOf<E>): Promise<void> => {
      events.push({ event, payload });
      await page
        .evaluate(([name, value]) => {
          (globalThis as unknown as { __tandemEmit?: (e: string, p: unknown) => void }).__tandemEmit?.(name, value);
        }, [ipcEvent(event), payload] as const)
        .catch(() => undefined); // the page may be navigating or closed; events are fire-and-forget in the app too
    };
    // Pacing (see `paceEvents`): every event then goes through one chain, so order is kept, and a paced event
    // waits its delay after reaching the page.
    let paced: { event: EventName; ms: number } | null = null;
    let chain = Promise.resolve();
    unsubscribe = core.events.onAny((event, payload) => {
      if (!paced) return void emit(event, payload);
      const pause = paced.event === event ? paced.ms : 0;
      chain = chain.then(() => emit(event, payload)).then(() => new Promise((done) => setTimeout(done, pause)));
    });

    await page.goto(baseUrl);

    return {
      page,
      core,
      baseUrl,
      calls,
      events,
      pageErrors,
      setPickedFolder: (path) => {
        pickedFolder = path;
      },
      paceEvents: (event, ms) => {
        paced = event && ms > 0 ? { event, ms } : null;
      },
      pickerPurposes,
      grants,
      emit,
      screenshot: async (name) => {
        const path = join(SCREENSHOT_DIR, `${name}.png`);
        await page.screenshot({ path, fullPage: false });
        return path;
      },
      close: async () => {
        unsubscribe();
        await browser?.close();
        await new Promise<void>((done) => server.close(() => done()));
        // Stops the inference processes (captioning, LLaVA) before the data folder goes.
        await core.close();
        if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    unsubscribe();
    await browser?.close();
    server.close();
    await core.close();
    if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
    throw err;
  }
}
