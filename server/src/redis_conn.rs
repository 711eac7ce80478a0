//! Connecting to Redis, when it is configured.

use std::time::Duration;

use redis::{
    Client, ConnectionInfo,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use crate::{Error, Result, config::describe_redis};

/// Connects and checks that Redis answers. The manager reconnects by itself
/// after a connection drops.
pub async fn connect(info: &ConnectionInfo) -> Result<ConnectionManager> {
    let unreachable = |reason: String| Error::RedisUnreachable {
        target: describe_redis(info),
        reason,
    };
    let client = Client::open(info.clone()).map_err(|error| unreachable(error.to_string()))?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(3)))
        .set_response_timeout(Some(Duration::from_secs(3)))
        .set_number_of_retries(1);
    let mut manager = ConnectionManager::new_with_config(client, config)
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    ping(&mut manager)
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    Ok(manager)
}

/// One round trip.
pub async fn ping(manager: &mut ConnectionManager) -> redis::RedisResult<()> {
    redis::cmd("PING")
        .query_async::<String>(manager)
        .await
        .map(drop)
}
