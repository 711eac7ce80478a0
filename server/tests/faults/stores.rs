//! PostgreSQL and Redis failing under load.

use super::*;

/// Redis loses everything twice under load: `FLUSHALL` (the leases, the
/// hot copies), then a kill -9 and a restart (every subscription too). The
/// two nodes give the session up, take it back from PostgreSQL, and the
/// clients resume with nothing lost.
#[tokio::test]
async fn redis_flushed_and_restarted_under_load() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let mut cluster = Cluster::start(Engine::Redis, 2, &ApprovalPolicy::default()).await;
    let a = cluster.node("a").await;
    let b = cluster.node("b").await;
    let plan = Plan {
        moves: 120,
        ..stream()
    };
    let play = Play::start(cluster.seats(
        &[
            vec![a.addr, b.addr],
            vec![b.addr, a.addr],
            vec![a.addr, b.addr],
        ],
        plan,
    ));
    play.progress.acks_reach(30).await;
    cluster.redis.as_ref().unwrap().flush_all().await;
    let flushed_at = play.progress.acks.load(Ordering::SeqCst);
    play.progress.acks_reach(flushed_at + 30).await;
    let redis = cluster.redis.as_mut().unwrap();
    redis.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.up().await;
    let restarted_at = play.progress.acks.load(Ordering::SeqCst);
    play.progress.acks_reach(restarted_at + 30).await;
    let seats = play.settle(&cluster).await;
    let verified = verify(&cluster, &seats, a.addr).await;
    assert!(verified.versions > 0);
}

/// PostgreSQL crashes (stopped without a checkpoint, every connection cut)
/// and comes back `down` later while clients stream moves. Nothing is
/// acknowledged while it is down. A request waits for a connection as long
/// as the pool does (5 s): after a short outage everything applies; after a
/// long one, what could not be written is refused with a clear reason (and
/// is not in the log), and the stream goes on once PostgreSQL is back.
async fn postgres_restarted_under_load(engine: Engine, down: Duration) -> Verified {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(engine, 2, &ApprovalPolicy::default()).await;
    let node = cluster.node("node").await;
    let plan = Plan {
        moves: 100,
        ..stream()
    };
    let play = Play::start(cluster.seats(&vec![vec![node.addr]; 3], plan));
    play.progress.acks_reach(30).await;
    cluster.postgres.crash();
    let down_at = play.progress.acks.load(Ordering::SeqCst);
    tokio::time::sleep(down).await;
    assert_eq!(
        play.progress.acks.load(Ordering::SeqCst),
        down_at,
        "nothing is acknowledged while nothing can be written"
    );
    cluster.postgres.up();
    let seats = play.settle(&cluster).await;
    let verified = verify(&cluster, &seats, node.addr).await;
    assert!(
        verified.versions > down_at,
        "the stream went on after the restart"
    );
    for seat in &seats {
        for reason in seat.record.failed.values() {
            assert!(
                reason.contains("could not be saved"),
                "{}: {reason}",
                seat.name
            );
        }
    }
    verified
}

#[tokio::test]
async fn postgres_restarted_under_load_loses_nothing_acknowledged() {
    let verified = postgres_restarted_under_load(Engine::Local, Duration::from_secs(1)).await;
    assert_eq!(verified.failed, 0, "a second's outage is waited out");
}

#[tokio::test]
async fn postgres_restarted_under_load_on_the_redis_engine() {
    let verified = postgres_restarted_under_load(Engine::Redis, Duration::from_secs(1)).await;
    assert_eq!(verified.failed, 0, "a second's outage is waited out");
}

#[tokio::test]
async fn postgres_down_past_the_pool_timeout_refuses_clearly_and_recovers() {
    let verified = postgres_restarted_under_load(Engine::Local, Duration::from_secs(7)).await;
    assert!(
        verified.failed > 0,
        "requests asked during the outage were refused"
    );
}
