//! Media storage through the HTTP endpoints, against a real PostgreSQL, the
//! local filesystem and a real S3-compatible server (moto): deduplication,
//! the three tiers, limits, sniffing, names, and who may read and write.
//!
//! Longer than 500 lines on purpose: every file under `tests/` is its own
//! test binary linking the whole server, so one subject stays one file.

mod support;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use bytes::Bytes;
use http_body_util::BodyExt;
use server::media::{MediaLimits, Tier};
use shared::{
    campaign::NewCampaign,
    media::{MediaKind, UploadReceipt},
};
use sqlx::PgPool;
use tower::ServiceExt;

/// Small thresholds so every tier is reached with little data.
const LIMITS: MediaLimits = MediaLimits {
    max_upload: 256 * 1024,
    inline_max: 1024,
    s3_min: 64 * 1024,
    campaign_quota: 1024 * 1024,
};

/// A PNG of `size` bytes: the signature the sniffer looks for, then bytes
/// that differ with `seed`.
fn png(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..size.saturating_sub(bytes.len())).map(|i| (i as u8).wrapping_mul(31) ^ seed));
    bytes
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Bytes) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

fn upload_request(
    campaign: impl std::fmt::Display,
    query: &str,
    cookie: &str,
    body: Body,
) -> Request<Body> {
    Request::post(format!("/api/campaigns/{campaign}/media?{query}"))
        .header(header::COOKIE, cookie)
        .body(body)
        .unwrap()
}

async fn upload(
    router: &Router,
    campaign: impl std::fmt::Display,
    cookie: &str,
    bytes: Vec<u8>,
) -> UploadReceipt {
    let (status, body) = send(
        router,
        upload_request(
            campaign,
            "name=cave.png&kind=map",
            cookie,
            Body::from(bytes),
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

async fn download(
    router: &Router,
    id: impl std::fmt::Display,
    cookie: &str,
) -> (StatusCode, Bytes) {
    send(
        router,
        Request::get(format!("/media/{id}"))
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn count(db: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(db)
        .await
        .unwrap()
}

async fn campaign(db: &PgPool, gm: &shared::account::User, name: &str) -> shared::id::CampaignId {
    server::campaign::create(db, gm.id, &NewCampaign::parse(name, "dnd5e").unwrap())
        .await
        .unwrap()
        .id
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[sqlx::test(migrations = "../migrations")]
async fn the_same_bytes_twice_are_stored_once_with_two_records(db: PgPool) {
    let (store, dir) = support::media_store(None, LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, cookie) = support::signed_in(&db, "gamemaster").await;
    let first_campaign = campaign(&db, &gm, "One").await;
    let second_campaign = campaign(&db, &gm, "Two").await;
    let bytes = png(10 * 1024, 7);

    let first = upload(&router, first_campaign, &cookie, bytes.clone()).await;
    let second = upload(&router, second_campaign, &cookie, bytes.clone()).await;
    let third = upload(&router, second_campaign, &cookie, bytes.clone()).await;

    // Stored once on the server, but the answer only ever tells about the
    // uploader's own campaign: nothing says the bytes existed elsewhere.
    assert!(!first.deduplicated);
    assert!(
        !second.deduplicated,
        "deduplication across campaigns showed"
    );
    assert!(third.deduplicated);
    assert_eq!(first.file.checksum, second.file.checksum);
    assert_ne!(first.file.id, second.file.id);
    assert_eq!(count(&db, "media_blobs").await, 1);
    assert_eq!(count(&db, "media_files").await, 3);
    assert_eq!(files_under(&dir.join("objects")).len(), 1);
    for receipt in [&first, &second] {
        let (status, body) = download(&router, receipt.file.id, &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_ref(), bytes.as_slice());
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn each_size_lands_in_its_tier_and_reads_back(db: PgPool) {
    let (_moto, s3) = support::moto("tabletop-media").await;
    let (store, dir) = support::media_store(Some(&s3), LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, cookie) = support::signed_in(&db, "gamemaster").await;
    let campaign = campaign(&db, &gm, "Tiers").await;

    for (size, tier) in [
        (512, Tier::Database),
        (32 * 1024, Tier::Filesystem),
        // Larger than one multipart part is not needed to prove the tier,
        // but more than one read buffer proves the streaming copy.
        (200 * 1024, Tier::S3),
    ] {
        let bytes = png(size, size as u8);
        let receipt = upload(&router, campaign, &cookie, bytes.clone()).await;
        assert_eq!(receipt.file.size, size as u64);
        assert_eq!(receipt.file.mime_type, "image/png");
        assert_eq!(receipt.file.kind, MediaKind::Map);
        assert_eq!(
            server::media::tier_of(&db, &receipt.file.checksum)
                .await
                .unwrap(),
            Some(tier),
            "{size} bytes"
        );
        let (status, body) = download(&router, receipt.file.id, &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.as_ref(), bytes.as_slice(), "{size} bytes read back");
    }
    // Only the filesystem tier wrote a file, named by its checksum.
    let files = files_under(&dir.join("objects"));
    assert_eq!(files.len(), 1);
    let checksum = files[0].file_name().unwrap().to_str().unwrap();
    assert_eq!(checksum.len(), 64);
    assert_eq!(
        files[0],
        dir.join("objects")
            .join(&checksum[..2])
            .join(&checksum[2..4])
            .join(checksum)
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn oversize_and_unknown_content_are_refused_and_store_nothing(db: PgPool) {
    let (store, dir) = support::media_store(None, LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, cookie) = support::signed_in(&db, "gamemaster").await;
    let campaign = campaign(&db, &gm, "Limits").await;

    // Streamed in chunks with no length: the limit is counted, not trusted.
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        (0..40).map(|i| Ok(Bytes::from(png(8 * 1024, i)))).collect();
    let (status, body) = send(
        &router,
        upload_request(
            campaign,
            "name=big.png",
            &cookie,
            Body::from_stream(futures_util::stream::iter(chunks)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        String::from_utf8_lossy(&body).contains("UploadTooLarge"),
        "{body:?}"
    );

    // An announced length over the limit is refused before reading.
    let (status, _) = send(
        &router,
        Request::post(format!("/api/campaigns/{campaign}/media?name=big.png"))
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_LENGTH, (LIMITS.max_upload + 1).to_string())
            .body(Body::from(vec![0u8; LIMITS.max_upload as usize + 1]))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // HTML named as a PNG is still HTML: refused.
    let (status, body) = send(
        &router,
        upload_request(
            campaign,
            "name=map.png",
            &cookie,
            Body::from("<html><script>alert(1)</script></html>"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        String::from_utf8_lossy(&body).contains("UnsupportedMedia"),
        "{body:?}"
    );

    // An unknown kind is refused.
    let (status, _) = send(
        &router,
        upload_request(
            campaign,
            "name=a.png&kind=script",
            &cookie,
            Body::from(png(100, 1)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    assert_eq!(count(&db, "media_blobs").await, 0);
    assert_eq!(count(&db, "media_files").await, 0);
    assert!(
        files_under(&dir).is_empty(),
        "nothing left on disk, not even in the spool"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_client_name_is_only_a_label(db: PgPool) {
    let (store, dir) = support::media_store(None, LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, cookie) = support::signed_in(&db, "gamemaster").await;
    let campaign = campaign(&db, &gm, "Names").await;

    let (status, body) = send(
        &router,
        upload_request(
            campaign,
            "name=..%2F..%2F..%2Fetc%2Fpasswd.png",
            &cookie,
            Body::from(png(4096, 3)),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let receipt: UploadReceipt = serde_json::from_slice(&body).unwrap();
    assert_eq!(receipt.file.name.as_str(), "passwd.png");
    let filename: String = sqlx::query_scalar("select filename from media_files")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(filename, receipt.file.checksum);
    for file in files_under(&dir) {
        assert!(
            file.starts_with(dir.join("objects")),
            "{file:?} escaped the media directory"
        );
    }
    let listed = server::media::list(&db, campaign, gm.id).await.unwrap();
    assert_eq!(listed, vec![receipt.file]);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_members_read_and_only_non_observers_write(db: PgPool) {
    let (store, _dir) = support::media_store(None, LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (_stranger, stranger_cookie) = support::signed_in(&db, "stranger").await;
    let (watcher, watcher_cookie) = support::signed_in(&db, "watcher").await;
    let campaign = campaign(&db, &gm, "Private").await;
    let invitation =
        server::membership::invite(&db, campaign, gm.id, shared::rules::Role::Observer)
            .await
            .unwrap();
    server::membership::accept(&db, watcher.id, &invitation.token)
        .await
        .unwrap();
    let receipt = upload(&router, campaign, &gm_cookie, png(2048, 9)).await;

    let (status, _) = download(&router, receipt.file.id, &stranger_cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An unknown id looks the same as someone else's file.
    let (status, _) = download(&router, uuid::Uuid::new_v4(), &stranger_cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = download(&router, receipt.file.id, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The GM's upload is the GM's alone until shown.
    let (status, _) = download(&router, receipt.file.id, &watcher_cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server::media::show(&db, campaign, receipt.file.id, gm.id, true)
        .await
        .unwrap();
    let (status, body) = download(&router, receipt.file.id, &watcher_cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 2048);

    for cookie in [&stranger_cookie, &watcher_cookie] {
        let (status, _) = send(
            &router,
            upload_request(campaign, "name=x.png", cookie, Body::from(png(2048, 10))),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(count(&db, "media_files").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn downloads_are_typed_cached_and_never_sniffed(db: PgPool) {
    let (store, _dir) = support::media_store(None, LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, cookie) = support::signed_in(&db, "gamemaster").await;
    let campaign = campaign(&db, &gm, "Headers").await;
    let receipt = upload(&router, campaign, &cookie, png(3000, 4)).await;

    let response = router
        .clone()
        .oneshot(
            Request::get(format!("/media/{}", receipt.file.id))
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(headers[header::CONTENT_LENGTH], "3000");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let etag = headers[header::ETAG].clone();
    assert_eq!(
        etag.to_str().unwrap(),
        format!("\"{}\"", receipt.file.checksum)
    );

    let (status, body) = send(
        &router,
        Request::get(format!("/media/{}", receipt.file.id))
            .header(header::COOKIE, &cookie)
            .header(header::IF_NONE_MATCH, etag)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_file_is_the_gms_until_shown_and_a_running_map_is_everyones(db: PgPool) {
    let (store, _dir) = support::media_store(None, LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (player, player_cookie) = support::signed_in(&db, "player").await;
    let (outsider, _) = support::signed_in(&db, "outsider").await;
    let campaign = campaign(&db, &gm, "Secrets").await;
    let invitation = server::membership::invite(&db, campaign, gm.id, shared::rules::Role::Player)
        .await
        .unwrap();
    server::membership::accept(&db, player.id, &invitation.token)
        .await
        .unwrap();
    let secret = upload(&router, campaign, &gm_cookie, png(2048, 1)).await;
    let map = upload(&router, campaign, &gm_cookie, png(2048, 2)).await;
    assert!(!secret.file.shown && !map.file.shown);
    // A player's own upload is theirs to use at once.
    let own = upload(&router, campaign, &player_cookie, png(2048, 3)).await;
    assert!(own.file.shown);

    let ids =
        |files: Vec<shared::media::MediaFile>| files.into_iter().map(|f| f.id).collect::<Vec<_>>();
    let seen = ids(server::media::list(&db, campaign, player.id).await.unwrap());
    assert_eq!(seen, vec![own.file.id]);
    assert_eq!(
        server::media::list(&db, campaign, gm.id)
            .await
            .unwrap()
            .len(),
        3
    );
    for hidden in [secret.file.id, map.file.id] {
        let (status, _) = download(&router, hidden, &player_cookie).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    // The map of an encounter being played is readable while it runs.
    let encounter = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into encounters (id, campaign_id, name, map_id) values ($1, $2, 'Crypt', $3)",
    )
    .bind(encounter)
    .bind(campaign.0)
    .bind(map.file.id.0)
    .execute(&db)
    .await
    .unwrap();
    let session = uuid::Uuid::new_v4();
    sqlx::query("insert into play_sessions (id, campaign_id, encounter_id) values ($1, $2, $3)")
        .bind(session)
        .bind(campaign.0)
        .bind(encounter)
        .execute(&db)
        .await
        .unwrap();
    let (status, _) = download(&router, map.file.id, &player_cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        ids(server::media::list(&db, campaign, player.id).await.unwrap()).contains(&map.file.id)
    );
    sqlx::query("update play_sessions set ended_at = now() where id = $1")
        .bind(session)
        .execute(&db)
        .await
        .unwrap();
    let (status, _) = download(&router, map.file.id, &player_cookie).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the map stayed readable after the session"
    );

    // Shown, then hidden again.
    server::media::show(&db, campaign, secret.file.id, gm.id, true)
        .await
        .unwrap();
    let (status, _) = download(&router, secret.file.id, &player_cookie).await;
    assert_eq!(status, StatusCode::OK);
    server::media::show(&db, campaign, secret.file.id, gm.id, false)
        .await
        .unwrap();
    let (status, _) = download(&router, secret.file.id, &player_cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Only the campaign's GM shows, and only the campaign's files.
    assert!(matches!(
        server::media::show(&db, campaign, secret.file.id, player.id, true).await,
        Err(server::Error::Refused(shared::Error::Forbidden(_)))
    ));
    assert!(matches!(
        server::media::show(&db, campaign, secret.file.id, outsider.id, true).await,
        Err(server::Error::NotMember)
    ));
    let elsewhere = self::campaign(&db, &gm, "Elsewhere").await;
    assert!(matches!(
        server::media::show(&db, elsewhere, secret.file.id, gm.id, true).await,
        Err(server::Error::NotMember)
    ));
    let shown: bool = sqlx::query_scalar("select shown from media_files where id = $1")
        .bind(secret.file.id.0)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!shown);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_campaign_holds_up_to_its_quota_and_not_a_byte_more(db: PgPool) {
    let (store, _dir) = support::media_store(None, LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, cookie) = support::signed_in(&db, "gamemaster").await;
    let campaign = campaign(&db, &gm, "Hoard").await;
    let other = self::campaign(&db, &gm, "Other").await;
    // Four files of a quarter of the quota each fill it exactly.
    let quarter = (LIMITS.campaign_quota / 4) as usize;
    for seed in 0..4 {
        upload(&router, campaign, &cookie, png(quarter, seed)).await;
    }
    // The same bytes again still count: the quota is what the campaign
    // holds, not what the server stores.
    let (status, body) = send(
        &router,
        upload_request(
            campaign,
            "name=more.png",
            &cookie,
            Body::from(png(quarter, 0)),
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let message = String::from_utf8_lossy(&body);
    assert!(message.contains("MEDIA_CAMPAIGN_QUOTA_BYTES"), "{message}");
    let (status, _) = send(
        &router,
        upload_request(campaign, "name=one.png", &cookie, Body::from(png(16, 9))),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&db, "media_files").await, 4);
    // Another campaign has its own quota.
    upload(&router, other, &cookie, png(quarter, 5)).await;
}

/// A handout opens its file to the players it is shown to and nobody
/// else; only the GM shows one, only to members, and hiding the file takes
/// it back from each of them.
#[sqlx::test(migrations = "../migrations")]
async fn a_handout_opens_its_file_to_those_it_is_shown_to_alone(db: PgPool) {
    use server::Error;
    use shared::media::HandoutFormat;
    let (store, _dir) = support::media_store(None, LIMITS);
    let router = server::router(support::state_with_media(db.clone(), store));
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (alice, alice_cookie) = support::signed_in(&db, "alice").await;
    let (bruno, bruno_cookie) = support::signed_in(&db, "bruno").await;
    let (outsider, _) = support::signed_in(&db, "outsider").await;
    let campaign = campaign(&db, &gm, "Letters").await;
    for player in [&alice, &bruno] {
        let invitation =
            server::membership::invite(&db, campaign, gm.id, shared::rules::Role::Player)
                .await
                .unwrap();
        server::membership::accept(&db, player.id, &invitation.token)
            .await
            .unwrap();
    }
    let letter = upload(&router, campaign, &gm_cookie, png(2048, 7))
        .await
        .file;
    let kept = |user: shared::id::UserId| {
        let db = db.clone();
        async move {
            server::media::handouts(&db, campaign, user)
                .await
                .unwrap()
                .into_iter()
                .map(|h| h.media)
                .collect::<Vec<_>>()
        }
    };

    // Refused: a player, the GM of nothing here, a reader who is not a
    // member (and then nobody is granted it).
    let refused = server::media::hand_out(&db, campaign, letter.id, alice.id, None).await;
    assert!(
        matches!(refused, Err(Error::Refused(shared::Error::Forbidden(_)))),
        "{refused:?}"
    );
    let refused = server::media::hand_out(&db, campaign, letter.id, outsider.id, None).await;
    assert!(matches!(refused, Err(Error::NotMember)), "{refused:?}");
    let refused = server::media::hand_out(
        &db,
        campaign,
        letter.id,
        gm.id,
        Some(&[alice.id, outsider.id]),
    )
    .await;
    assert!(matches!(refused, Err(Error::NotMember)), "{refused:?}");
    let refused = server::media::hand_out(&db, campaign, letter.id, gm.id, Some(&[])).await;
    assert!(matches!(refused, Err(Error::Refused(_))), "{refused:?}");
    assert_eq!(count(&db, "media_grants").await, 0);
    assert_eq!(
        download(&router, letter.id, &alice_cookie).await.0,
        StatusCode::FORBIDDEN
    );

    // To Alice alone.
    let handout = server::media::hand_out(&db, campaign, letter.id, gm.id, Some(&[alice.id]))
        .await
        .unwrap();
    assert_eq!(
        (handout.media, handout.name.as_str(), handout.format),
        (letter.id, "cave.png", HandoutFormat::Image)
    );
    assert_eq!(
        download(&router, letter.id, &alice_cookie).await.0,
        StatusCode::OK
    );
    assert_eq!(
        download(&router, letter.id, &bruno_cookie).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(kept(alice.id).await, vec![letter.id]);
    assert_eq!(kept(bruno.id).await, vec![]);
    assert_eq!(kept(gm.id).await, vec![letter.id]);
    // The GM's list says to how many it was handed, so that she can take
    // it back; a player's list says nothing of the others.
    let handed = |reader: shared::id::UserId| {
        let db = db.clone();
        async move {
            server::media::list(&db, campaign, reader)
                .await
                .unwrap()
                .into_iter()
                .map(|f| (f.id, f.shown, f.handed_to))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(handed(gm.id).await, vec![(letter.id, false, 1)]);
    assert_eq!(handed(alice.id).await, vec![(letter.id, false, 0)]);
    assert!(
        server::media::list(&db, campaign, bruno.id)
            .await
            .unwrap()
            .is_empty()
    );

    // To everyone: Bruno too, and the file is shown.
    server::media::hand_out(&db, campaign, letter.id, gm.id, None)
        .await
        .unwrap();
    assert_eq!(
        download(&router, letter.id, &bruno_cookie).await.0,
        StatusCode::OK
    );
    assert_eq!(kept(bruno.id).await, vec![letter.id]);

    // Alice leaves and is invited back: what was handed to her went with
    // her (the file is shown to everyone by now, so she reads it as
    // everyone does, and it is not on her list).
    server::membership::remove(&db, campaign, alice.id, alice.id)
        .await
        .unwrap();
    let invitation = server::membership::invite(&db, campaign, gm.id, shared::rules::Role::Player)
        .await
        .unwrap();
    server::membership::accept(&db, alice.id, &invitation.token)
        .await
        .unwrap();
    assert_eq!(kept(alice.id).await, vec![]);
    assert_eq!(kept(bruno.id).await, vec![letter.id]);

    // Hidden again: from each it was handed to.
    server::media::show(&db, campaign, letter.id, gm.id, false)
        .await
        .unwrap();
    assert_eq!(
        download(&router, letter.id, &alice_cookie).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        download(&router, letter.id, &bruno_cookie).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(kept(alice.id).await, vec![]);
    assert_eq!(count(&db, "media_grants").await, 0);
    assert_eq!(handed(gm.id).await, vec![(letter.id, false, 0)]);
}
