import type { TandemApi } from '../shared/api';

declare global {
  interface Window {
    /** Installed by the preload (or the E2E harness) from the contract in src/shared/api.ts. */
    readonly tandem: TandemApi;
  }
}

export {};
