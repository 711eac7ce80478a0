//! The measured clients' side of the socket: encoding, connecting, the snapshot, reading commits.

use super::*;

/// The encoding of the measured clients (`--encoding`).
pub(super) static ENCODING: std::sync::OnceLock<Encoding> = std::sync::OnceLock::new();

pub(super) fn encoding() -> Encoding {
    ENCODING.get().copied().unwrap_or_default()
}

pub(super) async fn send(sink: &mut Sink, message: &ClientMessage) -> Result<(), String> {
    let frame = match encoding() {
        Encoding::Json => {
            Message::text(String::from_utf8(message.encode()).map_err(|e| e.to_string())?)
        }
        Encoding::MessagePack => Message::binary(message.encode_with(Encoding::MessagePack)),
    };
    sink.send(frame).await.map_err(|e| e.to_string())
}

pub(super) async fn open(host: &str, session: SessionId, cookie: &str) -> Result<Socket, String> {
    open_with(host, session, cookie, Encoding::Json).await
}

pub(super) async fn open_with(
    host: &str,
    session: SessionId,
    cookie: &str,
    encoding: Encoding,
) -> Result<Socket, String> {
    let query = match encoding {
        Encoding::Json => "",
        Encoding::MessagePack => "?encoding=msgpack",
    };
    let mut request = format!("ws://{host}/ws/sessions/{session}{query}")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "cookie",
        HeaderValue::from_str(cookie).map_err(|e| e.to_string())?,
    );
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(socket)
}

/// What a fresh client is sent now.
/// A socket that said hello, asking for a snapshot.
pub(super) async fn joined(host: &str, session: SessionId, cookie: &str) -> Result<Socket, String> {
    let mut socket = open(host, session, cookie).await?;
    let hello = String::from_utf8(ClientMessage::Hello { resume_from: None }.encode())
        .map_err(|e| e.to_string())?;
    socket
        .send(Message::text(hello))
        .await
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

pub(super) async fn snapshot(
    host: &str,
    session: SessionId,
    cookie: &str,
) -> Result<Entities, String> {
    let mut socket = joined(host, session, cookie).await?;
    while let Some(frame) = socket.next().await {
        if let Ok(Message::Text(text)) = frame
            && let Ok(ServerMessage::Snapshot { entities, .. }) =
                ServerMessage::decode(text.as_bytes())
        {
            let _ = socket.close(None).await;
            return Ok(entities);
        }
    }
    Err("no snapshot".into())
}

/// Connects a client; its reader keeps a copy of the state and, for the
/// GM, approves every queued request.
pub(super) async fn connect(
    host: &str,
    session: SessionId,
    cookie: &str,
    is_gm: bool,
    tracker: Arc<Mutex<Tracker>>,
) -> Result<
    (
        Arc<tokio::sync::Mutex<Sink>>,
        tokio::task::JoinHandle<Result<Store, String>>,
    ),
    String,
> {
    let socket = open_with(host, session, cookie, encoding()).await?;
    let (sink, mut stream) = socket.split();
    let sink = Arc::new(tokio::sync::Mutex::new(sink));
    send(
        &mut *sink.lock().await,
        &ClientMessage::Hello { resume_from: None },
    )
    .await?;
    let gm_sink = sink.clone();
    let ack_sink = sink.clone();
    let reader = tokio::spawn(async move {
        let mut store = Store::new();
        let mut decided = std::collections::HashSet::new();
        while let Some(frame) = stream.next().await {
            let (size, decoded) = match frame {
                Ok(Message::Text(text)) => (text.len(), ServerMessage::decode(text.as_bytes())),
                Ok(Message::Binary(bytes)) => (
                    bytes.len(),
                    ServerMessage::decode_with(&bytes, Encoding::MessagePack),
                ),
                _ => continue,
            };
            let Ok(message) = decoded else {
                continue;
            };
            match message {
                ServerMessage::Snapshot { entities, .. } => {
                    store = Store::from_entities(entities).map_err(|e| e.to_string())?;
                }
                ServerMessage::Commit(commit) => {
                    store
                        .apply_all(&commit.changes)
                        .map_err(|e| e.to_string())?;
                    // Acknowledge as a browser does, now and then.
                    if commit.version.is_multiple_of(ACK_EVERY) {
                        let ack = ClientMessage::Ack {
                            version: commit.version,
                        };
                        send(&mut *ack_sink.lock().await, &ack).await?;
                    }
                    if let (Some(action), Ok(mut tracker)) = (commit.action, tracker.lock()) {
                        tracker.commit_bytes += size as u64;
                        tracker.commit_frames += 1;
                        let done = match tracker.in_flight.get_mut(&action) {
                            Some((sent, left, needs_gm)) => {
                                *left -= 1;
                                (*left == 0).then_some((*sent, *needs_gm))
                            }
                            None => None,
                        };
                        if let Some((sent, needs_gm)) = done {
                            tracker.in_flight.remove(&action);
                            let micros = sent.elapsed().as_micros() as u64;
                            let histogram = if needs_gm {
                                tracker.gm_latency.as_mut()
                            } else {
                                tracker.latency.as_mut()
                            };
                            if let Some(histogram) = histogram {
                                let _ = histogram.record(micros.max(1));
                            }
                        }
                    }
                }
                message @ (ServerMessage::Queue { .. } | ServerMessage::Queued { .. }) if is_gm => {
                    let pending = match message {
                        ServerMessage::Queue { pending } => pending,
                        ServerMessage::Queued { pending } => vec![pending],
                        _ => Vec::new(),
                    };
                    for queued in pending {
                        if decided.insert(queued.request.id) {
                            let approve = ClientMessage::Decide(GmDecision {
                                action: queued.request.id,
                                verdict: Verdict::Approve,
                            });
                            send(&mut *gm_sink.lock().await, &approve).await?;
                        }
                    }
                }
                ServerMessage::Rejected { action, reason, .. } => {
                    tracing::warn!(%action, %reason, "a request was rejected");
                    if let Ok(mut tracker) = tracker.lock() {
                        tracker.in_flight.remove(&action);
                    }
                }
                _ => {}
            }
        }
        Ok(store)
    });
    Ok((sink, reader))
}
