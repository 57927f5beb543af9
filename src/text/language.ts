// Language detection and script classification shared by the chunker, BM25 and the answerers.

import { CJK_CLASS } from './patterns.ts';

export type Language = 'zh' | 'en';

/** Han ideographs, kana and hangul: text that has no spaces between words. */
const cjkGlobal = new RegExp(`[${CJK_CLASS}]`, 'gu');
const latinWordGlobal = /[\p{Script=Latin}]+/gu;

/** Share of CJK characters (counted per character) among CJK characters and Latin words (counted per word). */
export function cjkShare(text: string): number {
  const cjk = text.match(cjkGlobal)?.length ?? 0;
  const latinWords = text.match(latinWordGlobal)?.length ?? 0;
  return cjk + latinWords === 0 ? 0 : cjk / (cjk + latinWords);
}

/** A text is Chinese when at least 30% of its units are CJK characters: manuals in Chinese quote many Latin codes. */
export function detectLanguage(text: string): Language {
  return cjkShare(text.slice(0, 20000)) >= 0.3 ? 'zh' : 'en';
}
