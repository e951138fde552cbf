// Run as a separate process: takes the write lock of the SQLite file given on the command line
// (BEGIN IMMEDIATE, as another app writing to the file would), says "locked" on stdout, and holds
// the lock until its stdin closes. Either driver will do; the one that loads on this Node is used.
import type { SqliteDatabase } from '../../../src/stores/sqlite.js';

async function open(path: string): Promise<SqliteDatabase> {
  try {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path);
    db.exec('SELECT 1');
    return db as unknown as SqliteDatabase;
  } catch {
    const { DatabaseSync } = await import('node:sqlite' as string);
    return new DatabaseSync(path) as SqliteDatabase;
  }
}

const db = await open(process.argv[2]!);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\n');
process.stdin.resume();
process.stdin.on('end', () => {
  db.exec('ROLLBACK');
  db.close();
  process.exit(0);
});
