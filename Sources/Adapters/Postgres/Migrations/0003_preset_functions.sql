-- Creating or updating a preset that becomes the default in one round trip instead of four (BEGIN, demote, write,
-- COMMIT). One statement is atomic: when the write fails (a duplicate name) the demotion is undone with it.
-- A dollar-quoted body may hold semicolons at line ends; the migrator keeps it whole.

CREATE FUNCTION patterndesk_create_preset(p_user text, p_name text, p_filters jsonb, p_default boolean, p_at timestamptz)
RETURNS SETOF user_filter_presets LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO users (id) VALUES (p_user) ON CONFLICT (id) DO NOTHING;
    IF p_default THEN
        UPDATE user_filter_presets SET is_default = false, updated_at = p_at WHERE user_id = p_user AND is_default;
    END IF;
    RETURN QUERY
        INSERT INTO user_filter_presets (user_id, name, filter_config, is_default, created_at, updated_at)
        VALUES (p_user, p_name, p_filters, p_default, p_at, p_at)
        RETURNING *;
END;
$$;

-- NULL arguments leave their column as it is. Nothing changes, not even the old default, when the preset is not the
-- caller's.
CREATE FUNCTION patterndesk_update_preset(p_user text, p_id bigint, p_name text, p_filters jsonb, p_default boolean, p_at timestamptz)
RETURNS SETOF user_filter_presets LANGUAGE plpgsql AS $$
BEGIN
    IF p_default AND EXISTS (SELECT 1 FROM user_filter_presets WHERE id = p_id AND user_id = p_user) THEN
        UPDATE user_filter_presets SET is_default = false, updated_at = p_at
        WHERE user_id = p_user AND is_default AND id <> p_id;
    END IF;
    RETURN QUERY
        UPDATE user_filter_presets SET
            name = COALESCE(p_name, name),
            filter_config = COALESCE(p_filters, filter_config),
            is_default = COALESCE(p_default, is_default),
            updated_at = p_at
        WHERE id = p_id AND user_id = p_user
        RETURNING *;
END;
$$;
