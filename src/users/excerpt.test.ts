import { describe, expect, it } from 'vitest';
import { byteExcerpt, excerpt, looksBinary } from './excerpt.js';

describe('excerpt', () => {
  it('escapes control characters and cuts long text', () => {
    expect(excerpt('ab\u0000c\u001bd\n', 40)).toBe('ab\\x00c\\x1bd\\x0a');
    expect(excerpt('x'.repeat(50), 10)).toBe('xxxxxxxxxx...');
    expect(excerpt('Émile, 北京')).toBe('Émile, 北京');
  });
});

describe('looksBinary', () => {
  it('tells an ELF header or gzip bytes from CSV text', () => {
    expect(looksBinary(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]))).toBe(true);
    expect(looksBinary(Buffer.from([0x1f, 0x8b, 0x08, 0x08, 0xe9, 0xfe, 0xc4, 0xd7, 0xff, 0x9c]))).toBe(true);
    expect(looksBinary(Buffer.from('user_id,age\n1,"Émile, 北京"\r\n', 'utf8'))).toBe(false);
  });
});

describe('byteExcerpt', () => {
  it('shows ASCII as is and other bytes as \\xNN', () => {
    expect(byteExcerpt(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0xa1, 0x41]))).toBe('\\x7fELF\\x00\\xa1A');
    expect(byteExcerpt(Buffer.from('abcdef'), 3)).toBe('abc...');
  });
});
