// Character classes shared by every tokenizer in the project. \p{L} includes Han characters, so a "Latin word"
// must exclude the CJK scripts explicitly, or "VPN错误809" would be one word.

export const CJK_CLASS = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
/** One letter or digit that is not CJK. */
export const WORD_CHARACTER = `(?:(?![${CJK_CLASS}])[\\p{L}\\p{N}])`;

/** Group 1: a run of CJK characters; group 2: a word or number, with inner - _ . / joining codes such as "E-104". */
export const runPattern = () => new RegExp(`([${CJK_CLASS}]+)|(${WORD_CHARACTER}+(?:[-_./]${WORD_CHARACTER}+)*)`, 'gu');
/** Group 1: one CJK character; group 2: a plain word or number. The chunker's and counters' unit of length. */
export const tokenUnitPattern = () => new RegExp(`([${CJK_CLASS}])|(${WORD_CHARACTER}+)`, 'gu');
