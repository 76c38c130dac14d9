/**
 * The few globals shared/ uses that both the browser and Node provide (WHATWG Encoding and URL),
 * declared with only the members used here: shared/ compiles without DOM or Node types, so code
 * that needs anything else platform-specific must be handed it by its caller.
 */

declare class TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}

declare class URL {
  constructor(url: string, base?: string);
  protocol: string;
  pathname: string;
  hash: string;
  search: string;
  toString(): string;
}
