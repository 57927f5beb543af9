// npm run load [-- --duration 30 --connections 50 --ingest ../shared/corpora/realworld --files 40]
// Load on /v1/search and /v1/ask (extractive) while an ingestion job runs; prints requests/s, p50/p99 and errors.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runLoad } from '../src/load/load-test.ts';

const { values } = parseArgs({ options: { duration: { type: 'string' }, connections: { type: 'string' }, ingest: { type: 'string' }, files: { type: 'string' } } });
const realworld = '../shared/corpora/realworld';
const report = await runLoad({
  durationSeconds: Number(values.duration ?? 30),
  connections: Number(values.connections ?? 50),
  ingestFrom: values.ingest ?? (existsSync(realworld) ? realworld : 'docs-corpus'),
  ingestFiles: Number(values.files ?? 40),
});
for (const result of report.results) {
  process.stdout.write(
    `${result.route.padEnd(11)} ${result.requests} requests, ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms, errors ${result.errors}, non-2xx ${result.non2xx}, timeouts ${result.timeouts}\n`,
  );
}
process.stdout.write(`ingestion during the load: ${report.ingestion.files} files uploaded, job ${report.ingestion.state} (${report.ingestion.done} done when the load ended)\n`);
