//! `GET /ws/sessions/{id}`: the WebSocket of a live session.
//!
//! Who is asking is settled before the upgrade: the login cookie must name
//! a user who is a member of the session's campaign, else 401 or 403 and
//! nothing of the session is sent. After the upgrade, a receive loop decodes
//! frames (size-limited, rate-limited) and forwards them to the session
//! actor, and a send task writes what the actor queued for this socket.
//! A malformed frame gets an error and the socket stays usable.

use std::time::Duration;

use axum::{
    extract::{
        Path, Query, State, WebSocketUpgrade,
        ws::{Message, Utf8Bytes, WebSocket},
    },
    http::HeaderMap,
    response::Response,
};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use shared::{
    id::SessionId,
    protocol::{ClientMessage, Encoding, MAX_CLIENT_FRAME, ServerMessage},
    rules::Participant,
};
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};
use uuid::Uuid;

use super::Command;
use crate::{AppState, Error, api::ApiError};

/// Frames queued for one socket before it counts as too slow.
const SEND_QUEUE: usize = 1024;
/// The most frames written to a socket at once.
const WRITE_BATCH: usize = 64;
/// Messages a socket may send per second, sustained ...
const RATE_PER_SECOND: f64 = 60.0;
/// ... and in a burst.
const RATE_BURST: f64 = 120.0;
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
    Ok(upgrade
        .max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| serve(state, session, who, options.encoding, socket)))
}

async fn serve(
    state: AppState,
    session: SessionId,
    who: Participant,
    encoding: Encoding,
    socket: WebSocket,
) {
    state.metrics.sockets.inc();
    serve_socket(&state, session, who, encoding, socket).await;
    state.metrics.sockets.dec();
}

async fn serve_socket(
    state: &AppState,
    session: SessionId,
    who: Participant,
    encoding: Encoding,
    socket: WebSocket,
) {
    let conn = Uuid::new_v4();
    let (mut sink, mut stream) = socket.split();
    let (out, mut queued) = mpsc::channel::<Bytes>(SEND_QUEUE);
    let mut writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
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
                    let mut written = Ok(());
                    for message in frames.into_iter().filter_map(|f| outgoing(f, encoding)) {
                        written = sink.feed(message).await;
                        if written.is_err() {
                            break;
                        }
                    }
                    if written.is_err() || sink.flush().await.is_err() {
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

    let mut joined = false;
    let mut allowance = RATE_BURST;
    let mut last = Instant::now();
    // Resolves when the actor drops this socket (too slow to keep up).
    let (kick, mut kicked) = oneshot::channel::<()>();
    let mut kick = Some(kick);
    loop {
        let next = tokio::select! {
            _ = &mut kicked, if kick.is_none() => break,
            next = tokio::time::timeout(IDLE, stream.next()) => next,
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
        // A token bucket: refuse, do not queue, what comes too fast.
        let now = Instant::now();
        allowance =
            (allowance + now.duration_since(last).as_secs_f64() * RATE_PER_SECOND).min(RATE_BURST);
        last = now;
        if allowance < 1.0 {
            refuse(
                &out,
                shared::Error::InvalidAction("too many messages; slow down".into()),
            );
            continue;
        }
        allowance -= 1.0;
        let message = match ClientMessage::decode_with(&bytes, encoding) {
            Ok(message) => message,
            Err(error) => {
                refuse(&out, error);
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
                refuse(&out, shared::Error::InvalidAction("say hello first".into()));
                continue;
            }
            (true, message) => Command::Message { conn, message },
        };
        if let Err(mpsc::error::SendError(command)) = mailbox.send(command).await {
            // The session stopped (idle, or taken over); start it again once.
            match state.hub.session(session).await {
                Ok(fresh) if fresh.send(command).await.is_ok() => mailbox = fresh,
                _ => break,
            }
        }
    }
    if joined {
        let _ = mailbox.send(Command::Leave { conn }).await;
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

fn refuse(out: &mpsc::Sender<Bytes>, error: shared::Error) {
    let frame = ServerMessage::Error {
        action: None,
        error,
    }
    .encode();
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
