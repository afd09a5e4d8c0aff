/**
 * The error every image loader throws for an image it cannot load (bad magic, a truncated file,
 * segments outside guest RAM, unsupported features). The message is written for the user of
 * the CLI, who sees it without a stack trace.
 */
export class ImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}
