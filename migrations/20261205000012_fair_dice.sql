-- Verifiable dice (issue 15): a session's secret seed. The server draws it
-- when the session starts and publishes its SHA-256 in every welcome; every
-- die of the session is derived from it and the action's id
-- (shared::fair). It is revealed to the campaign's members once the
-- session has ended, so that anyone can re-check every roll of the event
-- log. Null for sessions started before this migration: their dice came
-- from the operating system's randomness and cannot be checked.
alter table play_sessions add column dice_seed bytea
    constraint play_sessions_dice_seed_length check (octet_length(dice_seed) = 32);
