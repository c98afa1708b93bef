/** The few flags benchmarks take: `--name value`, `--name=value` and bare `--flag`. */
export interface BenchArgs {
  number(name: string, fallback: number): number;
  flag(name: string): boolean;
  string(name: string, fallback: string): string;
}

export function parseArgs(argv: string[]): BenchArgs {
  const values = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`Unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq !== -1) {
      values.set(a.slice(2, eq), a.slice(eq + 1));
    } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
      values.set(a.slice(2), argv[++i]!);
    } else {
      values.set(a.slice(2), true);
    }
  }
  return {
    number(name, fallback) {
      const v = values.get(name);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (v === true || !Number.isFinite(n)) throw new Error(`--${name} needs a number`);
      return n;
    },
    flag: (name) => values.get(name) === true || values.get(name) === 'true',
    string(name, fallback) {
      const v = values.get(name);
      return typeof v === 'string' ? v : fallback;
    },
  };
}
