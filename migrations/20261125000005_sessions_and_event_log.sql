-- Live sessions, the event log (audit trail and recovery), snapshots and
-- the campaign statistics (seed: "Event Log", "Database Optimization").

-- A play session: the version counter of its state and the fencing epoch
-- of the node that owns it. A commit runs
--   update play_sessions set version = version + 1
--    where id = $1 and epoch = $2 returning version
-- so versions are gap-free and a node that lost ownership cannot commit.
create table play_sessions (
    id uuid primary key,
    campaign_id uuid not null references campaigns (id) on delete cascade,
    encounter_id uuid references encounters (id) on delete set null,
    version bigint not null default 0 constraint play_sessions_version_nonnegative check (version >= 0),
    epoch bigint not null default 0,
    -- The approval rules (shared::rules::ApprovalPolicy as JSON).
    approval_policy jsonb not null default '{}',
    started_by uuid references users (id) on delete set null,
    started_at timestamptz not null default now(),
    ended_at timestamptz
);

create index play_sessions_campaign_idx on play_sessions (campaign_id);

-- Every request, decision and applied change. Partitioned by month so old
-- months can be archived or dropped whole. The seed orders replay by
-- timestamp; here the server-assigned version orders everything.
create table event_log (
    id bigserial not null,
    session_id uuid not null,
    -- The client's action id (null for the server's own events).
    action_id uuid,
    -- Set when applied; null while pending or once rejected.
    version bigint,
    event_type text not null,
    status text not null default 'applied'
        constraint event_log_status_known check (status in ('pending', 'approved', 'rejected', 'applied', 'rolled_back', 'expired')),
    initiated_by uuid,
    decided_by uuid,
    auto_approved boolean not null default false,
    event_data jsonb not null,
    state_changes jsonb,
    reason text,
    encounter_id uuid,
    round_number integer,
    requested_at timestamptz not null default now(),
    decided_at timestamptz,
    applied_at timestamptz,
    -- The partition key: when the row was written.
    recorded_at timestamptz not null default now(),
    constraint event_log_applied_has_version check (status <> 'applied' or version is not null),
    primary key (id, recorded_at)
) partition by range (recorded_at);

create index idx_event_log_session_version on event_log (session_id, version) where version is not null;
create index idx_event_log_pending on event_log (session_id, requested_at) where status = 'pending';
create index idx_event_log_action on event_log (session_id, action_id) where action_id is not null;
create index idx_event_log_user on event_log (initiated_by, recorded_at desc);
create index idx_event_log_encounter on event_log (encounter_id, round_number, recorded_at desc);

-- A partitioned table cannot have unique (session_id, version) across
-- partitions, so this small unpartitioned table is the last guard against
-- two commits with one version, and the idempotency record: an action id
-- seen before is answered with its first outcome.
create table session_actions (
    session_id uuid not null references play_sessions (id) on delete cascade,
    action_id uuid not null,
    version bigint,
    outcome jsonb not null,
    recorded_at timestamptz not null default now(),
    primary key (session_id, action_id),
    unique (session_id, version)
);

-- Creates the monthly partitions from the current month (UTC) to
-- `months_ahead` months later; returns how many it created. The migration
-- runs it once; the server runs it at start and daily, so an insert never
-- finds its month missing.
create function ensure_event_log_partitions(months_ahead integer default 3)
returns integer
language plpgsql
as $$
declare
    first_month timestamp := date_trunc('month', now() at time zone 'utc');
    month_start timestamp;
    partition_name text;
    created integer := 0;
begin
    for offset_months in 0..months_ahead loop
        month_start := first_month + make_interval(months => offset_months);
        partition_name := 'event_log_' || to_char(month_start, 'YYYY_MM');
        if to_regclass(partition_name) is null then
            execute format(
                'create table %I partition of event_log for values from (%L) to (%L)',
                partition_name,
                month_start at time zone 'utc',
                (month_start + interval '1 month') at time zone 'utc'
            );
            created := created + 1;
        end if;
    end loop;
    return created;
end;
$$;

select ensure_event_log_partitions(3);

-- Applied changes of a session after a version, in version order: replaying
-- them over the snapshot at that version rebuilds the state exactly.
create function replay_session_events(p_session_id uuid, p_after_version bigint default 0)
returns table (event_id bigint, version bigint, event_type text, state_changes jsonb, applied_at timestamptz)
language sql
stable
as $$
    select e.id, e.version, e.event_type, e.state_changes, e.applied_at
      from event_log e
     where e.session_id = p_session_id
       and e.status = 'applied'
       and e.version > p_after_version
     order by e.version
$$;

-- The whole encounter state every N commits, so recovery replays only the
-- commits after the latest snapshot.
create table encounter_snapshots (
    session_id uuid not null references play_sessions (id) on delete cascade,
    version bigint not null,
    encounter_id uuid references encounters (id) on delete set null,
    -- shared::store::Entities as JSON.
    state jsonb not null,
    created_at timestamptz not null default now(),
    primary key (session_id, version)
);

-- Campaign statistics. Unlike the seed, no trigger refreshes it on every
-- statement that touches an actor (that serializes all actor writes behind
-- a full recomputation); the server refreshes it concurrently on a timer.
create materialized view campaign_stats as
select c.id,
       c.name,
       count(distinct a.id) as actor_count,
       count(distinct a.id) filter (where a.actor_type = 'character') as character_count,
       avg(a.level) filter (where a.level is not null) as avg_level,
       max(a.updated_at) as last_activity
  from campaigns c
  left join actors a on a.campaign_id = c.id
 group by c.id, c.name;

-- Required by refresh ... concurrently.
create unique index campaign_stats_id on campaign_stats (id);
