// Citation markers in generated text: [n] must point to one of the numbered context chunks. Markers that do not
// are removed and reported, never shown to the user as if they were sources.

const marker = /\[(\d{1,3}(?:\s*[,，]\s*\d{1,3})*)\]/g;

export interface CheckedCitations {
  text: string;
  cited: number[];
  dropped: number[];
}

export function checkCitations(text: string, contextSize: number): CheckedCitations {
  const cited = new Set<number>();
  const dropped = new Set<number>();
  const cleaned = text.replace(marker, (_whole, list: string) => {
    const numbers = list.split(/\s*[,，]\s*/).map(Number);
    const valid = numbers.filter((n) => n >= 1 && n <= contextSize);
    for (const n of numbers) (valid.includes(n) ? cited : dropped).add(n);
    return valid.length > 0 ? valid.map((n) => `[${n}]`).join('') : '';
  });
  return {
    text: cleaned
      .replace(/[ \t]+([.,;:!?。，；：！？])/g, '$1')
      .replace(/[ \t]{2,}/g, ' ')
      .trim(),
    cited: [...cited].sort((a, b) => a - b),
    dropped: [...dropped].sort((a, b) => a - b),
  };
}

/** The same check for a streamed piece: invalid markers are removed, nothing else changes. */
export function stripInvalidMarkers(piece: string, contextSize: number): string {
  return piece.replace(marker, (_whole, list: string) =>
    list
      .split(/\s*[,，]\s*/)
      .map(Number)
      .filter((n) => n >= 1 && n <= contextSize)
      .map((n) => `[${n}]`)
      .join(''),
  );
}
