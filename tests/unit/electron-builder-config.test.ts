import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
// electron-builder's own config validator (the schema check `npm run package` starts with), and its logger.
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { DebugLogger } from 'builder-util';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface BuilderConfig {
  asar?: boolean;
  asarUnpack?: string[];
  electronFuses?: Record<string, boolean>;
}

function readConfig(): BuilderConfig & Record<string, unknown> {
  return load(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as BuilderConfig & Record<string, unknown>;
}

/** Package folders (relative to ROOT) of the production dependency tree, found as Node resolves them. */
function productionPackages(): string[] {
  const seen = new Set<string>();
  const visit = (fromDir: string, name: string): void => {
    // Node's lookup: the nearest node_modules/<name> walking up from the dependent package.
    for (let dir = fromDir; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        if (seen.has(candidate)) return;
        seen.add(candidate);
        const pkg = JSON.parse(readFileSync(join(candidate, 'package.json'), 'utf8')) as {
          dependencies?: Record<string, string>;
          optionalDependencies?: Record<string, string>;
        };
        for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(candidate, dep);
        return;
      }
      if (dir === ROOT || dirname(dir) === dir) return; // not installed (an optional dependency for another platform)
    }
  };
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(root.dependencies)) visit(ROOT, dep);
  return [...seen].map((dir) => relative(ROOT, dir));
}

/** Files the OS loader has to open from disk: Node addons and shared libraries. */
const NATIVE_FILE = /\.(node|dll|dylib)$|\.so(\.\d+)*$/;

function hasNativeCode(dir: string): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue; // nested packages are visited on their own
    const path = join(dir, entry.name);
    if (entry.isDirectory() ? hasNativeCode(path) : NATIVE_FILE.test(entry.name)) return true;
  }
  return false;
}

/**
 * A program another process runs from the package's files (exiftool-vendored.pl's perl `exiftool` and its
 * lib/; exiftool-vendored.exe on Windows): neither the OS nor perl can read inside app.asar.
 */
function shipsProgram(dir: string): boolean {
  const walk = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).some((entry) => {
      if (entry.name === 'node_modules') return false;
      const path = join(d, entry.name);
      if (entry.isDirectory()) return walk(path);
      if (entry.name.endsWith('.exe')) return true;
      const head = readFileSync(path).subarray(0, 64).toString('latin1');
      return head.startsWith('#!') && /\b(perl|python|bash|sh)\b/.test(head.split('\n')[0] ?? '');
    });
  return walk(dir);
}

describe('electron-builder.yml', () => {
  it('flips the Electron fuses that close the usual ways of running other code in the packaged app', () => {
    expect(readConfig().electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      onlyLoadAppFromAsar: true,
      enableEmbeddedAsarIntegrityValidation: true,
      grantFileProtocolExtraPrivileges: false,
      enableCookieEncryption: true,
    });
  });

  it('packs the app into app.asar and unpacks the native modules', () => {
    const config = readConfig();
    expect(config.asar).toBe(true);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        '**/*.node',
        'node_modules/better-sqlite3/**',
        'node_modules/onnxruntime-node/**',
        'node_modules/sharp/**',
        'node_modules/@img/**',
      ]),
    );
  });

  it('unpacks every production package that carries native code (so a new native dependency fails here)', () => {
    const unpacked = (readConfig().asarUnpack ?? []).filter((p) => p.endsWith('/**')).map((p) => p.slice(0, -'/**'.length));
    const native = productionPackages().filter((dir) => hasNativeCode(join(ROOT, dir)) || shipsProgram(join(ROOT, dir)));
    // The ones installed on every platform; @img/sharp-<platform> joins them on each machine.
    expect(native).toEqual(expect.arrayContaining(['node_modules/better-sqlite3', 'node_modules/onnxruntime-node']));
    const missing = native.filter((dir) => !unpacked.some((prefix) => dir === prefix || dir.startsWith(`${prefix}/`)));
    expect(missing).toEqual([]);
  });

  it("passes electron-builder's own schema validation (so a misspelt fuse or option fails here, not at release)", async () => {
    const config = readConfig();
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    const misspelt: Record<string, boolean> = { runAsNod: false };
    await expect(validateConfiguration({ ...config, electronFuses: misspelt }, new DebugLogger(false))).rejects.toThrow(
      /configuration object that does not match/,
    );
  }, 30_000);
});
