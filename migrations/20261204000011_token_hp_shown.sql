-- Who may read the hit points of a token's actor: 'everyone', 'owner' (its
-- player and the GM) or 'gm'. Null is the default of the actor's kind (a
-- party's characters for everyone; monsters' and NPCs' for the GM). Kept
-- from session to session with the rest of the token, and enforced by the
-- server's per-recipient filter.
alter table encounter_tokens add column hp_shown text
    constraint encounter_tokens_hp_shown_known check (hp_shown in ('everyone', 'owner', 'gm'));
