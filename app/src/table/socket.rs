//! The session's WebSocket, in the browser: connects, hands every frame to
//! the [`Table`], writes what the table sends, and when the socket drops
//! reconnects with backoff and resumes from the last version (the outbox
//! goes out again after the welcome). Acknowledges applied commits a few
//! times a second, pings a quiet socket and replaces one that stays
//! silent, and closes when the page goes away.

use std::{
    cell::Cell,
    rc::Rc,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use futures::{
    SinkExt, StreamExt,
    channel::{mpsc, oneshot},
};
use gloo_net::websocket::{Message, futures::WebSocket};
use leptos::{ev, prelude::*};
use shared::{
    client::{Changed, Link},
    protocol::{ClientMessage, ServerMessage},
};

use super::Table;

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// How often applied commits are acknowledged.
const ACK_EVERY: Duration = Duration::from_millis(500);
/// How often the socket is pinged (the server answers with a pong).
const PING_EVERY: Duration = Duration::from_secs(15);
/// How long a socket may stay silent, pings unanswered, before it is
/// given up for a new one.
const SILENT_FOR: Duration = Duration::from_secs(40);

/// Signals from the page and the browser's network status to the
/// connection loop. Not a reactive value: the page's cleanup uses it while
/// its reactive values are being disposed.
#[derive(Default)]
struct Controls {
    /// Ends the current connection (the browser went offline: the socket
    /// may linger, but nothing will get through it).
    stop: Option<oneshot::Sender<()>>,
    /// Ends the wait before the next attempt (the browser is back online).
    wake: Option<oneshot::Sender<()>>,
    /// The page is gone: the loop ends instead of reconnecting.
    closed: bool,
}

/// Shared by the loop, the listeners and the cleanup (a `Mutex` because
/// cleanups must be `Send`; the page has one thread, so it never waits).
type Shared = Arc<Mutex<Controls>>;

fn lock(controls: &Shared) -> MutexGuard<'_, Controls> {
    // Nothing panics while holding it; if something did, the controls
    // are still plain options and flags.
    controls.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Keeps the table connected for as long as the page lives, and closes
/// the socket when the page goes away.
pub fn run(table: Table) {
    let controls: Shared = Arc::default();
    let offline = window_event_listener(ev::offline, {
        let controls = controls.clone();
        move |_| {
            if let Some(stop) = lock(&controls).stop.take() {
                let _ = stop.send(());
            }
        }
    });
    let online = window_event_listener(ev::online, {
        let controls = controls.clone();
        move |_| {
            if let Some(wake) = lock(&controls).wake.take() {
                let _ = wake.send(());
            }
        }
    });
    let acks = set_interval_with_handle(
        move || {
            if let Some(ack) = table.client.try_update_value(|c| c.acknowledge()).flatten() {
                table.send_all([ack]);
            }
        },
        ACK_EVERY,
    )
    .ok();
    on_cleanup({
        let controls = controls.clone();
        move || {
            offline.remove();
            online.remove();
            if let Some(acks) = acks {
                acks.clear();
            }
            let mut controls = lock(&controls);
            controls.closed = true;
            if let Some(stop) = controls.stop.take() {
                let _ = stop.send(());
            }
            if let Some(wake) = controls.wake.take() {
                let _ = wake.send(());
            }
        }
    });
    leptos::task::spawn_local(async move {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let started = js_sys::Date::now();
            if browser_online() {
                let (stop, stopped) = oneshot::channel();
                lock(&controls).stop = Some(stop);
                serve(table, stopped).await;
            }
            if lock(&controls).closed || ended(table) {
                return;
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
            lock(&controls).wake = Some(wake);
            if browser_online() {
                let timer = sleep(jittered(backoff));
                futures::pin_mut!(timer);
                futures::future::select(timer, woken).await;
            } else {
                let _ = woken.await;
                backoff = FIRST_BACKOFF;
            }
            if lock(&controls).closed {
                return;
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
}

/// Whether the GM ended the session: nothing to reconnect to.
fn ended(table: Table) -> bool {
    table
        .client
        .try_with_value(|c| c.link() == Link::Ended)
        .unwrap_or(true)
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
    // The browser's own socket is kept to ask whether it is still open:
    // a frame handed to a closing socket is dropped, and logged as an error.
    let Ok(raw) = web_sys::WebSocket::new(&url) else {
        return;
    };
    let Ok(socket) = WebSocket::try_from(raw.clone()) else {
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
    if !opened(&raw).await {
        table.outgoing.set_value(None);
        return;
    }
    for message in hello {
        if !send_open(&mut sink, &raw, &message).await {
            table.outgoing.set_value(None);
            return;
        }
    }
    let writer = async move {
        while let Some(message) = queued.next().await {
            if !send_open(&mut sink, &raw, &message).await {
                break;
            }
        }
    };
    // Heard from the server last (any frame): a socket silent for too long
    // is half-open (a sleeping laptop, a dropped route) and is replaced.
    let heard = Rc::new(Cell::new(js_sys::Date::now()));
    let watchdog = {
        let heard = heard.clone();
        async move {
            let mut nonce = 0u64;
            loop {
                sleep(PING_EVERY).await;
                if js_sys::Date::now() - heard.get() > SILENT_FOR.as_millis() as f64 {
                    leptos::logging::warn!("the table's socket went silent; reconnecting");
                    return;
                }
                nonce += 1;
                table.send_all([ClientMessage::Ping { nonce }]);
            }
        }
    };
    let reader = async move {
        while let Some(Ok(frame)) = stream.next().await {
            heard.set(js_sys::Date::now());
            let decoded = match frame {
                Message::Text(text) => ServerMessage::decode(text.as_bytes()),
                Message::Bytes(bytes) => ServerMessage::decode(&bytes),
            };
            match decoded {
                Ok(message) => {
                    let changed = table.client.try_update_value(|c| c.receive(message));
                    let over = changed.as_ref().is_none_or(|c| c.ended);
                    if let Some(changed) = changed {
                        table.apply(changed);
                    }
                    if over {
                        break;
                    }
                }
                Err(error) => leptos::logging::warn!("a frame the table cannot read: {error}"),
            }
        }
    };
    futures::pin_mut!(writer, reader, watchdog);
    let stopped = async move {
        let _ = stop.await;
    };
    futures::pin_mut!(stopped);
    futures::future::select(
        futures::future::select(writer, reader),
        futures::future::select(watchdog, stopped),
    )
    .await;
    table.outgoing.set_value(None);
}

/// Waits until the socket has opened or failed to; whether it is open.
async fn opened(raw: &web_sys::WebSocket) -> bool {
    use wasm_bindgen::{JsCast, closure::Closure};
    if raw.ready_state() == web_sys::WebSocket::CONNECTING {
        let (done, wait) = oneshot::channel::<()>();
        let done = Cell::new(Some(done));
        let settled = Closure::<dyn FnMut()>::new(move || {
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        });
        let events = ["open", "close", "error"];
        for event in events {
            let _ = raw.add_event_listener_with_callback(event, settled.as_ref().unchecked_ref());
        }
        let _ = wait.await;
        for event in events {
            let _ =
                raw.remove_event_listener_with_callback(event, settled.as_ref().unchecked_ref());
        }
    }
    raw.ready_state() == web_sys::WebSocket::OPEN
}

/// Sends `message` if the socket is open; false, sending nothing, when it
/// is closing or closed. (What was not sent is not lost: the client's
/// outbox goes out again after the next welcome.)
async fn send_open(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    raw: &web_sys::WebSocket,
    message: &ClientMessage,
) -> bool {
    raw.ready_state() == web_sys::WebSocket::OPEN
        && sink.send(Message::Text(text(message))).await.is_ok()
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
