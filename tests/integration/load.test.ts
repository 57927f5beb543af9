import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runLoad } from '../../src/load/load-test.ts';

describe('load while ingesting (short CI version of npm run load)', () => {
  it('serves search and ask to concurrent clients during an ingestion job without an error', async () => {
    const report = await runLoad({ durationSeconds: 3, connections: 20, ingestFrom: 'docs-corpus', ingestFiles: 12 });
    for (const result of report.results) {
      assert.ok(result.requests > 50, `${result.route}: only ${result.requests} requests`);
      assert.deepEqual([result.errors, result.non2xx, result.timeouts], [0, 0, 0], result.route);
    }
    assert.ok(report.ingestion.done > 0 || report.ingestion.state !== 'queued', JSON.stringify(report.ingestion));
  });
});
