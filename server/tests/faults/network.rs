//! The network between browsers and servers failing: connections cut,
//! slowed and refused; a GM who drops with requests waiting; a socket that
//! never reads.

use super::*;

use futures_util::SinkExt;
use shared::{
    action::{Action, ActionKind},
    drawing::{Color, Drawing, MAX_DRAWING_POINTS, Stroke},
    geometry::Point,
    id::DrawingId,
    protocol::{ClientMessage, RequestStatus},
    rules::AutoApprove,
};
use tokio_tungstenite::tungstenite::Message;

/// Every client reaches the servers through a proxy that delays each chunk
/// by 20 ms (so requests are always in flight) and resets every connection
/// four times, once refusing new ones for half a second.
async fn connections_cut_mid_stream(engine: Engine) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(engine, 2, &ApprovalPolicy::default()).await;
    let nodes = match engine {
        Engine::Local => vec![cluster.node("node").await],
        Engine::Redis => vec![cluster.node("a").await, cluster.node("b").await],
    };
    let mut proxies = Vec::new();
    for node in &nodes {
        proxies.push(Proxy::start(node.addr).await);
    }
    let at = |n: usize| proxies[n % proxies.len()].addr;
    let play = Play::start(cluster.seats(&[vec![at(0)], vec![at(1)], vec![at(0)]], stream()));
    for proxy in &proxies {
        proxy.delay(Duration::from_millis(20));
    }
    for cut in 1..=4u64 {
        play.progress.acks_reach(cut * 25).await;
        for proxy in &proxies {
            proxy.cut();
        }
        if cut == 2 {
            proxies.iter().for_each(|p| p.refuse(true));
            tokio::time::sleep(Duration::from_millis(500)).await;
            proxies.iter().for_each(|p| p.refuse(false));
        }
    }
    let seats = play.settle(&cluster).await;
    let verified = verify(&cluster, &seats, nodes[0].addr).await;
    assert!(
        seats.iter().all(|s| s.record.connections >= 5),
        "every seat lost its socket four times"
    );
    assert!(verified.resent > 0, "requests in flight were sent again");
    assert_eq!(verified.failed, 0, "a broken link refuses nothing");
}

#[tokio::test]
async fn connections_cut_mid_stream_lose_nothing_acknowledged() {
    connections_cut_mid_stream(Engine::Local).await;
}

#[tokio::test]
async fn connections_cut_mid_stream_on_two_redis_nodes() {
    connections_cut_mid_stream(Engine::Redis).await;
}

/// Players' moves wait for the GM, who has two tabs open, each approving
/// whatever waits. Both tabs' links hang while requests pile up, then are
/// cut; the second tab comes back first and approves the backlog, the
/// first a second later (and may approve what the second already did).
/// Every request is applied exactly once, and both tabs' queues end empty.
async fn gm_tabs_drop_with_requests_waiting(engine: Engine) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let mut policy = ApprovalPolicy::default();
    policy
        .rules
        .insert(ActionKind::MoveToken, AutoApprove::Never);
    let cluster = Cluster::start(engine, 2, &policy).await;
    let node = cluster.node("node").await;
    let (first, second) = (Proxy::start(node.addr).await, Proxy::start(node.addr).await);
    let session = cluster.scene.session;
    let gm = &cluster.scene.gm;
    let approver = Plan {
        moves: 0,
        approves: true,
        ..stream()
    };
    let players = Plan {
        moves: 30,
        every: Duration::from_millis(60),
        approves: false,
    };
    let mut seats = vec![
        Seat::new("gm tab 1", gm, session, vec![first.addr], approver),
        Seat::new("gm tab 2", gm, session, vec![second.addr], approver),
    ];
    seats.extend(
        cluster
            .seats(&[vec![], vec![node.addr], vec![node.addr]], players)
            .into_iter()
            .skip(1),
    );
    let play = Play::start(seats);
    play.progress.acks_reach(10).await;
    first.hold(true);
    second.hold(true);
    tokio::time::sleep(Duration::from_millis(700)).await;
    for proxy in [&first, &second] {
        proxy.refuse(true);
        proxy.cut();
        proxy.hold(false);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    second.refuse(false);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    first.refuse(false);
    let seats = play.settle(&cluster).await;
    let verified = verify(&cluster, &seats, node.addr).await;
    assert_eq!(verified.versions, 60, "every player's move, approved once");
    for tab in &seats[..2] {
        assert!(tab.record.connections >= 2, "{} came back", tab.name);
        assert!(
            tab.client.queue().is_empty(),
            "{}'s queue is empty",
            tab.name
        );
    }
    assert!(
        seats[1].record.approvals > 0,
        "the second tab approved what waited while the first was away"
    );
}

#[tokio::test]
async fn gm_tabs_drop_with_requests_waiting_and_come_back() {
    gm_tabs_drop_with_requests_waiting(Engine::Local).await;
}

#[tokio::test]
async fn gm_tabs_drop_with_requests_waiting_on_the_redis_engine() {
    gm_tabs_drop_with_requests_waiting(Engine::Redis).await;
}

/// A member whose browser joins and then never reads: its receive buffer
/// is tiny, so the server's frames back up into its send queue until the
/// server drops it. The table goes on: nobody else loses a socket, and
/// everything asked is applied.
async fn a_socket_that_never_reads(engine: Engine) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cluster = Cluster::start(engine, 3, &ApprovalPolicy::default()).await;
    let node = cluster.node("node").await;
    let session = cluster.scene.session;

    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(node.addr).await.unwrap();
    let request =
        support::ws::upgrade_request(node.addr, session, &cluster.scene.players[2].cookie);
    let (mut stuck, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let hello = ClientMessage::Hello { resume_from: None };
    stuck
        .send(Message::text(String::from_utf8(hello.encode()).unwrap()))
        .await
        .unwrap();

    // The kernel buffers some 4 MB for a socket on loopback before the
    // server's writer blocks: the GM fills that with 250 drawings of 512
    // points (about 20 kB a frame), reading their own socket as they go.
    let (mut artist, view) =
        support::ws::join_at(node.addr, session, &cluster.scene.gm.cookie).await;
    let encounter = *view.entities().encounters.keys().next().unwrap();
    for n in 0..250 {
        let drawing = Drawing {
            id: DrawingId(uuid::Uuid::new_v4()),
            encounter,
            author: cluster.scene.gm.user,
            shape: Stroke::Freehand {
                points: (0..MAX_DRAWING_POINTS)
                    .map(|i| Point {
                        x: i as f64 + 0.123_456_789,
                        y: f64::from(n) + 0.987_654_321,
                    })
                    .collect(),
            },
            color: Color::PALETTE[0].1,
            width: 3,
        };
        let id = artist
            .request(Action::Draw {
                drawing: Box::new(drawing),
            })
            .await;
        assert!(matches!(
            artist.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    drop(artist);
    // Then more commits than a socket's send queue holds (1024), at 50 a
    // second from each of three seats.
    let plan = Plan {
        moves: 400,
        every: Duration::from_millis(20),
        approves: false,
    };
    let addrs = vec![vec![node.addr]; 3];
    let play = Play::start(cluster.seats(&addrs, plan));
    let seats = play.settle(&cluster).await;
    let verified = verify(&cluster, &seats, node.addr).await;
    assert_eq!(verified.versions, 250 + 1200);
    assert!(
        seats.iter().all(|s| s.record.connections == 1),
        "nobody else lost a socket"
    );
    assert!(
        node.log_text()
            .contains("socket too slow or gone; dropping it"),
        "the server dropped the socket for being too slow"
    );
    // What was buffered for it ends with the close, well before the last
    // commit.
    let mut commits = 0;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(frame)) = futures_util::StreamExt::next(&mut stuck).await {
            if let Message::Text(text) = frame
                && text.contains(r#""type":"commit""#)
            {
                commits += 1;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stuck socket was closed");
    assert!(
        commits < 1350,
        "it was dropped before the end ({commits} commits)"
    );
}

#[tokio::test]
async fn a_socket_that_never_reads_is_dropped_and_the_table_goes_on() {
    a_socket_that_never_reads(Engine::Local).await;
}

#[tokio::test]
async fn a_socket_that_never_reads_is_dropped_on_the_redis_engine() {
    a_socket_that_never_reads(Engine::Redis).await;
}
