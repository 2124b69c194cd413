#!/usr/bin/env node
// The `nest-cachekit` command: `nest-cachekit warmup --module dist/app.module.js [...]`.
import 'reflect-metadata';
import { describeError } from '../logging/error-fields';
import { runWarmupCli, USAGE } from './warmup-cli';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (argv[0] !== 'warmup') {
  process.stderr.write(`nest-cachekit: ${argv[0] === undefined ? 'no command' : `unknown command "${argv[0]}"`}\n\n${USAGE}\n`);
  process.exit(2);
}
runWarmupCli(argv, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
}).then(
  (status) => process.exit(status),
  // Not a usage error (those resolve 2): the app failed to start or close. One line, by class and
  // code; Nest's logger has already printed what it knows about a failed start.
  (error: unknown) => {
    process.stderr.write(`nest-cachekit warmup: failed: ${describeError(error)}\n`);
    process.exit(1);
  },
);
