// Where uploaded originals are kept, so that a reindex can parse them again and a citation can link to them. The
// embedded default keeps them in each collection's data folder (KB_DATA_DIR/files, or collections/<name>/files); a
// deployment of several nodes keeps them in its database (shared-state/postgres-files.ts), never only on the node
// that received the upload. Uploads are first written to a node-local staging folder and checked there.
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

export interface OriginalFiles {
  /** A node-local folder where an upload is written and checked before it is kept. */
  stagingDirectory(collection: string): string;
  /** Keeps a staged file under `name` (replacing one of that name); the staged file is gone afterwards. */
  keep(collection: string, name: string, stagedPath: string): Promise<void>;
  has(collection: string, name: string): Promise<boolean>;
  /** The names a collection keeps. */
  names(collection: string): Promise<string[]>;
  /** A path on this node to parse the file from (fetched here first when kept elsewhere), in a folder of its own. */
  localCopy(collection: string, name: string): Promise<{ directory: string; path: string } | undefined>;
  read(collection: string, name: string): Promise<Readable | undefined>;
  remove(collection: string, name: string): Promise<void>;
  /** Forgets every file of a deleted collection. */
  removeCollection(collection: string): Promise<void>;
}

/** A stored file name must stay a plain name inside its folder. */
function isPlainName(name: string): boolean {
  return name.length > 0 && path.basename(name) === name && name !== '.' && name !== '..';
}

/** Files in each collection's data folder. */
export class LocalOriginalFiles implements OriginalFiles {
  constructor(private readonly dataDirOf: (collection: string) => string) {}

  private directoryOf(collection: string): string {
    return path.join(this.dataDirOf(collection), 'files');
  }

  private fileOf(collection: string, name: string): string | undefined {
    if (!isPlainName(name)) return undefined;
    const file = path.join(this.directoryOf(collection), name);
    return existsSync(file) && statSync(file).isFile() ? file : undefined;
  }

  stagingDirectory(collection: string): string {
    // The same folder as the kept files: keeping is then a rename, and a partial upload's name starts with a dot.
    const directory = this.directoryOf(collection);
    mkdirSync(directory, { recursive: true });
    return directory;
  }

  async keep(collection: string, name: string, stagedPath: string): Promise<void> {
    renameSync(stagedPath, path.join(this.stagingDirectory(collection), name));
  }

  async has(collection: string, name: string): Promise<boolean> {
    return this.fileOf(collection, name) !== undefined;
  }

  async names(collection: string): Promise<string[]> {
    const directory = this.directoryOf(collection);
    if (!existsSync(directory)) return [];
    return readdirSync(directory).filter((name) => !name.startsWith('.') && statSync(path.join(directory, name)).isFile());
  }

  async localCopy(collection: string, name: string): Promise<{ directory: string; path: string } | undefined> {
    const file = this.fileOf(collection, name);
    return file ? { directory: this.directoryOf(collection), path: file } : undefined;
  }

  async read(collection: string, name: string): Promise<Readable | undefined> {
    const file = this.fileOf(collection, name);
    return file ? createReadStream(file) : undefined;
  }

  async remove(collection: string, name: string): Promise<void> {
    const file = this.fileOf(collection, name);
    if (file) rmSync(file);
  }

  async removeCollection(): Promise<void> {
    // The collection's data folder, files included, is removed with it.
  }
}
