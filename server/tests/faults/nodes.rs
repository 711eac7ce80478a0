//! Server processes killed and paused while actions are in flight.

use super::*;

/// A GM's socket on `node`, so that it owns the session before the seats
/// arrive (on the Redis engine, the first node asked takes the lease).
async fn own(cluster: &Cluster, node: &Node) -> support::ws::Client {
    support::ws::join_at(node.addr, cluster.scene.session, &cluster.scene.gm.cookie)
        .await
        .0
}

/// kill -9 of the only node while three clients stream moves, then a
/// restart: the node is frozen first for 300 ms, so requests are surely
/// sent and unanswered when it dies; the clients reconnect, send them
/// again, and nothing acknowledged is missing or doubled.
async fn the_only_node_killed_mid_stream(engine: Engine) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(engine, 2, &ApprovalPolicy::default()).await;
    let mut node = cluster.node("node").await;
    let play = Play::start(cluster.seats(&vec![vec![node.addr]; 3], stream()));
    play.progress.acks_reach(40).await;
    node.pause();
    tokio::time::sleep(Duration::from_millis(300)).await;
    node.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    node.up().await;
    let seats = play.settle(&cluster).await;
    let verified = verify(&cluster, &seats, node.addr).await;
    assert!(
        verified.resent > 0,
        "requests in flight when the node died were sent again"
    );
    assert_eq!(verified.failed, 0, "a crash refuses nothing");
}

#[tokio::test]
async fn the_only_node_killed_mid_stream_loses_nothing_acknowledged() {
    the_only_node_killed_mid_stream(Engine::Local).await;
}

#[tokio::test]
async fn the_only_node_killed_mid_stream_on_the_redis_engine() {
    the_only_node_killed_mid_stream(Engine::Redis).await;
}

/// Two nodes; the owner of the session is frozen, then killed, while
/// clients on both stream moves. Those on the owner move to the other node;
/// those the other node forwarded are told to reconnect when the lease
/// runs out; the other node takes the session over from the log.
#[tokio::test]
async fn the_owner_killed_mid_stream_in_a_two_node_cluster() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(Engine::Redis, 2, &ApprovalPolicy::default()).await;
    let mut a = cluster.node("a").await;
    let b = cluster.node("b").await;
    let warm = own(&cluster, &a).await;
    let play = Play::start(cluster.seats(
        &[
            vec![a.addr, b.addr],
            vec![b.addr, a.addr],
            vec![a.addr, b.addr],
        ],
        stream(),
    ));
    play.progress.acks_reach(40).await;
    drop(warm);
    a.pause();
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.kill();
    let seats = play.settle(&cluster).await;
    let verified = verify(&cluster, &seats, b.addr).await;
    assert!(verified.resent > 0, "requests in flight were sent again");
    assert_eq!(verified.failed, 0, "a crash refuses nothing");
}

/// Two nodes; the owner is paused past its lease while clients go on
/// asking (those on it into a frozen socket). The other node takes the
/// session over. The owner then wakes up cut off from Redis, so it cannot
/// learn that its lease is gone: it stages what its sockets sent while it
/// slept and tries to commit, and the fencing epoch in PostgreSQL refuses
/// it. Nothing it staged is acknowledged; its clients send the same
/// requests to the new owner, which applies each once.
#[tokio::test]
async fn a_paused_owner_wakes_up_fenced_and_acknowledges_nothing() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(Engine::Redis, 2, &ApprovalPolicy::default()).await;
    let redis = cluster.redis.as_ref().unwrap();
    let link = Proxy::start(format!("127.0.0.1:{}", redis.port).parse().unwrap()).await;
    let a = cluster
        .node_with_redis("a", Some(format!("redis://{}", link.addr)))
        .await;
    let b = cluster.node("b").await;
    let warm = own(&cluster, &a).await;
    let play = Play::start(cluster.seats(
        &[
            vec![a.addr, b.addr],
            vec![a.addr, b.addr],
            vec![b.addr, a.addr],
        ],
        stream(),
    ));
    play.progress.acks_reach(30).await;
    drop(warm);
    a.pause();
    // The lease runs out and B takes over: moves are acknowledged again
    // (player 1's, through B), while the others' wait in A's sockets.
    let paused_at = play.progress.acks.load(Ordering::SeqCst);
    play.progress.acks_reach(paused_at + 20).await;
    link.hold(true);
    a.resume();
    let fenced = "another node owns the session now; stopping here";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !a.log_text().contains(fenced) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the woken owner tried to commit and was fenced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    link.hold(false);
    let seats = play.settle(&cluster).await;
    let verified = verify(&cluster, &seats, b.addr).await;
    assert!(verified.resent > 0, "what A staged was sent again to B");
    assert_eq!(
        verified.failed, 0,
        "a fenced owner refuses nothing: its requests go to the new owner"
    );
}
