// npm run eval -- --questions FILE [--corpus DIR] [--json] [--verbose]
// Indexes the corpus into a temporary data directory with the current settings, asks every question, and prints
// hit@1, hit@5, answer containment and refusal precision/recall as a table (or one JSON object with --json).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig, loadDotEnv } from '../src/config.ts';
import { evaluateQuestions, readQuestions } from '../src/evaluation/questions.ts';
import { KnowledgeBase } from '../src/knowledge-base.ts';

const { values } = parseArgs({
  options: {
    questions: { type: 'string' },
    corpus: { type: 'string' },
    json: { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
});

function progressBar(label: string, total: number, quiet: boolean) {
  if (quiet || !process.stderr.isTTY) return { update: (_: number) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {value}/{total} | ETA {eta_formatted}`, stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { update: (value: number) => bar.update(value), stop: () => bar.stop() };
}

async function main(): Promise<void> {
  if (!values.questions) {
    process.stderr.write('usage: npm run eval -- --questions docs-corpus/eval/questions.jsonl [--corpus docs-corpus] [--json] [--verbose]\n');
    process.exitCode = 1;
    return;
  }
  loadDotEnv();
  const quiet = values.json ?? false;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'kb-eval-'));
  const logger = { info: (message: string) => (quiet ? undefined : process.stderr.write(`${message}\n`)), warn: (message: string) => process.stderr.write(`warning: ${message}\n`) };
  const config = loadConfig({ ...process.env, KB_DATA_DIR: dataDir });
  const knowledgeBase = await KnowledgeBase.open(config, logger);
  try {
    const summary = await knowledgeBase.ingest([values.corpus ?? 'docs-corpus']);
    logger.info(`indexed ${summary.added} documents, ${summary.chunks} chunks in ${summary.seconds.toFixed(1)} s`);
    const questions = readQuestions(values.questions);
    const bar = progressBar('questions', questions.length, quiet);
    const report = await evaluateQuestions(knowledgeBase, questions, (done) => bar.update(done));
    bar.stop();
    const { outcomes, ...figures } = report;
    if (values.json) {
      process.stdout.write(JSON.stringify(values.verbose ? report : figures) + '\n');
      return;
    }
    const rows: [string, string][] = [
      ['questions (answerable / unanswerable)', `${report.questions} (${report.answerable} / ${report.unanswerable})`],
      ['hit@1 (gold document ranked first)', report['hit@1'].toFixed(3)],
      ['hit@5 (gold document in the top 5)', report['hit@5'].toFixed(3)],
      ['page hit@5 (gold document and page)', report.page_hit.toFixed(3)],
      ['answered (answerable not refused)', report.answered.toFixed(3)],
      ['answer containment', report.answer_containment.toFixed(3)],
      ['refusal precision', report.refusal_precision.toFixed(3)],
      ['refusal recall', report.refusal_recall.toFixed(3)],
      ['multi-turn items passed', report.multi_turn_passed],
      ['en: hit@5 / containment / refusal recall', `${report.by_language['en']!['hit@5']} / ${report.by_language['en']!.answer_containment} / ${report.by_language['en']!.refusal_recall}`],
      ['zh: hit@5 / containment / refusal recall', `${report.by_language['zh']!['hit@5']} / ${report.by_language['zh']!.answer_containment} / ${report.by_language['zh']!.refusal_recall}`],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    process.stdout.write(rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n');
    if (values.verbose) {
      for (const outcome of outcomes) {
        const wrong = outcome.answerable ? !outcome.hitAt5 || !outcome.contains || outcome.refused : !outcome.refused;
        if (wrong) process.stdout.write(`${outcome.id} ${outcome.answerable ? 'A' : 'U'} hit5=${outcome.hitAt5} contains=${outcome.contains} refused=${outcome.refused} conf=${outcome.confidence.toFixed(2)} | ${outcome.answer.replace(/\n/g, ' ').slice(0, 160)}\n`);
      }
    }
  } finally {
    knowledgeBase.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
