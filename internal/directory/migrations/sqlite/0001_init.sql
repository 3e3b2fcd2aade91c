-- Users: the columns that filters, sorts and uniqueness need, plus the whole record as JSON.
-- Columns ending in _ci hold the value lowered by the application (Go's strings.ToLower), so
-- case-insensitive comparisons are plain, indexable comparisons in both databases.
CREATE TABLE users (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT    NOT NULL UNIQUE,
    external_id           TEXT,
    user_name             TEXT    NOT NULL,
    user_name_ci          TEXT    NOT NULL,
    display_name          TEXT,
    display_name_ci       TEXT,
    nick_name_ci          TEXT,
    title_ci              TEXT,
    user_type_ci          TEXT,
    preferred_language_ci TEXT,
    locale_ci             TEXT,
    timezone_ci           TEXT,
    profile_url_ci        TEXT,
    formatted_name_ci     TEXT,
    family_name_ci        TEXT,
    given_name_ci         TEXT,
    middle_name_ci        TEXT,
    honorific_prefix_ci   TEXT,
    honorific_suffix_ci   TEXT,
    badge_id_ci           TEXT,
    rank_name_ci          TEXT,
    evidence_group_ci     TEXT,
    user_group_ci         TEXT,
    axon_role_ci          TEXT,
    primary_email_ci      TEXT,
    active                INTEGER NOT NULL,
    created               TEXT    NOT NULL,
    last_modified         TEXT    NOT NULL,
    version               INTEGER NOT NULL,
    doc                   TEXT    NOT NULL
);
CREATE UNIQUE INDEX users_user_name_ci ON users (user_name_ci);
CREATE UNIQUE INDEX users_primary_email_ci ON users (primary_email_ci);
CREATE UNIQUE INDEX users_external_id ON users (external_id);
CREATE INDEX users_display_name_ci ON users (display_name_ci);

CREATE TABLE user_emails (
    user_seq   INTEGER NOT NULL REFERENCES users (seq),
    ord        INTEGER NOT NULL,
    value_ci   TEXT    NOT NULL,
    type_ci    TEXT,
    display_ci TEXT,
    is_primary INTEGER NOT NULL,
    PRIMARY KEY (user_seq, ord)
);
CREATE INDEX user_emails_value_ci ON user_emails (value_ci);

CREATE TABLE groups (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    display_name    TEXT    NOT NULL,
    display_name_ci TEXT    NOT NULL,
    external_id     TEXT,
    created         TEXT    NOT NULL,
    last_modified   TEXT    NOT NULL,
    version         INTEGER NOT NULL
);
CREATE UNIQUE INDEX groups_display_name_ci ON groups (display_name_ci);
CREATE UNIQUE INDEX groups_external_id ON groups (external_id);

CREATE TABLE group_members (
    group_seq   INTEGER NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    member_id   TEXT    NOT NULL,
    member_type TEXT    NOT NULL,
    PRIMARY KEY (group_seq, member_id)
);
CREATE INDEX group_members_member_id ON group_members (member_id);

-- Totals kept by triggers in the writing transaction, so counts never scan.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('users', 0), ('active_users', 0), ('groups', 0);

CREATE TRIGGER users_counted AFTER INSERT ON users
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'users';
    UPDATE counters SET value = value + NEW.active WHERE name = 'active_users';
END;
CREATE TRIGGER users_active_counted AFTER UPDATE OF active ON users WHEN NEW.active <> OLD.active
BEGIN
    UPDATE counters SET value = value + NEW.active - OLD.active WHERE name = 'active_users';
END;
CREATE TRIGGER groups_counted AFTER INSERT ON groups
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'groups';
END;
CREATE TRIGGER groups_uncounted AFTER DELETE ON groups
BEGIN
    UPDATE counters SET value = value - 1 WHERE name = 'groups';
END;
