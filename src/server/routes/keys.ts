// API keys over HTTP, for the admin console and scripts: list, create (the secret shown once, in the response),
// revoke. The same store as `kb keys` (keys.json, or the shared table): a key revoked here stops working on every node.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { KeyDirectory } from '../../components.ts';
import { KbError, describeError } from '../../errors.ts';
import { scopes, type StoredKey } from '../../keys/key-store.ts';
import { errorResponseSchema } from '../schemas.ts';

const keySchema = z.object({
  id: z.string(),
  scope: z.enum(scopes),
  collection: z.string().optional(),
  origins: z.array(z.string()).optional(),
  groups: z.array(z.string()).optional(),
  label: z.string().optional(),
  rateLimitPerMinute: z.number().int().optional(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
});
const createSchema = z.strictObject({
  scope: z.enum(scopes),
  label: z.string().trim().min(1).max(100).optional(),
  collection: z.string().trim().min(1).max(64).optional().describe('the one collection the key works on'),
  origins: z
    .array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'an origin is like https://helpdesk.example.com (scheme, host, optional port; no path)'))
    .min(1)
    .max(20)
    .optional()
    .describe('widget keys: the page origins it may be used from'),
  groups: z.array(z.string().trim().min(1).max(100)).max(50).optional().describe('query keys: reader groups'),
  rateLimitPerMinute: z.number().int().min(1).max(100_000_000).optional(),
});

function publicView({ hash: _hash, ...rest }: StoredKey): z.infer<typeof keySchema> {
  return rest;
}

export const keyRoutes: FastifyPluginAsyncZod<{ keys: KeyDirectory }> = async (app, { keys }) => {
  // Managing keys is for admins of the whole deployment: a key limited to one collection could otherwise mint an
  // unlimited one.
  app.addHook('preHandler', async (request) => {
    if (request.principal?.kind === 'api-key' && request.principal.collection) throw new KbError('KB_ERR_FORBIDDEN', { details: 'A key limited to one collection cannot manage keys.' });
  });

  app.get(
    '/v1/keys',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['keys'],
        summary: 'API keys, newest first (never their secrets)',
        querystring: z.object({ revoked: z.enum(['true', 'false']).default('false').describe('include revoked keys') }),
        response: { 200: z.object({ keys: z.array(keySchema) }), 401: errorResponseSchema, 403: errorResponseSchema },
      },
    },
    async (request) => {
      const all = (await keys.all()).filter((key) => request.query.revoked === 'true' || !key.revokedAt);
      return { keys: all.sort((left, right) => right.createdAt.localeCompare(left.createdAt)).map(publicView) };
    },
  );

  app.post(
    '/v1/keys',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['keys'],
        summary: 'Create a key; the response is the only time its secret is shown',
        body: createSchema,
        response: { 201: z.object({ key: z.string().describe('the secret: store it now'), record: keySchema }), 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const input = request.body;
      if (input.scope === 'widget' && !input.origins) throw new KbError('KB_ERR_VALIDATION', { details: 'origins: a widget key needs the page origins it may be used from' });
      if (input.scope !== 'widget' && input.origins) throw new KbError('KB_ERR_VALIDATION', { details: 'origins: only widget keys are bound to page origins' });
      let created;
      try {
        created = await keys.create(input);
      } catch (error) {
        throw new KbError('KB_ERR_VALIDATION', { details: describeError(error) });
      }
      return reply.status(201).send({ key: created.key, record: publicView(created.record) });
    },
  );

  app.delete(
    '/v1/keys/:id',
    {
      config: { access: 'admin' as const },
      schema: {
        tags: ['keys'],
        summary: 'Revoke a key at once',
        params: z.object({ id: z.string().min(1).max(64) }),
        response: { 204: z.null(), 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request, reply) => {
      if (!(await keys.revoke(request.params.id))) throw new KbError('KB_ERR_UNKNOWN_KEY', { keyId: request.params.id });
      return reply.status(204).send(null);
    },
  );
};
