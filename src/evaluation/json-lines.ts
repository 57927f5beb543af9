// One reader for the evaluation files (JSON Lines): every line parsed and validated, errors naming file and line.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';

export function readJsonLines<T>(file: string, schema: z.ZodType<T>): T[] {
  const items: T[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (!line.trim()) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new Error(`${file}:${index + 1}: not valid JSON (${(error as Error).message})`, { cause: error });
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw new Error(`${file}:${index + 1}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(line)'}: ${issue.message}`).join('; ')}`);
      items.push(parsed.data);
    });
  return items;
}
