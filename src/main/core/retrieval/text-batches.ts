/**
 * Groups tokenized texts by length so each batch runs without padding. A padded row differs from the same text
 * run alone only by float rounding (the −10000 mask makes padded keys weigh exactly 0, but the kernels sum over
 * a longer row); grouping makes "a batch equals single runs" hold bit for bit, which keeps stored embeddings
 * independent of what else happened to be in the batch.
 */
export interface TextBatch {
  /** positions of these rows in the caller's list */
  indices: number[];
  /** token ids, all of one length */
  ids: number[][];
}

export function equalLengthBatches(tokenized: readonly (readonly number[])[], maxRows: number): TextBatch[] {
  const byLength = new Map<number, number[]>();
  tokenized.forEach((ids, i) => {
    const list = byLength.get(ids.length);
    if (list) list.push(i);
    else byLength.set(ids.length, [i]);
  });
  const batches: TextBatch[] = [];
  for (const indices of byLength.values()) {
    for (let start = 0; start < indices.length; start += maxRows) {
      const part = indices.slice(start, start + maxRows);
      batches.push({ indices: part, ids: part.map((i) => [...(tokenized[i] as readonly number[])]) });
    }
  }
  return batches;
}
