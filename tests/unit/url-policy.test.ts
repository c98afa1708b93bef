import { describe, expect, it } from 'vitest';
import { isAppUrl, isExternalWebUrl } from '../../src/main/app/url-policy';

describe('isAppUrl', () => {
  const built = 'file:///opt/Tandem/resources/app.asar/out/renderer/index.html';

  it('accepts the built page, with or without query and hash', () => {
    expect(isAppUrl(built, built)).toBe(true);
    expect(isAppUrl(`${built}#/photo/3`, built)).toBe(true);
    expect(isAppUrl(`${built}?q=1`, built)).toBe(true);
  });

  it('refuses other files, other schemes and garbage', () => {
    expect(isAppUrl('file:///home/me/evil.html', built)).toBe(false);
    expect(isAppUrl('https://example.com/', built)).toBe(false);
    expect(isAppUrl('tandem://photo/1', built)).toBe(false);
    expect(isAppUrl('not a url', built)).toBe(false);
  });

  it('accepts the dev server by origin only', () => {
    const dev = 'http://localhost:5173';
    expect(isAppUrl('http://localhost:5173/src/index.html', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppUrl('http://localhost.evil.com:5173/', dev)).toBe(false);
  });
});

describe('isExternalWebUrl', () => {
  it('lets only http(s) links out', () => {
    expect(isExternalWebUrl('https://huggingface.co/Salesforce')).toBe(true);
    expect(isExternalWebUrl('http://example.com')).toBe(true);
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'tandem://photo/1', 'smb://host/share', 'mailto:a@b.c', '']) {
      expect(isExternalWebUrl(url), url).toBe(false);
    }
  });
});
