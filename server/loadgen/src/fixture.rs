//! The database side of a run: each session's accounts and table, and the single-commit floor.

use super::*;

/// One session's accounts, campaign, encounter and tokens, with `walls`
/// walls and `monsters` monsters in a cave beside the players.
pub(super) async fn fixture(
    db: &PgPool,
    n: usize,
    players: usize,
    walls: usize,
    monsters: usize,
) -> Result<Fixture, String> {
    let err = |e: server::Error| e.to_string();
    let run = Uuid::new_v4().simple().to_string();
    let gate = server::account::Gate::default();
    let account = async |name: String| -> Result<(shared::account::User, String), String> {
        let login = LoginName::parse(&name).map_err(|e| e.to_string())?;
        let display = DisplayName::parse(&name).map_err(|e| e.to_string())?;
        let password = Password::parse("load generator password").map_err(|e| e.to_string())?;
        let user = server::account::sign_up(db, &gate, &login, &display, &password)
            .await
            .map_err(err)?;
        let token = server::account::start_login(db, user.id)
            .await
            .map_err(err)?;
        Ok((
            user,
            format!("{}={}", app::account::SESSION_COOKIE, token.as_str()),
        ))
    };
    let (gm, gm_cookie) = account(format!("gm{n}-{}", &run[..8])).await?;
    let campaign = server::campaign::create(
        db,
        gm.id,
        &NewCampaign::parse(&format!("Load {n}"), "dnd5e").map_err(|e| e.to_string())?,
    )
    .await
    .map_err(err)?
    .id;
    let encounter = server::encounter::create(
        db,
        &NewEncounter {
            campaign,
            name: "Arena".into(),
            map: None,
            settings: MapSettings {
                vision: walls > 0,
                ..MapSettings::default()
            },
        },
    )
    .await
    .map_err(err)?;
    if walls > 0 {
        let walls = serde_json::to_value(cave(encounter, walls)).map_err(|e| e.to_string())?;
        sqlx::query("update encounters set walls = $1 where id = $2")
            .bind(walls)
            .bind(encounter.0)
            .execute(db)
            .await
            .map_err(|e| e.to_string())?;
    }
    for m in 0..monsters {
        server::encounter::place_token(
            db,
            campaign,
            encounter,
            &NewToken {
                actor: None,
                name: format!("Goblin {m}"),
                position: Point {
                    x: scatter(m, 21) / 5.0,
                    y: CAVE_TOP + scatter(m, 22) / 5.0,
                },
                visibility: Visibility::Visible,
                scale: 1.0,
            },
        )
        .await
        .map_err(err)?;
    }
    let mut seats = Vec::new();
    for p in 0..players {
        let (user, cookie) = account(format!("p{n}x{p}-{}", &run[..8])).await?;
        let invitation = server::membership::invite(db, campaign, gm.id, Role::Player)
            .await
            .map_err(err)?;
        server::membership::accept(db, user.id, &invitation.token)
            .await
            .map_err(err)?;
        let actor = server::actor::create_custom(
            db,
            &server::actor::NewActor {
                campaign,
                name: None,
                actor_type: ActorKind::Character.slug().into(),
                level: Some(1),
                character_class: None,
                owner: Some(user.id),
                created_by: gm.id,
            },
            &format!("Hero {p}"),
            &serde_json::json!({"hit_points": 1000}),
        )
        .await
        .map_err(err)?;
        let token = server::encounter::place_token(
            db,
            campaign,
            encounter,
            &NewToken {
                actor: Some(actor),
                name: format!("Hero {p}"),
                position: Point { x: 100.0, y: 100.0 },
                visibility: Visibility::Visible,
                scale: 1.0,
            },
        )
        .await
        .map_err(err)?;
        seats.push(Player {
            cookie,
            actor,
            token,
        });
    }
    let session = event_log::start_session(
        db,
        campaign,
        Some(encounter),
        gm.id,
        &ApprovalPolicy::default(),
    )
    .await
    .map_err(err)?;
    Ok(Fixture {
        session,
        encounter,
        gm_cookie,
        players: seats,
    })
}

/// The machine's floor: durable single-row commits, one at a time, into a
/// logged table (temporary tables skip the WAL and would flatter it): 500 of
/// them back to back, or, when `until` is given, one every 10 ms until then
/// (the floor measured while the server is under load, on the same disk).
pub(super) async fn commit_floor(
    db: &PgPool,
    table: &str,
    until: Option<Instant>,
) -> Result<Histogram<u64>, String> {
    let e = |e: sqlx::Error| e.to_string();
    sqlx::query(&format!("create table if not exists {table} (n bigint)"))
        .execute(db)
        .await
        .map_err(e)?;
    let mut histogram = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    let insert = format!("insert into {table} values ($1)");
    for n in 0.. {
        match until {
            Some(until) if Instant::now() >= until => break,
            None if n >= 500 => break,
            _ => {}
        }
        let started = Instant::now();
        sqlx::query(&insert).bind(n).execute(db).await.map_err(e)?;
        histogram
            .record((started.elapsed().as_micros() as u64).max(1))
            .map_err(|e| e.to_string())?;
        if until.is_some() {
            // A sample every 10 ms: back to back, the probe would be a
            // second load of its own (some 1,800 commits a second here).
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    sqlx::query(&format!("drop table {table}"))
        .execute(db)
        .await
        .map_err(e)?;
    Ok(histogram)
}

/// Where the cave starts: below the band the players' tokens move in
/// (y = 100), so no move is refused by a wall and every player still sees
/// the others, while the monsters in the cave are seen or hidden by walls.
const CAVE_TOP: f64 = 200.0;

/// `count` short walls scattered over a 2,000 px cave, the same in every
/// session (the layout of the `sight` criterion benchmark).
fn cave(encounter: EncounterId, count: usize) -> Vec<shared::wall::Wall> {
    (0..count)
        .map(|n| {
            let from = Point {
                x: scatter(n, 11) / 5.0,
                y: CAVE_TOP + scatter(n, 12) / 5.0,
            };
            let to = Point {
                x: from.x + scatter(n, 13) / 50.0 - 100.0,
                y: (from.y + scatter(n, 14) / 50.0 - 100.0).max(CAVE_TOP),
            };
            shared::wall::Wall {
                id: shared::id::WallId(Uuid::new_v4()),
                encounter,
                from,
                to,
                kind: shared::wall::WallKind::Wall,
                door: None,
            }
        })
        .filter(|wall| wall.check().is_ok())
        .collect()
}

/// A deterministic pseudo-random number below 10,000.
fn scatter(n: usize, salt: u64) -> f64 {
    let mut z = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (z % 10_000) as f64
}
