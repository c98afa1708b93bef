import { runCli } from './main';

// First Ctrl-C asks the running command to stop cleanly (finish the file or batch in hand); a second one exits now.
const controller = new AbortController();
let interrupts = 0;
process.on('SIGINT', () => {
  interrupts++;
  if (interrupts === 1) {
    process.stderr.write('\nStopping… (press Ctrl-C again to quit at once)\n');
    controller.abort();
  } else {
    process.exit(130);
  }
});
process.on('SIGTERM', () => controller.abort());

const code = await runCli({ argv: process.argv.slice(2), signal: controller.signal });
process.exitCode = code;
