-- Drawings on an encounter's map (issue 15): freehand strokes and shapes
-- the GM and, where allowed, players drew during play, written back with
-- the rest of the table's state when the GM ends a session, as a list of
-- `shared::drawing::Drawing` values. A drawing is drawn and erased whole
-- and always read with its map, so it lives with the map, not in a table
-- of its own; its size is bounded by the live state's limits (1,000
-- drawings of at most 512 points each).
alter table encounters
    add column drawings jsonb not null default '[]'
        constraint encounters_drawings_is_a_list check (jsonb_typeof(drawings) = 'array');
