-- Walls, doors and windows on an encounter's map (issue 17), as a list of
-- `shared::wall::Wall` values: built and removed by the GM, a door's state
-- changed in play, written back with the rest of the table's state when
-- the GM ends a session. Like drawings they are always read with their
-- map, so they live with it; the live state bounds them (2,000 per map).
alter table encounters
    add column walls jsonb not null default '[]'
        constraint encounters_walls_is_a_list check (jsonb_typeof(walls) = 'array');
