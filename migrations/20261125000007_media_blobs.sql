-- Media bytes stored once per content (seed: "File Storage Strategy").
--
-- The seed keeps the bytes (or their path) on every media_files row, so the
-- same map uploaded to two campaigns is stored twice in the database tier,
-- and nothing knows when bytes are no longer referenced. Here the bytes
-- live in media_blobs, keyed by their SHA-256; each upload is a
-- media_files row that points at its blob. Blobs are never deleted while a
-- record references them (the foreign key restricts it).

create table media_blobs (
    checksum text primary key
        constraint media_blobs_checksum_shape check (checksum ~ '^[0-9a-f]{64}$'),
    byte_size bigint not null constraint media_blobs_size_nonnegative check (byte_size >= 0),
    -- Sniffed from the bytes when first stored.
    mime_type text not null,
    tier text not null constraint media_blobs_tier_known check (tier in ('database', 'filesystem', 's3')),
    -- The bytes, for the database tier.
    data bytea,
    -- The content-addressed object name, for the filesystem and S3 tiers.
    location text,
    s3_bucket text,
    created_at timestamptz not null default now(),
    constraint media_blobs_tier_location check (
        case tier
            when 'database' then data is not null and location is null and s3_bucket is null
                                 and octet_length(data) = byte_size
            when 'filesystem' then data is null and location is not null and s3_bucket is null
            else data is null and location is not null and s3_bucket is not null
        end
    )
);

alter table media_files
    drop constraint media_files_one_location,
    drop column file_data,
    drop column file_path,
    drop column s3_bucket,
    drop column s3_key,
    add constraint media_files_blob_fkey foreign key (checksum) references media_blobs (checksum);
