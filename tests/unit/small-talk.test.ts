import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { smallTalkKind, smallTalkReply, withoutLeadingPoliteness } from '../../src/answer/small-talk.ts';

describe('small talk', () => {
  // Regression: "thanks!" was answered with a NIST acknowledgements section, "hi there" with a Pinia code line.
  it('recognizes greetings, thanks, goodbyes, identity and test messages, acknowledgements and bare emoji, in both languages', () => {
    const cases: [string, string][] = [
      ['thanks!', 'thanks'],
      ['Thank you so much.', 'thanks'],
      ['谢谢！', 'thanks'],
      ['ok thanks 🙏', 'thanks'],
      ['Thank you, bye!', 'thanks'],
      ['hi, thanks a lot', 'greeting'],
      ['好的，谢谢，再见', 'acknowledgement'],
      ['hi there', 'greeting'],
      ['Hello!', 'greeting'],
      ['Good morning team', 'greeting'],
      ['你好', 'greeting'],
      ['在吗？', 'greeting'],
      ['bye', 'goodbye'],
      ['再见', 'goodbye'],
      ['Who are you?', 'identity'],
      ['你能做什么？', 'identity'],
      ['test', 'test'],
      ['测试一下', 'test'],
      ['ok', 'acknowledgement'],
      ['好的', 'acknowledgement'],
      ['👍', 'empty'],
      ['???', 'empty'],
      ['   ', 'empty'],
    ];
    for (const [message, kind] of cases) assert.equal(smallTalkKind(message), kind, message);
  });

  // Regression: "vpn" alone was answered with whichever VPN sentence came first, at confidence 1.
  it('asks for a whole question when the message is one topic word, in its language, and not for a code', () => {
    for (const message of ['vpn', 'VPN?', 'password', '年假', '年假？', '打印机']) assert.equal(smallTalkKind(message), 'keyword', message);
    assert.match(smallTalkReply('keyword', 'en', 'VPN?'), /about “vpn”\?/);
    assert.match(smallTalkReply('keyword', 'zh', '年假？'), /“年假”的哪方面/);
    for (const message of ['E-104', '809', 'M12', '那年假呢？', 'vpn error', 'and M16?', '年假多少天']) assert.equal(smallTalkKind(message), undefined, message);
  });

  it('leaves questions alone, including a question after a greeting and a bare code', () => {
    for (const message of [
      'hi, how do I fix VPN error 809?',
      'How do I reset my password?',
      '年假有多少天？',
      'E-104',
      'What is the capital of France?',
      'thanks to the new policy, how many days off do I get?',
      'test procedure for the hydraulic press',
    ]) {
      assert.equal(smallTalkKind(message), undefined, message);
    }
  });

  it('takes a greeting off the front of a question, and nothing else', () => {
    assert.equal(withoutLeadingPoliteness('hi, how do I fix VPN error 809?'), 'how do I fix VPN error 809?');
    assert.equal(withoutLeadingPoliteness('你好，年假有多少天？'), '年假有多少天？');
    assert.equal(withoutLeadingPoliteness('请问 VPN 错误 809 怎么办？'), 'VPN 错误 809 怎么办？');
    assert.equal(withoutLeadingPoliteness('Hello'), 'Hello');
    assert.equal(withoutLeadingPoliteness('Highway speed limits?'), 'Highway speed limits?');
  });
});
