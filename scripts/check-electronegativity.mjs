#!/usr/bin/env node
// Runs Doyensec's Electronegativity over src/ and fails on any HIGH or MEDIUM finding that
// scripts/electronegativity-exceptions.json does not explain, or on any file it could not parse
// (a file it cannot parse is a file it did not check). Part of `npm test`; takes about a second.
//
// Offline on purpose: the tool fetches translations from S3 on every run and its
// AvailableSecurityFixesGlobalCheck fetches Electron's release list from GitHub. Tests download nothing,
// so `got` (its only HTTP client) is replaced by one that fails at once, and that check is excluded;
// keeping Electron patched is the lockfile's job.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const require = createRequire(join(root, 'package.json'));
const EXCEPTIONS_FILE = join(root, 'scripts/electronegativity-exceptions.json');
const FAILING_SEVERITIES = new Set(['HIGH', 'MEDIUM']);

const toolMain = require.resolve('@doyensec/electronegativity');
const gotPath = require.resolve('got', { paths: [dirname(toolMain)] });
const offline = () => Promise.reject(new Error('electronegativity runs offline in tests'));
offline.head = offline;
require.cache[gotPath] = { id: gotPath, filename: gotPath, loaded: true, exports: offline };

// Its translation loader reports the (expected) failed fetch on stdout; keep the test output to findings.
const log = console.log;
console.log = (...args) => {
  if (!String(args[0]).startsWith('Could not retrieve updated translations')) log(...args);
};
const run = require('@doyensec/electronegativity');
const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;

const { exceptions } = JSON.parse(readFileSync(EXCEPTIONS_FILE, 'utf8'));
for (const e of exceptions) {
  if (!e.check || !e.file || !e.why?.trim()) throw new Error(`${EXCEPTIONS_FILE}: every exception needs check, file and why: ${JSON.stringify(e)}`);
}

const result = await run({
  input: join(root, 'src'),
  isRelative: true,
  excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
  electronVersionOverride: electronVersion,
  parserPlugins: [],
});
console.log = log;

const where = (i) => `${i.file}:${i.location.line}:${i.location.column}`;
const findings = result.issues.filter((i) => FAILING_SEVERITIES.has(i.severity.name));
const explained = (i) => exceptions.find((e) => e.check === i.id && e.file === i.file);
const unexplained = findings.filter((i) => !explained(i));
const parseErrors = result.errors.filter((e) => !e.tolerable);
const unused = exceptions.filter((e) => !findings.some((i) => e.check === i.id && e.file === i.file));

for (const i of findings.filter(explained)) console.log(`  explained  ${i.id} (${i.severity.name}) ${where(i)}`);
for (const e of unused) console.log(`  note: exception no longer needed, remove it: ${e.check} in ${e.file}`);
for (const e of parseErrors) console.error(`  could not parse ${e.file}: ${e.message}`);
for (const i of unexplained) {
  console.error(`  UNEXPLAINED ${i.id} (${i.severity.name}, ${i.confidence.name}) ${where(i)}\n    ${i.description} ${i.shortenedURL}`);
}
const summary = `electronegativity (Electron ${electronVersion}, ${result.globalChecks + result.atomicChecks} checks): ${findings.length} high/medium findings, ${unexplained.length} unexplained, ${parseErrors.length} unparsed files`;
if (unexplained.length > 0 || parseErrors.length > 0) {
  console.error(`${summary}. Fix them, or explain each in ${EXCEPTIONS_FILE}.`);
  process.exit(1);
}
console.log(summary);
