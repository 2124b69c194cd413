#!/usr/bin/env node
// The `nest-cachekit` command: `nest-cachekit warmup --module dist/app.module.js [...]`.
import 'reflect-metadata';
import { runWarmupCli, USAGE } from './warmup-cli';

const argv = process.argv.slice(2);
if (argv[0] !== 'warmup') {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
runWarmupCli(argv, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
}).then(
  (status) => process.exit(status),
  (error: Error) => {
    process.stderr.write(`nest-cachekit warmup: ${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
