import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectLanguage } from '../../src/text/language.ts';
import { splitSentences } from '../../src/text/sentences.ts';
import { contentWords, countTokens, tokenize } from '../../src/text/tokenize.ts';

describe('tokenize', () => {
  it('stems English words and drops stop words', () => {
    assert.deepEqual(tokenize('The spindle motors are running'), ['spindl', 'motor', 'run']);
    assert.deepEqual(tokenize('calibration'), tokenize('calibrated'));
  });

  it('joins fault codes so that E104 matches E-104', () => {
    const terms = tokenize('Fault E-104 and M8x1.25');
    assert.ok(terms.includes('e104'));
    assert.ok(tokenize('E104').includes('e104'));
  });

  it('turns Chinese runs into overlapping bigrams and keeps a lone character', () => {
    assert.deepEqual(tokenize('主轴电机'), ['主轴', '轴电', '电机']);
    assert.deepEqual(tokenize('X 机 Y'), ['x', '机', 'y']);
  });

  it('tokenizes mixed Chinese and English text', () => {
    assert.deepEqual(tokenize('VPN错误809'), ['vpn', '错误', '809']);
  });

  it('normalizes full-width characters (NFKC)', () => {
    assert.deepEqual(tokenize('ＶＰＮ　８０９'), ['vpn', '809']);
  });
});

describe('contentWords', () => {
  it('keeps an identifier as one word witnessed by its joined form', () => {
    const [word] = contentWords('HL-600');
    assert.equal(word?.code, true);
    assert.deepEqual(word?.terms, ['hl600']);
  });

  it('joins single characters into corpus words only where the spanning bigram is known', () => {
    const known = new Set(['锁模', '模力']);
    const words = contentWords('锁模力是多少', (term) => known.has(term)).map((word) => word.word);
    assert.ok(words.includes('锁模力'), words.join('|'));
    const unknown = contentWords('冷水机长时间', () => false).map((word) => word.word);
    assert.ok(!unknown.includes('冷水机长'), unknown.join('|'));
  });

  it('drops Chinese question words', () => {
    assert.deepEqual(
      contentWords('年假有多少天？')
        .map((word) => word.word)
        .filter((word) => ['多少', '什么'].includes(word)),
      [],
    );
  });
});

describe('splitSentences', () => {
  it('splits on Latin and CJK sentence ends and on line breaks, with offsets', () => {
    const text = 'First one. Second! 第一句。第二句；third\nfourth';
    const sentences = splitSentences(text);
    assert.deepEqual(
      sentences.map((sentence) => sentence.text),
      ['First one.', 'Second!', '第一句。', '第二句；', 'third', 'fourth'],
    );
    for (const sentence of sentences) assert.equal(text.slice(sentence.start, sentence.end), sentence.text);
  });

  it('does not split after a list number or an abbreviation', () => {
    assert.deepEqual(
      splitSentences('7. Verify zero energy. Use e.g. a tester.').map((sentence) => sentence.text),
      ['7. Verify zero energy.', 'Use e.g. a tester.'],
    );
  });
});

describe('language', () => {
  it('detects Chinese even with Latin codes inside', () => {
    assert.equal(detectLanguage('注塑机报警 M-05 是什么意思？'), 'zh');
    assert.equal(detectLanguage('What does fault code E-104 mean?'), 'en');
  });

  it('counts a CJK character or a Latin word as one token', () => {
    assert.equal(countTokens('打印机 printer toner'), 5);
  });
});
