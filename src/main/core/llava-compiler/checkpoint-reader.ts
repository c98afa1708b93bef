/**
 * Random access to a safetensors checkpoint (one model.safetensors, or the shards that
 * model.safetensors.index.json lists): only the headers are read up front, each tensor is read when a graph
 * asks for it and widened to float32, so a 7B checkpoint never sits in memory whole.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { ModelFileError } from '../errors';
import { bfloat16ToFloat32, halfToFloat32 } from '../weights/half-float';
import { findCheckpoint } from '../weights/load-checkpoint';
import { readSafetensorsHeader, type SafetensorsEntry } from '../weights/safetensors';
import { checkpointNameCandidates } from './checkpoint-names';

interface Located {
  file: string;
  entry: SafetensorsEntry;
}

export class LlavaCheckpoint {
  private readonly handles = new Map<string, FileHandle>();

  private constructor(
    private readonly tensors: Map<string, Located>,
    /** weight files, sorted: what the compile cache hashes */
    readonly files: readonly string[],
    /** the folder, for error messages about tensors that are in no file */
    readonly dir: string,
  ) {}

  static async open(modelDir: string): Promise<LlavaCheckpoint> {
    const location = await findCheckpoint(modelDir);
    if (location.format !== 'safetensors') {
      throw new ModelFileError(location.files[0] ?? modelDir, `${modelDir} holds a PyTorch .bin checkpoint; Tandem's LLaVA compiler reads safetensors (the llava-hf repos ship them).`);
    }
    const tensors = new Map<string, Located>();
    for (const file of location.files) {
      const header = await readSafetensorsHeader(file);
      for (const entry of header.entries) {
        const seen = tensors.get(entry.name);
        if (seen) throw new ModelFileError(file, `Tensor ${entry.name} is in both ${basename(seen.file)} and ${basename(file)}.`);
        tensors.set(entry.name, { file, entry });
      }
    }
    return new LlavaCheckpoint(tensors, location.files, modelDir);
  }

  private find(name: string): { name: string; at: Located } | undefined {
    for (const candidate of checkpointNameCandidates(name)) {
      const at = this.tensors.get(candidate);
      if (at) return { name: candidate, at };
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.find(name) !== undefined;
  }

  /** The stored shape of a tensor, or undefined when no file holds it. */
  shape(name: string): number[] | undefined {
    return this.find(name)?.at.entry.shape;
  }

  private where(): string {
    return this.files.length === 1 ? (this.files[0] as string) : `${this.dir} (${this.files.map((f) => basename(f)).join(', ')})`;
  }

  /** The tensor as float32 after checking it has exactly `shape`; fp16, bf16 and fp32 are read. */
  async float(name: string, shape: readonly number[]): Promise<Float32Array> {
    const found = this.find(name);
    if (!found) {
      const spellings = checkpointNameCandidates(name);
      throw new ModelFileError(this.files[0] ?? this.dir, `The checkpoint ${this.where()} has no tensor ${spellings.join(' (or ')}${spellings.length > 1 ? ')' : ''}, expected with shape [${shape.join(', ')}].`);
    }
    const { file, entry } = found.at;
    const same = entry.shape.length === shape.length && entry.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new ModelFileError(file, `Tensor ${found.name} in ${file} has shape [${entry.shape.join(', ')}] but config.json needs [${shape.join(', ')}].`);
    }
    const len = entry.end - entry.begin;
    const bytes = new Uint8Array(new ArrayBuffer(Math.ceil(len / 8) * 8), 0, len);
    const fh = await this.handle(file);
    let done = 0;
    while (done < len) {
      const { bytesRead } = await fh.read(bytes, done, Math.min(len - done, 1 << 30), entry.begin + done);
      if (bytesRead === 0) throw new ModelFileError(file, `Weight file ${file} is truncated: tensor ${found.name} could not be read.`);
      done += bytesRead;
    }
    const n = len / (entry.dtype === 'float32' ? 4 : 2);
    switch (entry.dtype) {
      case 'float32':
        return new Float32Array(bytes.buffer, 0, n);
      case 'float16':
        return halfToFloat32(new Uint16Array(bytes.buffer, 0, n));
      case 'bfloat16':
        return bfloat16ToFloat32(new Uint16Array(bytes.buffer, 0, n));
      default:
        throw new ModelFileError(file, `Tensor ${found.name} in ${file} is ${entry.dtype}; a LLaVA weight must be float32, float16 or bfloat16.`);
    }
  }

  private async handle(file: string): Promise<FileHandle> {
    let fh = this.handles.get(file);
    if (!fh) {
      fh = await open(file, 'r').catch((err: unknown) => {
        throw new ModelFileError(file, `Weight file ${file} cannot be opened: ${(err as Error).message}`, { cause: err });
      });
      this.handles.set(file, fh);
    }
    return fh;
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map((fh) => fh.close()));
  }
}
