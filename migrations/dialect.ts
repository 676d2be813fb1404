import { PostgresAdapter, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

/**
 * The few column choices that differ between the dialects, so each migration is written once. On
 * SQLite they are exactly what the migrations created before PostgreSQL was supported (so existing
 * files and new ones have the same schema); on PostgreSQL they are identity columns and 64-bit
 * integers.
 */
export function dialectOf(db: Kysely<any>): 'sqlite' | 'postgres' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** A 64-bit integer column type (SQLite's integer already is one). */
export function int64(db: Kysely<any>): 'integer' | 'bigint' {
  return dialectOf(db) === 'postgres' ? 'bigint' : 'integer';
}

/** A generated primary key: numbers increase with each insert and are never reused (gaps allowed). */
export function generatedKey(db: Kysely<any>, sqliteAutoIncrement: boolean): (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder {
  if (dialectOf(db) === 'postgres') return (c) => c.primaryKey().generatedByDefaultAsIdentity();
  return (c) => (sqliteAutoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey());
}
