// buildApp: the Fastify instance with every plugin and route, never listening (tests inject or listen on port 0).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config.ts';
import type { FeedbackStore } from '../feedback/feedback-store.ts';
import type { KeyStore } from '../keys/key-store.ts';
import type { KnowledgeBase } from '../knowledge-base.ts';
import { Access, accessPlugin } from './access/access.ts';
import { errorsPlugin } from './plugins/errors.ts';
import { inFlightPlugin } from './plugins/in-flight.ts';
import { KnowledgeBaseHolder } from './knowledge-base-holder.ts';
import { askRoutes } from './routes/ask.ts';
import { feedbackAdminRoutes, feedbackRoutes } from './routes/feedback.ts';
import { documentRoutes } from './routes/documents.ts';
import { jobRoutes } from './routes/jobs.ts';
import { collectionRoutes } from './routes/collections.ts';
import type { CollectionRegistry } from '../collections/registry.ts';
import type { JobQueue } from '../jobs/types.ts';
import { jobRunner } from '../jobs/run-job.ts';
import { startSyncScheduler } from '../sync/scheduler.ts';
import { siteRoutes } from './routes/sites.ts';
import { curatedRoutes } from './routes/curated.ts';
import { LocalAnswerLog, LocalKeyDirectory, localComponents, type Components } from '../components.ts';
import { Metrics, metricsPlugin } from './metrics.ts';
import { healthRoutes } from './routes/health.ts';
import { openAiRoutes } from './routes/openai.ts';
import { searchRoutes } from './routes/search.ts';
import { widgetRoutes } from './routes/widget.ts';
import { widgetSessionRoutes } from './routes/widget-session.ts';
import { buildConsole, buildWidget, type ScriptBundle } from './script-bundles.ts';
import { consoleRoutes } from './routes/console.ts';
import { keyRoutes } from './routes/keys.ts';
import { describeError } from '../errors.ts';

/** How often answers past KB_LOG_RETENTION_DAYS are deleted (ms). */
const LOG_PRUNE_EVERY_MS = 3_600_000;

export interface BuildAppOptions {
  config: Readonly<Config>;
  /** The knowledge base, or its loading promise: routes answer 503 until it resolves. */
  knowledgeBase: KnowledgeBase | Promise<KnowledgeBase>;
  /** Close the knowledge base when the app closes (default true). */
  closeKnowledgeBase?: boolean;
  /** A pino logger to share with the rest of the process; by default Fastify makes one at config.logLevel. */
  logger?: FastifyBaseLogger;
  /** Answers and feedback; by default feedback.sqlite in config.dataDir. */
  feedback?: FeedbackStore;
  /** API keys; by default keys.json in config.dataDir. */
  keys?: KeyStore;
  /** Background ingestion jobs; by default one queue over config.dataDir. */
  jobs?: JobQueue;
  /** Collections; by default the ones listed in config.dataDir, with the given knowledge base as "default". */
  registry?: CollectionRegistry;
  /** Everything above as one object (src/components.ts); by default the embedded one over config.dataDir. */
  components?: Components;
}

let widgetBundle: Promise<ScriptBundle> | undefined;
let consoleBundle: Promise<ScriptBundle> | undefined;

function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config } = options;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: { level: config.logLevel } }),
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeoutMs,
    // A number of hops trusts that many proxies in front of us, whatever their addresses (proxy-addr's hop index).
    ...(config.trustProxy !== undefined ? { trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy.split(/\s*,\s*/) } : {}),
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();
  // Every body is JSON: a text/plain body is refused with 415 rather than parsed as a string and refused as invalid.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const holder = new KnowledgeBaseHolder(options.knowledgeBase);
  const components =
    options.components ??
    localComponents(config, app.log, options.knowledgeBase, {
      ...(options.keys ? { keys: new LocalKeyDirectory(options.keys) } : {}),
      ...(options.feedback ? { answers: new LocalAnswerLog(options.feedback) } : {}),
      ...(options.jobs ? { jobs: options.jobs } : {}),
      ...(options.registry ? { collections: options.registry } : {}),
    });
  const { collections: registry, answers: feedback, jobs, files } = components;
  holder.registry = registry;
  // Tests wait for background jobs through it.
  app.decorate('jobs', jobs);
  jobs.start(jobRunner({ knowledgeBaseOf: (collection) => holder.forCollection(collection), files, registry }));
  const scheduler = startSyncScheduler({
    schedules: components.schedules,
    jobs,
    collectionExists: async (name) => (await registry.lookup(name)) !== undefined,
    checkMilliseconds: config.syncCheckMilliseconds,
    log: app.log,
  });
  const access = new Access(components.sessionSecret && !config.access.sessionSecret ? { ...config, access: { ...config.access, sessionSecret: components.sessionSecret } } : config, components.keys);
  // The conversation log keeps KB_LOG_RETENTION_DAYS: older answers go at start and then every hour.
  const pruneLog = async () => {
    if (config.logRetentionDays === 0) return;
    const removed = await feedback.pruneBefore(new Date(Date.now() - config.logRetentionDays * 86_400_000));
    if (removed > 0) app.log.info(`conversation log: ${removed} answers older than ${config.logRetentionDays} days removed`);
  };
  const logPruning = setInterval(() => void pruneLog().catch((error: unknown) => app.log.warn(`the conversation log could not be pruned: ${describeError(error)}`)), LOG_PRUNE_EVERY_MS);
  logPruning.unref();
  app.addHook('onReady', async () => {
    await pruneLog().catch((error: unknown) => app.log.warn(`the conversation log could not be pruned: ${describeError(error)}`));
  });
  app.addHook('onClose', async () => {
    clearInterval(logPruning);
    await holder.ready;
    await scheduler.stop();
    await jobs.close();
    await components.close();
    if (options.closeKnowledgeBase !== false) await holder.peek()?.close();
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(errorsPlugin, { dataDir: config.dataDir });
  await app.register(inFlightPlugin, { maxInFlight: config.maxInFlight });
  const metrics = new Metrics(holder);
  await app.register(metricsPlugin, { metrics });
  await app.register(accessPlugin, { access, config, ...(components.rateLimitStore ? { rateLimitStore: components.rateLimitStore } : {}) });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Knowledge-base question answering',
        description: 'Ask questions over the company knowledge base in Chinese or English; answers cite document, page and heading.',
        version: '0.1.0',
      },
      tags: [
        { name: 'query', description: 'Questions and search' },
        { name: 'feedback', description: 'Ratings of answers' },
        { name: 'documents', description: 'Documents and ingestion jobs (admin)' },
        { name: 'collections', description: 'Named knowledge bases (admin)' },
        { name: 'widget', description: 'Sessions for the embeddable chat widget' },
        { name: 'keys', description: 'API keys (admin)' },
        { name: 'console', description: 'Sign-in of the admin console (/admin): a session cookie and a CSRF token' },
        { name: 'openai', description: 'OpenAI-compatible endpoint' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key, or a widget session token from a browser page' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  widgetBundle ??= buildWidget();
  await app.register(widgetRoutes, { bundle: await widgetBundle });
  await app.register(healthRoutes, { holder, components });
  await app.register(searchRoutes, { holder });
  await app.register(askRoutes, { holder, feedback, metrics, access, files, curated: components.curated });
  await app.register(feedbackRoutes, { feedback });
  await app.register(feedbackAdminRoutes, { feedback, answerThreshold: config.retrieval.answerThreshold });
  await app.register(widgetSessionRoutes, { access });
  await app.register(openAiRoutes, { holder, feedback, registry, access, files, curated: components.curated });
  await app.register(documentRoutes, { holder, jobs, files, config, access });
  await app.register(jobRoutes, { jobs });
  await app.register(collectionRoutes, { registry, jobs, files, config });
  await app.register(siteRoutes, { registry, jobs, schedules: components.schedules });
  await app.register(curatedRoutes, { registry, curated: components.curated, feedback });
  await app.register(keyRoutes, { keys: components.keys });
  await app.register(consoleRoutes, {
    access,
    // Built on the first request to /admin: most servers never serve the console, and start-up stays as it was.
    bundle: () => (consoleBundle ??= buildConsole()),
    widgetBundle: await widgetBundle,
    logRetentionDays: config.logRetentionDays,
    answerThreshold: config.retrieval.answerThreshold,
  });
  app.addHook('onReady', async () => {
    if (access.openLocally) app.log.warn('no API key exists: the API is open to local clients without an Origin header (create keys with `npm run kb -- keys create`)');
  });
  return app;
}
