/**
 * Text from a user's file shown back in an error message: control and other unprintable characters
 * escaped, and cut short, so a binary file given by mistake never floods (or garbles) the terminal.
 */
export function excerpt(text: string, max = 40): string {
  const chars = [...text];
  const shown = chars.slice(0, max).map(printable).join('');
  return chars.length > max ? `${shown}...` : shown;
}

function printable(ch: string): string {
  if (ch === '\uFFFD') return '?';
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u.test(ch)) {
    const code = ch.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  }
  return ch;
}

/** The first bytes of a binary file, ASCII shown as is and every other byte as \xNN. */
export function byteExcerpt(bytes: Uint8Array, max = 24): string {
  const shown = [...bytes.subarray(0, max)].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  return bytes.length > max ? `${shown}...` : shown;
}

/**
 * A file that is binary rather than text: a NUL byte, bytes that are not UTF-8, or mostly control
 * characters, in its first 8 KB.
 */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return true;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  // Tolerate one broken multi-byte character cut at the 8 KB boundary.
  const replaced = (text.match(/\uFFFD/g) ?? []).length;
  if (replaced > 1) return true;
  const controls = (text.match(/[\x00-\x08\x0e-\x1f\x7f]/g) ?? []).length;
  return controls > text.length / 10;
}
