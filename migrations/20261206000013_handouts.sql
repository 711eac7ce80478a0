-- Handouts (issue 15): the GM shows a file to the whole table or to
-- chosen players. A file shown to everyone is `shown`; one shown to some
-- players is readable by each of them from here on, and is on their
-- handouts list. The grant outlives the session that made it.
create table media_grants (
    media_id uuid not null references media_files (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    granted_by uuid references users (id) on delete set null,
    granted_at timestamptz not null default now(),
    primary key (media_id, user_id)
);

create index media_grants_user on media_grants (user_id);

-- The one statement of who may read a file, now with the reader: the GM
-- and assistants, anyone once shown, the players it was handed to, and
-- every member for the map of an encounter being played.
drop function media_readable(media_files, text);

create function media_readable(file media_files, member_role text, member uuid) returns boolean
language sql stable as $$
    select member_role in ('gm', 'assistant_gm')
        or file.shown
        or exists (select 1 from media_grants g where g.media_id = file.id and g.user_id = member)
        or exists (
            select 1
              from encounters e
              join play_sessions s on s.encounter_id = e.id
             where e.map_id = file.id and e.campaign_id = file.campaign_id and s.ended_at is null)
$$;
