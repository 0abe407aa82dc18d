// The PostgreSQL read model's schema and its migrations (README.md "PostgreSQL read model").
//
// Every table lives in one PostgreSQL schema (default "isucoin"), so that `isucoin replay --to
// postgres` can build a complete copy in a fresh schema and swap it in by renaming. Migrations
// are versioned and idempotent: `schema_migrations` lists the applied versions, and Migrate()
// applies the missing ones in order, under an advisory lock, in the caller's transaction.
#pragma once

#include <string>

#include <pqxx/pqxx>

namespace isucoin::projections {

// The latest schema version this program knows.
int PostgresSchemaVersion();

// Creates `schema` if missing, sets the transaction's search_path to it and applies every
// missing migration. Throws pqxx exceptions on database errors.
void MigratePostgresSchema(pqxx::transaction_base& tx, const std::string& schema);

// The live tables (also the genesis_* copies' names without the prefix), in load order.
extern const char* const kPostgresLiveTables[6];

}  // namespace isucoin::projections
