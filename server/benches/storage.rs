//! Storage benchmarks against the real PostgreSQL at `DATABASE_URL`, in a
//! scratch database that is dropped at the end:
//! full-text search over the SRD plus 100,000 generated entries, event-log
//! append throughput with batching, replay of 100,000 events of one
//! session, and the encounter builder on a campaign with 1,000 actors.
//!
//! Run: `DATABASE_URL=... SRD_DIR=... cargo bench -p server --bench storage`
//! (scripts/lib.sh sets both). Results: docs/BENCHMARKS.md.

use std::time::Instant;

use hdrhistogram::Histogram;
use shared::{compendium::CompendiumQuery, id::CampaignId};
use sqlx::{Connection, PgConnection, PgPool, postgres::PgPoolOptions};
use uuid::Uuid;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let srd = std::env::var("SRD_DIR").expect("SRD_DIR");
    let name = format!("tabletop_bench_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url).await.expect("connect");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let url = format!(
        "{}/{name}",
        admin_url.rsplit_once('/').expect("a database in the URL").0
    );
    let db = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("connect to scratch");
    server::db::migrate(&db).await.expect("migrate");

    search(&db, &srd).await;
    append_and_replay(&db).await;
    encounter_builder(&db).await;

    db.close().await;
    sqlx::query(&format!("drop database {name} with (force)"))
        .execute(&mut admin)
        .await
        .expect("drop database");
}

fn report(label: &str, histogram: &Histogram<u64>) {
    println!(
        "{label}: n={} p50={:.2} ms p95={:.2} ms p99={:.2} ms max={:.2} ms",
        histogram.len(),
        histogram.value_at_quantile(0.50) as f64 / 1000.0,
        histogram.value_at_quantile(0.95) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.max() as f64 / 1000.0,
    );
}

async fn search(db: &PgPool, srd: &str) {
    let start = Instant::now();
    server::compendium::srd::import(db, std::path::Path::new(srd))
        .await
        .expect("import");
    println!("srd import: {:.2} s", start.elapsed().as_secs_f64());
    // 100,000 generated entries with words from a small vocabulary, so
    // searches hit many rows, as real homebrew collections would.
    sqlx::query(
        "with source as (
             insert into compendium_sources (id, name, version, game_system) values (gen_random_uuid(), 'Generated', '1', 'dnd5e')
             returning id)
         insert into compendium_items (id, source_id, ref_key, name, item_type, category, level, tags, data)
         select gen_random_uuid(), source.id, 'gen:' || n,
                (array['Flame','Frost','Storm','Shadow','Iron','Silver','Ember','Stone'])[1 + n % 8] || ' '
                  || (array['Blade','Ward','Bolt','Hound','Crown','Sigil','Drake','Tome'])[1 + (n / 8) % 8] || ' ' || n,
                (array['spell','item','actor'])[1 + n % 3], 'homebrew', n % 10,
                array[(array['fire','cold','lightning','necrotic'])[1 + n % 4]],
                jsonb_build_object('description', 'A generated entry about ' ||
                  (array['fire and ash','ice and snow','thunder','the grave'])[1 + n % 4] || ', number ' || n)
           from source, generate_series(1, 100000) n",
    )
    .execute(db)
    .await
    .expect("generate");
    sqlx::query("analyze compendium_items")
        .execute(db)
        .await
        .expect("analyze");
    let terms = [
        "fire",
        "fireball",
        "dragon",
        "storm bolt",
        "silver",
        "cure wounds",
        "shadow hound",
        "ice",
        "goblin",
        "tome",
    ];
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    for round in 0..20 {
        for term in terms {
            let query = CompendiumQuery {
                text: Some(term.into()),
                limit: Some(50),
                ..Default::default()
            };
            let start = Instant::now();
            let found = server::compendium::search(db, &query)
                .await
                .expect("search");
            if round > 0 {
                histogram
                    .record(start.elapsed().as_micros() as u64)
                    .expect("record");
            }
            assert!(!found.is_empty(), "{term} found nothing");
        }
    }
    report(
        "compendium search (SRD + 100k, 10 terms x 19 rounds)",
        &histogram,
    );
}

async fn append_and_replay(db: &PgPool) {
    let session = Uuid::new_v4();
    let total = 100_000i64;
    for batch in [1i64, 100, 1000] {
        // Durable commits: each transaction is one fsync.
        let rows = if batch == 1 { 2_000 } else { total };
        let target = if batch == 1000 {
            session
        } else {
            Uuid::new_v4()
        };
        let start = Instant::now();
        let mut version = 0i64;
        while version < rows {
            let mut tx = db.begin().await.expect("begin");
            sqlx::query(
                "insert into event_log (session_id, version, event_type, event_data, state_changes, status, applied_at)
                 select $1, v, 'move', '{}', jsonb_build_array(jsonb_build_object('path', 'tokens/x/position', 'op', 'set',
                        'value', jsonb_build_object('x', v, 'y', v))), 'applied', now()
                   from generate_series($2::bigint + 1, $2::bigint + $3::bigint) v",
            )
            .bind(target)
            .bind(version)
            .bind(batch)
            .execute(&mut *tx)
            .await
            .expect("append");
            tx.commit().await.expect("commit");
            version += batch;
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "event log append, {batch} rows per transaction: {:.0} rows/s ({rows} rows in {seconds:.2} s)",
            rows as f64 / seconds
        );
    }
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..5 {
        let start = Instant::now();
        let rows: Vec<(i64, serde_json::Value)> =
            sqlx::query_as("select version, state_changes from replay_session_events($1, 0)")
                .bind(session)
                .fetch_all(db)
                .await
                .expect("replay");
        assert_eq!(rows.len() as i64, total);
        histogram
            .record(start.elapsed().as_micros() as u64)
            .expect("record");
    }
    report(
        "replay of 100,000 events of one session (5 runs)",
        &histogram,
    );
}

async fn encounter_builder(db: &PgPool) {
    let campaign = Uuid::new_v4();
    sqlx::query("insert into campaigns (id, name, game_system) values ($1, 'Bench', 'dnd5e')")
        .bind(campaign)
        .execute(db)
        .await
        .expect("campaign");
    sqlx::query(
        "insert into actors (id, campaign_id, name, actor_type, level, base_stats)
         select gen_random_uuid(), $1, 'Actor ' || n, (array['character','npc','monster'])[1 + n % 3], 1 + n % 10, '{}'
           from generate_series(1, 1000) n",
    )
    .bind(campaign)
    .execute(db)
    .await
    .expect("actors");
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    let mut suggestions = 0;
    for _ in 0..50 {
        let start = Instant::now();
        suggestions = server::report::encounter_builder(db, CampaignId(campaign))
            .await
            .expect("builder")
            .len();
        histogram
            .record(start.elapsed().as_micros() as u64)
            .expect("record");
    }
    report(
        &format!("encounter builder, 1,000 actors ({suggestions} suggestions, 50 runs)"),
        &histogram,
    );
}
