import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { lineAndColumn, locateJsonError, parseJsonText } from './json-file.js';

describe('locateJsonError', () => {
  it('accepts what JSON.parse accepts', () => {
    for (const text of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]} \n', '"s"', '0']) {
      expect(locateJsonError(text), text).toBeNull();
    }
  });

  it('points at the first offending character, counted by hand', () => {
    // offset of the "}" after "seed": is 29: line 3 starts at 19 (1 + 18), column 29 - 19 + 1 = 11
    const text = '{\n  "n_users": 10,\n  "seed": }\n';
    expect(locateJsonError(text)).toEqual({ offset: 29, problem: 'expected a value, found "}"' });
    expect(lineAndColumn(text, 29)).toEqual({ line: 3, column: 11 });
    expect(locateJsonError('{"a": 1,}')).toEqual({ offset: 8, problem: 'expected a property name in double quotes, found "}"' });
    expect(locateJsonError('{"a" 1}')).toEqual({ offset: 5, problem: 'expected ":", found "1"' });
    expect(locateJsonError('[1 2]')).toEqual({ offset: 3, problem: 'expected "," or "]", found "2"' });
    expect(locateJsonError('{"a": tru}')).toEqual({ offset: 9, problem: 'expected "true", found "}"' });
    expect(locateJsonError('{"a": 1')).toEqual({ offset: 7, problem: 'expected "," or "}", found the end of the file' });
    expect(locateJsonError('{} x')).toEqual({ offset: 3, problem: 'expected the end of the file after the value, found "x"' });
    expect(locateJsonError("{'a': 1}")?.offset).toBe(1);
    expect(locateJsonError('{"a": "b\nc"}')?.offset).toBe(8);
  });
});

describe('parseJsonText', () => {
  it('names the file, line and column, and no character position', () => {
    let error: unknown;
    try {
      parseJsonText('{\n  "seed": 1,\n  "topic": "x",,\n}', 'my.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('my.json: 1 problem: line 3, column 16: not valid JSON: expected a property name in double quotes, found ","');
  });

  it('reads a file that starts with a byte order mark', () => {
    expect(parseJsonText('\uFEFF{"seed": 2}', 'x.json')).toEqual({ seed: 2 });
  });
});
