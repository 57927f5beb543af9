// A small JSON file of the data directory with a format version, validated on read and replaced atomically on write
// (sync-schedules.json, curated-answers.json).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { KbError } from '../errors.ts';
import { writeFileAtomic } from './local-schema.ts';

export class VersionedJsonFile<T> {
  constructor(
    readonly file: string,
    private readonly schema: z.ZodType<T>,
    private readonly formatVersion: number,
  ) {}

  /** The content, or undefined when the file does not exist; a wrong version or shape is KB_ERR_INDEX_CORRUPT. */
  read(): T | undefined {
    if (!existsSync(this.file)) return undefined;
    const corrupt = (details: string) => new KbError('KB_ERR_INDEX_CORRUPT', { dataDir: path.dirname(this.file), details: `${path.basename(this.file)}: ${details}` });
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (error) {
      throw corrupt(`not JSON (${(error as Error).message})`);
    }
    const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
    if (version !== this.formatVersion) throw corrupt(`format version ${String(version)}, this build reads ${this.formatVersion}`);
    const parsed = this.schema.safeParse(raw);
    if (!parsed.success) throw corrupt(parsed.error.issues[0]?.message ?? 'invalid');
    return parsed.data;
  }

  write(value: T): void {
    writeFileAtomic(this.file, JSON.stringify({ formatVersion: this.formatVersion, ...value }, null, 2));
  }
}
