import type { Db } from '../../src/main/core/store/database';

export interface StatementCall {
  sql: string;
  params: unknown[];
  ms: number;
}

/**
 * Records every statement a service runs through this connection and how long each execution took,
 * so a slow search can be split into its count query and its page query and EXPLAINed as run.
 * Wraps the connection object the bench owns; the services are not touched.
 */
export class StatementProbe {
  calls: StatementCall[] = [];
  prepareMs = 0;
  private readonly original: Db['prepare'];

  constructor(private readonly db: Db) {
    this.original = db.prepare.bind(db);
    (db as { prepare: unknown }).prepare = (sql: string) => {
      const t = performance.now();
      const stmt = this.original(sql);
      this.prepareMs += performance.now() - t;
      for (const method of ['get', 'all', 'run'] as const) {
        const fn = (stmt as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!.bind(stmt);
        (stmt as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
          const t0 = performance.now();
          try {
            return fn(...args);
          } finally {
            this.calls.push({ sql, params: args, ms: performance.now() - t0 });
          }
        };
      }
      return stmt;
    };
  }

  reset(): void {
    this.calls = [];
    this.prepareMs = 0;
  }

  restore(): void {
    (this.db as { prepare: unknown }).prepare = this.original;
  }

  /** EXPLAIN QUERY PLAN of a recorded call, one indented line per plan row. */
  explain(call: StatementCall): string[] {
    const rows = this.original(`EXPLAIN QUERY PLAN ${call.sql}`).all(...(call.params as [])) as { id: number; parent: number; detail: string }[];
    const depth = new Map<number, number>([[0, 0]]);
    return rows.map((r) => {
      const d = (depth.get(r.parent) ?? 0) + 1;
      depth.set(r.id, d);
      return `${'  '.repeat(d)}${r.detail}`;
    });
  }
}
