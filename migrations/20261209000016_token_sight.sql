-- How far each token sees and the light it sheds (issue 17), as a
-- `shared::token::Sight` value: `{}` for a token that sees as far as the
-- walls let it and sheds no light. The live state checks the distances
-- (at most 5,000 feet, a light's dim radius at least its bright one).
alter table encounter_tokens
    add column sight jsonb not null default '{}'
        constraint encounter_tokens_sight_is_an_object check (jsonb_typeof(sight) = 'object');
