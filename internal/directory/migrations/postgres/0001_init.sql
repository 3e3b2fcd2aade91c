-- Users: the columns that filters, sorts and uniqueness need, plus the whole record as JSON.
-- Columns ending in _ci hold the value lowered by the application (Go's strings.ToLower), so
-- case-insensitive comparisons are plain, indexable comparisons. Text columns use the "C"
-- collation so ordering and prefix ranges are bytewise, exactly as in SQLite.
CREATE TABLE users (
    seq                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                    TEXT COLLATE "C" NOT NULL UNIQUE,
    external_id           TEXT COLLATE "C",
    user_name             TEXT COLLATE "C" NOT NULL,
    user_name_ci          TEXT COLLATE "C" NOT NULL,
    display_name          TEXT COLLATE "C",
    display_name_ci       TEXT COLLATE "C",
    nick_name_ci          TEXT COLLATE "C",
    title_ci              TEXT COLLATE "C",
    user_type_ci          TEXT COLLATE "C",
    preferred_language_ci TEXT COLLATE "C",
    locale_ci             TEXT COLLATE "C",
    timezone_ci           TEXT COLLATE "C",
    profile_url_ci        TEXT COLLATE "C",
    formatted_name_ci     TEXT COLLATE "C",
    family_name_ci        TEXT COLLATE "C",
    given_name_ci         TEXT COLLATE "C",
    middle_name_ci        TEXT COLLATE "C",
    honorific_prefix_ci   TEXT COLLATE "C",
    honorific_suffix_ci   TEXT COLLATE "C",
    badge_id_ci           TEXT COLLATE "C",
    rank_name_ci          TEXT COLLATE "C",
    evidence_group_ci     TEXT COLLATE "C",
    user_group_ci         TEXT COLLATE "C",
    axon_role_ci          TEXT COLLATE "C",
    primary_email_ci      TEXT COLLATE "C",
    active                INTEGER NOT NULL,
    created               TEXT COLLATE "C" NOT NULL,
    last_modified         TEXT COLLATE "C" NOT NULL,
    version               BIGINT NOT NULL,
    doc                   TEXT NOT NULL
);
CREATE UNIQUE INDEX users_user_name_ci ON users (user_name_ci);
CREATE UNIQUE INDEX users_primary_email_ci ON users (primary_email_ci);
CREATE UNIQUE INDEX users_external_id ON users (external_id);
CREATE INDEX users_display_name_ci ON users (display_name_ci);

CREATE TABLE user_emails (
    user_seq   BIGINT  NOT NULL REFERENCES users (seq),
    ord        INTEGER NOT NULL,
    value_ci   TEXT COLLATE "C" NOT NULL,
    type_ci    TEXT COLLATE "C",
    display_ci TEXT COLLATE "C",
    is_primary INTEGER NOT NULL,
    PRIMARY KEY (user_seq, ord)
);
CREATE INDEX user_emails_value_ci ON user_emails (value_ci);

CREATE TABLE groups (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name    TEXT COLLATE "C" NOT NULL,
    display_name_ci TEXT COLLATE "C" NOT NULL,
    external_id     TEXT COLLATE "C",
    created         TEXT COLLATE "C" NOT NULL,
    last_modified   TEXT COLLATE "C" NOT NULL,
    version         BIGINT NOT NULL
);
CREATE UNIQUE INDEX groups_display_name_ci ON groups (display_name_ci);
CREATE UNIQUE INDEX groups_external_id ON groups (external_id);

CREATE TABLE group_members (
    group_seq   BIGINT NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    member_id   TEXT COLLATE "C" NOT NULL,
    member_type TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_seq, member_id)
);
CREATE INDEX group_members_member_id ON group_members (member_id);

-- Totals kept by triggers in the writing transaction, so counts never scan.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('users', 0), ('active_users', 0), ('groups', 0);

CREATE FUNCTION users_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE counters SET value = value + 1 WHERE name = 'users';
        UPDATE counters SET value = value + NEW.active WHERE name = 'active_users';
    ELSIF NEW.active <> OLD.active THEN
        UPDATE counters SET value = value + NEW.active - OLD.active WHERE name = 'active_users';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_counted AFTER INSERT OR UPDATE OF active ON users
    FOR EACH ROW EXECUTE FUNCTION users_count();

CREATE FUNCTION groups_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE counters SET value = value + 1 WHERE name = 'groups';
    ELSE
        UPDATE counters SET value = value - 1 WHERE name = 'groups';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER groups_counted AFTER INSERT OR DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION groups_count();
