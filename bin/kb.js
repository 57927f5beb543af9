#!/usr/bin/env node
// The package's `kb` command: the TypeScript CLI run through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/cli.ts');
run(process.argv.slice(2));
