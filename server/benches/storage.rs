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
use server::event_log::{self, NewCommit};
use shared::{
    compendium::CompendiumQuery,
    id::{ActionId, CampaignId, UserId},
    rules::ApprovalPolicy,
};
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
    let mut per_term: Vec<Histogram<u64>> = terms
        .iter()
        .map(|_| Histogram::new(3).expect("histogram"))
        .collect();
    for round in 0..20 {
        for (term, term_histogram) in terms.iter().zip(&mut per_term) {
            let query = CompendiumQuery {
                text: Some((*term).into()),
                limit: Some(50),
                ..Default::default()
            };
            let start = Instant::now();
            let found = server::compendium::search(db, &query)
                .await
                .expect("search");
            if round > 0 {
                let micros = start.elapsed().as_micros() as u64;
                histogram.record(micros).expect("record");
                term_histogram.record(micros).expect("record");
            }
            assert!(!found.is_empty(), "{term} found nothing");
        }
    }
    report(
        "compendium search (SRD + 100k, 10 terms x 19 rounds)",
        &histogram,
    );
    let slowest: Vec<String> = terms
        .iter()
        .zip(&per_term)
        .map(|(term, h)| format!("{term} {:.1}", h.value_at_quantile(0.95) as f64 / 1000.0))
        .collect();
    println!("  p95 per term (ms): {}", slowest.join(", "));
}

/// Appends through the repository the live session uses
/// (`event_log::commit`: version bump under the epoch, the applied rows and
/// the idempotency records, one transaction per batch), then replays.
async fn append_and_replay(db: &PgPool) {
    let user = Uuid::new_v4();
    sqlx::query("insert into users (id, login, display_name, password_hash) values ($1, 'bench', 'Bench', 'x')")
        .bind(user)
        .execute(db)
        .await
        .expect("user");
    let campaign = Uuid::new_v4();
    sqlx::query("insert into campaigns (id, name, game_system) values ($1, 'Log bench', 'dnd5e')")
        .bind(campaign)
        .execute(db)
        .await
        .expect("campaign");
    let total = 100_000u64;
    let mut replayed = None;
    for batch in [1u64, 100, 1000] {
        // Durable commits: each transaction is one fsync.
        let rows = if batch == 1 { 2_000 } else { total };
        let session = event_log::start_session(
            db,
            CampaignId(campaign),
            None,
            UserId(user),
            &ApprovalPolicy::default(),
        )
        .await
        .expect("session");
        let epoch = event_log::take_ownership(db, session).await.expect("own");
        let start = Instant::now();
        let mut written = 0u64;
        while written < rows {
            let commits: Vec<NewCommit> = (written..written + batch).map(move_commit).collect();
            event_log::commit(db, session, epoch, &commits)
                .await
                .expect("commit");
            written += batch;
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "event log append (event_log::commit), {batch} commits per transaction: {:.0} rows/s ({rows} rows in {seconds:.2} s)",
            rows as f64 / seconds
        );
        if batch == 1000 {
            replayed = Some(session);
        }
    }
    let session = replayed.expect("the 1000-row session");
    let mut histogram = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..5 {
        let start = Instant::now();
        let rows = event_log::replay(db, session, 0).await.expect("replay");
        assert_eq!(rows.len() as u64, total);
        histogram
            .record(start.elapsed().as_micros() as u64)
            .expect("record");
    }
    report(
        "replay of 100,000 events of one session (event_log::replay, 5 runs)",
        &histogram,
    );
}

/// A token move as the live session records it.
fn move_commit(n: u64) -> NewCommit {
    NewCommit {
        action: ActionId(Uuid::new_v4()),
        initiated_by: None,
        decided_by: None,
        auto_approved: true,
        event_type: "move_token".into(),
        event_data: event_log::json(
            &serde_json::json!({"kind": "move_token", "to": {"x": n % 50, "y": n % 40}}),
        )
        .unwrap(),
        state_changes: event_log::json(&serde_json::json!({"changes": [
            {"path": "tokens/0b5f/position", "op": "set", "value": {"x": n % 50, "y": n % 40}}
        ]}))
        .unwrap(),
        encounter: None,
        outcome: event_log::json(&serde_json::json!({"committed": n})).unwrap(),
    }
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
