-- Issue 12: one running session per encounter, held by the schema.
-- `live::start` checked and then inserted, so two starts at once both
-- inserted. Duplicates already running (if any) keep the newest one.
update play_sessions p
   set ended_at = now()
 where p.ended_at is null
   and p.encounter_id is not null
   and exists (
       select 1 from play_sessions q
        where q.encounter_id = p.encounter_id
          and q.ended_at is null
          and (q.started_at, q.id) > (p.started_at, p.id));

create unique index play_sessions_one_running_per_encounter
    on play_sessions (encounter_id)
 where ended_at is null;

-- Who sent each action: a recorded outcome is answered only to its own
-- sender (action ids travel in commits every member receives).
alter table session_actions add column user_id uuid;
