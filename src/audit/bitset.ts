/** A set of seqs that grows as needed: one bit per seq keeps intent bookkeeping small for millions of entries. */
export class BitSet {
  private bytes = new Uint8Array(1024);
  has(i: number): boolean {
    return ((this.bytes[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
  }
  add(i: number): void {
    const at = i >> 3;
    if (at >= this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, at + 1));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[at] = (this.bytes[at] ?? 0) | (1 << (i & 7));
  }
}
