import { describe, expect, it } from 'vitest';
import { notice, wrapLine } from './notice.js';

const NO_KEY = 'sim: no OpenAI API key found (OPENAI_API_KEY or OPENAI_API_KEY.env): using the offline persona model, not an LLM';

describe('notices in a terminal', () => {
  it('wrap at spaces to the width, continuations indented, no word cut', () => {
    expect(NO_KEY.length).toBe(112);
    expect(wrapLine(NO_KEY, 80)).toBe('sim: no OpenAI API key found (OPENAI_API_KEY or OPENAI_API_KEY.env): using the\n  offline persona model, not an LLM');
    for (const l of wrapLine(NO_KEY, 40).split('\n')) expect(l.length).toBeLessThanOrEqual(40);
    expect(wrapLine(NO_KEY, 40).replace(/\n {2}/g, ' ')).toBe(NO_KEY);
    // A word longer than the width (a path) keeps its own line rather than being cut.
    expect(wrapLine('log /a/very/long/path/to/a/log/file.log', 12)).toBe('log\n  /a/very/long/path/to/a/log/file.log');
    expect(wrapLine('short', 80)).toBe('short');
  });

  it('wrap only on a terminal: to a pipe or file each notice stays one line', () => {
    const written: string[] = [];
    const stream = (isTTY: boolean) => ({ isTTY, columns: 80, write: (s: string) => written.push(s) }) as unknown as NodeJS.WriteStream;
    notice(NO_KEY, stream(false));
    notice(NO_KEY, stream(true));
    expect(written[0]).toBe(`${NO_KEY}\n`);
    expect(written[1].split('\n').map((l) => l.length)).toEqual([78, 35, 0]);
  });
});
