import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { PluginOption } from 'vite';
import { CONTENT_SECURITY_POLICY } from './src/shared/content-security-policy';

export const RENDERER_ROOT = resolve(import.meta.dirname, 'src/renderer');
export const RENDERER_ENTRY = resolve(RENDERER_ROOT, 'index.html');

/**
 * Adds the CSP <meta> tag to production builds. The app itself gets the policy as a response header from
 * its app:// protocol handler (src/main/app/app-scheme.ts); the tag stays so that the same build served
 * by any plain file server (the E2E harness's) enforces the same policy.
 */
function cspMetaTag(): PluginOption {
  return {
    name: 'tandem:csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' },
    ],
  };
}

/** Adds `sources` to the named directives of `policy` (a directive not yet in the policy is appended). */
export function withSources(policy: string, sources: Readonly<Record<string, readonly string[]>>): string {
  const directives = policy.split(';').map((d) => d.trim()).filter(Boolean);
  const names = directives.map((d) => d.split(/\s+/)[0]);
  for (const [name, extra] of Object.entries(sources)) {
    const at = names.indexOf(name);
    if (at === -1) directives.push([name, ...extra].join(' '));
    else directives[at] = [directives[at], ...extra].join(' ');
  }
  return directives.join('; ');
}

/**
 * The dev server's policy: the app's, plus a per-server nonce for the inline scripts and styles Vite and
 * React Fast Refresh inject (Vite stamps the nonce on them through `html.cspNonce`), and the HMR websocket.
 * No 'unsafe-inline' and no 'unsafe-eval', so a CSP violation shows up in `npm run dev` as it would in the app.
 */
export function devContentSecurityPolicy(nonce: string): string {
  return withSources(CONTENT_SECURITY_POLICY, {
    'script-src': [`'nonce-${nonce}'`],
    'style-src': [`'nonce-${nonce}'`],
    'connect-src': ['ws://localhost:*', 'ws://127.0.0.1:*'],
  });
}

/**
 * `npm run dev` serves the page from electron-vite's dev server, so the CSP header is set there, as
 * `server.headers`, rather than by rewriting responses in the main process (session.webRequest): the
 * server that serves the page sends its policy, as the app:// handler does in production; the main process
 * keeps no dev-only code path; and the page gets the header in a plain browser too.
 */
function cspDevHeader(): PluginOption {
  return {
    name: 'tandem:csp-dev-header',
    apply: 'serve',
    config: () => {
      // One nonce per dev server start; the server only listens on this machine and serves only our sources.
      const nonce = randomBytes(16).toString('base64');
      return {
        html: { cspNonce: nonce },
        server: { headers: { 'Content-Security-Policy': devContentSecurityPolicy(nonce) } },
      };
    },
  };
}

/** Renderer plugins, shared with the E2E harness so the page under test is built exactly like the app's. */
export function rendererPlugins(): PluginOption[] {
  return [react(), cspMetaTag()];
}

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(import.meta.dirname, 'src/main/index.ts'),
          'inference-process': resolve(import.meta.dirname, 'src/main/core/inference/inference-process.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload can require only 'electron': zod and the contract must be bundled in.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'src/preload/index.ts') },
        // Sandboxed preloads must be CommonJS.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: RENDERER_ROOT,
    plugins: [...rendererPlugins(), cspDevHeader()],
    build: {
      rollupOptions: { input: RENDERER_ENTRY },
    },
  },
});
