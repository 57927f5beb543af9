// Debian's PostgreSQL server (package postgresql, installed by scripts/test-prerequisites.sh) for the tests of several
// API nodes: a throw-away cluster in a temporary folder, run as the unprivileged `postgres` user when the tests run as
// root (the server refuses to run as root), on a free loopback port, with trust authentication. Debian 12 packages no
// pgvector for it: the tests that use it keep no vectors (the built-in embedder), as a deployment without the
// extension would; the backend refuses, with the reason, a knowledge base that needs vectors there.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port.ts';
import type { TestPostgres } from './postgres.ts';

/** The binaries of the newest installed PostgreSQL, or undefined when the package is missing. */
export function debianPostgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(path.join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

export async function startDebianPostgres(): Promise<TestPostgres> {
  const binaries = debianPostgresBinaries();
  if (!binaries) throw new Error("Debian's PostgreSQL is not installed (apt-get install postgresql; npm test's prerequisites script does it as root)");
  const asRoot = process.getuid?.() === 0;
  const folder = mkdtempSync('/tmp/kb-postgres-');
  chmodSync(folder, 0o755);
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const groups = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(folder, Number(ids.stdout.trim()), Number(groups.stdout.trim()));
  }
  const run = (command: string, arguments_: string[]) => {
    const [program, args] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(binaries, command), ...arguments_]] : [path.join(binaries, command), arguments_];
    const result = spawnSync(program, args, { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  const data = path.join(folder, 'data');
  run('initdb', ['-D', data, '-U', 'kb', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  // Durability is not what these tests check: without fsync the cluster starts and writes faster on a shared machine.
  run('pg_ctl', ['-D', data, '-l', path.join(folder, 'log'), '-w', '-o', `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start']);
  return {
    url: `postgres://kb@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    },
  };
}
