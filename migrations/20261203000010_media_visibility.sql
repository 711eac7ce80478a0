-- Media a player may see (issue 12: "GM only until shown").
--
-- Until now every member could list and download every file of the
-- campaign, the GM's unrevealed maps included. A file is now the GM's
-- alone until shown; the map of an encounter being played is readable by
-- every member while its session runs (the table needs it), whatever this
-- flag says. Files uploaded before this migration stay shown, so that no
-- running campaign loses what its players already had.
alter table media_files add column shown boolean not null default true;
alter table media_files alter column shown set default false;


-- Whether a member with `member_role` may read `file`: the one statement of
-- the rule, for listing, downloading and importing alike.
create function media_readable(file media_files, member_role text) returns boolean
language sql stable as $$
    select member_role in ('gm', 'assistant_gm')
        or file.shown
        or exists (
            select 1
              from encounters e
              join play_sessions s on s.encounter_id = e.id
             where e.map_id = file.id and e.campaign_id = file.campaign_id and s.ended_at is null)
$$;

-- Who has brought which bytes to this server. A media row names its bytes
-- by checksum, and a checksum is not a key: an import may name bytes only
-- if the importer can read a file with them, or has uploaded them once
-- (which proves they hold them: a GM restoring a campaign they deleted
-- still may).
create table media_uploaders (
    checksum text not null references media_blobs (checksum) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    primary key (checksum, user_id)
);

insert into media_uploaders (checksum, user_id)
select distinct checksum, created_by from media_files where created_by is not null
on conflict do nothing;
