-- Users and what they keep: watchlists and filter presets. Every query filters by user_id.

CREATE TABLE users (
    id         text PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_watchlists (
    id         bigserial PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    symbols    text[] NOT NULL DEFAULT '{}' CHECK (cardinality(symbols) <= 500),
    filters    jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT user_watchlists_name_unique UNIQUE (user_id, name)
);

-- Listing a user's watchlists in creation order.
CREATE INDEX user_watchlists_by_user ON user_watchlists (user_id, id);

CREATE TABLE user_filter_presets (
    id            bigserial PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    filter_config jsonb NOT NULL CHECK (jsonb_typeof(filter_config) = 'object'),
    is_default    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT user_filter_presets_name_unique UNIQUE (user_id, name)
);

CREATE INDEX user_filter_presets_by_user ON user_filter_presets (user_id, id);

-- At most one default preset per user.
CREATE UNIQUE INDEX user_filter_presets_one_default ON user_filter_presets (user_id) WHERE is_default;
