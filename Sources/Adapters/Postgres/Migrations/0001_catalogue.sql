-- The symbol and sector catalogue. `patterndesk seed` fills it from the bundled data (idempotent upserts).
-- Statements end with a semicolon at the end of a line; the migrator runs them one by one in one transaction.

CREATE TABLE symbols (
    symbol          text PRIMARY KEY CHECK (symbol ~ '^[A-Z0-9.^=-]{1,16}$'),
    name            text NOT NULL,
    exchange        text NOT NULL DEFAULT '',
    market          text NOT NULL DEFAULT 'stocks',
    type            text NOT NULL CHECK (type IN ('stock', 'etf')),
    active          boolean NOT NULL DEFAULT true,
    sector          text,
    industry        text,
    reference_price double precision,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- /api/symbols filters by market and lists in symbol order; the dashboard counts by market.
CREATE INDEX symbols_market ON symbols (market, symbol);

CREATE TABLE sector_mapping (
    sector           text NOT NULL,
    industry         text NOT NULL DEFAULT '',
    sector_etf       text NOT NULL,
    sector_etf_name  text NOT NULL DEFAULT '',
    rs_score         double precision,
    is_sector_leader boolean NOT NULL DEFAULT false,
    PRIMARY KEY (sector, industry)
);

CREATE INDEX sector_mapping_etf ON sector_mapping (sector_etf);

CREATE TABLE universes (
    key         text PRIMARY KEY,
    description text NOT NULL,
    category    text NOT NULL,
    criteria    text NOT NULL DEFAULT ''
);

CREATE TABLE universe_members (
    universe_key text NOT NULL REFERENCES universes (key) ON DELETE CASCADE,
    symbol       text NOT NULL REFERENCES symbols (symbol) ON DELETE CASCADE,
    position     integer NOT NULL,
    PRIMARY KEY (universe_key, symbol)
);

-- Members are read per universe in their stored order.
CREATE INDEX universe_members_order ON universe_members (universe_key, position);
