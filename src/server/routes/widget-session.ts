// POST /v1/widget/session: exchanges the public widget key of a page for a short-lived session token bound to the
// page's origin. The key is public by design; what protects the API is that it only works from its origins.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { KbError } from '../../errors.ts';
import type { Access } from '../access/access.ts';
import { errorResponseSchema, widgetSessionBodySchema, widgetSessionResponseSchema } from '../schemas.ts';
import { verifyUserToken } from '../access/session-token.ts';

export const widgetSessionRoutes: FastifyPluginAsyncZod<{ access: Access }> = async (app, { access }) => {
  app.post(
    '/v1/widget/session',
    {
      schema: {
        tags: ['widget'],
        summary: 'Get a widget session token for this page origin',
        body: widgetSessionBodySchema,
        response: { 201: widgetSessionResponseSchema, 400: errorResponseSchema, 403: errorResponseSchema },
      },
    },
    async (request, reply) => {
      const origin = request.headers.origin;
      const allowed = access.originsFor(request.body.key, request);
      if (!allowed) throw new KbError('KB_ERR_FORBIDDEN', { details: 'Unknown widget key.' });
      if (!origin || !allowed.includes(origin)) throw new KbError('KB_ERR_FORBIDDEN', { details: `This widget key may not be used from ${origin ?? 'a request without an Origin header'}.` });
      // With KB_USER_TOKEN_SECRET, the user is a token the host page's backend signed: its groups decide what the
      // user may read. Without it, the user is a plain label (for feedback) and carries no groups.
      let user = request.body.user;
      let groups: string[] | undefined;
      if (user && access.userTokenSecret) {
        const verified = verifyUserToken(user, access.userTokenSecret);
        if (!verified) throw new KbError('KB_ERR_FORBIDDEN', { details: 'The end-user token (data-user-token) is invalid or expired.' });
        user = verified.sub;
        groups = verified.groups;
      }
      const { token, claims } = access.tokens.issue({ key: request.body.key, origin, ...(user ? { user } : {}), ...(groups ? { groups } : {}) });
      return reply.status(201).send({ token, expiresAt: new Date(claims.exp * 1000).toISOString() });
    },
  );
};
