#!/usr/bin/env node
import { messageOf } from '../core/errors.js';

const USAGE = `Usage:
  cloudhop emulator [--port 4010] [--host 127.0.0.1]
  cloudhop sessions export <store-url> <session-id> [-o file] [--namespace ns]
  cloudhop sessions import <store-url> <file> [--namespace ns]
  cloudhop sessions migrate --from <store-url> --to <store-url> [--namespace ns]
Store URLs: sqlite:PATH, redis://host:port, postgres://user@host/db`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'emulator': {
      const { runEmulatorCommand } = await import('./emulator.js');
      await runEmulatorCommand(rest);
      return 0;
    }
    case 'sessions': {
      const { runSessionsCommand } = await import('./sessions.js');
      return runSessionsCommand(rest);
    }
    case undefined:
    case '-h':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`cloudhop: unknown command "${command}".\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = messageOf(error);
    console.error(`cloudhop: ${message}`);
    process.exitCode = 2;
  },
);
