//! How many connections are open, in all and per client address.
//!
//! A connection holds a [`Place`] for as long as its socket lives, and the
//! place travels inside the socket ([`Admitted`]) rather than beside the
//! connection's task: when a request upgrades to a WebSocket, hyper ends
//! the HTTP connection (`UpgradeableConnection` completes) and hands the
//! socket itself to the upgrade. A WebSocket therefore keeps its place until
//! the socket is dropped, and cannot be used to open connections past the
//! limits.

use std::{
    collections::HashMap,
    io,
    net::IpAddr,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{OwnedSemaphorePermit, Semaphore},
};

use super::client_address;

/// Connections open per client address; entries at zero are removed, so
/// the map never holds more entries than there are connections.
type PerAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Hands out places within the limits.
pub(super) struct Admission {
    total: Arc<Semaphore>,
    max_total: usize,
    per_address: usize,
    open: PerAddress,
    /// When a refusal was last logged: a flood is one warning every few
    /// seconds, not one per connection.
    last_warning: Mutex<Option<Instant>>,
}

impl Admission {
    /// At most `max_total` connections, and `per_address` from one address
    /// (0: no limit per address).
    pub(super) fn new(max_total: usize, per_address: usize) -> Self {
        let max_total = max_total.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            total: Arc::new(Semaphore::new(max_total)),
            max_total,
            per_address,
            open: PerAddress::default(),
            last_warning: Mutex::new(None),
        }
    }

    /// A place for a new connection from `peer`, or `None` when a limit is
    /// reached (the caller then closes the connection).
    pub(super) fn admit(&self, peer: IpAddr) -> Option<Place> {
        let Ok(total) = self.total.clone().try_acquire_owned() else {
            self.refused(peer, "MAX_CONNECTIONS", self.max_total);
            return None;
        };
        let address = if self.per_address == 0 {
            None
        } else {
            let key = client_address(peer);
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let count = open.entry(key).or_insert(0);
            if *count >= self.per_address {
                drop(open);
                self.refused(peer, "MAX_CONNECTIONS_PER_ADDRESS", self.per_address);
                return None;
            }
            *count += 1;
            Some((self.open.clone(), key))
        };
        Some(Place {
            _total: total,
            address,
        })
    }

    fn refused(&self, peer: IpAddr, limit: &str, value: usize) {
        let now = Instant::now();
        let mut last = self
            .last_warning
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|at| now.duration_since(at) >= Duration::from_secs(10)) {
            *last = Some(now);
            tracing::warn!(%peer, limit, value, "connection refused: limit reached (further refusals are logged at debug for 10 s)");
        } else {
            tracing::debug!(%peer, limit, value, "connection refused: limit reached");
        }
    }
}

/// One connection's share of the limits; given back when dropped.
pub(super) struct Place {
    _total: OwnedSemaphorePermit,
    address: Option<(PerAddress, IpAddr)>,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some((open, key)) = &self.address {
            let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = open.get_mut(key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

/// A client's socket with its place: wherever the socket goes (an HTTP
/// connection, then perhaps a WebSocket), its place goes with it.
pub(super) struct Admitted {
    io: TcpStream,
    _place: Place,
}

impl Admitted {
    pub(super) fn new(io: TcpStream, place: Place) -> Self {
        Self { io, _place: place }
    }
}

impl AsyncRead for Admitted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Admitted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_in_all_and_per_address_and_given_back() {
        let admission = Admission::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = admission.admit(a).unwrap();
        let _second = admission.admit(a).unwrap();
        assert!(admission.admit(a).is_none(), "a third from one address");
        let _third = admission.admit(b).unwrap();
        assert!(admission.admit(b).is_none(), "a fourth in all");
        drop(first);
        let _again = admission.admit(a).expect("a place given back is free");
        assert!(admission.admit(a).is_none());
    }

    #[test]
    fn zero_per_address_means_no_limit_per_address() {
        let admission = Admission::new(10, 0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let places: Vec<_> = (0..10).map(|_| admission.admit(a).unwrap()).collect();
        assert!(admission.admit(a).is_none());
        assert!(admission.open.lock().unwrap().is_empty());
        drop(places);
    }
}
