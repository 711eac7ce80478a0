//! The proxy's side: a socket on this node whose session another node
//! owns; its messages go to the owner and the frames come back.

use super::*;

impl Cluster {
    /// On a node that does not own `session`: serves its sockets and HTTP
    /// requests by forwarding to `owner`, until the owner lets the session
    /// go (it stopped, idle, or died) or the hub stops it. Sockets still
    /// open then are closed and resume wherever the session is owned next.
    /// It does not stop when its last socket leaves: a socket may be
    /// joining through it at that moment, and the owner stops (and lets
    /// go) by itself once nobody is connected anywhere.
    pub(in crate::live) async fn proxy(
        self,
        session: SessionId,
        owner: Uuid,
        mut inbox: Inbox,
        stop: Arc<tokio::sync::Notify>,
    ) {
        tracing::debug!(%session, %owner, "serving a session owned by another node");
        self.inner.metrics.proxied.inc();
        let mut conns = HashSet::new();
        let mut check = tokio::time::interval(self.inner.lease_ttl / 3);
        check.tick().await;
        loop {
            let command = tokio::select! {
                () = stop.notified() => break,
                command = inbox.recv() => command,
                _ = check.tick() => {
                    match lease::owner(&self.inner.redis, session).await {
                        Ok(Some(now)) if now == owner => {}
                        Ok(_) => {
                            tracing::info!(%session, %owner, "the owner let the session go; closing its sockets here");
                            break;
                        }
                        Err(error) => tracing::warn!(%session, %error, "cannot check the session's owner"),
                    }
                    continue;
                }
            };
            // The socket's room here is given back once it is forwarded.
            let Some(Letter {
                command,
                held: _held,
            }) = command
            else {
                break;
            };
            let envelope = match command {
                Command::Join {
                    conn,
                    who,
                    resume_from,
                    out,
                    kick,
                } => {
                    locked(&self.inner.remote).insert(conn, RemoteSocket { out, _kick: kick });
                    conns.insert(conn);
                    Envelope::Join {
                        session,
                        from: self.inner.node,
                        conn,
                        who,
                        resume_from,
                    }
                }
                Command::Message { conn, message } => Envelope::Message {
                    session,
                    from: self.inner.node,
                    conn,
                    message,
                },
                Command::Leave { conn } => {
                    locked(&self.inner.remote).remove(&conn);
                    conns.remove(&conn);
                    Envelope::Leave { session, conn }
                }
                Command::Rejoin { conn, who } => Envelope::Rejoin { session, conn, who },
                Command::StateSince { who, since, reply } => {
                    let id = Uuid::new_v4();
                    locked(&self.inner.replies).insert(id, reply);
                    let cluster = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(REPLY_TIMEOUT).await;
                        // Unanswered: dropping the sender fails the request.
                        locked(&cluster.inner.replies).remove(&id);
                    });
                    Envelope::StateSince {
                        session,
                        from: self.inner.node,
                        reply: id,
                        who,
                        since,
                    }
                }
            };
            match self.publish(owner, &envelope).await {
                Ok(0) => {
                    tracing::info!(%session, %owner, "the owning node is gone; closing its sockets here");
                    break;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%session, %error, "cannot forward to the owning node");
                    break;
                }
            }
        }
        inbox.close();
        self.inner.metrics.proxied.dec();
        let mut remote = locked(&self.inner.remote);
        for conn in conns {
            remote.remove(&conn);
        }
    }
}
