// Language detection and script classification shared by the chunker, BM25 and the answerers.

export type Language = 'zh' | 'en';

/** Han ideographs, CJK punctuation-free ranges, kana and hangul: text that has no spaces between words. */
export const cjkCharacter = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const cjkGlobal = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;
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

export function isCjk(character: string): boolean {
  return cjkCharacter.test(character);
}
