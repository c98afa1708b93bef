import { describe, expect, it } from 'vitest';
import { coresFromCpuinfo, physicalCores } from '../../src/main/core/system/physical-cores';

const cpu = (processor: number, pkg: number, core: number): string =>
  `processor\t: ${processor}\nvendor_id\t: AuthenticAMD\nphysical id\t: ${pkg}\ncore id\t\t: ${core}\ncpu cores\t: 2\n`;

describe('physical cores', () => {
  it('counts (package, core) pairs, so SMT siblings count once', () => {
    const smt = [cpu(0, 0, 0), cpu(1, 0, 1), cpu(2, 0, 0), cpu(3, 0, 1)].join('\n');
    expect(coresFromCpuinfo(smt)).toBe(2);
    const twoSockets = [cpu(0, 0, 0), cpu(1, 1, 0)].join('\n');
    expect(coresFromCpuinfo(twoSockets)).toBe(2);
  });

  it('knows nothing from a cpuinfo without core ids (some ARM kernels, containers)', () => {
    expect(coresFromCpuinfo('processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\n')).toBeUndefined();
  });

  it('answers at least one core on this machine', () => {
    expect(physicalCores()).toBeGreaterThanOrEqual(1);
  });
});
