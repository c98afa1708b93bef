import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// Lints snippets as if they sat at the given paths, through the repo's own eslint.config.js,
// so the layer rules of DESIGN.md §1 cannot disappear without a failing test.
const eslint = new ESLint({ cwd: resolve(import.meta.dirname, '../..') });

async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  if (!result) throw new Error(`nothing linted for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length) throw new Error(`${filePath} did not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const refused: [string, string, string][] = [
  ['src/main/core/x.ts', 'electron in the core', "import { app } from 'electron';\nexport const a = app;"],
  ['src/main/core/library/x.ts', 'the app shell from the core', "import { startApp } from '../../app/start-app';\nexport const s = startApp;"],
  ['src/main/core/x.ts', 'the CLI from the core', "import { runCli } from '../cli/main';\nexport const r = runCli;"],
  ['src/shared/x.ts', 'electron in shared', "import { app } from 'electron';\nexport const a = app;"],
  ['src/shared/x.ts', 'the core from shared', "import { openCore } from '../main/core/core';\nexport const o = openCore;"],
  ['src/shared/x.ts', 'the renderer from shared', "import { App } from '../renderer/app';\nexport const c = App;"],
  ['src/renderer/x.ts', 'node:fs in the renderer', "import fs from 'node:fs';\nexport const f = fs;"],
  ['src/renderer/components/x.tsx', 'bare fs in the renderer', "import { readFile } from 'fs';\nexport const r = readFile;"],
  ['src/renderer/x.ts', 'path in the renderer', "import path from 'path';\nexport const p = path;"],
  ['src/renderer/x.ts', 'child_process in the renderer', "import { spawn } from 'child_process';\nexport const s = spawn;"],
  ['src/renderer/x.ts', 'electron in the renderer', "import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;"],
  ['src/renderer/x.ts', 'better-sqlite3 in the renderer', "import Database from 'better-sqlite3';\nexport const d = Database;"],
  ['src/renderer/x.ts', 'onnxruntime-node in the renderer', "import * as ort from 'onnxruntime-node';\nexport const o = ort;"],
  ['src/renderer/x.ts', 'sharp in the renderer', "import sharp from 'sharp';\nexport const s = sharp;"],
  ['src/renderer/hooks/x.ts', 'the core from the renderer', "import { openCore } from '../../main/core/core';\nexport const o = openCore;"],
  ['src/renderer/x.ts', 'core types from the renderer', "import type { Core } from '../main/core/core';\nexport type C = Core;"],
  ['src/preload/x.ts', 'a package other than electron in the preload', "import { z } from 'zod';\nexport const s = z.string();"],
  ['src/preload/x.ts', 'node builtins in the preload', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;"],
  ['src/preload/x.ts', 'the core from the preload', "import { openCore } from '../main/core/core';\nexport const o = openCore;"],
  ['src/main/core/models/x.ts', 'test models in the core', "import { writeTinyLlavaHf } from '../../../../test-models/tiny-llava-hf';\nexport const w = writeTinyLlavaHf;"],
  ['src/main/cli/commands/x.ts', 'test models in the CLI', "import { ensureTestModel } from '../../../../test-models/test-model-cache';\nexport const e = ensureTestModel;"],
  ['src/main/app/x.ts', 'test support in the app shell', "import { startHubServer } from '../../../tests/support/hub-server';\nexport const s = startHubServer;"],
];

const allowed: [string, string, string][] = [
  ['src/main/app/x.ts', 'electron and the core in the app shell', "import { app } from 'electron';\nimport { openCore } from '../core/core';\nexport const a = [app, openCore];"],
  ['src/main/index.ts', 'electron in the main entry', "import { app } from 'electron';\nexport const a = app;"],
  ['src/main/core/x.ts', 'node, shared and core in the core', "import { readFile } from 'node:fs/promises';\nimport { channels } from '../../shared/api';\nimport { openDatabase } from './store/database';\nexport const a = [readFile, channels, openDatabase];"],
  ['src/renderer/x.tsx', 'react, shared and renderer in the renderer', "import { useState } from 'react';\nimport { thumbUrl } from '../shared/api';\nimport { App } from './app';\nexport const a = [useState, thumbUrl, App];"],
  ['src/preload/x.ts', 'electron, shared and preload in the preload', "import { contextBridge } from 'electron';\nimport { ipcChannel } from '../shared/api';\nimport { createTandemApi } from './create-tandem-api';\nexport const a = [contextBridge, ipcChannel, createTandemApi];"],
  ['tests/unit/x.ts', 'test models and the core in tests', "import { ensureTestModel } from '../../test-models/test-model-cache';\nimport { openCore } from '../../src/main/core/core';\nexport const a = [ensureTestModel, openCore];"],
  ['bench/x.ts', 'test models in benchmarks', "import { ensureRandomLlavaHf } from '../test-models/random-llava-hf';\nexport const e = ensureRandomLlavaHf;"],
  ['src/shared/sub/x.ts', 'zod and shared in shared', "import { z } from 'zod';\nimport { channels } from '../api';\nexport const a = [z, channels];"],
];

describe('layer lint (eslint no-restricted-imports per folder)', () => {
  it.each(refused)('%s refuses %s', async (filePath, _what, code) => {
    expect(await layerErrors(filePath, code)).toHaveLength(1);
  });

  it.each(allowed)('%s allows %s', async (filePath, _what, code) => {
    expect(await layerErrors(filePath, code)).toEqual([]);
  });

  it('explains the rule in the message', async () => {
    const [message] = await layerErrors('src/main/core/x.ts', "import { app } from 'electron';\nexport const a = app;");
    expect(message).toMatch(/Only the app shell .* import electron/);
  });
});
