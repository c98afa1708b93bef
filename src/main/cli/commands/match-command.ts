import { basename, resolve } from 'node:path';
import { openCore } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import type { CliCommand } from '../command';
import { line, printJson } from '../output';
import { terminalText } from '../terminal-text';
import { precisionFromOptions, precisionOptions, runOptions } from './caption-options';

/** The pack `tandem match` (and search by meaning) uses unless told otherwise. */
export const DEFAULT_RETRIEVAL_MODEL = 'blip-itm-base-coco';

/** One image against one text. `error` is set (and the scores null) when the image could not be read. */
export interface MatchRow {
  photoId: number | null;
  path: string;
  text: string;
  /** ITC: cosine of the L2-normalised image and text embeddings, −1…1 */
  cosine: number | null;
  /** ITM: softmax(itm_head)[1], the probability that the text describes the image, 0…1 */
  probability: number | null;
  error: string | null;
  model: string;
  precision: string;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/**
 * `tandem match <image…> --text "…"`: the scripting and checking entry point of search by meaning. Library
 * photos are named by id or path; any other image file works too and nothing is stored.
 */
export const matchCommand: CliCommand = {
  name: 'match',
  summary: 'Score images against a text with BLIP retrieval: ITC cosine and ITM match probability per image.',
  usage: 'match <image…> --text "…" [--model M] [--model-dir D] [--precision fp32|int8]',
  options: {
    text: { type: 'string', multiple: true, description: 'the text to match (repeat for several)' },
    model: { type: 'string', description: `installed retrieval pack (default ${DEFAULT_RETRIEVAL_MODEL})` },
    'model-dir': { type: 'string', description: 'use a Hugging Face BlipForImageTextRetrieval folder directly' },
    threads: { type: 'string', description: 'inference threads (default 2)' },
    ...precisionOptions,
  },
  async run(ctx, positionals, values) {
    const texts = (Array.isArray(values['text']) ? values['text'] : [values['text']]).filter((t): t is string => typeof t === 'string');
    if (texts.length === 0 || texts.some((t) => !t.trim())) throw new InvalidInputError('Say what to match with --text "…".');
    if (positionals.length === 0) throw new InvalidInputError('Name at least one image: a photo id, a library path or any image file.');
    const precision = precisionFromOptions(values) ?? 'fp32';
    const threads = runOptions(values).threads ?? 2;
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const modelDirOption = typeof values['model-dir'] === 'string' ? resolve(values['model-dir']) : undefined;
      // As `caption --model-dir`: a folder is named after itself unless --model names it.
      const model = typeof values['model'] === 'string' ? values['model'] : modelDirOption ? basename(modelDirOption) : DEFAULT_RETRIEVAL_MODEL;
      const modelDir = modelDirOption ?? core.models.resolve(model);
      const items = positionals.map((arg) => {
        const row = /^\d+$/.test(arg) ? core.photos.row(Number(arg)) : core.photos.findByPath(resolve(arg));
        return { photoId: row?.id ?? -1, path: row ? core.photos.absolutePath(row) : resolve(arg) };
      });
      // The captioner's inference process: retrieval loads beside it.
      const client = core.captioning.ensureClient();
      await client.loadRetrieval({ model, modelDir, cacheDir: core.paths.modelCacheDir, threads, precision });
      const textVectors = (await client.embedTexts({ texts })).vectors;
      const rows: MatchRow[] = [];
      for (const item of items) {
        const base = { photoId: item.photoId >= 0 ? item.photoId : null, path: item.path, model, precision };
        // One vision pass per photo gives both scores: the ITM probabilities and the ITC vector for the cosine.
        let matched: { probabilities: number[]; vector: number[] } | null = null;
        let error: string | null = null;
        try {
          matched = await client.match({ path: item.path, texts });
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
        }
        texts.forEach((text, t) =>
          rows.push({
            ...base,
            text,
            cosine: matched ? dot(matched.vector, textVectors[t]!) : null,
            probability: matched ? matched.probabilities[t]! : null,
            error,
          }),
        );
      }
      if (ctx.json) printJson(ctx, rows);
      else {
        for (const o of rows) {
          const score = o.error === null ? `cosine ${o.cosine!.toFixed(4)}  match ${o.probability!.toFixed(4)}` : `failed: ${o.error}`;
          line(ctx, terminalText(`${o.path}${texts.length > 1 ? `  “${o.text}”` : ''}: ${score}`, { oneLine: true }));
        }
      }
      return rows.some((o) => o.error !== null) ? 1 : 0;
    } finally {
      await core.close();
    }
  },
};
