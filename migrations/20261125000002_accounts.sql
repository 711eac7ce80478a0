-- Accounts, login sessions, campaign membership and invitations: every
-- permission check needs them (the seed has none of these tables).

create table users (
    id uuid primary key,
    -- What people type to log in; unique regardless of case.
    login text not null
        constraint users_login_shape check (char_length(login) between 3 and 40 and login = btrim(login)),
    display_name text not null
        constraint users_display_name_length check (char_length(display_name) between 1 and 80),
    -- An argon2id PHC string; never the password.
    password_hash text not null,
    created_at timestamptz not null default now()
);

create unique index users_login_key on users (lower(login));

-- A browser's login. The cookie carries a random token; only its SHA-256
-- is stored, so a leaked table logs nobody in.
create table login_sessions (
    token_hash bytea primary key,
    user_id uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    expires_at timestamptz not null
);

create index login_sessions_user_idx on login_sessions (user_id);
-- Expired rows are swept by this index.
create index login_sessions_expiry_idx on login_sessions (expires_at);

-- Who belongs to a campaign, and as what. An assistant GM is a member the
-- GM delegated GM powers to.
create table campaign_members (
    campaign_id uuid not null references campaigns (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    role text not null
        constraint campaign_members_role_known check (role in ('gm', 'assistant_gm', 'player', 'observer')),
    joined_at timestamptz not null default now(),
    primary key (campaign_id, user_id)
);

create index campaign_members_user_idx on campaign_members (user_id);
-- One GM per campaign.
create unique index campaign_members_one_gm on campaign_members (campaign_id) where role = 'gm';

-- An invitation link: the token is random, only its hash is stored.
create table campaign_invitations (
    id uuid primary key,
    campaign_id uuid not null references campaigns (id) on delete cascade,
    token_hash bytea not null unique,
    role text not null
        constraint campaign_invitations_role_known check (role in ('assistant_gm', 'player', 'observer')),
    created_by uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    accepted_by uuid references users (id) on delete set null,
    accepted_at timestamptz
);

create index campaign_invitations_campaign_idx on campaign_invitations (campaign_id);

-- Campaigns created before accounts existed keep a null GM; new ones name
-- their GM, and the GM's membership row carries the role.
alter table campaigns
    add constraint campaigns_gm_user_fkey foreign key (gm_user_id) references users (id) on delete set null;
