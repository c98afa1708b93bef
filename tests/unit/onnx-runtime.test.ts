import { describe, expect, it } from 'vitest';
import { defaultThreads, providerCandidates } from '../../src/main/core/onnx/runtime';

describe('execution provider choice', () => {
  const noCuda = (): boolean => false;
  const cuda = (): boolean => true;

  it('auto: accelerator first where the platform has one, CPU always last', () => {
    expect(providerCandidates('auto', 'win32', 'x64', noCuda)).toEqual(['dml', 'cpu']);
    expect(providerCandidates('auto', 'win32', 'x64', cuda)).toEqual(['cuda', 'dml', 'cpu']);
    expect(providerCandidates('auto', 'darwin', 'arm64', noCuda)).toEqual(['coreml', 'cpu']);
    expect(providerCandidates('auto', 'linux', 'x64', cuda)).toEqual(['cuda', 'cpu']);
    expect(providerCandidates('auto', 'linux', 'x64', noCuda)).toEqual(['cpu']);
    expect(providerCandidates('auto', 'linux', 'arm64', cuda)).toEqual(['cpu']);
  });

  it('an explicit choice falls back to CPU; cpu means CPU only', () => {
    expect(providerCandidates('cuda', 'linux', 'x64', noCuda)).toEqual(['cuda', 'cpu']);
    expect(providerCandidates('cpu', 'win32', 'x64', cuda)).toEqual(['cpu']);
  });

  it('on this machine auto resolves without the CUDA library to CPU', () => {
    if (process.platform === 'linux') expect(providerCandidates('auto').at(-1)).toBe('cpu');
    expect(defaultThreads()).toBeGreaterThanOrEqual(1);
    expect(defaultThreads()).toBeLessThanOrEqual(8);
  });
});
