// Links to a cited document's original file that a browser can open without an Authorization header: the route that
// answered the question signs, for each cited document the caller was allowed to read, a short-lived link bound to
// that one document (HMAC over collection, document id and expiry). A link opens that document and nothing else.
import { createHmac, randomBytes } from 'node:crypto';
import { equalInConstantTime } from './signed-token.ts';

/** How long a signed file link stays valid (seconds, 60..86400): about a working session with the answer on screen. */
export const FILE_LINK_TTL_SECONDS = 3600;

export class FileLinks {
  private readonly secret: Buffer;

  constructor(secret: string | undefined) {
    // Separate from the session secret's use: the same configured secret, a distinct derived key.
    this.secret = createHmac('sha256', secret ? Buffer.from(secret, 'utf8') : randomBytes(32))
      .update('file-links')
      .digest();
  }

  /** The path (with its signature) to download a document's original. */
  path(collection: string, documentId: string, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + FILE_LINK_TTL_SECONDS;
    const base = `/v1/collections/${encodeURIComponent(collection)}/documents/${encodeURIComponent(documentId)}/file`;
    return `${base}?expires=${expires}&signature=${this.sign(collection, documentId, expires)}`;
  }

  /** Whether a presented signature opens this document now (never throws on hostile input). */
  verify(collection: string, documentId: string, expires: number, signature: string, now = Date.now()): boolean {
    if (!Number.isInteger(expires) || expires * 1000 <= now) return false;
    return equalInConstantTime(this.sign(collection, documentId, expires), signature);
  }

  private sign(collection: string, documentId: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${collection}\n${documentId}\n${expires}`).digest('base64url');
  }
}
