import { describe, expect, it } from 'vitest';
import { devContentSecurityPolicy, withSources } from '../../electron.vite.config';
import { CONTENT_SECURITY_POLICY } from '../../src/shared/content-security-policy';

const directives = (policy: string): Map<string, string[]> =>
  new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name = '', ...sources]) => [name, sources]));

describe('withSources', () => {
  it('adds sources to existing directives and appends missing ones', () => {
    expect(withSources("default-src 'self'; img-src 'self'", { 'img-src': ['data:'], 'frame-src': ["'none'"] })).toBe(
      "default-src 'self'; img-src 'self' data:; frame-src 'none'",
    );
  });
});

describe('devContentSecurityPolicy', () => {
  const nonce = 'bm9uY2Vub25jZQ==';
  const dev = directives(devContentSecurityPolicy(nonce));
  const app = directives(CONTENT_SECURITY_POLICY);

  it("keeps every directive and source of the app's policy", () => {
    for (const [name, sources] of app) expect(dev.get(name), name).toEqual(expect.arrayContaining(sources));
    expect([...dev.keys()]).toEqual([...app.keys()]);
  });

  it("lets in only Vite's nonce-stamped inline code and the HMR socket: no unsafe-inline, no unsafe-eval", () => {
    expect(dev.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(dev.get('style-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(dev.get('connect-src')).toEqual(expect.arrayContaining(['ws://localhost:*', 'ws://127.0.0.1:*']));
    expect(devContentSecurityPolicy(nonce)).not.toMatch(/unsafe-inline|unsafe-eval/);
  });
});
