// A JavaScript string edited by splices. Splicing a plain string copies the
// whole text each time (V8 flattens the previous concatenation before it
// can slice it), which costs as much as the text is long; TextRope keeps
// the text in chunks, so a splice copies one or two chunks and finds them
// by a walk over chunk lengths.

/** Chunks grow to this many UTF-16 units before they split. */
const kChunk = 2048;

export class TextRope {
  private chunks: string[] = [];
  private len = 0;
  /** The joined text, until the next splice. */
  private joined: string | null = '';

  constructor(s = '') {
    this.reset(s);
  }

  /** Replaces the whole text. */
  reset(s: string): void {
    this.chunks = pieces(s);
    this.len = s.length;
    this.joined = s;
  }

  /** Length in UTF-16 units. */
  get length(): number {
    return this.len;
  }

  toString(): string {
    if (this.joined === null) this.joined = this.chunks.join('');
    return this.joined;
  }

  /** Replaces units [from, to) with `inserted`. RangeError outside the text. */
  splice(from: number, to: number, inserted: string): void {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || from > to || to > this.len) {
      throw new RangeError(`splice ${from}..${to} outside 0..${this.len}`);
    }
    const c = this.chunks;
    if (c.length === 0) {
      this.reset(inserted);
      return;
    }
    // The first chunk that ends at or after `from`, and the one for `to`.
    let k = 0;
    let start = 0;
    while (k < c.length - 1 && start + c[k].length < from) start += c[k++].length;
    let j = k;
    let jStart = start;
    while (j < c.length - 1 && jStart + c[j].length < to) jStart += c[j++].length;
    let merged = c[k].slice(0, from - start) + inserted + c[j].slice(to - jStart);
    // Deletions leave small chunks: fold the next one in, so the chunk
    // count stays near length / kChunk.
    if (merged.length < kChunk / 4 && j + 1 < c.length) merged += c[++j];
    const next = pieces(merged);
    if (next.length <= 16) c.splice(k, j - k + 1, ...next);
    else this.chunks = c.slice(0, k).concat(next, c.slice(j + 1));
    this.len += inserted.length - (to - from);
    this.joined = null;
  }
}

/** `s` in chunks of at most kChunk units (none for ''). */
function pieces(s: string): string[] {
  if (s.length <= kChunk) return s.length > 0 ? [s] : [];
  const out: string[] = [];
  const n = Math.ceil(s.length / kChunk);
  const size = Math.ceil(s.length / n);
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}
