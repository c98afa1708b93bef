/**
 * Typed errors: `message` is what a user reads (UI, CLI); `cause` keeps the detail for logs.
 * `code` lets the UI and tests tell kinds apart without parsing text.
 */
export class TandemError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TandemError';
    this.code = code;
  }
}

export class NotFoundError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not_found', message, options);
    this.name = 'NotFoundError';
  }
}

export class InvalidInputError extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_input', message, options);
    this.name = 'InvalidInputError';
  }
}

/** A model pack or weight file is missing, truncated or does not match what the code expects. */
export class ModelFileError extends TandemError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('model_file', message, options);
    this.name = 'ModelFileError';
    this.file = file;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Model-file readers fail with ModelFileError only: whatever else a hostile file provokes (RangeError, TypeError,
 * a stack overflow) is wrapped here, so the user still learns which file is at fault.
 */
export function asModelFileError(file: string, err: unknown, context = 'cannot be read'): ModelFileError {
  if (err instanceof ModelFileError) return err;
  return new ModelFileError(file, `${file} ${context}: ${errorMessage(err)}`, { cause: err });
}
