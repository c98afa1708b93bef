/**
 * `npm run bench -- <name> [args]`: benchmarks print numbers; they never pass or fail.
 * Each bench/<name>.ts exports `run(args: string[]): Promise<void>`.
 */
const known = ['index', 'search', 'gallery', 'blip', 'caption', 'chat', 'llava-compile', 'metadata', 'retrieval', 'retrieval-engine'] as const;
const [name, ...rest] = process.argv.slice(2);
if (!name || !(known as readonly string[]).includes(name)) {
  console.error(`usage: npm run bench -- <${known.join('|')}> [args]`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { run(args: string[]): Promise<void> };
await mod.run(rest);
export {};
