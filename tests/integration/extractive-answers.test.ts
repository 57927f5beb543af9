// Extractive answers a person can act on, from small generated documents that show each defect: a procedure comes
// back whole and in order, a command after the sentence that announces it is kept verbatim and copyable.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KnowledgeBase } from '../../src/knowledge-base.ts';
import { READ_EVERYTHING } from '../../src/retrieve/read-scope.ts';
import { testConfig } from '../helpers/knowledge-base.ts';
import { silentLogger, temporaryDirectory } from '../helpers/temp.ts';

describe('extractive answers', () => {
  let knowledgeBase: KnowledgeBase;

  before(async () => {
    knowledgeBase = await KnowledgeBase.open(testConfig({ KB_DATA_DIR: temporaryDirectory() }), silentLogger);
    const folder = temporaryDirectory();
    const files = [
      {
        source: 'scanner-setup.md',
        text: [
          '# Badge scanner setup',
          '',
          '## How do I pair a new badge scanner?',
          '',
          'Pairing takes about five minutes and needs an administrator account.',
          '',
          '1. Plug the scanner into a USB port of the gate computer.',
          '2. Open the Gate Manager and choose Devices.',
          '3. Hold a blank badge in front of the scanner for three seconds.',
          '4. Type the gate number and press Save.',
          '5. Test the scanner with your own badge.',
        ].join('\n'),
      },
      {
        source: '打印队列.md',
        text: [
          '# 打印队列故障处理',
          '',
          '## 清空打印队列',
          '',
          '打印任务卡在队列中时，以管理员身份打开命令提示符，请执行：',
          '',
          '```bat',
          'net stop spooler && del /q %systemroot%\\System32\\spool\\PRINTERS\\* && net start spooler',
          '```',
          '',
          '执行后重新发送打印任务。',
        ].join('\n'),
      },
      { source: 'canteen.txt', text: 'Canteen hours\n\nThe canteen opens at 11:30 and closes at 14:00 on working days.\n' },
      { source: '食堂.txt', text: '食堂开放安排\n\n食堂每个工作日 11:30 开放，14:00 关闭。\n' },
      { source: 'torque.md', text: readFileSync('docs-corpus/maintenance/torque-specifications.md', 'utf8') },
      {
        source: '消费者规定.md',
        text: '# 网购退货规定\n\n## 第二十五条\n\n经营者采用网络、电视、电话、邮购等方式销售商品，消费者有权自收到商品之日起七日内退货，且无需说明理由，但消费者定作的商品除外。\n',
      },
      // 「天内」 is a word of this corpus (so the question's 「多少天内」 keeps it as one rare word).
      { source: '报销.md', text: '# 差旅报销\n\n报销单据须在出差结束后三十天内提交财务部。\n' },
      {
        source: '个人信息规定.md',
        text: [
          '# 个人信息处理规定',
          '',
          '## 敏感个人信息的处理',
          '',
          '第二十八条 敏感个人信息是一旦泄露或者非法使用，容易导致员工的人格尊严受到侵害或者人身、财产安全受到危害的个人信息，包括生物识别、宗教信仰、特定身份、医疗健康、金融账户、行踪轨迹等信息，以及不满十四周岁未成年人的个人信息。',
          '只有在具有特定的目的和充分的必要性，并采取严格保护措施的情形下，公司方可处理敏感个人信息。',
          '第二十九条 处理敏感个人信息应当取得员工的单独同意。',
          '第三十条 公司处理敏感个人信息的，应当向员工告知处理敏感个人信息的必要性以及对个人权益的影响。',
        ].join('\n\n'),
      },
      {
        source: '系统升级.md',
        text: '# 保持系统最新\n\n## 可以自动升级系统吗？\n\n可以。您可以使用 cron-apt；这一工具使用 cron 任务定期升级系统。它默认只更新软件包列表并下载新的软件包，但不安装它们。\n\n注意：不建议在测试系统上配置软件包的自动升级，因为可能在不通知您的情况下卸载软件包。\n',
      },
      // One notice shipped in two formats.
      { source: 'forklift-notice.md', text: '# Forklift charging notice\n\nForklift batteries are charged only in bay C4, with the charger lid open and the smoke detector tested each Monday.\n' },
      {
        source: 'forklift-notice.html',
        text: '<html><head><title>Forklift charging notice</title></head><body><h1>Forklift charging notice</h1><p>Forklift batteries are charged only in bay C4, with the charger lid open and the smoke detector tested each Monday.</p></body></html>',
      },
    ];
    for (const file of files) writeFileSync(path.join(folder, file.source), file.text);
    const summary = await knowledgeBase.ingest([folder]);
    assert.equal(summary.added, files.length, JSON.stringify(summary.failed));
  });
  after(() => knowledgeBase.close());

  // Over the real consumer-protection law (docs-corpus/eval/realworld.jsonl r011) this question was refused: 「天内」
  // counted as a rare topic word that the law's 「七日内」 lacks. The unit after 多少/几 names the kind of answer, not
  // its topic. (This small corpus does not reproduce the refusal; the test guards the answer.)
  it('answers 多少天内 from a text that says 七日内', async () => {
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: '网络购物收到商品后多少天内可以无理由退货？' });
    assert.equal(result.answerable, true, result.answer);
    assert.match(result.answer, /七日内退货/);
  });

  // Over the real personal-information law (realworld.jsonl r010) this was answered with the articles that use the
  // term, not the one that defines it (the definition is long and lost on length). Guarded here on a small copy.
  it('answers a definition question with the sentence that defines the word', async () => {
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: '哪些个人信息属于敏感个人信息？' });
    assert.match(result.answer, /敏感个人信息是.*包括生物识别/, result.answer);
  });

  // Regression: 「可以自动升级系统吗？」 was answered from 「这一工具使用 cron 任务…」 without the 「可以。您可以使用
  // cron-apt；」 that opens the line: the yes and the tool's name were lost.
  it('keeps the short sentences that open the line of a picked sentence', async () => {
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: '可以自动升级系统吗？' });
    assert.match(result.answer, /可以。您可以使用 cron-apt；/, result.answer);
  });

  // Regression: answers were cut at three sentences, so a four-step VPN procedure came back as steps 1, 2 and 4.
  it('returns a numbered procedure whole and in order', async () => {
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: 'How do I pair a new badge scanner?' });
    assert.equal(result.answerable, true);
    const steps = [...result.answer.matchAll(/^(\d)\. /gm)].map((match) => Number(match[1]));
    assert.deepEqual(steps, [1, 2, 3, 4, 5], result.answer);
  });

  // Regression: "torque for M12 class 10.9" was answered with bare rows ("M12 | 120", "M12 | 86") that do not say
  // which class they belong to.
  it('names the section of a table row when it holds what the question qualifies by (a class, a model)', async () => {
    for (const [question, heading, value] of [
      ['torque for M12 class 10.9', 'Property class 10.9', '120'],
      ['What torque for an M12 bolt of class 8.8?', 'Property class 8.8', '86'],
    ] as const) {
      const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question });
      const lines = result.answer.split('\n');
      assert.equal(lines[0], `${heading}:`, result.answer);
      assert.equal(lines[1], 'Thread | Torque (N·m)');
      assert.match(lines[2]!, new RegExp(`^M12 \\| ${value} \\[\\d\\]$`));
    }
  });

  // Regression: a document shipped as PDF, TXT and HTML was cited once per format.
  it('cites a passage found in several formats of one document once, naming the other formats', async () => {
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: 'Where are forklift batteries charged?' });
    assert.equal(result.answerable, true, result.answer);
    const sources = result.retrieval.chunks.map((chunk) => chunk.source);
    assert.equal(sources.filter((source) => source.includes('forklift-notice')).length, 1, sources.join(', '));
    const cited = result.citations.find((citation) => citation.source.includes('forklift-notice'))!;
    assert.equal(cited.alternatives?.length, 1);
    assert.match(cited.alternatives![0]!.source, /forklift-notice\.(md|html)$/);
    assert.notEqual(cited.alternatives![0]!.source, cited.source);
  });

  // Regression: "What time does the canteen open?" was refused while "When does…" was answered; likewise 「食堂几点开放？」
  // and 「食堂开放时间」.
  it('answers paraphrased questions about times from the same evidence, in English and Chinese', async () => {
    for (const question of ['What time does the canteen open?', 'When does the canteen open?', '食堂几点开放？', '食堂开放时间', '食堂什么时候开放？']) {
      const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question });
      assert.equal(result.answerable, true, `${question} → ${result.answer}`);
      assert.match(result.answer, /11:30/, question);
    }
  });

  // Regression: 「…请执行 [1]」 ended without the command.
  it('keeps the command announced by a sentence, verbatim and without a citation marker inside it', async () => {
    const result = await knowledgeBase.ask({ scope: READ_EVERYTHING, question: '打印任务卡在队列中怎么办？' });
    assert.equal(result.answerable, true, result.answer);
    assert.match(result.answer, /请执行：/);
    assert.match(result.answer, /^net stop spooler && del \/q %systemroot%\\System32\\spool\\PRINTERS\\\* && net start spooler$/m);
  });
});
