//! Drag previews: how long a preview takes to reach every watcher.

use super::*;

/// Drag previews: the GM drags a visible token at 50 frames per second;
/// each preview carries its sequence number in its position, and its
/// latency is from sending to the last watcher receiving it.
pub(super) async fn previews(db: &PgPool, args: &Args, watchers: usize) -> Result<(), String> {
    let fixture = fixture(db, 0, watchers, 0, 0).await?;
    let hosts = hosts(args);
    let host = &hosts[0];
    let in_flight: Arc<Mutex<HashMap<u64, (Instant, usize)>>> = Arc::default();
    let histogram = Arc::new(Mutex::new(
        Histogram::<u64>::new(3).map_err(|e| e.to_string())?,
    ));
    let mut readers = Vec::new();
    for player in &fixture.players {
        let mut socket = joined(host, fixture.session, &player.cookie).await?;
        let (in_flight, histogram) = (in_flight.clone(), histogram.clone());
        readers.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                let Message::Text(text) = frame else { continue };
                if let Ok(ServerMessage::DragPreview { position, .. }) =
                    ServerMessage::decode(text.as_bytes())
                {
                    let sequence = position.x as u64;
                    let (Ok(mut in_flight), Ok(mut histogram)) =
                        (in_flight.lock(), histogram.lock())
                    else {
                        break;
                    };
                    if let Some((sent, left)) = in_flight.get_mut(&sequence) {
                        *left -= 1;
                        if *left == 0 {
                            let _ = histogram.record((sent.elapsed().as_micros() as u64).max(1));
                            in_flight.remove(&sequence);
                        }
                    }
                }
            }
        }));
    }
    let mut gm = open(host, fixture.session, &fixture.gm_cookie).await?;
    let hello = String::from_utf8(ClientMessage::Hello { resume_from: None }.encode())
        .map_err(|e| e.to_string())?;
    gm.send(Message::text(hello))
        .await
        .map_err(|e| e.to_string())?;
    // Let every watcher's snapshot arrive first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let token = fixture.players[0].token;
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let started = Instant::now();
    let mut sequence = 0u64;
    while started.elapsed() < Duration::from_secs(args.seconds) {
        ticker.tick().await;
        sequence += 1;
        if let Ok(mut in_flight) = in_flight.lock() {
            in_flight.insert(sequence, (Instant::now(), watchers));
        }
        let preview = ClientMessage::DragPreview {
            token,
            position: Point {
                x: sequence as f64,
                y: 0.0,
            },
        };
        let text = String::from_utf8(preview.encode()).map_err(|e| e.to_string())?;
        gm.send(Message::text(text))
            .await
            .map_err(|e| e.to_string())?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let histogram = histogram
        .lock()
        .map_err(|_| "a reader panicked".to_owned())?;
    let lost = in_flight.lock().map(|m| m.len()).unwrap_or(0);
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "drag previews to {watchers} watchers: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms; {lost} not received by everyone",
        histogram.len(),
        ms(0.5),
        ms(0.99),
        histogram.max() as f64 / 1000.0
    );
    for reader in readers {
        reader.abort();
    }
    Ok(())
}
