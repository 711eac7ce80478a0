//! The live engine without a network: a socket's loop runs over in-memory
//! channels instead of a WebSocket (the shape of axum's testing-websockets
//! example), and the session actor is driven through its mailbox with the
//! commands a socket would send. Real PostgreSQL underneath.

mod support;

use std::time::Duration;

use axum::{extract::ws::Message, http::HeaderMap};
use futures_util::{Sink, Stream, sink, stream};
use server::live::{Budget, Command, Mailbox, socket};
use shared::{
    action::Action,
    id::ActionId,
    protocol::{ClientMessage, Encoding, GmDecision, RequestStatus, ServerMessage, Verdict},
    rules::{ApprovalPolicy, Participant, Role},
};
use sqlx::PgPool;
use support::{table::table, ws::request};
use tokio::sync::mpsc;
use uuid::Uuid;

const PATIENCE: Duration = Duration::from_secs(10);

/// The client's end of a socket that runs over channels.
struct Wire {
    to_server: mpsc::Sender<Message>,
    from_server: mpsc::Receiver<Message>,
}

impl Wire {
    async fn send(&self, message: &ClientMessage) {
        self.send_text(String::from_utf8(message.encode()).unwrap())
            .await;
    }

    async fn send_text(&self, text: String) {
        self.to_server
            .send(Message::Text(text.into()))
            .await
            .unwrap();
    }

    /// The next message the server sent (pings skipped).
    async fn next(&mut self) -> ServerMessage {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.from_server.recv())
                .await
                .expect("the server said nothing")
                .expect("the socket closed");
            if let Message::Text(text) = frame {
                return ServerMessage::decode(text.as_str().as_bytes()).unwrap();
            }
        }
    }
}

/// The two ends of a socket made of channels: what `socket::play` takes,
/// and the client's end.
fn wire() -> (
    impl Sink<Message> + Unpin + Send + 'static,
    impl Stream<Item = Result<Message, std::convert::Infallible>> + Unpin,
    Wire,
) {
    let (to_client, from_server) = mpsc::channel::<Message>(1024);
    let (to_server, from_client) = mpsc::channel::<Message>(64);
    let sink = Box::pin(sink::unfold(
        to_client,
        |out, message: Message| async move { out.send(message).await.map(|()| out).map_err(|_| "gone") },
    ));
    let stream = Box::pin(stream::unfold(from_client, |mut input| async move {
        input.recv().await.map(|message| (Ok(message), input))
    }));
    (
        sink,
        stream,
        Wire {
            to_server,
            from_server,
        },
    )
}

fn cookie(cookie: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    headers
}

#[sqlx::test(migrations = "../migrations")]
async fn a_socket_plays_over_channels_with_no_network(db: PgPool) {
    let table = table(db.clone()).await;
    let state = support::state(db.clone());
    let alice = &table.alice;
    let who = Participant {
        user: alice.user.id,
        role: Role::Player,
    };
    let socket = socket::Socket::open(
        &state,
        table.session,
        who,
        &cookie(&alice.cookie),
        Encoding::Json,
    )
    .unwrap();
    let (sink, stream, mut client) = wire();
    let playing = tokio::spawn({
        let state = state.clone();
        async move { socket::play(&state, &socket, sink, stream).await }
    });

    client
        .send(&ClientMessage::Hello { resume_from: None })
        .await;
    let welcome = client.next().await;
    assert!(
        matches!(welcome, ServerMessage::Welcome { you, .. } if you == who),
        "{welcome:?}"
    );
    let ServerMessage::Snapshot { entities, .. } = client.next().await else {
        panic!("expected the state");
    };
    assert!(!entities.tokens.contains_key(&table.hidden));
    // A player is told what she explored of the map, then the rules.
    assert!(matches!(
        client.next().await,
        ServerMessage::Explored { whole: true, .. }
    ));
    assert!(matches!(client.next().await, ServerMessage::Rules { .. }));

    // A malformed frame is answered, and the loop goes on.
    client.send_text("{not json".into()).await;
    assert!(matches!(
        client.next().await,
        ServerMessage::Error { action: None, .. }
    ));
    let id = ActionId(Uuid::new_v4());
    let moved = Action::MoveToken {
        token: alice.token,
        to: shared::geometry::Point { x: 150.0, y: 100.0 },
    };
    client
        .send(&ClientMessage::Request(request(id, moved)))
        .await;
    let mut committed = false;
    let mut applied = false;
    while !(committed && applied) {
        match client.next().await {
            ServerMessage::Commit(commit) => committed |= commit.action == Some(id),
            ServerMessage::Received {
                action,
                status: RequestStatus::Applied { .. },
            } => applied |= action == id,
            _ => {}
        }
    }

    // The client goes away: the loop ends and the socket is counted out.
    drop(client);
    tokio::time::timeout(PATIENCE, playing)
        .await
        .expect("the loop did not end")
        .unwrap();
    assert_eq!(state.metrics.sockets.get(), 0);
}

/// A socket's end of the actor, made by hand: its mailbox, its room in it,
/// and the frames the actor queues for it.
struct Seat {
    conn: Uuid,
    mailbox: Mailbox,
    budget: Budget,
    frames: mpsc::Receiver<bytes::Bytes>,
}

impl Seat {
    async fn join(
        state: &server::AppState,
        session: shared::id::SessionId,
        who: Participant,
    ) -> Self {
        let mailbox = state.hub.session(session).await.unwrap();
        let budget = Budget::for_role(who.role);
        let (out, frames) = mpsc::channel(1024);
        let conn = Uuid::new_v4();
        let join = Command::Join {
            conn,
            who,
            resume_from: None,
            out,
            kick: None,
        };
        mailbox.send(join, &budget).await.unwrap();
        Self {
            conn,
            mailbox,
            budget,
            frames,
        }
    }

    async fn say(&self, message: ClientMessage) {
        let command = Command::Message {
            conn: self.conn,
            message: Box::new(message),
        };
        self.mailbox.send(command, &self.budget).await.unwrap();
    }

    /// Reads frames until `pick` finds what it wants.
    async fn until<T>(&mut self, mut pick: impl FnMut(ServerMessage) -> Option<T>) -> T {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.frames.recv())
                .await
                .expect("the actor said nothing")
                .expect("the actor dropped the seat");
            if let Some(found) = pick(ServerMessage::decode(&frame).unwrap()) {
                return found;
            }
        }
    }
}

/// The actor's state machine through its mailbox alone: a request waits
/// for the GM, the GM rejects it, the rejection is written with the round's
/// batch and a resend gets the same answer; new rules are written and told
/// to everyone.
#[sqlx::test(migrations = "../migrations")]
async fn the_actor_answers_commands_through_its_mailbox(db: PgPool) {
    let table = table(db.clone()).await;
    let state = support::state(db.clone());
    let gm = Participant {
        user: table.gm.user.id,
        role: Role::Gm,
    };
    let alice = Participant {
        user: table.alice.user.id,
        role: Role::Player,
    };
    let mut gm_seat = Seat::join(&state, table.session, gm).await;
    let mut alice_seat = Seat::join(&state, table.session, alice).await;

    let id = ActionId(Uuid::new_v4());
    let hurt = Action::AdjustHp {
        actor: table.alice.actor,
        delta: -3,
    };
    alice_seat
        .say(ClientMessage::Request(request(id, hurt)))
        .await;
    alice_seat
        .until(|m| {
            matches!(m, ServerMessage::Received { action, status: RequestStatus::WaitingForGm { .. } } if action == id)
                .then_some(())
        })
        .await;
    gm_seat
        .until(|m| {
            matches!(m, ServerMessage::Queued { pending } if pending.request.id == id).then_some(())
        })
        .await;

    gm_seat
        .say(ClientMessage::Decide(GmDecision {
            action: id,
            verdict: Verdict::Reject {
                reason: "not now".into(),
                alternative: None,
            },
        }))
        .await;
    let reason = alice_seat
        .until(|m| match m {
            ServerMessage::Rejected { action, reason, .. } if action == id => Some(reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, "not now");
    assert!(
        server::event_log::outcome(&db, table.session, id)
            .await
            .unwrap()
            .is_some()
    );
    // A resend is answered with the recorded rejection, not queued again.
    alice_seat
        .say(ClientMessage::Request(request(
            id,
            Action::AdjustHp {
                actor: table.alice.actor,
                delta: -3,
            },
        )))
        .await;
    let again = alice_seat
        .until(|m| match m {
            ServerMessage::Rejected { action, reason, .. } if action == id => Some(reason),
            ServerMessage::Received { action, status } if action == id => {
                panic!("the resend was processed again: {status:?}")
            }
            _ => None,
        })
        .await;
    assert_eq!(again, "not now");

    let strict = ApprovalPolicy {
        rules: Default::default(),
    };
    gm_seat
        .say(ClientMessage::SetRules {
            policy: strict.clone(),
        })
        .await;
    let told = alice_seat
        .until(|m| match m {
            ServerMessage::Rules { policy } => Some(policy),
            _ => None,
        })
        .await;
    assert_eq!(told, strict);
    let kept = server::event_log::session_info(&db, table.session)
        .await
        .unwrap()
        .unwrap()
        .policy;
    assert_eq!(kept, strict);
}
