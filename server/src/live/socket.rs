//! `GET /ws/sessions/{id}`: the WebSocket of a live session.
//!
//! Who is asking is settled before the upgrade: the login cookie must name
//! a user who is a member of the session's campaign, else 401 or 403 and
//! nothing of the session is sent. After the upgrade, a receive loop decodes
//! frames (size-limited, rate-limited) and forwards them to the session
//! actor, and a send task writes what the actor queued for this socket.
//! A malformed frame gets an error and the socket stays usable.
//!
//! Who is asking is settled again whenever it may have changed (see
//! [`super::recheck`]): a socket whose user lost access is told why and
//! closed; one whose role changed is welcomed again under the new role,
//! with what it may see.

use std::time::Duration;

use axum::{
    extract::{
        Path, Query, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code},
    },
    http::{HeaderMap, header},
    response::Response,
};
use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use shared::{
    id::{ActionId, SessionId},
    protocol::{ClientMessage, Encoding, MAX_CLIENT_FRAME, ServerMessage},
    rules::Participant,
};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};
use uuid::Uuid;

use super::{Budget, Command, recheck::Registration};
use crate::{AppState, Error, http::ApiError};

/// The largest frame read at all. A frame over `MAX_CLIENT_FRAME` is
/// answered with a close that says so (1009, too big); one over this is not
/// read, and the connection is cut.
const FRAME_READ_LIMIT: usize = 4 * MAX_CLIENT_FRAME;

/// Frames queued for one socket before it counts as too slow.
const SEND_QUEUE: usize = 1024;
/// The most frames written to a socket at once.
const WRITE_BATCH: usize = 64;
/// Messages a socket may send per second, sustained ...
const RATE_PER_SECOND: f64 = 60.0;
/// ... and in a burst.
const RATE_BURST: f64 = 120.0;
/// Acknowledgements a socket may send per second, on a bucket of their
/// own: a browser sends them as commits arrive, and they must not use up
/// what its player may ask (a busy table would refuse her moves); they are
/// still bounded, as everything a member sends is.
const ACKS_PER_SECOND: f64 = 600.0;
/// A socket silent for this long is closed (browsers answer pings, so a
/// live one never is).
const IDLE: Duration = Duration::from_secs(45);
/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(15);

/// Authenticates, checks membership, then upgrades.
pub async fn connect(
    State(state): State<AppState>,
    Path(session): Path<SessionId>,
    Query(options): Query<SocketOptions>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let (who, info) = super::participant(&state, &headers, session).await?;
    if info.ended {
        return Err(Error::Refused(shared::Error::InvalidAction(
            "this session has ended".into(),
        ))
        .into());
    }
    let socket = Socket::open(&state, session, who, &headers, options.encoding)?;
    Ok(upgrade
        .max_message_size(FRAME_READ_LIMIT)
        .max_frame_size(FRAME_READ_LIMIT)
        .on_upgrade(move |ws| serve(state, socket, ws)))
}

/// What a socket knows of itself.
pub struct Socket {
    session: SessionId,
    who: Participant,
    /// The request's login cookie, for rechecks.
    login: HeaderMap,
    encoding: Encoding,
    registration: Registration,
}

/// What a recheck found.
enum Recheck {
    /// Who the socket serves, as it was or with a new role.
    Member(Participant),
    /// Why the socket must close.
    Gone(shared::Error),
}

impl Socket {
    /// A socket of `who` (already checked against the login in `headers`
    /// and the session's campaign) on `session`, within the limit on one
    /// user's sockets.
    pub fn open(
        state: &AppState,
        session: SessionId,
        who: Participant,
        headers: &HeaderMap,
        encoding: Encoding,
    ) -> Result<Self, Error> {
        let registration = state
            .hub
            .sockets()
            .register(who.user, shared::limits::MAX_SOCKETS_PER_USER)
            .ok_or_else(|| {
                Error::Refused(shared::Error::OverLimit {
                    what: "one user's open tables (sockets)".into(),
                    max: shared::limits::MAX_SOCKETS_PER_USER,
                })
            })?;
        // Only the login cookie is kept, to check the user again later.
        let mut login = HeaderMap::new();
        if let Some(cookie) = headers.get(header::COOKIE) {
            login.insert(header::COOKIE, cookie.clone());
        }
        Ok(Self {
            session,
            who,
            login,
            encoding,
            registration,
        })
    }

    /// Reads the login and the role again.
    async fn recheck(&self, state: &AppState) -> Recheck {
        match super::participant(state, &self.login, self.session).await {
            Ok((now, _)) => Recheck::Member(now),
            Err(_) => {
                tracing::info!(session = %self.session, user = %self.who.user, "no longer signed in or a member; closing the socket");
                Recheck::Gone(shared::Error::Forbidden(
                    "you are no longer signed in, or no longer a member of this campaign".into(),
                ))
            }
        }
    }
}

async fn serve(state: AppState, socket: Socket, ws: WebSocket) {
    let (sink, stream) = ws.split();
    play(&state, &socket, sink, stream).await;
}

/// A socket's whole life at the table over any transport: `sink` takes
/// what the session sends it, `stream` yields what the client sent. The
/// WebSocket is one transport; tests drive the same loop over in-memory
/// channels (the shape of axum's testing-websockets example).
pub async fn play<W, R, E>(state: &AppState, socket: &Socket, sink: W, stream: R)
where
    W: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: std::fmt::Display,
{
    state.metrics.sockets.inc();
    serve_socket(state, socket, sink, stream).await;
    state.metrics.sockets.dec();
}

async fn serve_socket<W, R, E>(state: &AppState, socket: &Socket, mut sink: W, mut stream: R)
where
    W: Sink<Message> + Unpin + Send + 'static,
    R: Stream<Item = Result<Message, E>> + Unpin,
    E: std::fmt::Display,
{
    let Socket {
        session,
        mut who,
        encoding,
        ..
    } = *socket;
    let conn = Uuid::new_v4();
    let (out, mut queued) = mpsc::channel::<Bytes>(SEND_QUEUE);
    // The reader's last word, when it closes the socket for a reason.
    let (close, mut closing) = oneshot::channel::<CloseFrame>();
    let mut close = Some(close);
    let mut writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let mut open = true;
        loop {
            tokio::select! {
                biased;
                said = &mut closing, if open => {
                    open = false;
                    if let Ok(frame) = said {
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        break;
                    }
                }
                frame = queued.recv() => {
                    let Some(frame) = frame else { break };
                    // What else is queued goes out with it: one write for a
                    // commit and its answer, or for a burst.
                    let mut frames = vec![frame];
                    while frames.len() < WRITE_BATCH {
                        match queued.try_recv() {
                            Ok(more) => frames.push(more),
                            Err(_) => break,
                        }
                    }
                    let mut written = true;
                    for message in frames.into_iter().filter_map(|f| outgoing(f, encoding)) {
                        written = sink.feed(message).await.is_ok();
                        if !written {
                            break;
                        }
                    }
                    if !written || sink.flush().await.is_err() {
                        break;
                    }
                }
                _ = ping.tick() => {
                    if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = sink.close().await;
    });

    let mut mailbox = match state.hub.session(session).await {
        Ok(mailbox) => mailbox,
        Err(error) => {
            tracing::error!(%session, %error, "cannot start the session");
            let _ = out
                .send(Bytes::from(
                    ServerMessage::Error {
                        action: None,
                        error: shared::Error::InvalidAction(
                            "the session cannot be loaded right now".into(),
                        ),
                    }
                    .encode(),
                ))
                .await;
            drop(out);
            let _ = writer.await;
            return;
        }
    };

    // This socket's own room in the session's mailbox: when it is spent,
    // only this socket waits (and reads no more frames meanwhile).
    let budget = Budget::for_role(who.role);
    let mut joined = false;
    let mut messages = Bucket::new(RATE_PER_SECOND, RATE_BURST);
    let mut acks = Bucket::new(ACKS_PER_SECOND, ACKS_PER_SECOND);
    // Resolves when the actor drops this socket (too slow to keep up).
    let (kick, mut kicked) = oneshot::channel::<()>();
    let mut kick = Some(kick);
    let mut every = tokio::time::interval(super::recheck::RECHECK_EVERY);
    every.tick().await;
    loop {
        let next = tokio::select! {
            _ = &mut kicked, if kick.is_none() => break,
            () = socket.registration.wake.notified() => None,
            _ = every.tick() => None,
            next = tokio::time::timeout(IDLE, stream.next()) => Some(next),
        };
        let Some(next) = next else {
            let now = match socket.recheck(state).await {
                Recheck::Member(now) => now,
                Recheck::Gone(reason) => {
                    refuse(&out, None, reason);
                    break;
                }
            };
            if now == who {
                continue;
            }
            tracing::info!(%session, user = %now.user, role = ?now.role, "role changed; welcoming the socket again");
            who = now;
            if !joined {
                continue;
            }
            let command = Command::Rejoin { conn, who };
            if mailbox.post(command, budget.lane()).is_err() {
                break;
            }
            continue;
        };
        let next = match next {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(error))) => {
                tracing::debug!(%session, %error, "socket error");
                break;
            }
            Ok(None) | Err(_) => break,
        };
        let bytes = match next {
            Message::Text(text) => Bytes::from(text),
            Message::Binary(bytes) => bytes,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if bytes.len() > MAX_CLIENT_FRAME {
            if let Some(close) = close.take() {
                let _ = close.send(CloseFrame {
                    code: close_code::SIZE,
                    reason: Utf8Bytes::from_static("a frame is at most 256 KiB"),
                });
            }
            break;
        }
        // Refuse, do not queue, what comes too fast. Decoded first, so that
        // a refused request names its action and the client takes back the
        // change it showed (a frame is at most `MAX_CLIENT_FRAME`, and one
        // that does not decode counts as a message).
        let message = ClientMessage::decode_with(&bytes, encoding);
        let bucket = match &message {
            Ok(ClientMessage::Ack { .. }) => &mut acks,
            _ => &mut messages,
        };
        if !bucket.take(Instant::now()) {
            let action = match &message {
                Ok(ClientMessage::Request(request)) => Some(request.id),
                _ => None,
            };
            refuse(
                &out,
                action,
                shared::Error::InvalidAction("too many messages; slow down".into()),
            );
            continue;
        }
        let message = match message {
            Ok(message) => message,
            Err(error) => {
                refuse(&out, None, error);
                continue;
            }
        };
        let command = match (joined, message) {
            (false, ClientMessage::Hello { resume_from }) => {
                joined = true;
                Command::Join {
                    conn,
                    who,
                    resume_from,
                    out: out.clone(),
                    kick: kick.take(),
                }
            }
            (false, _) => {
                refuse(
                    &out,
                    None,
                    shared::Error::InvalidAction("say hello first".into()),
                );
                continue;
            }
            (true, message) => Command::Message {
                conn,
                message: Box::new(message),
            },
        };
        if let Err(command) = mailbox.send(command, &budget).await {
            // The session stopped (idle, or taken over); start it again once.
            match state.hub.session(session).await {
                Ok(fresh) if fresh.send(*command, &budget).await.is_ok() => mailbox = fresh,
                _ => break,
            }
        }
    }
    if joined {
        let _ = mailbox.post(Command::Leave { conn }, budget.lane());
    }
    drop(out);
    drop(mailbox);
    // What the actor queued before letting the socket go (the end of the
    // session, say) goes out first; a socket that cannot take it within a
    // moment is cut.
    if tokio::time::timeout(DRAIN, &mut writer).await.is_err() {
        writer.abort();
    }
}

/// How long a closing socket may take to write what was queued for it.
const DRAIN: Duration = Duration::from_secs(1);

/// A token bucket: `rate` a second, up to `burst` at once.
struct Bucket {
    allowance: f64,
    last: Instant,
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Self {
        Self {
            allowance: burst,
            last: Instant::now(),
            rate,
            burst,
        }
    }

    /// Takes one, if there is one.
    fn take(&mut self, now: Instant) -> bool {
        let refilled = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.allowance = (self.allowance + refilled).min(self.burst);
        self.last = now;
        if self.allowance < 1.0 {
            return false;
        }
        self.allowance -= 1.0;
        true
    }
}

fn refuse(out: &mpsc::Sender<Bytes>, action: Option<ActionId>, error: shared::Error) {
    let frame = ServerMessage::Error { action, error }.encode();
    let _ = out.try_send(Bytes::from(frame));
}

/// Options of a socket, from its URL's query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct SocketOptions {
    /// `json` (the default) or `msgpack`.
    #[serde(default)]
    encoding: Encoding,
}

/// A frame as this socket sends it. The session actor encodes each message
/// once, as JSON; a MessagePack socket re-encodes it here, on its own task.
fn outgoing(frame: Bytes, encoding: Encoding) -> Option<Message> {
    match encoding {
        Encoding::Json => Utf8Bytes::try_from(frame).ok().map(Message::Text),
        Encoding::MessagePack => ServerMessage::decode(&frame).ok().map(|message| {
            Message::Binary(Bytes::from(message.encode_with(Encoding::MessagePack)))
        }),
    }
}
