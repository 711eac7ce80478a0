-- The fog of war an encounter's table ended with, written back with the
-- rest of its state when the GM ends a session (tokens go back to
-- encounter_tokens, hit points to the actors, the turn order to
-- initiative_data, round_number and current_turn), so the next session on
-- the encounter starts where the last one stopped. '{}' is no fog.
alter table encounters add column fog jsonb not null default '{}';
