-- What a campaign holds: actors, items, media, encounters and their tokens
-- (seed: "Campaign data", "Media and file storage", "Encounters").
-- Differences from the seed: timestamptz everywhere, campaign ids not null,
-- creators reference users, and each rule the seed leaves to the
-- application that the database can check is checked here too.

create table actors (
    id uuid primary key,
    campaign_id uuid not null references campaigns (id) on delete cascade,
    name text not null,
    actor_type text not null
        constraint actors_type_known check (actor_type in ('character', 'npc', 'monster')),
    -- The compendium entry it was made from (compendium_items.ref_key).
    compendium_ref text,
    level integer,
    character_class text,
    race text,
    -- Copied from the compendium entry at creation; overrides live apart
    -- in computed/current stats so the base can be compared or refreshed.
    base_stats jsonb not null,
    computed_stats jsonb not null default '{}',
    current_stats jsonb not null default '{}',
    inventory jsonb not null default '[]',
    plugin_data jsonb not null default '{}',
    owner_user_id uuid references users (id) on delete set null,
    permissions jsonb not null default '{"view": "gm", "edit": "owner"}',
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    search_vector tsvector generated always as (
        setweight(to_tsvector('english'::regconfig, name), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(character_class, '') || ' ' || coalesce(race, '')), 'B')
    ) stored
);

create table campaign_items (
    id uuid primary key,
    campaign_id uuid not null references campaigns (id) on delete cascade,
    name text not null,
    item_type text not null,
    compendium_ref text,
    base_properties jsonb not null,
    custom_properties jsonb not null default '{}',
    current_state jsonb not null default '{}',
    owner_actor_id uuid references actors (id) on delete set null,
    container_item_id uuid references campaign_items (id) on delete set null
        constraint campaign_items_not_inside_itself check (container_item_id <> id),
    location jsonb,
    quantity integer not null default 1 constraint campaign_items_quantity_positive check (quantity >= 0),
    stack_size integer not null default 1 constraint campaign_items_stack_positive check (stack_size >= 1),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Media: one row per upload; the bytes are stored once per checksum, in one
-- of three tiers (exactly one location is set).
create table media_files (
    id uuid primary key,
    campaign_id uuid not null references campaigns (id) on delete cascade,
    -- Content-addressed name used for storage; never the client's name.
    filename text not null,
    -- What the uploader called it, for display only.
    original_name text not null,
    -- Sniffed from the content, not taken from the client.
    mime_type text not null,
    file_size bigint not null constraint media_files_size_positive check (file_size >= 0),
    -- SHA-256 of the bytes, lowercase hex.
    checksum text not null constraint media_files_checksum_shape check (checksum ~ '^[0-9a-f]{64}$'),
    file_data bytea,
    file_path text,
    s3_bucket text,
    s3_key text,
    media_type text not null
        constraint media_files_type_known check (media_type in ('map', 'token', 'handout', 'avatar', 'background', 'other')),
    usage_context text,
    grid_size integer,
    grid_offset jsonb,
    dimensions jsonb,
    metadata jsonb not null default '{}',
    permissions jsonb not null default '{"view": "all", "edit": "gm"}',
    tags text[] not null default '{}',
    folder_path text,
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint media_files_one_location check (
        num_nonnulls(file_data, file_path, s3_key) = 1 and (s3_key is null) = (s3_bucket is null)
    ),
    search_vector tsvector generated always as (
        setweight(to_tsvector('english'::regconfig, original_name), 'A')
        || setweight(to_tsvector('english'::regconfig, tags_text(tags) || ' ' || coalesce(folder_path, '')), 'B')
    ) stored
);

create table encounters (
    id uuid primary key,
    campaign_id uuid not null references campaigns (id) on delete cascade,
    name text not null,
    description text,
    map_id uuid references media_files (id) on delete set null,
    map_settings jsonb not null default '{}',
    status text not null default 'draft'
        constraint encounters_status_known check (status in ('draft', 'ready', 'active', 'completed')),
    initiative_data jsonb not null default '{}',
    round_number integer not null default 0,
    current_turn integer not null default 0,
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table encounter_tokens (
    id uuid primary key,
    encounter_id uuid not null references encounters (id) on delete cascade,
    -- Scenery tokens have no actor, so unlike the seed this is nullable
    -- and several tokens may share an actor (a pack of wolves from one
    -- statblock): no unique (encounter_id, actor_id).
    actor_id uuid references actors (id) on delete cascade,
    name text not null default '',
    position jsonb not null,
    rotation numeric(6, 2) not null default 0,
    scale numeric(4, 2) not null default 1.0 constraint encounter_tokens_scale_positive check (scale > 0),
    visibility text not null default 'visible'
        constraint encounter_tokens_visibility_known check (visibility in ('visible', 'gm_only', 'hidden')),
    conditions text[] not null default '{}',
    temporary_stats jsonb not null default '{}',
    initiative_order integer,
    initiative_roll integer,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index idx_actors_campaign_type on actors (campaign_id, actor_type);
create index idx_actors_search on actors using gin (search_vector);
create index idx_actors_compendium_ref on actors (compendium_ref) where compendium_ref is not null;
create index idx_actors_owner on actors (owner_user_id) where owner_user_id is not null;
create index idx_actors_stats on actors using gin (base_stats);
create index idx_actors_level on actors (campaign_id, level) where level is not null;

create index idx_campaign_items_campaign on campaign_items (campaign_id);
create index idx_campaign_items_owner on campaign_items (owner_actor_id) where owner_actor_id is not null;
create index idx_campaign_items_container on campaign_items (container_item_id) where container_item_id is not null;
create index idx_campaign_items_compendium_ref on campaign_items (compendium_ref) where compendium_ref is not null;

create index idx_media_files_campaign on media_files (campaign_id);
create index idx_media_files_type on media_files (media_type);
create index idx_media_files_checksum on media_files (checksum);
create index idx_media_files_tags on media_files using gin (tags);
create index idx_media_files_search on media_files using gin (search_vector);

create index idx_encounters_campaign on encounters (campaign_id);
create index idx_encounter_tokens_encounter on encounter_tokens (encounter_id);
create index idx_encounter_tokens_actor on encounter_tokens (actor_id);
create index idx_encounter_tokens_initiative on encounter_tokens (encounter_id, initiative_order)
    where initiative_order is not null;
