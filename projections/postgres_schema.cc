#include "projections/postgres_schema.h"

namespace isucoin::projections {

namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Never edit a released migration: add one. Each runs once per schema.
constexpr Migration kMigrations[] = {
    {1, "tables",
     R"SQL(
CREATE OR REPLACE FUNCTION us_to_ts(bigint) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE AS $$ SELECT 'epoch'::timestamptz + $1 * interval '1 microsecond' $$;
CREATE OR REPLACE FUNCTION ts_to_us(timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE AS $$ SELECT (extract(epoch FROM $1) * 1000000)::bigint $$;

CREATE TABLE IF NOT EXISTS users (
  id bigint PRIMARY KEY,
  bank_id text NOT NULL,
  name text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL
);
-- state: open | locked (in a match awaiting the bank) | executed (bank reserved, not paid yet)
--        | settled (trade paid: trade_id and closed_at set) | cancelled
CREATE TABLE IF NOT EXISTS orders (
  id bigint PRIMARY KEY,
  user_id bigint NOT NULL,
  side text NOT NULL CHECK (side IN ('buy', 'sell')),
  amount bigint NOT NULL,
  price bigint NOT NULL,
  created_at timestamptz NOT NULL,
  closed_at timestamptz,
  trade_id bigint,
  state text NOT NULL CHECK (state IN ('open', 'locked', 'executed', 'settled', 'cancelled')),
  match_id bigint
);
-- Every trade from TradeExecuted on; `settled` once its bank commit succeeded (TradeSettled).
CREATE TABLE IF NOT EXISTS trades (
  id bigint PRIMARY KEY,
  amount bigint NOT NULL,
  price bigint NOT NULL,
  created_at timestamptz NOT NULL,
  settled boolean NOT NULL,
  settled_at timestamptz,
  match_id bigint,
  genesis boolean NOT NULL DEFAULT false
);
CREATE TABLE IF NOT EXISTS trade_legs (
  trade_id bigint NOT NULL,
  order_id bigint NOT NULL,
  user_id bigint NOT NULL,
  side text NOT NULL,
  amount bigint NOT NULL,
  reserve_id bigint NOT NULL,
  PRIMARY KEY (trade_id, order_id)
);
-- Settled (and genesis) trades only, bucketed on the exchange's clock (--utc-offset).
CREATE TABLE IF NOT EXISTS candles (
  resolution text NOT NULL CHECK (resolution IN ('second', 'minute', 'hour')),
  bucket timestamptz NOT NULL,
  open bigint NOT NULL,
  close bigint NOT NULL,
  high bigint NOT NULL,
  low bigint NOT NULL,
  first_trade bigint NOT NULL,
  last_trade bigint NOT NULL,
  PRIMARY KEY (resolution, bucket)
);
CREATE TABLE IF NOT EXISTS balances (
  user_id bigint PRIMARY KEY,
  chairs_bought bigint NOT NULL,
  chairs_sold bigint NOT NULL,
  yen_paid bigint NOT NULL,
  yen_received bigint NOT NULL,
  open_buy_exposure bigint NOT NULL,
  awaiting_settlement bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS genesis_users (LIKE users INCLUDING ALL);
CREATE TABLE IF NOT EXISTS genesis_orders (LIKE orders INCLUDING ALL);
CREATE TABLE IF NOT EXISTS genesis_trades (LIKE trades INCLUDING ALL);
CREATE TABLE IF NOT EXISTS genesis_trade_legs (LIKE trade_legs INCLUDING ALL);
CREATE TABLE IF NOT EXISTS genesis_candles (LIKE candles INCLUDING ALL);
CREATE TABLE IF NOT EXISTS genesis_balances (LIKE balances INCLUDING ALL);
-- Where the rows stand in the events log: written in the same transaction as the rows.
CREATE TABLE IF NOT EXISTS sink_position (
  id int PRIMARY KEY CHECK (id = 1),
  events_offset bigint NOT NULL,
  last_cause bigint,
  last_index int,
  genesis_sealed boolean NOT NULL DEFAULT false,
  resets bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO sink_position (id, events_offset) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
)SQL"},
    {2, "indexes",
     R"SQL(
CREATE INDEX IF NOT EXISTS orders_user_idx ON orders (user_id, created_at, id);
CREATE INDEX IF NOT EXISTS trade_legs_user_idx ON trade_legs (user_id, trade_id);
CREATE INDEX IF NOT EXISTS trades_unsettled_idx ON trades (id) WHERE NOT settled;
)SQL"},
};

}  // namespace

const char* const kPostgresLiveTables[6] = {"users",   "orders",     "trades",
                                            "trade_legs", "candles", "balances"};

int PostgresSchemaVersion() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

void MigratePostgresSchema(pqxx::transaction_base& tx, const std::string& schema) {
  const std::string q = tx.quote_name(schema);
  // One migrator per schema at a time (two sinks starting together).
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "isucoin-migrate:" + schema);
  tx.exec("CREATE SCHEMA IF NOT EXISTS " + q);
  tx.exec("SET LOCAL search_path TO " + q);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT "
      "NULL, applied_at timestamptz NOT NULL DEFAULT now())");
  const int current = tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0]
                          .as<int>();
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    tx.exec(m.sql);
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                   std::string(m.name));
  }
}

}  // namespace isucoin::projections
