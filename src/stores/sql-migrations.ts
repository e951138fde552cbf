/**
 * Versioned schema migrations shared by the SQL stores. Each store runs them once per store
 * instance (on first use), inside a transaction that holds a database-wide lock, so two
 * processes starting at once apply each version exactly once and a re-run is a no-op.
 */

export interface Migration {
  /** Applied in ascending order; a version is recorded once applied and never run again. */
  version: number;
  description: string;
  statements: readonly string[];
}

/** The table that records which migration versions a database (or schema) has applied. */
export const MIGRATIONS_TABLE = 'cloudhop_schema_migrations';

/** Checks at definition time that versions are positive integers in strictly ascending order. */
export function defineMigrations(migrations: readonly Migration[]): readonly Migration[] {
  let previous = 0;
  for (const migration of migrations) {
    if (!Number.isInteger(migration.version) || migration.version <= previous) {
      throw new Error(`Migration versions must ascend from 1: ${migration.version} follows ${previous}.`);
    }
    previous = migration.version;
  }
  return migrations;
}

/** The migrations a database that has `applied` still needs, in the order to run them. */
export function pendingMigrations(
  migrations: readonly Migration[],
  applied: Iterable<number>,
): readonly Migration[] {
  const done = new Set(applied);
  return migrations.filter((migration) => !done.has(migration.version));
}

/** Quotes an SQL identifier (schema or table name) so any string is safe to splice into SQL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
