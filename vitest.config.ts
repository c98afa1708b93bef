import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: native decoders and onnxruntime each use threads of their own.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default'],
  },
});
