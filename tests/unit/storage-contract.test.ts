// The storage seams' contract (store/types.ts), written against the interfaces only, so that every backend runs the
// same suite: the embedded one (SQLite + index files) and PostgreSQL, each with and without vectors. PostgreSQL is a
// real wire-protocol server with the real pgvector extension: PGlite served over a socket by pglite-socket, started
// by this test and reached through `pg` as a production server would be (one server, a fresh schema per storage),
// and Debian's own PostgreSQL server without the extension (tests/helpers/debian-postgres.ts).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { POSTGRES_SCHEMA_VERSION, PostgresStorage } from '../../src/store/postgres-storage.ts';
import { BuiltinEmbedder } from '../../src/embed/builtin.ts';
import { READ_EVERYTHING, readScopeForGroups } from '../../src/retrieve/read-scope.ts';
import { LocalStorage } from '../../src/store/local-storage.ts';
import type { ChunkInput, DocumentInput, DocumentQuery, Storage } from '../../src/store/types.ts';
import { indexTerms } from '../../src/text/tokenize.ts';
import { startPostgres } from '../helpers/postgres.ts';
import { startDebianPostgres } from '../helpers/debian-postgres.ts';
import { temporaryDirectory } from '../helpers/temp.ts';
import { migrateSharedSchema } from '../../src/shared-state/postgres.ts';
import { PostgresSyncScheduleStore } from '../../src/shared-state/postgres-schedules.ts';
import { FileSyncScheduleStore, type SyncScheduleStore } from '../../src/sync/schedules.ts';
import { FileCuratedAnswerStore, matchCurated, type CuratedAnswerStore } from '../../src/curated/curated-answers.ts';
import { PostgresCuratedAnswerStore } from '../../src/shared-state/postgres-curated.ts';

const embedder = new BuiltinEmbedder();
const bm25 = { k1: 0.9, b: 0.4 };

type Server = Promise<{ pool: pg.Pool; stop(): Promise<void> }>;
const servers = new Map<string, Server>();
/** One server of each kind for the file, started on first use. */
function postgresServer(kind: 'pglite' | 'debian'): Server {
  let server = servers.get(kind);
  if (!server) {
    server = (async () => {
      const started = kind === 'pglite' ? await startPostgres() : await startDebianPostgres();
      const pool = new pg.Pool({ connectionString: started.url, max: 4 });
      return {
        pool,
        async stop() {
          await pool.end();
          await started.stop();
        },
      };
    })();
    servers.set(kind, server);
  }
  return server;
}
after(async () => {
  for (const server of servers.values()) await (await server).stop();
});

/** A fresh schema per data folder: the same folder opens the same schema (two instances over one knowledge base). */
const schemas = new Map<string, string>();
const schemaFor = (dataDir: string) => schemas.get(dataDir) ?? (schemas.set(dataDir, `kb_${randomBytes(6).toString('hex')}`), schemas.get(dataDir)!);

const backends: { name: string; vectorsSearched: boolean; open(dataDir: string): Promise<Storage> }[] = [
  { name: 'embedded, vectors indexed', vectorsSearched: true, open: async (dataDir) => LocalStorage.open(dataDir, embedder, { m: 16, efConstruction: 100, efSearch: 50, vectors: 'indexed' }) },
  { name: 'embedded, no vectors kept', vectorsSearched: false, open: async (dataDir) => LocalStorage.open(dataDir, embedder, { m: 16, efConstruction: 100, efSearch: 50, vectors: 'none' }) },
  {
    name: 'PostgreSQL (PGlite + pgvector over a socket), vectors indexed',
    vectorsSearched: true,
    open: async (dataDir) => PostgresStorage.open({ pool: (await postgresServer('pglite')).pool, schema: schemaFor(dataDir), embedder, vectors: 'indexed' }),
  },
  {
    name: 'PostgreSQL (PGlite over a socket), no vectors kept',
    vectorsSearched: false,
    open: async (dataDir) => PostgresStorage.open({ pool: (await postgresServer('pglite')).pool, schema: schemaFor(dataDir), embedder, vectors: 'none' }),
  },
  {
    // Debian 12 packages no pgvector: the parts of the suite that need no vectors, on the server a deployment runs.
    name: "PostgreSQL (Debian's server, no pgvector), no vectors kept",
    vectorsSearched: false,
    open: async (dataDir) => PostgresStorage.open({ pool: (await postgresServer('debian')).pool, schema: schemaFor(dataDir), embedder, vectors: 'none' }),
  },
];

async function chunksOf(texts: string[], language: 'en' | 'zh' = 'en'): Promise<ChunkInput[]> {
  const vectors = await embedder.embedDocuments(texts);
  return texts.map((text, ordinal) => ({
    ordinal,
    text,
    headings: ['Section'],
    page: ordinal + 1,
    startOffset: 0,
    endOffset: text.length,
    language,
    tokenCount: text.length,
    contentHash: `${ordinal}:${text}`,
    terms: indexTerms(text),
    vector: vectors[ordinal]!,
  }));
}

function documentInput(source: string, extra: Partial<DocumentInput> = {}): DocumentInput {
  return { source, title: source, language: 'en', format: 'text', contentHash: `hash-${source}`, ...extra };
}

for (const backend of backends) {
  describe(`storage contract: ${backend.name}`, () => {
    it('writes, finds, pages, replaces and deletes documents with their index entries', async () => {
      const storage = await backend.open(temporaryDirectory());
      const { documents, keywords } = storage;
      try {
        const first = await documents.upsertDocument(documentInput('manuals/lathe.txt'), await chunksOf(['The spindle motor overheats above 140 degrees.', 'Check the coolant level weekly.']));
        await documents.upsertDocument(documentInput('it/vpn.txt'), await chunksOf(['Reset the VPN password on the self-service portal.']));
        await documents.upsertDocument(documentInput('hr/leave.txt', { language: 'zh' }), await chunksOf(['员工每年享有十天带薪年假。'], 'zh'));
        assert.equal(first.chunkCount, 2);
        assert.equal(await documents.documentCount(), 3);
        assert.deepEqual(
          (await documents.listDocuments()).map((document) => document.source),
          ['hr/leave.txt', 'it/vpn.txt', 'manuals/lathe.txt'],
        );
        assert.deepEqual(
          (await documents.listDocuments({ offset: 1, limit: 1 })).map((document) => document.source),
          ['it/vpn.txt'],
        );
        assert.equal((await documents.getDocumentByKey(first.key))?.source, 'manuals/lathe.txt');
        assert.equal((await documents.getDocumentsByContentHash('hash-it/vpn.txt')).length, 1);

        const [top] = await keywords.search(indexTerms('spindle overheats'), { read: READ_EVERYTHING }, 5, bm25);
        const chunk = (await documents.getChunks([top![0]])).get(top![0])!;
        assert.equal(chunk.source, 'manuals/lathe.txt');
        assert.deepEqual([chunk.headings, chunk.page, chunk.ordinal], [['Section'], 1, 0]);
        const chinese = await keywords.search(indexTerms('年假'), { read: READ_EVERYTHING }, 5, bm25);
        assert.equal((await documents.getChunks([chinese[0]![0]])).get(chinese[0]![0])?.source, 'hr/leave.txt');
        assert.equal((await keywords.statistics()).chunkCount, 4);

        // A replaced document's old chunks leave every index; a deleted one's too.
        await documents.upsertDocument(documentInput('manuals/lathe.txt', { contentHash: 'v2' }), await chunksOf(['The hydraulic pressure is low below 2.8 MPa.']));
        assert.equal((await keywords.documentFrequencies(['spindl', 'hydraul'])).get('spindl'), 0);
        assert.equal((await keywords.documentFrequencies(['hydraul'])).get('hydraul'), 1);
        assert.equal(await documents.deleteDocument('it/vpn.txt'), true);
        assert.equal(await documents.deleteDocument('it/vpn.txt'), false);
        assert.deepEqual(await keywords.search(indexTerms('vpn password'), { read: READ_EVERYTHING }, 5, bm25), []);
        assert.equal((await documents.documentChunks('manuals/lathe.txt'))[0]?.text, 'The hydraulic pressure is low below 2.8 MPa.');
        // A chunk read by OCR keeps its mark, in the citation's record and in the chunks as written.
        const [scanned, typed] = await chunksOf(['Belt tension on conveyor CV-7 is checked every 250 hours.', 'Typed text.']);
        await documents.upsertDocument(documentInput('scans/belt.pdf'), [{ ...scanned!, ocr: true }, typed!]);
        const [belt] = await keywords.search(indexTerms('conveyor CV-7 tension'), { read: READ_EVERYTHING }, 5, bm25);
        assert.equal((await documents.getChunks([belt![0]])).get(belt![0])?.ocr, true);
        assert.deepEqual(
          (await documents.documentChunks('scans/belt.pdf')).map((chunk) => chunk.ocr ?? false),
          [true, false],
        );
        assert.equal(await documents.deleteDocument('scans/belt.pdf'), true);
        await storage.flush();
        const report = await storage.checkConsistency();
        assert.deepEqual([report.documents, report.chunks, report.chunksWithoutVector, report.vectorsWithoutChunk, report.documentsWithWrongChunkCount, report.orphanPostings], [2, 2, 0, 0, 0, 0]);
      } finally {
        await storage.close();
      }
    });

    it('returns only what the read scope and the filters allow, in the keyword and the vector index', async () => {
      const storage = await backend.open(temporaryDirectory());
      const { documents, keywords, vectors } = storage;
      try {
        await documents.upsertDocument(documentInput('public.txt'), await chunksOf(['Badge office hours are nine to five.']));
        await documents.upsertDocument(
          documentInput('payroll.txt', { groups: ['finance'], metadata: { tags: ['pay'], department: 'Finance' } }),
          await chunksOf(['Badge reimbursement goes through payroll.']),
        );
        const query = indexTerms('badge');
        const sourcesOf = async (results: [number, number][]) => [...(await documents.getChunks(results.map(([id]) => id))).values()].map((chunk) => chunk.source).sort();
        assert.deepEqual(await sourcesOf(await keywords.search(query, { read: READ_EVERYTHING }, 10, bm25)), ['payroll.txt', 'public.txt']);
        assert.deepEqual(await sourcesOf(await keywords.search(query, { read: readScopeForGroups([]) }, 10, bm25)), ['public.txt']);
        assert.deepEqual(await sourcesOf(await keywords.search(query, { read: readScopeForGroups(['finance']) }, 10, bm25)), ['payroll.txt', 'public.txt']);
        assert.deepEqual(await sourcesOf(await keywords.search(query, { read: READ_EVERYTHING, filters: { tags: ['pay'] } }, 10, bm25)), ['payroll.txt']);
        assert.deepEqual(await sourcesOf(await keywords.search(query, { read: readScopeForGroups(['sales']), filters: { department: 'Finance' } }, 10, bm25)), []);
        const vector = await embedder.embedQuery('badge');
        const dense = await vectors.search(vector, { read: readScopeForGroups([]) }, 10);
        // The vector index answers only where vectors are searched, and then within the scope.
        if (backend.vectorsSearched) assert.deepEqual(await sourcesOf(dense), ['public.txt']);
        else assert.deepEqual(dense, []);
        // A scope resolved before a write is not reused after it.
        await documents.upsertDocument(documentInput('lobby.txt'), await chunksOf(['Lost badge? Ask the lobby desk.']));
        assert.deepEqual(await sourcesOf(await keywords.search(query, { read: readScopeForGroups([]) }, 10, bm25)), ['lobby.txt', 'public.txt']);
      } finally {
        await storage.close();
      }
    });

    it('finds documents by title or file name, format, language, tag, department and reader group, paged, in the store', async () => {
      const storage = await backend.open(temporaryDirectory());
      const { documents } = storage;
      try {
        const write = async (source: string, extra: Partial<DocumentInput>) => documents.upsertDocument(documentInput(source, extra), await chunksOf([`Text of ${source}.`]));
        await write('it/vpn-guide.md', { title: 'VPN Guide', format: 'markdown', metadata: { tags: ['vpn', 'network'], department: 'IT' } });
        await write('it/100%_done.txt', { title: 'Checklist' });
        await write('hr/年假制度.docx', { title: '员工年假制度', format: 'docx', language: 'zh', groups: ['hr', 'managers'], metadata: { department: 'HR' } });
        await write('hr/payroll.pdf', { title: 'Payroll calendar', format: 'pdf', groups: ['finance'], metadata: { tags: ['pay'], department: 'HR' } });
        const find = async (query: DocumentQuery, page = { offset: 0, limit: 10 }) => {
          const found = await documents.findDocuments(query, page);
          return [found.total, found.documents.map((document) => document.source)];
        };
        assert.deepEqual(await find({}), [4, ['hr/payroll.pdf', 'hr/年假制度.docx', 'it/100%_done.txt', 'it/vpn-guide.md']]);
        assert.deepEqual(await find({}, { offset: 1, limit: 2 }), [4, ['hr/年假制度.docx', 'it/100%_done.txt']]);
        assert.deepEqual(await find({ text: 'vpn' }), [1, ['it/vpn-guide.md']], 'title, case-insensitive');
        assert.deepEqual(await find({ text: 'GUIDE' }), [1, ['it/vpn-guide.md']]);
        assert.deepEqual(await find({ text: '年假' }), [1, ['hr/年假制度.docx']]);
        assert.deepEqual(await find({ text: '100%' }), [1, ['it/100%_done.txt']], 'LIKE wildcards are literal');
        assert.deepEqual(await find({ text: '_' }), [1, ['it/100%_done.txt']]);
        assert.deepEqual(await find({ format: 'pdf' }), [1, ['hr/payroll.pdf']]);
        assert.deepEqual(await find({ language: 'zh' }), [1, ['hr/年假制度.docx']]);
        assert.deepEqual(await find({ tag: 'network' }), [1, ['it/vpn-guide.md']]);
        assert.deepEqual(await find({ department: 'HR' }), [2, ['hr/payroll.pdf', 'hr/年假制度.docx']]);
        assert.deepEqual(await find({ group: 'managers' }), [1, ['hr/年假制度.docx']]);
        assert.deepEqual(await find({ department: 'HR', tag: 'pay', text: 'payroll' }), [1, ['hr/payroll.pdf']]);
        assert.deepEqual(await find({ department: 'HR', language: 'en', group: 'hr' }), [0, []]);
      } finally {
        await storage.close();
      }
    });

    it('sees the writes of another instance over the same storage after refresh', async () => {
      const dataDir = temporaryDirectory();
      const writer = await backend.open(dataDir);
      const reader = await backend.open(dataDir);
      try {
        const before = await reader.generation();
        await writer.documents.upsertDocument(documentInput('new.txt'), await chunksOf(['The forklift battery charges overnight.']));
        await writer.flush();
        await reader.refresh();
        assert.notEqual(await reader.generation(), before);
        const results = await reader.keywords.search(indexTerms('forklift battery'), { read: READ_EVERYTHING }, 5, bm25);
        assert.equal((await reader.documents.getChunks([results[0]![0]])).get(results[0]![0])?.source, 'new.txt');
      } finally {
        await writer.close();
        await reader.close();
      }
    });
  });
}

describe("PostgreSQL without pgvector (Debian's server)", () => {
  it('refuses a knowledge base whose vectors are searched, with the reason and the way out, and creates nothing', async () => {
    const { pool } = await postgresServer('debian');
    const schema = `kb_${randomBytes(6).toString('hex')}`;
    await assert.rejects(PostgresStorage.open({ pool, schema, embedder, vectors: 'indexed' }), /pgvector.*install it, or use the built-in embedder/s);
    const { rows } = await pool.query<{ exists: boolean }>(`SELECT to_regnamespace($1) IS NOT NULL AS exists`, [schema]);
    assert.equal(rows[0]!.exists, false);
  });
});

describe('PostgreSQL schema migrations', () => {
  it('brings a version-1 schema (postings without their chunk length, no term table) to the current version with the same rankings', async () => {
    const { pool } = await postgresServer('debian');
    const schema = `kb_${randomBytes(6).toString('hex')}`;
    const current = await PostgresStorage.open({ pool, schema, embedder, vectors: 'none' });
    const texts = ['Forklift batteries charge overnight in bay 7.', 'The charger shows F-31 when a cell is too warm.', '叉车电池在七号区过夜充电。', 'Badge lost? Ask the lobby desk.'];
    for (const [index, text] of texts.entries()) await current.documents.upsertDocument(documentInput(`doc-${index}.txt`), await chunksOf([text], /[\u4e00-\u9fff]/.test(text) ? 'zh' : 'en'));
    const queries = ['forklift charger', 'warm cell F-31', '叉车充电', 'lobby badge'];
    const rankings = async (storage: Storage) =>
      Promise.all(queries.map(async (query) => (await storage.keywords.search(indexTerms(query), { read: READ_EVERYTHING }, 10, bm25)).map(([id, score]) => [id, score.toFixed(9)])));
    const before = await rankings(current);
    // The same data in the version-1 layout, as a deployment of the previous release left it.
    await pool.query(`DROP TABLE ${schema}.terms`);
    await pool.query(`DROP INDEX ${schema}.postings_by_chunk`);
    await pool.query(`CREATE INDEX ON ${schema}.postings (chunk_id)`);
    await pool.query(`ALTER TABLE ${schema}.postings DROP CONSTRAINT postings_pkey`);
    await pool.query(`ALTER TABLE ${schema}.postings DROP COLUMN chunk_length`);
    await pool.query(`ALTER TABLE ${schema}.postings ADD PRIMARY KEY (term, chunk_id)`);
    await pool.query(`ALTER TABLE ${schema}.chunks DROP COLUMN ocr`);
    await pool.query(`DELETE FROM ${schema}.schema_migrations WHERE version > 1`);
    // Two nodes opening it at once: one migrates under the advisory lock, the other finds it done.
    const [first, second] = await Promise.all([0, 1].map(() => PostgresStorage.open({ pool, schema, embedder, vectors: 'none' })));
    assert.deepEqual(await first!.describe(), { backend: 'postgresql', schema, schemaVersion: POSTGRES_SCHEMA_VERSION });
    const { rows } = await pool.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
    assert.deepEqual(
      rows.map((row) => row.version),
      Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, index) => index + 1),
    );
    assert.deepEqual(await rankings(second!), before);
    const report = await second!.checkConsistency();
    assert.deepEqual([report.documentsWithWrongChunkCount, report.orphanPostings], [0, 0]);
    // The migrated term counts follow later writes and deletes as the new layout's do.
    await second!.documents.deleteDocument('doc-0.txt');
    await second!.documents.upsertDocument(documentInput('doc-4.txt'), await chunksOf(['A second forklift charger in bay 9.']));
    assert.equal((await second!.checkConsistency()).documentsWithWrongChunkCount, 0);
    assert.ok(before.every((ranking) => ranking.length > 0));
  });
});

// The schedules of website re-syncs, in the data directory's file and in the shared database: the same behaviour,
// and of two nodes taking due schedules at once, exactly one gets each.
describe('sync schedule stores', () => {
  const stores: { name: string; open: () => Promise<[SyncScheduleStore, SyncScheduleStore]> }[] = [
    {
      name: 'sync-schedules.json',
      open: async () => {
        const dataDir = temporaryDirectory();
        return [new FileSyncScheduleStore(dataDir), new FileSyncScheduleStore(dataDir)];
      },
    },
    {
      name: "Debian's PostgreSQL (kb__shared.sync_schedules)",
      open: async () => {
        const { pool } = await postgresServer('debian');
        await migrateSharedSchema(pool);
        await pool.query('DELETE FROM kb__shared.sync_schedules');
        return [new PostgresSyncScheduleStore(pool), new PostgresSyncScheduleStore(pool)];
      },
    },
  ];
  for (const store of stores) {
    it(`adds, lists, hands out due runs once, records jobs and removes: ${store.name}`, async () => {
      const [first, second] = await store.open();
      const daily = await first.add({ collection: 'helpdesk', url: 'https://intranet.example/help/', maxDepth: 3, maxPages: 500, delayMs: 500, everyMinutes: 1440 });
      await first.add({ collection: 'hr', url: 'https://intranet.example/hr/', maxDepth: 1, maxPages: 50, delayMs: 0, everyMinutes: 60 });
      assert.deepEqual(
        (await second.list('helpdesk')).map((schedule) => schedule.url),
        ['https://intranet.example/help/'],
      );
      assert.equal((await second.list()).length, 2);
      // The first run is due at once; two nodes asking at the same moment get it once between them.
      const now = new Date(Date.now() + 1000);
      const [a, b] = await Promise.all([first.claimDue(now), second.claimDue(now)]);
      assert.deepEqual([...a, ...b].map((schedule) => schedule.collection).sort(), ['helpdesk', 'hr']);
      const after = await first.list('helpdesk');
      assert.equal(Date.parse(after[0]!.nextRunAt), now.getTime() + 1440 * 60_000);
      assert.deepEqual(await first.claimDue(now), [], 'nothing is due again before its interval');
      assert.deepEqual(
        (await second.claimDue(new Date(now.getTime() + 61 * 60_000))).map((schedule) => schedule.collection),
        ['hr'],
      );
      await first.recordJob(daily.id, 'job-1');
      assert.equal((await second.list('helpdesk'))[0]!.lastJobId, 'job-1');
      assert.equal(await second.remove('hr', daily.id), false, 'a schedule is removed from its own collection only');
      assert.equal(await second.remove('helpdesk', daily.id), true);
      assert.deepEqual(
        (await first.list()).map((schedule) => schedule.collection),
        ['hr'],
      );
    });
  }
});

// Curated answers in the data directory's file and in the shared database: the same behaviour, and the matching.
describe('curated answer stores', () => {
  const stores: { name: string; open: () => Promise<CuratedAnswerStore> }[] = [
    { name: 'curated-answers.json', open: async () => new FileCuratedAnswerStore(temporaryDirectory()) },
    {
      name: "Debian's PostgreSQL (kb__shared.curated_answers)",
      open: async () => {
        const { pool } = await postgresServer('debian');
        await migrateSharedSchema(pool);
        await pool.query('DELETE FROM kb__shared.curated_answers');
        return new PostgresCuratedAnswerStore(pool);
      },
    },
  ];
  for (const store of stores) {
    it(`adds, lists by collection, edits, deletes, and matches paraphrases: ${store.name}`, async () => {
      const curated = await store.open();
      const vpn = await curated.add({
        collection: 'it',
        question: 'How do I reset my VPN password?',
        answer: 'Call 4242.',
        sources: [{ documentId: 'd1', title: 'VPN FAQ', source: 'it/vpn.md', page: 2 }],
        fromAnswerId: 'a-1',
      });
      await curated.add({ collection: 'hr', question: 'VPN密码怎么重置？', answer: '在自助门户重置。', sources: [] });
      assert.deepEqual(
        (await curated.list('it')).map((entry) => [entry.question, entry.sources[0]?.page, entry.fromAnswerId]),
        [['How do I reset my VPN password?', 2, 'a-1']],
      );
      assert.equal((await curated.get('hr', vpn.id)) ?? null, null, 'an entry is found in its own collection only');
      const edited = await curated.update('it', vpn.id, { question: vpn.question, answer: 'Use the portal.', sources: [] });
      assert.deepEqual([edited?.answer, edited?.sources], ['Use the portal.', []]);
      assert.equal(matchCurated('How can I reset the VPN password?', await curated.list('it'))?.entry.id, vpn.id);
      assert.equal(matchCurated('How do I reset my Windows password?', await curated.list('it')), undefined);
      assert.equal(matchCurated('如何重置VPN密码', await curated.list('hr'))?.entry.answer, '在自助门户重置。');
      assert.equal(matchCurated('VPN连不上怎么办', await curated.list('hr')), undefined);
      assert.equal(await curated.remove('hr', vpn.id), false);
      assert.equal(await curated.remove('it', vpn.id), true);
      assert.deepEqual(await curated.list('it'), []);
    });
  }
});
