/** What is wrong with a received sequence that should be exactly 1, 2, …, `last`. */
export interface SequenceCheck {
  received: number;
  /** Seqs received more than once (each extra copy counts). */
  duplicates: number;
  /** Seqs received after a higher one. */
  outOfOrder: number;
  /** Seqs of 1..last never received. */
  missing: number;
  /** The first few anomalies, as `#index: seq n after m`. */
  samples: string[];
}

export function checkSequence(seqs: readonly number[], last: number): SequenceCheck {
  const seen = new Set<number>();
  const samples: string[] = [];
  let duplicates = 0;
  let outOfOrder = 0;
  let highest = 0;
  seqs.forEach((seq, index) => {
    if (seen.has(seq)) duplicates++;
    else if (seq < highest) outOfOrder++;
    if ((seen.has(seq) || seq !== highest + 1) && samples.length < 6) {
      samples.push(`#${index}: seq ${seq} after ${seqs[index - 1] ?? 'nothing'}`);
    }
    seen.add(seq);
    highest = Math.max(highest, seq);
  });
  let missing = 0;
  for (let seq = 1; seq <= last; seq++) if (!seen.has(seq)) missing++;
  return { received: seqs.length, duplicates, outOfOrder, missing, samples };
}

/** The check of a perfect sequence 1..`last`, to compare against. */
export function perfectSequence(last: number): SequenceCheck {
  return { received: last, duplicates: 0, outOfOrder: 0, missing: 0, samples: [] };
}
