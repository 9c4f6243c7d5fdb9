// The bytes every transfer carries: a fixed pseudo-random sequence whose period (a prime just
// under 1 MiB) divides no chunk size, so a lost, duplicated, reordered or corrupted chunk shows
// up as a mismatch at a known offset, checked with memcmp speed.
const PERIOD = 1_048_573;

/** The sequence twice over: any window of up to PERIOD bytes is one contiguous slice. */
const DOUBLED: Buffer = (() => {
  const buf = Buffer.allocUnsafe(PERIOD * 2);
  let x = 0x9e3779b9;
  for (let i = 0; i < PERIOD; i++) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  buf.copy(buf, PERIOD, 0, PERIOD);
  return buf;
})();

/** The pattern's bytes [offset, offset + length), length ≤ PERIOD; a view, no copy. */
export function patternSlice(offset: number, length: number): Buffer {
  if (length > PERIOD) throw new RangeError(`pattern slice of ${length} bytes exceeds ${PERIOD}`);
  const start = offset % PERIOD;
  return DOUBLED.subarray(start, start + length);
}

/** The pattern's first `length` bytes as one buffer (for small echo payloads). */
export function patternBytes(length: number): Buffer {
  return Buffer.from(patternSlice(0, length));
}

/** Checks a stream, chunk by chunk, against the pattern from offset 0. */
export class PatternCheck {
  /** Bytes seen so far. */
  received = 0;
  /** Stream offset of the first wrong byte, or -1 while all bytes match. */
  firstBad = -1;

  feed(chunk: Buffer): void {
    if (this.firstBad < 0) {
      for (let at = 0; at < chunk.length; ) {
        const n = Math.min(chunk.length - at, PERIOD - ((this.received + at) % PERIOD));
        const got = chunk.subarray(at, at + n);
        const want = patternSlice(this.received + at, n);
        if (!got.equals(want)) {
          let i = 0;
          while (got[i] === want[i]) i++;
          this.firstBad = this.received + at + i;
          break;
        }
        at += n;
      }
    }
    this.received += chunk.length;
  }

  get ok(): boolean {
    return this.firstBad < 0;
  }
}
