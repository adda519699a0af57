// JavaScript strings count UTF-16 code units; the engine counts Unicode
// code points. These helpers convert offsets and apply engine changes to a
// JS string without crossing into WebAssembly.

/** Code points in s[0, utf16Offset). RangeError outside s or inside a surrogate pair. */
export function utf16ToCodePoint(s: string, utf16Offset: number): number {
  if (!Number.isInteger(utf16Offset) || utf16Offset < 0 || utf16Offset > s.length) {
    throw new RangeError(`position ${utf16Offset} outside 0..${s.length}`);
  }
  let cp = 0;
  for (let i = 0; i < utf16Offset; i++, cp++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        if (i + 1 === utf16Offset) throw new RangeError(`position ${utf16Offset} splits a surrogate pair`);
        i++;
      }
    }
  }
  return cp;
}

/** UTF-16 offset of code point `cp` of s, starting the walk at UTF-16 offset `from` (code point `fromCp`). */
export function codePointToUtf16(s: string, cp: number, from = 0, fromCp = 0): number {
  let i = from;
  for (let n = fromCp; n < cp; n++) {
    if (i >= s.length) throw new RangeError(`code point ${cp} beyond the text`);
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
  }
  return i;
}

export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
  }
  return n;
}

/** A change to a text: at `pos`, `deleted` units removed, then `inserted` inserted. */
export interface TextChange {
  pos: number;
  deleted: number;
  inserted: string;
}

/** The one change that turns `a` into `b` (common prefix and suffix kept), in UTF-16. */
export function diffStrings(a: string, b: string): TextChange | null {
  if (a === b) return null;
  let start = 0;
  const max = Math.min(a.length, b.length);
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && a.charCodeAt(a.length - 1 - end) === b.charCodeAt(b.length - 1 - end)) end++;
  // Never split a surrogate pair.
  if (start > 0 && isHigh(a.charCodeAt(start - 1))) start--;
  if (end > 0 && isLow(a.charCodeAt(a.length - end))) end--;
  return { pos: start, deleted: a.length - start - end, inserted: b.slice(start, b.length - end) };
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Maps a code-point position through a change (code points); a position at the change stays before it. */
export function mapPosition(p: number, c: { pos: number; deleted: number; insertedLength: number }): number {
  if (p <= c.pos) return p;
  if (p >= c.pos + c.deleted) return p - c.deleted + c.insertedLength;
  return c.pos;
}
