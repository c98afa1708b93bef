/**
 * Reading the JSON files of a model pack (config, tokenizer, checkpoint index). They come from the internet, so a
 * file that is huge, not JSON or nested past the parser's stack is a ModelFileError naming it, never a raw
 * RangeError or a process that reads gigabytes into a string.
 */
import { open } from 'node:fs/promises';
import { asModelFileError, ModelFileError } from '../errors';

/** Real config files are a few KB; tokenizer.json of large vocabularies ~10 MB; indexes ~100 KB. */
export const MAX_CONFIG_JSON_BYTES = 4 * 1024 * 1024;
export const MAX_TOKENIZER_JSON_BYTES = 64 * 1024 * 1024;
export const MAX_INDEX_JSON_BYTES = 16 * 1024 * 1024;

/** The file's text, refused before reading when it is larger than `maxBytes`; undefined when it does not exist. */
export async function readModelText(file: string, maxBytes: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelFileError(file, `${file}: cannot be read: ${(err as Error).message}`, { cause: err });
  }
  try {
    const { size } = await fh.stat();
    if (size > maxBytes) {
      throw new ModelFileError(file, `${file}: is ${size} bytes, more than such a file ever needs (${maxBytes}); it is damaged or not what its name says`);
    }
    return await fh.readFile('utf8');
  } catch (err) {
    throw asModelFileError(file, err, 'cannot be read');
  } finally {
    await fh.close();
  }
}

/** Parses `text` from `file`; syntax errors and parser stack overflows become ModelFileErrors. */
export function parseModelJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new ModelFileError(file, `${file}: is not valid JSON`, { cause });
  }
}

/** `readModelText` + `parseModelJson`; undefined when the file does not exist. */
export async function readModelJson(file: string, maxBytes: number): Promise<unknown> {
  const text = await readModelText(file, maxBytes);
  return text === undefined ? undefined : parseModelJson(file, text);
}
