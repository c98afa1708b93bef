import { describe, expect, it } from 'vitest';
import { AppSettings, channels } from '../../src/shared/api';
import { checkEngineUrl, isThisMachine } from '../../src/shared/engine-url';
import { OllamaBackend } from '../../src/main/core/chat/ollama-backend';
import { OpenAiBackend } from '../../src/main/core/chat/openai-backend';
import { TandemError } from '../../src/main/core/errors';

describe('isThisMachine', () => {
  it.each([
    'localhost',
    'LOCALHOST',
    'localhost.',
    '127.0.0.1',
    '127.1.2.3',
    '127.255.255.255',
    '127.1', // shorthand the URL parser expands to 127.0.0.1
    '0x7f.0.0.1',
    '2130706433',
    '[::1]',
    '::1',
    '[0:0:0:0:0:0:0:1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f01:203]',
  ])('%s is this machine', (host) => {
    expect(isThisMachine(host)).toBe(true);
  });

  it.each([
    '0.0.0.0', // unspecified: local on Linux/macOS, refused on Windows; warned about, not guessed
    '[::]',
    '128.0.0.1',
    '126.255.255.255',
    '192.168.1.20',
    '10.0.0.1',
    '[::2]',
    '[fe80::1]',
    '[::ffff:10.0.0.1]',
    '[::127.0.0.1]', // IPv4-compatible form: deprecated, not loopback
    'gpu-box.localhost', // *.localhost is only loopback where the resolver says so
    'localhost.example.com',
    'mylocalhost',
    'example.com',
    '127.0.0.1.example.com',
    '',
  ])('%s is not this machine', (host) => {
    expect(isThisMachine(host)).toBe(false);
  });
});

describe('checkEngineUrl', () => {
  it('accepts http(s) base URLs and says where the host is', () => {
    expect(checkEngineUrl('http://127.0.0.1:11434')).toMatchObject({ ok: true, host: '127.0.0.1:11434', thisMachine: true });
    expect(checkEngineUrl(' http://localhost:8080/v1/ ')).toMatchObject({ ok: true, host: 'localhost:8080', thisMachine: true });
    expect(checkEngineUrl('http://[::1]:11434')).toMatchObject({ ok: true, host: '[::1]:11434', thisMachine: true });
    expect(checkEngineUrl('https://gpu.example.org/llm')).toMatchObject({ ok: true, host: 'gpu.example.org', thisMachine: false });
    expect(checkEngineUrl('http://192.168.1.20:11434')).toMatchObject({ ok: true, host: '192.168.1.20:11434', thisMachine: false });
  });

  it.each([
    ['file:///etc/passwd', /http:\/\/ or https:\/\/, not file:/],
    ['ftp://example.org', /not ftp:/],
    ['javascript:alert(1)', /not javascript:/],
    ['127.0.0.1:11434', /must start with http|full http/],
    ['', /full http/],
    ['http://', /full http/],
    ['http://user:pass@127.0.0.1:11434', /user name or password/],
    ['http://token@example.org', /user name or password/],
    ['http://127.0.0.1:11434/?x=1', /without \? or #/],
    ['http://127.0.0.1:11434#frag', /without \? or #/],
  ])('refuses %s', (raw, reason) => {
    const check = checkEngineUrl(raw);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });
});

describe('the contract and the core refuse what the helper refuses', () => {
  it('settings and chat.testBackend validate engine addresses', () => {
    const patch = AppSettings.partial();
    expect(patch.safeParse({ engineBaseUrl: 'http://127.0.0.1:11434' }).success).toBe(true);
    const bad = patch.safeParse({ engineBaseUrl: 'file:///etc/passwd' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/http:\/\/ or https:\/\//);
    expect(channels['chat.testBackend'].request.safeParse({ baseUrl: 'file:///etc/passwd' }).success).toBe(false);
    expect(channels['chat.testBackend'].request.safeParse({ baseUrl: 'https://gpu.example.org' }).success).toBe(true);
  });

  it.each([
    ['ollama', OllamaBackend],
    ['openai', OpenAiBackend],
  ] as const)('the %s backend refuses a non-http address even when the contract was bypassed', (_kind, Backend) => {
    let err: unknown;
    try {
      new Backend({ baseUrl: 'file:///etc/passwd', model: 'llava:7b', timeoutSec: 5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TandemError);
    expect((err as TandemError).code).toBe('engine_url');
    expect((err as TandemError).message).toMatch(/http:\/\/ or https:\/\//);
  });
});
