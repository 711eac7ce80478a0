//! The owner's side: what other nodes forward for a session this node
//! runs is delivered to its actor without ever waiting, and the frames the
//! actor queues for a forwarded socket are sent back in batches.

use super::*;

impl Cluster {
    /// Hands what another node forwarded to the session's actor here. A
    /// session this node is still starting (it took the lease, and the
    /// other node's client arrived while the log is read) gets it once
    /// started, in the order it came: a waiting task delivers everything
    /// held for the session, and anything arriving meanwhile joins it.
    pub(super) async fn to_owner(&self, hub: &Hub, session: SessionId, envelope: Envelope) {
        {
            let mut held = locked(&self.inner.held);
            if let Some(queue) = held.get_mut(&session) {
                queue.push(envelope);
                return;
            }
            if hub.owned(session).is_none() && hub.starting(session) {
                held.insert(session, vec![envelope]);
                let (cluster, hub) = (self.clone(), hub.clone());
                tokio::spawn(async move {
                    let actor = hub.started(session).await;
                    loop {
                        let batch = {
                            let mut held = locked(&cluster.inner.held);
                            match held.get_mut(&session) {
                                Some(queue) if !queue.is_empty() => std::mem::take(queue),
                                _ => {
                                    held.remove(&session);
                                    break;
                                }
                            }
                        };
                        for envelope in batch {
                            cluster.deliver(actor.as_ref(), envelope).await;
                        }
                    }
                });
                return;
            }
        }
        self.deliver(hub.owned(session).as_ref(), envelope).await;
    }

    /// Delivers to the session's actor, or, with none here, tells the
    /// sender that this node does not serve the session.
    pub(super) async fn deliver(&self, actor: Option<&Mailbox>, envelope: Envelope) {
        match envelope {
            Envelope::Join {
                session,
                from,
                conn,
                who,
                resume_from,
            } => {
                let (out, frames) = mpsc::channel(FORWARD_QUEUE);
                let join = Command::Join {
                    conn,
                    who,
                    resume_from,
                    out,
                    kick: None,
                };
                let budget = Budget::for_role(who.role);
                match actor {
                    Some(actor) if actor.try_send(join, &budget).is_ok() => {
                        let (weak, lane) = (actor.downgrade(), budget.lane());
                        locked(&self.inner.budgets).insert(conn, budget);
                        tokio::spawn(
                            self.clone()
                                .forward(session, from, conn, frames, weak, lane),
                        );
                    }
                    _ => self.kick(from, conn).await,
                }
            }
            Envelope::Message {
                session,
                from,
                conn,
                message,
            } => {
                let message = Command::Message { conn, message };
                let budget = locked(&self.inner.budgets).get(&conn).cloned();
                let kick = match (actor, budget) {
                    (Some(actor), Some(budget)) => match actor.try_send(message, &budget) {
                        Ok(()) => false,
                        Err(Refused::Full) => {
                            tracing::warn!(%session, %conn, "a socket on another node outran its room in the mailbox; closing it");
                            // What it sends until the kick lands is dropped
                            // (it has no budget now), and the actor lets it go.
                            locked(&self.inner.budgets).remove(&conn);
                            let _ = actor.post(Command::Leave { conn }, budget.lane());
                            true
                        }
                        Err(Refused::Closed) => true,
                    },
                    // Closed here already: its kick is on its way.
                    (Some(_), None) => false,
                    (None, _) => true,
                };
                if kick {
                    self.kick(from, conn).await;
                }
            }
            Envelope::Leave { conn, .. } => {
                let budget = locked(&self.inner.budgets).remove(&conn);
                if let Some(actor) = actor {
                    let lane = budget.map_or(Lane::Table, |budget| budget.lane());
                    let _ = actor.post(Command::Leave { conn }, lane);
                }
            }
            Envelope::Rejoin { conn, who, .. } => {
                let budget = locked(&self.inner.budgets).get(&conn).cloned();
                if let (Some(actor), Some(budget)) = (actor, budget) {
                    let _ = actor.post(Command::Rejoin { conn, who }, budget.lane());
                }
            }
            Envelope::StateSince {
                from,
                reply,
                who,
                since,
                ..
            } => {
                let actor = actor.cloned();
                let cluster = self.clone();
                // Answered on its own task: the actor may be busy writing.
                tokio::spawn(async move {
                    let mut frames = None;
                    if let Some(actor) = actor {
                        let (answer, answered) = oneshot::channel();
                        let budget = Budget::for_role(who.role);
                        let asked = Command::StateSince {
                            who,
                            since,
                            reply: answer,
                        };
                        if actor.send(asked, &budget).await.is_ok() {
                            frames = answered.await.ok();
                        }
                    }
                    let envelope = Envelope::Reply { reply, frames };
                    if let Err(error) = cluster.publish(from, &envelope).await {
                        tracing::warn!(%error, "cannot answer another node's sync request");
                    }
                });
            }
            Envelope::Frames { .. } | Envelope::Kick { .. } | Envelope::Reply { .. } => {}
        }
    }

    pub(super) async fn kick(&self, node: Uuid, conn: ConnId) {
        if let Err(error) = self.publish(node, &Envelope::Kick { conn }).await {
            tracing::warn!(%error, "cannot tell another node to close a socket");
        }
    }

    /// On the owner: sends what the actor queues for a socket on `node`
    /// there, batching what queued meanwhile.
    pub(super) async fn forward(
        self,
        session: SessionId,
        node: Uuid,
        conn: ConnId,
        mut frames: mpsc::Receiver<Bytes>,
        actor: WeakMailbox,
        lane: Lane,
    ) {
        while let Some(first) = frames.recv().await {
            let mut batch = vec![first];
            while batch.len() < FORWARD_BATCH {
                match frames.try_recv() {
                    Ok(frame) => batch.push(frame),
                    Err(_) => break,
                }
            }
            let gone = match self
                .publish(
                    node,
                    &Envelope::Frames {
                        session,
                        from: self.inner.node,
                        conn,
                        frames: batch,
                    },
                )
                .await
            {
                Ok(received) => received == 0,
                Err(error) => {
                    tracing::warn!(%error, %node, "cannot forward frames; dropping the socket");
                    true
                }
            };
            if gone {
                locked(&self.inner.budgets).remove(&conn);
                if let Some(actor) = actor.upgrade() {
                    let _ = actor.post(Command::Leave { conn }, lane);
                }
                return;
            }
        }
        // The actor dropped the socket: too slow, or the session stopped.
        locked(&self.inner.budgets).remove(&conn);
        self.kick(node, conn).await;
    }
}
