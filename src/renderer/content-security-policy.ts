/**
 * The page's Content-Security-Policy, injected as a <meta> tag into the built index.html (the app loads it
 * from file:, where response headers cannot carry it). Photos come only from the `tandem:` media scheme by id;
 * no inline script or style, no plugins, no frames, no forms.
 * The dev server is left without it because Vite's hot reload relies on inline scripts.
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
