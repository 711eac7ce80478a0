//! The session's WebSocket, in the browser: connects, hands every frame to
//! the [`Table`], writes what the table sends, and when the socket drops
//! reconnects with backoff and resumes from the last version (the outbox
//! goes out again after the welcome). Acknowledges applied commits a few
//! times a second.

use std::time::Duration;

use futures::{
    SinkExt, StreamExt,
    channel::{mpsc, oneshot},
};
use gloo_net::websocket::{Message, futures::WebSocket};
use leptos::{ev, prelude::*};
use shared::{
    client::Changed,
    protocol::{ClientMessage, ServerMessage},
};

use super::Table;

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// How often applied commits are acknowledged.
const ACK_EVERY: Duration = Duration::from_millis(500);

/// Signals from the browser's network status to the connection loop.
#[derive(Default)]
struct Controls {
    /// Ends the current connection (the browser went offline: the socket
    /// may linger, but nothing will get through it).
    stop: Option<oneshot::Sender<()>>,
    /// Ends the wait before the next attempt (the browser is back online).
    wake: Option<oneshot::Sender<()>>,
}

/// Keeps the table connected for as long as the page lives.
pub fn run(table: Table) {
    let controls = StoredValue::new_local(Controls::default());
    let offline = window_event_listener(ev::offline, move |_| {
        if let Some(stop) = controls.try_update_value(|c| c.stop.take()).flatten() {
            let _ = stop.send(());
        }
    });
    let online = window_event_listener(ev::online, move |_| {
        if let Some(wake) = controls.try_update_value(|c| c.wake.take()).flatten() {
            let _ = wake.send(());
        }
    });
    on_cleanup(move || {
        offline.remove();
        online.remove();
    });
    leptos::task::spawn_local(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let started = js_sys::Date::now();
            if browser_online() {
                let (stop, stopped) = oneshot::channel();
                controls.update_value(|c| c.stop = Some(stop));
                serve(table, stopped).await;
            }
            table.client.update_value(|c| c.disconnected());
            table.apply(Changed {
                presence: true,
                ..Changed::default()
            });
            // A connection that lived a while starts the backoff over.
            if js_sys::Date::now() - started > 10_000.0 {
                backoff = FIRST_BACKOFF;
            }
            // Wait, unless the browser says the network is back; while it
            // says offline, wait for it.
            let (wake, woken) = oneshot::channel();
            controls.update_value(|c| c.wake = Some(wake));
            if browser_online() {
                let timer = sleep(jittered(backoff));
                futures::pin_mut!(timer);
                futures::future::select(timer, woken).await;
            } else {
                let _ = woken.await;
                backoff = FIRST_BACKOFF;
                continue;
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
    set_interval(
        move || {
            if let Some(ack) = table.client.try_update_value(|c| c.acknowledge()).flatten() {
                table.send_all([ack]);
            }
        },
        ACK_EVERY,
    );
}

/// Whether the browser believes it has a network.
fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// One connection, until it closes or `stop` fires.
async fn serve(table: Table, stop: oneshot::Receiver<()>) {
    let Some(url) = socket_url(table) else {
        return;
    };
    let Ok(socket) = WebSocket::open(&url) else {
        return;
    };
    let (mut sink, mut stream) = socket.split();
    let (outgoing, mut queued) = mpsc::unbounded::<ClientMessage>();
    table.outgoing.set_value(Some(outgoing));
    // The hello goes first, before anything the page queues.
    let hello = table
        .client
        .try_update_value(|c| c.connected())
        .unwrap_or_default();
    table.apply(Changed::default());
    for message in hello {
        if sink.send(Message::Text(text(&message))).await.is_err() {
            table.outgoing.set_value(None);
            return;
        }
    }
    let writer = async move {
        while let Some(message) = queued.next().await {
            if sink.send(Message::Text(text(&message))).await.is_err() {
                break;
            }
        }
    };
    let reader = async move {
        while let Some(Ok(frame)) = stream.next().await {
            let decoded = match frame {
                Message::Text(text) => ServerMessage::decode(text.as_bytes()),
                Message::Bytes(bytes) => ServerMessage::decode(&bytes),
            };
            match decoded {
                Ok(message) => {
                    let changed = table.client.try_update_value(|c| c.receive(message));
                    if let Some(changed) = changed {
                        table.apply(changed);
                    }
                }
                Err(error) => leptos::logging::warn!("a frame the table cannot read: {error}"),
            }
        }
    };
    futures::pin_mut!(writer, reader);
    let stopped = async move {
        let _ = stop.await;
    };
    futures::pin_mut!(stopped);
    futures::future::select(futures::future::select(writer, reader), stopped).await;
    table.outgoing.set_value(None);
}

fn text(message: &ClientMessage) -> String {
    String::from_utf8(message.encode()).unwrap_or_default()
}

/// `ws(s)://<this host>/ws/sessions/<id>`.
fn socket_url(table: Table) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = match location.protocol().ok()?.as_str() {
        "https:" => "wss:",
        _ => "ws:",
    };
    Some(format!(
        "{scheme}//{}/ws/sessions/{}",
        location.host().ok()?,
        table.session
    ))
}

/// Waits (a timer wrapped as a future).
async fn sleep(duration: Duration) {
    let (done, wait) = futures::channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = done.send(());
        },
        duration,
    );
    let _ = wait.await;
}

/// Up to a quarter more, so a room of browsers does not reconnect in step.
fn jittered(duration: Duration) -> Duration {
    duration.mul_f64(1.0 + js_sys::Math::random() * 0.25)
}
