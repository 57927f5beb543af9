// The CLI and the real server in child processes: for tests of the commands themselves, and for tests that kill the
// server or take its write permission away.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

export const cliPath = path.resolve('src/cli.ts');

/**
 * The command line that runs `node …` so that file modes bind it: root ignores them (CAP_DAC_OVERRIDE), so as root the
 * process runs through setpriv without the capabilities that bypass them; any other user is bound already.
 */
function boundByFileModes(arguments_: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [process.execPath, arguments_];
  return ['setpriv', ['--bounding-set=-dac_override,-dac_read_search,-fowner', '--', process.execPath, ...arguments_]];
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

/** Starts `kb serve` (or the given command, such as `start PATH`) and resolves once it prints its URL. */
export async function startServer(environment: Record<string, string>, options: { boundByFileModes?: boolean; command?: string[] } = {}): Promise<ServerProcess> {
  const arguments_ = ['--import', 'tsx', cliPath, ...(options.command ?? ['serve'])];
  const [command, args] = options.boundByFileModes ? boundByFileModes(arguments_) : [process.execPath, arguments_];
  const child = spawn(command, args, {
    env: { ...process.env, PORT: '0', KB_LOG_LEVEL: 'warn', KB_LLM_BASE_URL: '', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let output = '';
  child.stderr!.on('data', (part: Buffer) => (output += part.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server printed no URL: ${output}`)), 60_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}): ${output}`));
    });
    child.stdout!.on('data', (part: Buffer) => {
      output += part.toString();
      const match = /ready at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
  });
  return { url, child, exited, output: () => output };
}

/** Runs the CLI to completion, bound by file modes when asked. */
export function runCli(arguments_: string[], environment: Record<string, string>, options: { boundByFileModes?: boolean } = {}): SpawnSyncReturns<string> {
  const full = ['--import', 'tsx', cliPath, ...arguments_];
  const [command, args] = options.boundByFileModes ? boundByFileModes(full) : [process.execPath, full];
  return spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, KB_LLM_BASE_URL: '', ...environment }, timeout: 60_000 });
}

/** Runs the CLI to completion without blocking this process (for a test that serves what the command fetches). */
export async function runCliAsync(arguments_: string[], environment: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cliPath, ...arguments_], { env: { ...process.env, KB_LLM_BASE_URL: '', ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (part: Buffer) => (stdout += part.toString()));
  child.stderr!.on('data', (part: Buffer) => (stderr += part.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  clearTimeout(timer);
  return { status, stdout, stderr };
}
