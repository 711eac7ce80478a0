-- Names get their own search vector and index. The weighted main vector can
-- find "names matching fire" only by rechecking every row that mentions
-- fire anywhere (GIN indexes do not store weights): 25,000 heap reads for a
-- broad term in a large compendium. This index answers it directly.
alter table compendium_items
    add column name_vector tsvector generated always as (to_tsvector('english'::regconfig, name)) stored;

create index idx_compendium_items_name_search on compendium_items using gin (name_vector);
