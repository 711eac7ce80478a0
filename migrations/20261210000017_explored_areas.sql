-- What each player has explored of an encounter's map (issue 17): the
-- cells her tokens saw at some time, which her map shows dimmed once out
-- of sight. Only the map, never what stands on it. Kept with the
-- encounter, so the dungeon stays explored from one evening to the next;
-- the GM can make everyone forget it.
create table explored_areas (
    encounter_id uuid not null references encounters (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    -- A `BTreeSet<shared::geometry::Cell>`: `[[column, row], ...]`,
    -- at most `shared::limits::MAX_EXPLORED_CELLS`.
    cells jsonb not null
        constraint explored_areas_cells_is_an_array check (jsonb_typeof(cells) = 'array'),
    updated_at timestamptz not null default now(),
    primary key (encounter_id, user_id)
);
