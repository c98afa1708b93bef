/**
 * HF_TOKEN stays with the hub it was configured for: two fake hubs on 127.0.0.1 (two origins) stand for the hub
 * and another host it redirects to (a CDN for LFS storage, a repo moved elsewhere). Every request path is
 * covered: the HEAD probe, the GET, and the ranged GET that resumes a cut transfer. An https→http redirect is
 * refused before anything is sent over plain http (a recording fetch stands in, as no TLS server runs here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubDownloader } from '../../src/main/core/models/hub-downloader';
import { fakeBlipRepo, sha256, startHubServer, type HubServer } from '../support/hub-server';
import { tempDir } from '../support/temp-dirs';
import { rejection } from '../support/rejection';

const REPO = 'Salesforce/blip-image-captioning-base';
const TOKEN = 'hf_secret_token';
const BEARER = `Bearer ${TOKEN}`;

let hub: HubServer;
let other: HubServer;
let tmp: { dir: string; cleanup: () => void };
let files: Record<string, Buffer | string>;

function downloader(endpoint = hub.endpoint): HubDownloader {
  return new HubDownloader({ endpoint, token: TOKEN, retryDelayMs: 5, timeoutMs: 2_000 });
}

/** Probes and downloads a small git file and an LFS file, as a pack install does. */
async function fetchBoth(d: HubDownloader, repo = REPO): Promise<void> {
  for (const path of ['config.json', 'pytorch_model.bin']) {
    const info = await d.probe(repo, 'main', path);
    expect(info).not.toBeNull();
    const result = await d.download({ repo, revision: 'main', path, dest: join(tmp.dir, repo, path), expectedSize: info!.size, expectedSha256: info!.sha256 });
    expect(result.sha256).toBe(sha256(files[path]!));
    expect(sha256(readFileSync(join(tmp.dir, repo, path)))).toBe(result.sha256);
  }
}

beforeAll(async () => {
  hub = await startHubServer();
  other = await startHubServer();
});
afterAll(async () => {
  await hub.close();
  await other.close();
});
beforeEach(() => {
  tmp = tempDir('tandem-hub-redirects-');
  files = fakeBlipRepo({ weights: 'pytorch_model.bin', weightBytes: 300 * 1024, seed: 'redirects' });
  // The hub wants the token; the other host serves the same bytes to anyone, as a CDN does.
  hub.addRepo(REPO, files, { token: TOKEN });
  other.addRepo(REPO, files);
  for (const h of [hub, other]) {
    h.requests.length = 0;
    h.clearFaults();
    h.useStorage(null);
    h.redirectResolves(null);
  }
});
afterEach(() => tmp.cleanup());

describe('the token goes only to the configured hub', () => {
  it('a repo moved to another host: neither its probe nor its download carries the token there', async () => {
    hub.redirectResolves(other.endpoint);
    await fetchBoth(downloader());

    expect(other.requests.some((r) => r.method === 'HEAD')).toBe(true);
    expect(other.requests.some((r) => r.method === 'GET')).toBe(true);
    expect(other.requests.filter((r) => r.authorization !== null)).toEqual([]);
    // The hub itself still got it on every request.
    expect(hub.requests.length).toBeGreaterThan(0);
    expect(hub.requests.every((r) => r.authorization === BEARER)).toBe(true);
  });

  it('LFS storage on another host gets no token, also when a cut transfer resumes with Range', async () => {
    hub.useStorage(other.endpoint);
    other.fault(REPO, 'pytorch_model.bin', { kind: 'cut', afterBytes: 100_000, times: 1 });
    await fetchBoth(downloader());

    const storage = other.downloadsOf('pytorch_model.bin');
    expect(storage).toHaveLength(2);
    expect(storage[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(other.requests.filter((r) => r.authorization !== null)).toEqual([]);
    expect(hub.requests.filter((r) => r.file === 'pytorch_model.bin').length).toBeGreaterThanOrEqual(3); // probe, GET, resumed GET
    expect(hub.requests.every((r) => r.authorization === BEARER)).toBe(true);
  });

  it('a renamed repo (a relative redirect on the same hub) keeps the token', async () => {
    hub.renameRepo('Salesforce/old-name', REPO);
    const d = downloader();
    const info = await d.probe('Salesforce/old-name', 'main', 'config.json');
    expect(info?.size).toBe(Buffer.byteLength(files['config.json']!));
    await d.download({ repo: 'Salesforce/old-name', revision: 'main', path: 'pytorch_model.bin', dest: join(tmp.dir, 'renamed.bin') });
    expect(hub.requests.some((r) => r.repo === REPO && r.authorization === BEARER)).toBe(true);
    expect(hub.requests.every((r) => r.authorization === BEARER)).toBe(true);
  });

  it('without the token, the moved repo on a gated host answers with the usual clear auth error', async () => {
    other.addRepo(REPO, files, { token: TOKEN });
    hub.redirectResolves(other.endpoint);
    const err = await rejection(downloader().probe(REPO, 'main', 'config.json'));
    expect(err.code).toBe('hub_auth');
    expect(other.requests.filter((r) => r.authorization !== null)).toEqual([]);
  });
});

describe('redirects that leave https', () => {
  /** A fetch that answers like an https hub redirecting to `location`; it records every request it would send. */
  function recordingFetch(location: string): { fetch: typeof fetch; sent: { url: string; authorization: string | null }[] } {
    const sent: { url: string; authorization: string | null }[] = [];
    const impl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = String(input);
      const headers = new Headers(init?.headers);
      sent.push({ url, authorization: headers.get('authorization') });
      if (url.startsWith('https://hub.example/')) {
        // A fetch that follows redirects itself would send the next request too.
        if (init?.redirect !== 'manual') sent.push({ url: new URL(location, url).toString(), authorization: null });
        if (init?.redirect !== 'manual') return new Response('x', { status: 200 });
        return new Response(null, { status: 302, headers: { location } });
      }
      return new Response('x', { status: 200, headers: { 'content-length': '1' } });
    };
    return { fetch: impl as typeof fetch, sent };
  }

  it.each([
    ['probe', (d: HubDownloader) => d.probe(REPO, 'main', 'config.json')],
    ['download', (d: HubDownloader) => d.download({ repo: REPO, revision: 'main', path: 'config.json', dest: join(tmp.dir, 'c.json') })],
  ])('%s: an https→http redirect is refused before anything goes over http', async (_name, run) => {
    const { fetch, sent } = recordingFetch('http://cdn.example/config.json');
    const d = new HubDownloader({ endpoint: 'https://hub.example', token: TOKEN, fetch, retries: 0 });
    const err = await rejection(run(d));
    expect(err.code).toBe('hub_insecure_redirect');
    expect(err.message).toMatch(/https to plain http \(cdn\.example\)/);
    expect(sent.map((s) => s.url)).toEqual(['https://hub.example/Salesforce/blip-image-captioning-base/resolve/main/config.json']);
    expect(sent[0]!.authorization).toBe(BEARER);
  });

  it('a redirect to a file: URL is refused', async () => {
    const { fetch, sent } = recordingFetch('file:///etc/passwd');
    const d = new HubDownloader({ endpoint: 'https://hub.example', token: TOKEN, fetch, retries: 0 });
    const err = await rejection(d.probe(REPO, 'main', 'config.json'));
    expect(err.code).toBe('hub_insecure_redirect');
    expect(sent).toHaveLength(1);
  });

  it('an https CDN on another host is followed, without the token', async () => {
    const { fetch, sent } = recordingFetch('https://cdn.example/config.json');
    const d = new HubDownloader({ endpoint: 'https://hub.example', token: TOKEN, fetch, retries: 0 });
    await d.download({ repo: REPO, revision: 'main', path: 'config.json', dest: join(tmp.dir, 'c.json') });
    expect(sent.map((s) => [s.url, s.authorization])).toEqual([
      ['https://hub.example/Salesforce/blip-image-captioning-base/resolve/main/config.json', BEARER],
      ['https://cdn.example/config.json', null],
    ]);
  });
});
