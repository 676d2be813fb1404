/**
 * Lines for the user on standard error (notices, warnings, what a command is about to do). In a
 * terminal they are wrapped at spaces to its width, continuation lines indented, so an 80-column
 * window shows them whole; to a pipe or a file each stays one line (for grep and logs).
 */
export function notice(line: string, stream: NodeJS.WriteStream = process.stderr): void {
  stream.write(`${stream.isTTY ? wrapLine(line, stream.columns || 80) : line}\n`);
}

/** `line` broken at spaces into lines of at most `columns` characters (a longer word keeps its own line), continuations indented by two spaces. */
export function wrapLine(line: string, columns: number): string {
  if (line.length <= columns) return line;
  const out: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    const next = current === '' ? word : `${current} ${word}`;
    const limit = out.length === 0 ? columns : columns - 2;
    if (next.length <= limit || current === '') current = next;
    else {
      out.push(current);
      current = word;
    }
  }
  out.push(current);
  return out.map((l, i) => (i === 0 ? l : `  ${l}`)).join('\n');
}
