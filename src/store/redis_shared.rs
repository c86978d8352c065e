//! What replicas coordinate through Redis besides data: single-flight leases (`SET NX PX`, renewed
//! by their holder, so one whose replica died frees itself) and per-model cooldowns (a failure
//! counter and a cooling key with a TTL).

use super::StoreError;
use super::redis::{PREFIX, RedisStore, ttl_millis};
use std::sync::LazyLock;
use std::time::Duration;

/// A failure streak is forgotten this long after its last failure.
const STREAK_MEMORY: Duration = Duration::from_secs(600);

/// Renews (ARGV[2] = PX) or, with ARGV[2] = 0, removes the lease, if ARGV[1] still holds it.
static KEEP_LEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
",
    )
});

/// Counts a failure of a model (KEYS[1], kept ARGV[2] ms); at ARGV[1] in a row it cools down
/// (KEYS[2] for ARGV[3] ms). Returns the streak.
static FAILED: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n >= tonumber(ARGV[1]) then redis.call('SET', KEYS[2], n, 'PX', ARGV[3]) end
return n
",
    )
});

fn lease_key(key: &str) -> String {
    format!("{PREFIX}lease:{key}")
}

fn streak_key(model: &str) -> String {
    format!("{PREFIX}failures:{model}")
}

fn cooling_key(model: &str) -> String {
    format!("{PREFIX}cooling:{model}")
}

impl RedisStore {
    /// Takes the lease on `key` for `ttl` unless another replica holds it.
    pub async fn take_lease(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(lease_key(key))
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(ttl_millis(ttl).max(1));
        let reply: Option<String> = self
            .run(|mut c| async move { set.query_async(&mut c).await })
            .await?;
        Ok(reply.is_some())
    }

    /// Extends a lease this replica holds; false when it lost it.
    pub async fn renew_lease(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.keep_lease(key, token, ttl_millis(ttl).max(1)).await
    }

    /// Gives up a lease this replica holds.
    pub async fn release_lease(&self, key: &str, token: &str) -> Result<bool, StoreError> {
        self.keep_lease(key, token, 0).await
    }

    async fn keep_lease(&self, key: &str, token: &str, millis: u64) -> Result<bool, StoreError> {
        let mut invocation = KEEP_LEASE.key(lease_key(key));
        invocation.arg(token).arg(millis.to_string());
        let done: i64 = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(done == 1)
    }

    /// Whether any replica holds the lease on `key`.
    pub async fn lease_held(&self, key: &str) -> Result<bool, StoreError> {
        let name = lease_key(key);
        let count: i64 = self
            .run(|mut c| async move { redis::cmd("EXISTS").arg(name).query_async(&mut c).await })
            .await?;
        Ok(count > 0)
    }

    /// Counts a failed attempt of `model` fleet-wide; the `threshold`-th in a row cools it down
    /// for `period`. Returns the streak.
    pub async fn model_failed(
        &self,
        model: &str,
        threshold: u32,
        period: Duration,
    ) -> Result<u32, StoreError> {
        let mut invocation = FAILED.key(streak_key(model));
        invocation.key(cooling_key(model)).arg(threshold);
        invocation
            .arg(ttl_millis(STREAK_MEMORY.max(period)))
            .arg(ttl_millis(period).max(1));
        let streak: i64 = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(u32::try_from(streak).unwrap_or(u32::MAX))
    }

    /// Ends `model`'s streak and cooldown fleet-wide.
    pub async fn model_answered(&self, model: &str) -> Result<(), StoreError> {
        let (streak, cooling) = (streak_key(model), cooling_key(model));
        self.run(|mut c| async move {
            redis::cmd("DEL")
                .arg(streak)
                .arg(cooling)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    /// How long each of `models` still cools down, and whether it has a failure streak
    /// anywhere in the fleet (one round trip for all).
    pub async fn cooling(
        &self,
        models: &[String],
    ) -> Result<Vec<(Option<Duration>, bool)>, StoreError> {
        let mut pipe = redis::pipe();
        for model in models {
            pipe.cmd("PTTL").arg(cooling_key(model));
            pipe.cmd("EXISTS").arg(streak_key(model));
        }
        let replies: Vec<i64> = self
            .run(|mut c| async move { pipe.query_async(&mut c).await })
            .await?;
        Ok(replies
            .chunks(2)
            .map(|pair| {
                let left = u64::try_from(pair[0]).ok().filter(|ms| *ms > 0);
                (left.map(Duration::from_millis), pair.get(1) == Some(&1))
            })
            .collect())
    }
}
