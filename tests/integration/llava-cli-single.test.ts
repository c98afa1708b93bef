/**
 * `tandem ask … --route llava --no-grounding --greedy --max-new-tokens N --json`: the deterministic mode prints
 * the text and the generated token ids, equal to the engine's own greedy answer to the bare template prompt.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseLlavaDtypes } from '../../src/main/core/llava/llava-dtypes';
import { LlavaEngine } from '../../src/main/core/llava/llava-engine';
import { ensureTinyLlava } from '../../test-models/tiny-llava';
import { tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
let tmp: { dir: string; cleanup: () => void };
let photo: string;
let modelDir: string;

beforeAll(async () => {
  tmp = tempDir('tandem-llava-cli-');
  modelDir = await ensureTinyLlava();
  photo = join(tmp.dir, 'photo.png');
  await sharp({ create: { width: 48, height: 36, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toFile(photo);
});
afterAll(() => tmp?.cleanup());

describe('tandem ask --no-grounding', () => {
  it('prints the greedy answer and its token ids for exactly the template prompt, outside any chat', async () => {
    const run = spawnSync(
      process.execPath,
      [BIN, 'ask', photo, 'What is in this photo?', '--route', 'llava', '--llava-model', modelDir, '--no-grounding', '--greedy', '--max-new-tokens', '7', '--threads', '1', '--json', '--data-dir', join(tmp.dir, 'data')],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { answer: string; tokenIds: number[]; greedy: boolean; promptTokens: number; route: string };
    expect(out).toMatchObject({ route: 'llava', greedy: true });
    expect(out.tokenIds).toHaveLength(7);

    const engine = await LlavaEngine.load({ modelDir, dtypes: await chooseLlavaDtypes(modelDir), threads: 1, maxContextTokens: 4096 });
    try {
      const turns = [{ role: 'user' as const, text: 'What is in this photo?' }];
      expect(engine.prompt('', turns)).toBe('<|im_start|>user\n<image>\nWhat is in this photo?<|im_end|>\n<|im_start|>assistant\n');
      const direct = await engine.generate({ imagePath: photo, system: '', turns, sampling: { temperature: 0, topP: 1, maxNewTokens: 7 } }, () => {}, { interrupted: false });
      expect(out.tokenIds).toEqual(direct.tokenIds);
      expect(out.promptTokens).toBe(direct.promptTokens);
      expect(out.answer).toBe(direct.text);
    } finally {
      await engine.dispose();
    }
  });
});
