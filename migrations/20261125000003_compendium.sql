-- The compendium: rules content (the D&D 5e SRD, homebrew), shared by every
-- campaign (seed: "Compendium management").

-- array_to_string() is only stable (it calls element output functions),
-- so a generated column cannot use it: the seed's schema fails to create.
-- For text[] the result never varies, which makes this wrapper immutable.
create function tags_text(tags text[]) returns text
language sql immutable parallel safe
as $$ select coalesce(array_to_string(tags, ' '), '') $$;

create table compendium_sources (
    id uuid primary key,
    name text not null,
    version text not null,
    game_system text not null,
    publisher text,
    url text,
    description text,
    is_official boolean not null default false,
    is_enabled boolean not null default true,
    license_type text,
    license_url text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (name, version, game_system)
);

create table compendium_items (
    id uuid primary key,
    source_id uuid not null references compendium_sources (id) on delete cascade,
    -- Stable key across imports, e.g. 'dnd5e:spells:fireball'.
    ref_key text not null,
    name text not null,
    -- 'actor', 'item', 'spell', 'class_feature', 'document', ...
    item_type text not null,
    category text,
    subcategory text,
    level integer,
    rarity text,
    school text,
    -- Not null: the seed's nullable tags made array_to_string() null and so
    -- the whole search vector null for every untagged row.
    tags text[] not null default '{}',
    data jsonb not null,
    -- numeric(5,3), not the seed's (4,2): challenge ratings 1/8 = 0.125
    -- must be stored exactly.
    computed_cr numeric(5, 3),
    -- Price in copper pieces (the SRD's smallest unit), so 5 sp is 50.
    computed_cost integer,
    -- Weighted so that a match in the name outranks one in the text.
    search_vector tsvector generated always as (
        setweight(to_tsvector('english'::regconfig, name), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(category, '') || ' ' || coalesce(subcategory, '') || ' ' || coalesce(school, '')), 'B')
        || setweight(to_tsvector('english'::regconfig, tags_text(tags)), 'C')
        || setweight(to_tsvector('english'::regconfig, coalesce(data ->> 'description', '')), 'D')
    ) stored,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (source_id, ref_key)
);

create table compendium_relationships (
    id uuid primary key,
    source_item_id uuid not null references compendium_items (id) on delete cascade,
    target_item_id uuid not null references compendium_items (id) on delete cascade,
    -- 'prerequisite', 'component', 'upgrade', 'variant', 'known_spell', ...
    relationship_type text not null,
    metadata jsonb not null default '{}',
    unique (source_item_id, target_item_id, relationship_type)
);

create index idx_compendium_items_source on compendium_items (source_id);
create index idx_compendium_items_type on compendium_items (item_type);
create index idx_compendium_items_category on compendium_items (category, subcategory);
create index idx_compendium_items_search on compendium_items using gin (search_vector);
create index idx_compendium_items_tags on compendium_items using gin (tags);
create index idx_compendium_items_level on compendium_items (level) where level is not null;
create index idx_compendium_items_data on compendium_items using gin (data);
-- The encounter builder filters monsters by challenge rating.
create index idx_compendium_items_cr on compendium_items (computed_cr) where computed_cr is not null;
create index idx_compendium_relationships_target on compendium_relationships (target_item_id);
