import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL } from '../../src/main/app/app-scheme';
import { isAppOrigin, isAppUrl, isExternalWebUrl } from '../../src/main/app/url-policy';

describe('isAppUrl', () => {
  const app = APP_INDEX_URL; // app://tandem/index.html

  it('accepts the built page on app://tandem, with or without query and hash', () => {
    expect(isAppUrl(app, app)).toBe(true);
    expect(isAppUrl(`${app}#/photo/3`, app)).toBe(true);
    expect(isAppUrl(`${app}?q=1`, app)).toBe(true);
  });

  it('compares the host: the same path on another host of the scheme is not our page', () => {
    expect(isAppUrl('app://evil/index.html', app)).toBe(false);
    expect(isAppUrl('app://tandem.evil/index.html', app)).toBe(false);
    expect(isAppUrl('app://user@tandem/index.html', app)).toBe(false);
    expect(isAppUrl('app://tandem:8080/index.html', app)).toBe(false);
  });

  it('compares the scheme: other custom schemes are not our page, though Node gives them all the origin "null"', () => {
    expect(isAppUrl('tandem://tandem/index.html', app)).toBe(false);
    expect(isAppUrl('tandem://photo/1', app)).toBe(false);
    expect(isAppUrl('evil://tandem/index.html', app)).toBe(false);
    expect(isAppUrl('file:///index.html', app)).toBe(false);
    expect(isAppUrl('data:text/html,<h1>hi</h1>', app)).toBe(false);
  });

  it('compares the path: other files of our own scheme are not our page', () => {
    expect(isAppUrl('app://tandem/', app)).toBe(false);
    expect(isAppUrl('app://tandem/assets/index.js', app)).toBe(false);
    expect(isAppUrl('app://tandem/evil.html', app)).toBe(false);
  });

  describe('with a file: app URL', () => {
    const built = 'file:///opt/Tandem/resources/app.asar/out/renderer/index.html';

    it('accepts the built page, with or without query and hash', () => {
      expect(isAppUrl(built, built)).toBe(true);
      expect(isAppUrl(`${built}#/photo/3`, built)).toBe(true);
      expect(isAppUrl(`${built}?q=1`, built)).toBe(true);
    });

    it('refuses the same path on another host (a network share)', () => {
      expect(isAppUrl('file://evil.example/opt/Tandem/resources/app.asar/out/renderer/index.html', built)).toBe(false);
      expect(isAppUrl('file://localhost.evil/opt/Tandem/resources/app.asar/out/renderer/index.html', built)).toBe(false);
    });

    it('refuses other files, other schemes and garbage', () => {
      expect(isAppUrl('file:///home/me/evil.html', built)).toBe(false);
      expect(isAppUrl('https://example.com/', built)).toBe(false);
      expect(isAppUrl('tandem://photo/1', built)).toBe(false);
      expect(isAppUrl('not a url', built)).toBe(false);
    });
  });

  it('accepts the dev server by origin only', () => {
    const dev = 'http://localhost:5173';
    expect(isAppUrl('http://localhost:5173/src/index.html', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5173/', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppUrl('https://localhost:5173/', dev)).toBe(false);
    expect(isAppUrl('http://localhost.evil.com:5173/', dev)).toBe(false);
    expect(isAppUrl('http://user@localhost:5173/', dev)).toBe(false);
  });

  it('refuses garbage on either side', () => {
    expect(isAppUrl('not a url', APP_INDEX_URL)).toBe(false);
    expect(isAppUrl(APP_INDEX_URL, 'not a url')).toBe(false);
    expect(isAppUrl('', APP_INDEX_URL)).toBe(false);
  });
});

describe('isAppOrigin', () => {
  it('accepts our origin as Chromium reports it, with or without a path', () => {
    expect(isAppOrigin('app://tandem', APP_INDEX_URL)).toBe(true);
    expect(isAppOrigin('app://tandem/', APP_INDEX_URL)).toBe(true);
    expect(isAppOrigin('app://tandem/index.html#x', APP_INDEX_URL)).toBe(true);
    expect(isAppOrigin('http://localhost:5173', 'http://localhost:5173')).toBe(true);
  });

  it('refuses other origins, empty and opaque ones', () => {
    for (const origin of ['app://evil', 'tandem://photo', 'file://', 'file:///index.html', 'null', '', 'https://example.com']) {
      expect(isAppOrigin(origin, APP_INDEX_URL), origin).toBe(false);
    }
    expect(isAppOrigin('http://localhost:5174', 'http://localhost:5173')).toBe(false);
  });
});

describe('isExternalWebUrl', () => {
  it('lets only http(s) links out', () => {
    expect(isExternalWebUrl('https://huggingface.co/Salesforce')).toBe(true);
    expect(isExternalWebUrl('http://example.com')).toBe(true);
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'tandem://photo/1', 'app://tandem/index.html', 'smb://host/share', 'mailto:a@b.c', '']) {
      expect(isExternalWebUrl(url), url).toBe(false);
    }
  });
});
