-- Every change to a user's watchlists or presets announces the user's id on the channel `patterndesk_user_data`, so
-- each service instance can drop what it caches for that user. A trigger, not the application's statements, sends it:
-- rows changed by another instance, by a script or by hand in psql are announced too. PostgreSQL delivers a
-- notification only after the transaction commits, and collapses duplicates within one transaction.
-- A payload that would not fit a notification (ids over 7,000 bytes) and TRUNCATE announce '*': drop everything.

CREATE FUNCTION patterndesk_notify_user_data() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    affected text;
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('patterndesk_user_data', '*');
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        affected := OLD.user_id;
    ELSE
        affected := NEW.user_id;
    END IF;
    PERFORM pg_notify('patterndesk_user_data', CASE WHEN octet_length(affected) > 7000 THEN '*' ELSE affected END);
    IF TG_OP = 'UPDATE' AND OLD.user_id IS DISTINCT FROM NEW.user_id THEN
        PERFORM pg_notify('patterndesk_user_data', CASE WHEN octet_length(OLD.user_id) > 7000 THEN '*' ELSE OLD.user_id END);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER user_watchlists_notify AFTER INSERT OR UPDATE OR DELETE ON user_watchlists
    FOR EACH ROW EXECUTE FUNCTION patterndesk_notify_user_data();

CREATE TRIGGER user_watchlists_notify_truncate AFTER TRUNCATE ON user_watchlists
    FOR EACH STATEMENT EXECUTE FUNCTION patterndesk_notify_user_data();

CREATE TRIGGER user_filter_presets_notify AFTER INSERT OR UPDATE OR DELETE ON user_filter_presets
    FOR EACH ROW EXECUTE FUNCTION patterndesk_notify_user_data();

CREATE TRIGGER user_filter_presets_notify_truncate AFTER TRUNCATE ON user_filter_presets
    FOR EACH STATEMENT EXECUTE FUNCTION patterndesk_notify_user_data();
