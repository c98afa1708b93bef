/**
 * The k best (row, score) pairs of a stream, in a binary min-heap on typed arrays: the root is the worst kept score,
 * so a scan compares each score with one number and touches the heap only for the few that beat it.
 */
export class TopK {
  private readonly rows: Int32Array;
  private readonly scores: Float32Array;
  private size = 0;

  constructor(readonly k: number) {
    this.rows = new Int32Array(Math.max(1, k));
    this.scores = new Float32Array(Math.max(1, k));
  }

  /** The score a newcomer must beat to be kept (-Infinity until k are kept). */
  get threshold(): number {
    return this.size < this.k ? -Infinity : this.scores[0]!;
  }

  push(row: number, score: number): void {
    if (this.k <= 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      // Sift up.
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.scores[parent]! <= score) break;
        this.scores[i] = this.scores[parent]!;
        this.rows[i] = this.rows[parent]!;
        i = parent;
      }
      this.scores[i] = score;
      this.rows[i] = row;
      return;
    }
    if (score <= this.scores[0]!) return;
    // Replace the root and sift down.
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.scores[r]! < this.scores[l]! ? r : l;
      if (this.scores[c]! >= score) break;
      this.scores[i] = this.scores[c]!;
      this.rows[i] = this.rows[c]!;
      i = c;
    }
    this.scores[i] = score;
    this.rows[i] = row;
  }

  /** What was kept, best first (ties: lower row first, so results are stable). */
  sorted(): { row: number; score: number }[] {
    const out: { row: number; score: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ row: this.rows[i]!, score: this.scores[i]! });
    return out.sort((a, b) => b.score - a.score || a.row - b.row);
  }
}
