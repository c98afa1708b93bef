import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { PluginOption } from 'vite';
import { CONTENT_SECURITY_POLICY } from './src/renderer/content-security-policy';

export const RENDERER_ROOT = resolve(import.meta.dirname, 'src/renderer');
export const RENDERER_ENTRY = resolve(RENDERER_ROOT, 'index.html');

/** Adds the CSP <meta> tag to production builds only (see content-security-policy.ts for why not in dev). */
function cspMetaTag(): PluginOption {
  return {
    name: 'tandem:csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' },
    ],
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
    plugins: rendererPlugins(),
    build: {
      rollupOptions: { input: RENDERER_ENTRY },
    },
  },
});
