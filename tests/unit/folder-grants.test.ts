import { describe, expect, it } from 'vitest';
import { FolderGrants } from '../../src/main/core/grants/folder-grants';
import { FOLDER_GRANT_PATTERN, FolderGrant } from '../../src/shared/folder-grant';

describe('FolderGrants (what the main-process picker hands the renderer instead of a path)', () => {
  it('issues unguessable tokens of the contract shape, each standing for the folder chosen', () => {
    const grants = new FolderGrants();
    const a = grants.issue('/home/me/Pictures', 'library');
    const b = grants.issue('/home/me/Pictures', 'library');
    expect(a).toMatch(FOLDER_GRANT_PATTERN);
    expect(FolderGrant.safeParse(a).success).toBe(true);
    expect(a).not.toBe(b);
    expect(grants.redeem(a, 'library')).toBe('/home/me/Pictures');
  });

  it('is single use', () => {
    const grants = new FolderGrants();
    const token = grants.issue('/photos', 'library');
    expect(grants.redeem(token, 'library')).toBe('/photos');
    expect(() => grants.redeem(token, 'library')).toThrow(expect.objectContaining({ code: 'invalid_grant', message: expect.stringMatching(/no longer valid/) }));
  });

  it('expires, and forgets expired grants', () => {
    let now = 1_000;
    const grants = new FolderGrants({ ttlMs: 60_000, now: () => now });
    const late = grants.issue('/photos', 'library');
    const sweptAway = grants.issue('/photos', 'library');
    now += 59_999;
    const inTime = grants.issue('/other', 'library');
    now += 1;
    expect(() => grants.redeem(late, 'library')).toThrow(/expired/);
    expect(grants.size).toBe(1); // `sweptAway` is gone without being asked for
    expect(grants.redeem(inTime, 'library')).toBe('/other');
    expect(() => grants.redeem(sweptAway, 'library')).toThrow(/no longer valid/);
  });

  it('refuses forged tokens and a grant spent on another purpose (which it then burns)', () => {
    const grants = new FolderGrants();
    expect(() => grants.redeem('A'.repeat(43), 'library')).toThrow(expect.objectContaining({ code: 'invalid_grant' }));
    expect(() => grants.redeem('/etc', 'model')).toThrow(expect.objectContaining({ code: 'invalid_grant' }));
    const forModels = grants.issue('/models/copy', 'model');
    expect(() => grants.redeem(forModels, 'library')).toThrow(/chosen as a model folder/);
    expect(() => grants.redeem(forModels, 'model')).toThrow(/no longer valid/);
  });

  it('draws tokens from the random source it is given', () => {
    const grants = new FolderGrants({ random: (n) => Buffer.alloc(n, 7) });
    expect(grants.issue('/x', 'model')).toBe(Buffer.alloc(32, 7).toString('base64url'));
  });
});
