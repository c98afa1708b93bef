import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TANDEM_VERSION } from '../../src/main/core/metadata/tandem-version';
import { buildWriteTags, decodeXmlEntities, flatKeywords, importedKeywords } from '../../src/main/core/metadata/xmp-fields';
import { sidecarCandidates } from '../../src/main/core/metadata/sidecar-reader';

describe('metadata fields', () => {
  it('writes the version package.json has', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(TANDEM_VERSION).toBe(pkg.version);
  });

  it('flattens hierarchical keywords for dc:subject and reads them back as one keyword', () => {
    expect(flatKeywords(['Places|France|Paris', 'AC/DC', 'Places|Italy'])).toEqual(['Places', 'France', 'Paris', 'AC/DC', 'Italy']);
    expect(importedKeywords(['Places', 'France', 'Paris', 'AC/DC'], ['Places|France|Paris'])).toEqual(['Places|France|Paris', 'AC/DC']);
  });

  it('maps a caption to the MWG fields per target, IPTC only in JPEG', () => {
    const words = { caption: 'a cat', captionSource: 'model:blip-base', model: 'blip-base', keywords: ['cat'] };
    const jpeg = buildWriteTags(words, 'embedded', 'jpeg', '1.2.3') as Record<string, unknown>;
    expect(jpeg).toMatchObject({
      'XMP-dc:Description': 'a cat', 'IFD0:ImageDescription': 'a cat', 'IPTC:Caption-Abstract': 'a cat', 'IPTC:Keywords': ['cat'],
      'XMP-tandem:CaptionSource': 'model:blip-base', 'XMP-tandem:CaptionEdited': false, 'XMP-xmp:CreatorTool': 'Tandem 1.2.3',
    });
    const sidecar = buildWriteTags(words, 'sidecar', 'jpeg', '1.2.3') as Record<string, unknown>;
    expect(Object.keys(sidecar).filter((k) => !k.startsWith('XMP-'))).toEqual([]);
    const png = buildWriteTags(words, 'embedded', 'png', '1.2.3') as Record<string, unknown>;
    expect(Object.keys(png).some((k) => k.startsWith('IPTC:'))).toBe(false);
    // Only the parts that changed: a null caption leaves the file's caption alone; '' clears it.
    expect(Object.keys(buildWriteTags({ ...words, caption: null }, 'sidecar', null, 'v'))).not.toContain('XMP-dc:Description');
    expect(buildWriteTags({ ...words, caption: '' }, 'sidecar', null, 'v')).toMatchObject({ 'XMP-dc:Description': null });
  });

  it('decodes the XML escapes exifr leaves in XMP text', () => {
    expect(decodeXmlEntities('a &amp; b &lt;c&gt; &quot;d&quot; &#10;&#x1F680;')).toBe('a & b <c> "d" \n🚀');
    expect(decodeXmlEntities('&bogus; &#0;')).toBe('&bogus; &#0;');
  });

  it('looks for photo.jpg.xmp before photo.xmp', () => {
    expect(sidecarCandidates('/p/a.jpg')).toEqual(['/p/a.jpg.xmp', '/p/a.jpg.XMP', '/p/a.xmp', '/p/a.XMP']);
  });
});
