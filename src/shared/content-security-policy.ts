/**
 * The page's Content-Security-Policy. The main process sends it as a response header from the app:// scheme,
 * the dev server sends it (plus a per-start nonce for Vite's scripts), and the build also injects it as a
 * <meta> tag for pages served some other way (the E2E harness). It lives in the contract layer because the
 * shell, the build config and the tests all need the same string. Photos come only from the `tandem:` media
 * scheme by id; no inline script or style, no plugins, no frames, no forms.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' tandem: data: blob:",
  "media-src 'self' tandem:",
  "connect-src 'self' tandem:",
  "font-src 'self' data:",
  "worker-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
