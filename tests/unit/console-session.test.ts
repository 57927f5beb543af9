import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsoleSessions } from '../../src/server/access/console-session.ts';
import { SessionTokens } from '../../src/server/access/session-token.ts';

describe('console sessions', () => {
  const sessions = new ConsoleSessions('a shared secret', 3600);

  it('verifies its own tokens until they expire', () => {
    const now = Date.UTC(2026, 11, 3, 12);
    const { token, claims } = sessions.issue('env-1', now);
    assert.equal(sessions.verify(token, now + 3_599_000)?.keyId, 'env-1');
    assert.equal(sessions.verify(token, now + 3_600_000), undefined, 'expired');
    assert.equal(new ConsoleSessions('a shared secret', 3600).verify(token, now)?.sid, claims.sid, 'another node with the secret verifies it');
    assert.equal(new ConsoleSessions('another secret', 3600).verify(token, now), undefined);
  });

  it('refuses altered, foreign and malformed tokens without throwing', () => {
    const { token } = sessions.issue('env-1');
    const [prefix, payload, signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sid: 'x', keyId: 'env-2', exp: 9_999_999_999 })).toString('base64url');
    for (const bad of [`${prefix}.${forged}.${signature}`, `${prefix}.${payload}.${signature!.slice(1)}`, 'kbc1..', 'kbc1.%%%.x', '', token.replace('kbc1', 'kbs1')])
      assert.equal(sessions.verify(bad), undefined, bad);
    // A widget session token signed with the same secret is not a console token.
    const widget = new SessionTokens('a shared secret', 3600).issue({ key: 'pk', origin: 'https://a.example' }).token;
    assert.equal(sessions.verify(widget), undefined);
  });

  it('ties the CSRF token to the session', () => {
    const first = sessions.issue('env-1');
    const second = sessions.issue('env-1');
    assert.ok(sessions.checkCsrf(first.claims.sid, first.csrfToken));
    assert.ok(!sessions.checkCsrf(first.claims.sid, second.csrfToken));
    assert.ok(!sessions.checkCsrf(first.claims.sid, undefined));
  });
});
