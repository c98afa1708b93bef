import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultExiftoolArgs, ExifTool, type WriteTags } from 'exiftool-vendored';
import { TANDEM_XMP_NAMESPACE } from './xmp-fields';

/**
 * ExifTool's user-defined tags for Tandem's XMP namespace. ExifTool refuses tags of a namespace it does not
 * know, so the namespace is declared here and handed to the ExifTool process with `-config`.
 */
const TANDEM_CONFIG = `%Image::ExifTool::UserDefined = (
    'Image::ExifTool::XMP::Main' => {
        tandem => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::tandem' } },
    },
);
%Image::ExifTool::UserDefined::tandem = (
    GROUPS => { 0 => 'XMP', 1 => 'XMP-tandem', 2 => 'Image' },
    NAMESPACE => { 'tandem' => '${TANDEM_XMP_NAMESPACE}' },
    WRITABLE => 'string',
    CaptionSource => { },
    CaptionModel => { },
    CaptionEdited => { Writable => 'boolean' },
);
1;
`;

export interface ExifToolEngineOptions {
  /** A folder Tandem owns, for the ExifTool config file. */
  configDir: string;
  /** ExifTool processes kept at once; one is enough for a write queue that runs one file at a time. */
  maxProcs?: number;
}

/**
 * The one module that talks to ExifTool. exiftool-vendored keeps a long-lived ExifTool process (perl, with the
 * ExifTool script that ships in the npm package exiftool-vendored.pl), so parsing and rewriting photo files never
 * runs on Tandem's main thread; this module only sends it commands.
 */
export class ExifToolEngine {
  private exiftool: ExifTool | null = null;

  constructor(private readonly opts: ExifToolEngineOptions) {}

  private tool(): ExifTool {
    if (this.exiftool) return this.exiftool;
    mkdirSync(this.opts.configDir, { recursive: true });
    const config = join(this.opts.configDir, 'tandem-exiftool.config');
    writeFileSync(config, TANDEM_CONFIG);
    this.exiftool = new ExifTool({
      maxProcs: this.opts.maxProcs ?? 1,
      // -config must come first on ExifTool's command line.
      exiftoolArgs: ['-config', config, ...DefaultExiftoolArgs],
      // Explicit group names below; MWG composites would also rewrite tags Tandem does not own.
      useMWG: false,
      taskTimeoutMillis: 60_000,
    });
    return this.exiftool;
  }

  /**
   * Writes `tags` into a copy of `source` named `output` (ExifTool's `-o`): the source is never modified, so a
   * crash leaves it whole. When `source` is null, ExifTool creates `output` from nothing (a new XMP sidecar).
   * ExifTool takes the format of a new file from `output`'s extension.
   */
  async writeCopy(source: string | null, output: string, tags: WriteTags): Promise<{ warnings: string[] }> {
    const et = this.tool();
    const result = source === null
      ? await et.write(output, tags, { writeArgs: ['-charset', 'iptc=UTF8'] })
      : await et.write(source, tags, { writeArgs: ['-charset', 'iptc=UTF8', '-o', output] });
    return { warnings: result.warnings ?? [] };
  }

  /** Every tag of a file, grouped as `-G1` names them (tests and diagnostics). */
  async readAll(file: string): Promise<Record<string, unknown>> {
    return (await this.tool().readRaw(file, { readArgs: ['-G1', '-struct'] })) as Record<string, unknown>;
  }

  /** Process ids of the ExifTool processes (tests kill them to prove writes are atomic). */
  get pids(): number[] {
    return this.exiftool?.pids ?? [];
  }

  async close(): Promise<void> {
    const et = this.exiftool;
    this.exiftool = null;
    await et?.end();
  }
}
