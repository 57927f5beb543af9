// What an administrator says about the files of a folder at ingest: `--url-base` (each document's link is the base
// plus its path inside the folder, so citations open the intranet copy) and `--metadata FILE`, a JSON file of
//   { "defaults": { "tags": [...], "department": "...", "groups": [...] },
//     "files": { "path/inside/the/folder.pdf": { "title": "...", "url": "https://...", "tags": [...], ... } } }
// validated with zod; an unknown field or a malformed URL stops the ingest with the file's name and the field.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KbError } from '../errors.ts';
import type { DocumentOverrides } from './pipeline.ts';

const entrySchema = z.strictObject({
  title: z.string().trim().min(1).max(300).optional(),
  url: z.url({ protocol: /^https?$/ }).optional(),
  tags: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
  department: z.string().trim().min(1).max(100).optional(),
  groups: z.array(z.string().trim().min(1).max(100)).max(50).optional().describe('groups allowed to read; absent: everyone'),
});
const fileSchema = z.strictObject({
  defaults: entrySchema.omit({ title: true, url: true }).optional(),
  files: z.record(z.string().min(1), entrySchema).optional(),
});
type Entry = z.infer<typeof entrySchema>;

export function readMetadataFile(file: string): z.infer<typeof fileSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new KbError('KB_ERR_VALIDATION', { details: `${file}: ${(error as Error).message}` });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KbError('KB_ERR_VALIDATION', { details: `${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}` });
  }
  return parsed.data;
}

function toOverrides(entry: Partial<Entry>): DocumentOverrides {
  const metadata = { ...(entry.tags ? { tags: entry.tags } : {}), ...(entry.department ? { department: entry.department } : {}) };
  return {
    ...(entry.title ? { title: entry.title } : {}),
    ...(entry.url ? { url: entry.url } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(entry.groups ? { groups: entry.groups } : {}),
  };
}

/** The per-file overrides for an ingest of `roots`, or undefined when neither option was given. */
export function givenMetadata(roots: readonly string[], options: { urlBase?: string; metadataFile?: string }): ((file: string) => DocumentOverrides | undefined) | undefined {
  if (!options.urlBase && !options.metadataFile) return undefined;
  if (options.urlBase && !z.url({ protocol: /^https?$/ }).safeParse(options.urlBase).success) {
    throw new KbError('KB_ERR_VALIDATION', { details: `--url-base "${options.urlBase}" is not an http(s) URL` });
  }
  const given = options.metadataFile ? readMetadataFile(options.metadataFile) : {};
  const absoluteRoots = roots.map((root) => path.resolve(root));
  /** The file's path inside the root it was found under ("manuals/lathe.pdf"); a root that is a file: its name. */
  const inside = (file: string): string => {
    const absolute = path.resolve(file);
    for (const root of absoluteRoots) {
      if (absolute === root) return path.basename(absolute);
      const relative = path.relative(root, absolute);
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative.split(path.sep).join('/');
    }
    return path.basename(absolute);
  };
  return (file) => {
    const relative = inside(file);
    const entry = given.files?.[relative];
    const url = options.urlBase ? options.urlBase.replace(/\/?$/, '/') + relative.split('/').map(encodeURIComponent).join('/') : undefined;
    return toOverrides({ ...given.defaults, ...(url ? { url } : {}), ...entry });
  };
}
