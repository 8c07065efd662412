// Generated content served over TFTP from memory (e.g. the iPXE entry script `boot.ipxe`), looked up by name before
// the directory tree.
import { sanitizeFilename } from './filename.js';

export type VirtualContent = string | Uint8Array;

export interface VirtualFileRequest {
  /** The sanitized path (see filename.ts): no leading `/`, `/` separators, no `..`. */
  path: string;
  remoteAddress: string;
  remotePort: number;
}

/** The port the TFTP server asks for generated files. Return undefined to fall back to the directory tree. */
export interface VirtualFileProvider {
  get(request: VirtualFileRequest): VirtualContent | undefined | Promise<VirtualContent | undefined>;
}

export type VirtualFileSource = VirtualContent | ((request: VirtualFileRequest) => VirtualContent | undefined | Promise<VirtualContent | undefined>);

/** A simple provider: a map from name to content or to a function generating it per request. */
export class VirtualFiles implements VirtualFileProvider {
  private readonly files = new Map<string, VirtualFileSource>();

  constructor(initial: Record<string, VirtualFileSource> = {}) {
    for (const [name, source] of Object.entries(initial)) this.set(name, source);
  }

  /** Registers `name` (normalized like a request: `\` -> `/`, leading `/` stripped). Strings are sent as UTF-8. */
  set(name: string, source: VirtualFileSource): this {
    this.files.set(normalize(name), source);
    return this;
  }

  delete(name: string): boolean {
    return this.files.delete(normalize(name));
  }

  has(name: string): boolean {
    return this.files.has(normalize(name));
  }

  async get(request: VirtualFileRequest): Promise<VirtualContent | undefined> {
    const source = this.files.get(request.path);
    if (source === undefined) return undefined;
    return typeof source === 'function' ? source(request) : source;
  }
}

function normalize(name: string): string {
  const r = sanitizeFilename(Buffer.from(name, 'utf8'));
  if (!r.ok) throw new Error(`invalid virtual file name "${name}": ${r.reason}`);
  return r.path;
}
