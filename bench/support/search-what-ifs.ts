import type { Db } from '../../src/main/core/store/database';
import type { Sample } from '../search';

/** Placeholder until the first numbers say which fixes to try. */
export async function runWhatIfs(_db: Db, _samples: Sample[], _slowMs: number): Promise<void> {}
