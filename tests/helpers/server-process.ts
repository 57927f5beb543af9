// The real server in a child process, for tests that kill it or take its write permission away.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

const cli = path.resolve('src/cli.ts');

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

export async function startServer(environment: Record<string, string>, options: { boundByFileModes?: boolean } = {}): Promise<ServerProcess> {
  const arguments_ = ['--import', 'tsx', cli, 'serve'];
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
export function runCommand(arguments_: string[], environment: Record<string, string>, options: { boundByFileModes?: boolean } = {}): SpawnSyncReturns<string> {
  const full = ['--import', 'tsx', cli, ...arguments_];
  const [command, args] = options.boundByFileModes ? boundByFileModes(full) : [process.execPath, full];
  return spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, KB_LLM_BASE_URL: '', ...environment } });
}
