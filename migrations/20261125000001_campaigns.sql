-- Campaigns: the container a GM runs (seed schema, "Unified PostgreSQL").
--
-- Differences from the seed, on purpose:
-- - timestamps are timestamptz: a tabletop's players span time zones, and a
--   bare timestamp silently takes the server's zone.
-- - gm_user_id is nullable for now: accounts do not exist yet. The accounts
--   migration adds the users table, the foreign key and the not-null rule.
-- - name and game_system are checked here as well as in the shared crate, so
--   no writer can store what the application would refuse to read.
create table campaigns (
    id uuid primary key,
    name text not null
        constraint campaigns_name_length check (char_length(name) between 1 and 100 and name = btrim(name)),
    game_system text not null
        constraint campaigns_game_system_known check (game_system in ('dnd5e', 'pf2e', 'other')),
    gm_user_id uuid,
    settings jsonb not null default '{}',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- The campaign list is ordered newest first.
create index campaigns_created_at_idx on campaigns (created_at desc);
