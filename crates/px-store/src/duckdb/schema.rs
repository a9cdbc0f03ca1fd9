//! DuckDB schema for events and persons. Every table leads with tenant and
//! project; every statement in this backend filters on both.

/// Version of this schema: the one the last of [`UPGRADES`] reaches (a
/// change to the schema adds an upgrade).
pub const SCHEMA_VERSION: i64 = UPGRADES[UPGRADES.len() - 1].0;

pub const DDL: &str = r#"
CREATE TABLE IF NOT EXISTS px_schema (version BIGINT NOT NULL);

-- The spool position this store holds every event up to (one row),
-- written in the same transaction as the events: see `crate::spool`.
CREATE TABLE IF NOT EXISTS px_spool (through UBIGINT NOT NULL);
INSERT INTO px_spool SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM px_spool);

CREATE TABLE IF NOT EXISTS events (
    tenant_id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    event_id UUID NOT NULL,
    event VARCHAR NOT NULL,
    distinct_id VARCHAR NOT NULL,
    person_id UUID NOT NULL,
    session_id VARCHAR,
    timestamp TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    properties VARCHAR NOT NULL,
    url VARCHAR,
    host VARCHAR,
    path VARCHAR,
    title VARCHAR,
    referrer VARCHAR,
    referrer_domain VARCHAR,
    utm_source VARCHAR,
    utm_medium VARCHAR,
    utm_campaign VARCHAR,
    utm_term VARCHAR,
    utm_content VARCHAR,
    browser VARCHAR,
    browser_version VARCHAR,
    os VARCHAR,
    os_version VARCHAR,
    device_type VARCHAR,
    country VARCHAR,
    city VARCHAR,
    ip VARCHAR,
    locale VARCHAR,
    screen_width INTEGER,
    screen_height INTEGER,
    lib VARCHAR,
    lib_version VARCHAR,
    timestamp_clamped BOOLEAN NOT NULL,
    -- The person's dense key (see `crate::person_keys`), resolved through
    -- `person_overrides` as `person_id` is. Last, as schema 3 added it.
    -- Null only for the raw appends of `px bench ingest`.
    person_key BIGINT,
    -- `session_id` as a UUID (`px_core::event::session_uuid`), which
    -- queries group sessions by. Schema 4 added it.
    session_uuid UUID
);

-- Every person's dense key; the writer holds them all in memory and is
-- the only one to add rows, so the table needs no index.
CREATE TABLE IF NOT EXISTS person_keys (
    tenant_id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    person_id UUID NOT NULL,
    person_key BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS persons (
    tenant_id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    person_id UUID NOT NULL,
    properties VARCHAR NOT NULL,
    is_identified BOOLEAN NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    -- Keys make the per-commit person writes index lookups, not scans.
    PRIMARY KEY (project_id, person_id)
);

CREATE TABLE IF NOT EXISTS person_distinct_ids (
    tenant_id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    distinct_id VARCHAR NOT NULL,
    person_id UUID NOT NULL,
    -- The person is not the id's own (an identify or alias moved it); only
    -- these rows are loaded into memory at start.
    merged BOOLEAN NOT NULL,
    PRIMARY KEY (project_id, distinct_id)
);

-- Person merges not yet written into the events: every event stored with
-- `old_person_id` belongs to `person_id`. Queries resolve persons through
-- this table (`{events}`), and the store rewrites the events and empties it
-- from time to time (`squash_persons`), so that the join in every person
-- query usually has nothing to look up. One row per old person: a merged
-- person never comes back, so it is never merged twice.
CREATE TABLE IF NOT EXISTS person_overrides (
    tenant_id BIGINT NOT NULL,
    project_id BIGINT NOT NULL,
    old_person_id UUID NOT NULL,
    person_id UUID NOT NULL,
    person_key BIGINT
);

CREATE TEMP TABLE IF NOT EXISTS person_stage (
    tenant_id BIGINT, project_id BIGINT, person_id VARCHAR, set_props VARCHAR,
    set_once_props VARCHAR, set_clear VARCHAR, identified BOOLEAN, first_seen BIGINT, last_seen BIGINT
);

CREATE TEMP TABLE IF NOT EXISTS merge_stage (
    tenant_id BIGINT, project_id BIGINT, from_id VARCHAR, final_id VARCHAR, distinct_id VARCHAR, final_key BIGINT
);

CREATE TEMP TABLE IF NOT EXISTS merged_person_stage (
    tenant_id BIGINT, project_id BIGINT, person_id VARCHAR, properties VARCHAR, identified BOOLEAN,
    first_seen BIGINT, last_seen BIGINT, op TINYINT
);

CREATE TEMP TABLE IF NOT EXISTS distinct_id_stage (
    tenant_id BIGINT, project_id BIGINT, distinct_id VARCHAR, person_id VARCHAR, merged BOOLEAN
);
"#;

/// `set_clear` maps every `$set` key to null: patching with it first drops
/// the old values, so a `$set` object replaces the old one whole instead of
/// being merged into it (RFC 7396 merges nested objects).
///
/// Applies staged person deltas, one prepared statement each (prepared
/// once per connection, not parsed and planned at every commit): updates existing persons, inserts new
/// ones, records new distinct ids. `$set_once` fills gaps only, `$set`
/// overwrites (RFC 7396 merge: a null value removes the key).
pub const APPLY_PERSON_STAGE: [&str; 5] = [
    "UPDATE persons SET
         properties = json_merge_patch(
             json_merge_patch(json_merge_patch(s.set_once_props, persons.properties), s.set_clear),
             s.set_props
         )::VARCHAR,
         is_identified = persons.is_identified OR s.identified,
         first_seen = least(persons.first_seen, make_timestamp(s.first_seen)),
         last_seen = greatest(persons.last_seen, make_timestamp(s.last_seen))
     FROM person_stage s
     WHERE persons.project_id = s.project_id AND persons.person_id = s.person_id::UUID",
    // Existing persons were updated above; this adds only the new ones.
    "INSERT OR IGNORE INTO persons
     SELECT s.tenant_id, s.project_id, s.person_id::UUID,
            json_merge_patch(s.set_once_props, s.set_props)::VARCHAR, s.identified,
            make_timestamp(s.first_seen), make_timestamp(s.last_seen)
     FROM person_stage s",
    "INSERT OR IGNORE INTO person_distinct_ids
     SELECT s.tenant_id, s.project_id, s.distinct_id, s.person_id::UUID, s.merged
     FROM distinct_id_stage s",
    "DELETE FROM person_stage",
    "DELETE FROM distinct_id_stage",
];

/// The persons a commit's merges involve (every source and final target:
/// an intermediate target is the source of a later merge), for
/// `merge::apply` to fold in memory.
pub const MERGED_PERSONS: &str = "SELECT p.project_id, p.person_id::VARCHAR, p.tenant_id, p.properties,
        p.is_identified, epoch_us(p.first_seen), epoch_us(p.last_seen)
    FROM persons p
    JOIN (SELECT DISTINCT tenant_id, project_id, id::UUID AS id FROM
            (SELECT tenant_id, project_id, from_id AS id FROM merge_stage
             UNION ALL SELECT tenant_id, project_id, final_id FROM merge_stage)) s
      ON s.tenant_id = p.tenant_id AND s.project_id = p.project_id AND s.id = p.person_id";

/// Writes back the folded person rows of `merge::apply`: op 0 deletes a
/// merged-away row, 1 updates a target, 2 inserts a target that had no row
/// (the source's row under the target's id).
pub const APPLY_MERGED_PERSONS: [&str; 4] = [
    "DELETE FROM persons USING merged_person_stage s
     WHERE s.op = 0 AND persons.tenant_id = s.tenant_id AND persons.project_id = s.project_id
       AND persons.person_id = s.person_id::UUID",
    "UPDATE persons SET properties = s.properties, is_identified = s.identified,
         first_seen = make_timestamp(s.first_seen), last_seen = make_timestamp(s.last_seen)
     FROM merged_person_stage s
     WHERE s.op = 1 AND persons.tenant_id = s.tenant_id AND persons.project_id = s.project_id
       AND persons.person_id = s.person_id::UUID",
    "INSERT INTO persons
     SELECT tenant_id, project_id, person_id::UUID, properties, identified,
            make_timestamp(first_seen), make_timestamp(last_seen)
     FROM merged_person_stage WHERE op = 2",
    "DELETE FROM merged_person_stage",
];

/// The rest of a commit's merges, from `merge_stage` (one row per merge:
/// its source, the source's final person, and the id the identify or alias
/// named): the source's ids and overrides move to the final person, the
/// named id joins it, and the events stored for the source are overridden.
pub const APPLY_MERGE_STAGE: [&str; 5] = [
    "UPDATE person_distinct_ids SET person_id = s.final_id::UUID, merged = true FROM merge_stage s
     WHERE person_distinct_ids.tenant_id = s.tenant_id AND person_distinct_ids.project_id = s.project_id
       AND person_distinct_ids.person_id = s.from_id::UUID",
    "INSERT OR IGNORE INTO person_distinct_ids
     SELECT tenant_id, project_id, distinct_id, final_id::UUID, true FROM merge_stage",
    "UPDATE person_overrides SET person_id = s.final_id::UUID, person_key = s.final_key FROM merge_stage s
     WHERE person_overrides.tenant_id = s.tenant_id AND person_overrides.project_id = s.project_id
       AND person_overrides.person_id = s.from_id::UUID",
    // One row per old person, whatever the stage holds: a second row would
    // double that person's events in every query.
    "INSERT INTO person_overrides
     SELECT s.tenant_id, s.project_id, s.from_id::UUID, any_value(s.final_id)::UUID, any_value(s.final_key)
     FROM merge_stage s
     WHERE NOT EXISTS (SELECT 1 FROM person_overrides o WHERE o.tenant_id = s.tenant_id
                       AND o.project_id = s.project_id AND o.old_person_id = s.from_id::UUID)
     GROUP BY ALL",
    "DELETE FROM merge_stage",
];

/// Schema 1 to 2: the overrides of the events already stored, from the
/// merged distinct ids (an event's stored person maps to the person its
/// distinct id has now; one target per stored person, as merges move whole
/// persons).
const BACKFILL_PERSON_OVERRIDES: &str = "INSERT INTO person_overrides (tenant_id, project_id, old_person_id, person_id)
    SELECT e.tenant_id, e.project_id, e.person_id, any_value(d.person_id)
    FROM events e JOIN person_distinct_ids d
      ON d.tenant_id = e.tenant_id AND d.project_id = e.project_id AND d.distinct_id = e.distinct_id
    WHERE d.merged AND e.person_id <> d.person_id
    GROUP BY ALL";

/// Schema 2 to 3: dense person keys (see `crate::person_keys`). Persons
/// are numbered per project in the order of their first event; a merge
/// target with no event of its own comes after those. Then the events and
/// the pending overrides get their person's key. Numbers afresh whatever
/// keys there are, so that an interrupted upgrade can run again.
const MIGRATE_TO_PERSON_KEYS: &str = "DELETE FROM person_keys;
    INSERT INTO person_keys
    SELECT tenant_id, project_id, person_id,
           row_number() OVER (PARTITION BY project_id ORDER BY min(first_seen) NULLS LAST, person_id)
    FROM (SELECT tenant_id, project_id, person_id, min(timestamp) AS first_seen FROM events GROUP BY ALL
          UNION ALL SELECT tenant_id, project_id, person_id, NULL FROM person_overrides)
    GROUP BY tenant_id, project_id, person_id;
    ALTER TABLE events ADD COLUMN IF NOT EXISTS person_key BIGINT;
    UPDATE events SET person_key = k.person_key FROM person_keys k
    WHERE events.project_id = k.project_id AND events.person_id = k.person_id;
    ALTER TABLE person_overrides ADD COLUMN IF NOT EXISTS person_key BIGINT;
    UPDATE person_overrides SET person_key = k.person_key FROM person_keys k
    WHERE person_overrides.project_id = k.project_id AND person_overrides.person_id = k.person_id";

/// Schema 3 to 4: each event's session id as a UUID, as
/// `px_core::event::session_uuid` computes it for new events: the id when
/// it is a canonical UUID, else its MD5.
const MIGRATE_TO_SESSION_UUIDS: &str = "ALTER TABLE events ADD COLUMN IF NOT EXISTS session_uuid UUID;
    UPDATE events SET session_uuid = CASE WHEN TRY_CAST(session_id AS UUID)::VARCHAR = session_id
        THEN TRY_CAST(session_id AS UUID) ELSE md5(session_id)::UUID END
    WHERE session_id IS NOT NULL";

/// The upgrades from each earlier schema, in order: the version each one
/// reaches, what it does (for the log), and its statements. Opening a store
/// runs, one transaction each, those past the store's version.
pub const UPGRADES: [(i64, &str, &str); 3] = [
    (2, "filling person overrides from the merges so far", BACKFILL_PERSON_OVERRIDES),
    (3, "numbering persons", MIGRATE_TO_PERSON_KEYS),
    (4, "keying sessions by UUID", MIGRATE_TO_SESSION_UUIDS),
];

/// Writes the pending merges into the events and forgets them: see
/// `person_overrides`. One transaction.
pub const SQUASH_PERSONS: [&str; 2] = [
    "UPDATE events SET person_id = o.person_id, person_key = o.person_key FROM person_overrides o
     WHERE events.tenant_id = o.tenant_id AND events.project_id = o.project_id AND events.person_id = o.old_person_id",
    "DELETE FROM person_overrides",
];
