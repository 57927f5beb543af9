// The browser scripts, each bundled from its TypeScript sources into one minified script by esbuild (20-30 ms):
//   - the widget (src/widget/widget.ts), built when the server starts and served by routes/widget.ts at /widget.js
//     (short cache, always the current version) and at /widget/<hash>/widget.js (immutable: the hash is of the
//     content, so the URL never serves anything else and pages can pin it with integrity=);
//   - the admin console (src/console/console.ts), built on its first request and served by routes/console.ts.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { siblingModule } from '../module-file.ts';

export interface ScriptBundle {
  code: string;
  /** First 16 hex characters of the content's SHA-256. */
  version: string;
  /** Subresource-integrity value for <script integrity=…>. */
  integrity: string;
  gzipBytes: number;
}

/** One browser script bundled from a TypeScript entry module (the widget, the admin console). */
export async function bundleScript(entryModule: string): Promise<ScriptBundle> {
  const result = await build({
    entryPoints: [fileURLToPath(siblingModule(entryModule, import.meta.url))],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15'],
    write: false,
    legalComments: 'none',
  });
  const code = result.outputFiles[0]!.text;
  const digest = createHash('sha256').update(code).digest();
  return {
    code,
    version: digest.toString('hex').slice(0, 16),
    integrity: `sha256-${digest.toString('base64')}`,
    gzipBytes: gzipSync(code, { level: 9 }).length,
  };
}

export function buildWidget(): Promise<ScriptBundle> {
  return bundleScript('../widget/widget');
}

export function buildConsole(): Promise<ScriptBundle> {
  return bundleScript('../console/console');
}
