// From the raw filename bytes of a request to a path relative to the served tree: pure.
//
// - Trailing NUL/0xFF bytes are stripped (some PXE ROMs pad the name).
// - The name must be valid UTF-8 without control characters; `\` becomes `/`; one leading `/` is stripped.
// - Refused (ERROR 2): `..` segments, still absolute after that (`//x`, `C:...`), and names whose
//   percent-decoded form would be a traversal (`%2e%2e/`, `%2f`, `%5c`). We do not percent-decode names
//   ourselves (TFTP has no URL encoding; curl decodes before it sends), so a name like `a%20b` is served
//   literally; the check is defence in depth for anything downstream that might decode.
// - Empty and `.` segments are dropped; the result uses `/` separators and never starts with `/`.
//
// This is only the lexical half; the file resolver also checks the realpath (symlinks) stays inside the root.

export const MAX_FILENAME_BYTES = 1024;

export type FilenameResult = { ok: true; path: string } | { ok: false; reason: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

function percentDecodeRepeatedly(name: string): string {
  let current = name;
  for (let i = 0; i < 4 && /%[0-9a-fA-F]{2}/.test(current); i++) {
    // Decode byte-wise so invalid sequences cannot throw; latin1 keeps every byte.
    current = Buffer.from(current.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('latin1');
  }
  return current;
}

function lexicalCheck(name: string): FilenameResult {
  let p = name.replace(/\\/g, '/');
  if (p.startsWith('/')) p = p.slice(1);
  if (p.startsWith('/')) return { ok: false, reason: 'absolute path' };
  if (/^[a-zA-Z]:/.test(p)) return { ok: false, reason: 'drive-letter path' };
  const segments = p.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return { ok: false, reason: 'parent-directory segment' };
  if (segments.length === 0) return { ok: false, reason: 'empty path' };
  return { ok: true, path: segments.join('/') };
}

export function sanitizeFilename(raw: Buffer): FilenameResult {
  let end = raw.length;
  while (end > 0 && (raw[end - 1] === 0x00 || raw[end - 1] === 0xff)) end--;
  if (end === 0) return { ok: false, reason: 'empty filename' };
  if (end > MAX_FILENAME_BYTES) return { ok: false, reason: 'filename too long' };
  let name: string;
  try {
    name = decoder.decode(raw.subarray(0, end));
  } catch {
    return { ok: false, reason: 'filename is not valid UTF-8' };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return { ok: false, reason: 'control character in filename' };
  const result = lexicalCheck(name);
  if (!result.ok) return result;
  if (name.includes('%')) {
    const decoded = percentDecodeRepeatedly(name);
    if (decoded !== name) {
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f]/.test(decoded)) return { ok: false, reason: 'percent-encoded control character' };
      const d = lexicalCheck(decoded);
      if (!d.ok) return { ok: false, reason: `percent-encoded ${d.reason}` };
      if (/%(2f|5c)/i.test(name)) return { ok: false, reason: 'percent-encoded separator' };
    }
  }
  return result;
}
