//! A WebSocket client for the live-session tests: says hello, reads
//! server messages without losing the ones it skips, follows commits.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use shared::{
    action::Action,
    change::Version,
    geometry::Point,
    id::{ActionId, SessionId, TokenId},
    protocol::{ActionRequest, ClientMessage, RequestContext, RequestStatus, ServerMessage},
    store::Store,
};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Message, client::IntoClientRequest, http::HeaderValue},
};
use uuid::Uuid;

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Every text frame received, as sent.
    pub raw: Vec<String>,
    /// Received but not yet read: `until` skips over messages without
    /// losing them.
    unread: std::collections::VecDeque<ServerMessage>,
    /// For a player: what she had explored of the map, as her welcome said.
    pub explored: Option<std::collections::BTreeSet<shared::geometry::Cell>>,
}

pub async fn open(
    addr: std::net::SocketAddr,
    session: SessionId,
    cookie: &str,
) -> Result<Client, tungstenite::Error> {
    let request = upgrade_request(addr, session, cookie);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
    Ok(Client {
        ws,
        raw: Vec::new(),
        unread: Default::default(),
        explored: None,
    })
}

/// The request that opens a session's socket, signed in with `cookie`
/// (none when empty).
pub fn upgrade_request(
    addr: std::net::SocketAddr,
    session: SessionId,
    cookie: &str,
) -> tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}/ws/sessions/{session}")
        .into_client_request()
        .unwrap();
    if !cookie.is_empty() {
        request
            .headers_mut()
            .insert("cookie", HeaderValue::from_str(cookie).unwrap());
    }
    request
}

/// Connects and says hello; returns the client and the snapshot it was
/// sent, at the welcome's version.
pub async fn join_at(
    addr: std::net::SocketAddr,
    session: SessionId,
    cookie: &str,
) -> (Client, Store) {
    let mut client = open(addr, session, cookie).await.unwrap();
    client
        .send(&ClientMessage::Hello { resume_from: None })
        .await;
    let version = match client.next().await {
        ServerMessage::Welcome { version, .. } => version,
        other => panic!("expected a welcome, got {other:?}"),
    };
    let store = match client.next().await {
        ServerMessage::Snapshot {
            version: at,
            entities,
        } => {
            assert_eq!(at, version);
            Store::from_entities(entities).unwrap()
        }
        other => panic!("expected a snapshot, got {other:?}"),
    };
    // The rules close the welcome (after the queue, for a GM, and what a
    // player explored).
    client
        .until(|m| matches!(m, ServerMessage::Rules { .. }).then_some(()))
        .await;
    if let Some(at) = client
        .unread
        .iter()
        .position(|m| matches!(m, ServerMessage::Explored { whole: true, .. }))
        && let Some(ServerMessage::Explored { cells, .. }) = client.unread.remove(at)
    {
        client.explored = Some(cells);
    }
    (client, store)
}

impl Client {
    pub async fn send(&mut self, message: &ClientMessage) {
        self.send_text(String::from_utf8(message.encode()).unwrap())
            .await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The next server message (pings skipped), within 10 s.
    pub async fn next(&mut self) -> ServerMessage {
        if let Some(message) = self.unread.pop_front() {
            return message;
        }
        self.receive().await
    }

    pub async fn receive(&mut self) -> ServerMessage {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a message within 10 s")
                .expect("the socket is open")
                .expect("a frame");
            if let Message::Text(text) = frame {
                self.raw.push(text.to_string());
                return ServerMessage::decode(text.as_bytes()).unwrap();
            }
        }
    }

    /// The first message, read or not, for which `pick` returns something;
    /// the others stay unread, in order.
    pub async fn until<T>(&mut self, mut pick: impl FnMut(&ServerMessage) -> Option<T>) -> T {
        if let Some((index, found)) = self
            .unread
            .iter()
            .enumerate()
            .find_map(|(i, m)| pick(m).map(|found| (i, found)))
        {
            self.unread.remove(index);
            return found;
        }
        loop {
            let message = self.receive().await;
            match pick(&message) {
                Some(found) => return found,
                None => self.unread.push_back(message),
            }
        }
    }

    pub async fn request(&mut self, action: Action) -> ActionId {
        let id = ActionId(Uuid::new_v4());
        self.send(&ClientMessage::Request(request(id, action)))
            .await;
        id
    }

    /// Reads until the request's status arrives.
    pub async fn status(&mut self, action: ActionId) -> Result<RequestStatus, String> {
        self.until(|m| match m {
            ServerMessage::Received { action: a, status } if *a == action => {
                Some(Ok(status.clone()))
            }
            ServerMessage::Rejected {
                action: a, reason, ..
            } if *a == action => Some(Err(reason.clone())),
            _ => None,
        })
        .await
    }

    /// Applies commits to `store` until it reaches `version`, checking
    /// that they come in order without gaps.
    pub async fn follow(&mut self, store: &mut Store, from: Version, version: Version) -> Version {
        let mut at = from;
        while at < version {
            let commit = self
                .until(|m| match m {
                    ServerMessage::Commit(c) => Some(c.clone()),
                    _ => None,
                })
                .await;
            assert_eq!(commit.version, at + 1, "commits in order, no gap");
            store.apply_all(&commit.changes).unwrap();
            at = commit.version;
        }
        at
    }
}

/// Reads until the server closes the socket (within 10 s).
pub async fn closed(client: &mut Client) {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), client.ws.next())
            .await
            .expect("the socket closes within 10 s")
        {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
            Some(Ok(_)) => {}
        }
    }
}

/// Reconnects to `addr` resuming from `from`; returns the client and the
/// welcome's version (what follows is the catch-up).
pub async fn resume(
    addr: std::net::SocketAddr,
    session: SessionId,
    cookie: &str,
    from: Version,
) -> (Client, Version) {
    let mut client = open(addr, session, cookie).await.unwrap();
    client
        .send(&ClientMessage::Hello {
            resume_from: Some(from),
        })
        .await;
    match client.next().await {
        ServerMessage::Welcome { version, .. } => (client, version),
        other => panic!("expected a welcome, got {other:?}"),
    }
}

pub fn request(id: ActionId, action: Action) -> ActionRequest {
    ActionRequest {
        id,
        action,
        context: RequestContext::default(),
        base_version: 0,
    }
}

pub fn move_to(token: TokenId, x: f64) -> Action {
    Action::MoveToken {
        token,
        to: Point { x, y: 100.0 },
    }
}
