/**
 * `npm run bench -- gallery [--rows 1000000]`
 *
 * The gallery's scale test (tests/e2e/gallery-scale.test.ts: the real page in Chromium against a real core)
 * at a million synthetic photos instead of the 100,000 `npm test` uses: first paint, jump-scrolls, frame times
 * while scrolling, a search as you type, and the memory of the process that hosts the core. The test prints
 * its numbers as `[scale]` lines; this passes them through with the machine's load before and after.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from './support/args';
import { machineLine } from './support/resource-monitor';

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const rows = args.number('rows', 1_000_000);
  console.log(`# gallery benchmark: ${rows.toLocaleString('en')} synthetic photos in Chromium`);
  console.log(`machine: ${machineLine()}, node ${process.version}`);
  const code = await new Promise<number>((resolve, reject) => {
    // The insert alone takes minutes at a million rows: the hook and the tests get the time they need.
    const child = spawn('npx', ['vitest', 'run', 'tests/e2e/gallery-scale.test.ts', '--hookTimeout=1800000', '--testTimeout=600000'], {
      env: { ...process.env, TANDEM_SCALE_ROWS: String(rows) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (/\[scale\]|✓|×|FAIL|Tests |passed|failed/.test(line)) console.log(line);
      }
    });
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 1));
  });
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' / ')}; vitest exit code ${code}`);
}
