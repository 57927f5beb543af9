import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkSections, indexableText } from '../../src/ingest/chunker.ts';

const options = { maxTokens: 50, overlapTokens: 10 };

describe('chunkSections', () => {
  it('never lets a chunk cross a heading or a page, and keeps both on the chunk', () => {
    const chunks = chunkSections(
      [
        { text: 'Alpha text here.', headings: ['A'], page: 1 },
        { text: 'Beta text here.', headings: ['A', 'B'], page: 2 },
      ],
      options,
    );
    assert.equal(chunks.length, 2);
    assert.deepEqual(
      chunks.map((chunk) => [chunk.headings, chunk.page]),
      [
        [['A'], 1],
        [['A', 'B'], 2],
      ],
    );
  });

  it('splits long Chinese text at sentence ends within the budget, with overlap', () => {
    const sentence = '设备每班开机前必须完成点检并签名。'; // 16 CJK characters + punctuation
    const chunks = chunkSections([{ text: sentence.repeat(10), headings: [] }], { maxTokens: 50, overlapTokens: 20 });
    assert.ok(chunks.length >= 3);
    for (const chunk of chunks) {
      assert.ok(chunk.tokenCount <= 50, `chunk of ${chunk.tokenCount} tokens`);
      assert.ok(chunk.text.endsWith('。'), `chunk ends mid-sentence: ${chunk.text}`);
    }
    // Overlap: each later chunk starts with the last sentence of the previous one.
    assert.equal(chunks[1]!.startOffset, chunks[0]!.endOffset - sentence.length);
  });

  it('cuts a line with no sentence end between words, never inside one', () => {
    const words = Array.from({ length: 130 }, (_, index) => `word${index}`);
    const chunks = chunkSections([{ text: words.join(' '), headings: [] }], options);
    assert.ok(chunks.length >= 3);
    const rejoined = chunks.flatMap((chunk) => chunk.text.split(/\s+/));
    for (const token of rejoined) assert.match(token, /^word\d+$/);
    assert.equal(new Set(rejoined).size, 130);
  });

  it('cuts a long unpunctuated Chinese line between characters', () => {
    const text = '字'.repeat(120);
    const chunks = chunkSections([{ text, headings: [] }], options);
    assert.equal(chunks.map((chunk) => chunk.text).join(''), text);
    assert.ok(chunks.every((chunk) => chunk.tokenCount <= options.maxTokens));
  });

  it('keeps table rows whole and offsets point into the document text', () => {
    const text = 'Code | Meaning\nE-101 | Spindle motor overheat\nE-104 | Encoder signal lost';
    const [chunk] = chunkSections([{ text, headings: ['Fault codes'] }], options);
    assert.equal(chunk?.text, text);
    assert.equal(chunk?.startOffset, 0);
    assert.equal(chunk?.endOffset, text.length);
  });

  it('gives equal chunks equal hashes and different headings different hashes', () => {
    const [first] = chunkSections([{ text: 'Same text.', headings: ['A'] }], options);
    const [second] = chunkSections([{ text: 'Same text.', headings: ['A'] }], options);
    const [third] = chunkSections([{ text: 'Same text.', headings: ['B'] }], options);
    assert.equal(first?.contentHash, second?.contentHash);
    assert.notEqual(first?.contentHash, third?.contentHash);
  });

  it('prefixes the title and heading path for indexing, without repeating the title', () => {
    assert.equal(indexableText('Manual', { headings: ['Manual', 'Faults'], text: 'E-101' }), 'Manual\nFaults\nE-101');
  });
});
