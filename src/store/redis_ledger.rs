//! The spend ledger in Redis, with the SQLite ledger's rules: a reservation is checked against
//! the period's settled and reserved spend and written in one Lua script (atomic across every
//! replica), counts as reserved until its hold ends and as a charge of its worst case after that
//! (its replica died), and is settled to the real cost later. Rows are JSON in one hash, indexed
//! by time in a sorted set; reports are summed here with the SQLite queries' grouping.

use super::redis::{PREFIX, RedisStore};
use super::{LedgerRow, Spend, StoreError};
use crate::pricing;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const DAY_MS: i64 = 86_400_000;

fn rows_key() -> String {
    format!("{PREFIX}ledger")
}

fn index_key() -> String {
    format!("{PREFIX}ledger:at")
}

fn counter_key() -> String {
    format!("{PREFIX}ledger:next")
}

/// Sums the period (ARGV[1] since, ARGV[2] now); refuses or writes a reservation of ARGV[3] USD
/// under the limit ARGV[4], held until ARGV[5], for model ARGV[6]. Amounts round to 10 places as
/// `pricing::usd` does.
static RESERVE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local function usd(x) return math.floor(x * 1e10 + 0.5) / 1e10 end
local now = tonumber(ARGV[2])
local settled, reserved = 0, 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], '+inf')) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then
    local row = cjson.decode(raw)
    local cost = math.max(tonumber(row.cost) or 0, 0)
    local held = tonumber(row['until'])
    if held and held > now then reserved = reserved + cost else settled = settled + cost end
  end
end
local amount = tonumber(ARGV[3])
if usd(usd(settled + reserved) + amount) > usd(tonumber(ARGV[4])) then
  return {'refused', tostring(settled), tostring(reserved)}
end
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], id, cjson.encode({at = now, model = ARGV[6], cost = amount, ['until'] = tonumber(ARGV[5])}))
redis.call('ZADD', KEYS[2], now, id)
return {'reserved', tostring(id)}
",
    )
});

/// Writes a settled row: ARGV[1] at, ARGV[2] model, ARGV[3] cost, ARGV[4] source.
static RECORD: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], id, cjson.encode({at = tonumber(ARGV[1]), model = ARGV[2], cost = tonumber(ARGV[3]), source = ARGV[4]}))
redis.call('ZADD', KEYS[2], ARGV[1], id)
return id
",
    )
});

/// Turns reservation ARGV[1] into a settled row of ARGV[2] USD for model ARGV[3], source ARGV[4].
static SETTLE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local row = cjson.decode(raw)
row['until'] = nil
row.cost = tonumber(ARGV[2])
row.model = ARGV[3]
row.source = ARGV[4]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(row))
return 1
",
    )
});

/// Every row written at or after ARGV[1], as JSON.
static ROWS: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local rows = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[1], '+inf')) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then rows[#rows + 1] = raw end
end
return rows
",
    )
});

/// One ledger row as the scripts write it. Times are read as floats: Lua's JSON writes a
/// far-future hold in exponent notation.
#[derive(Debug, Deserialize)]
struct Row {
    at: f64,
    model: String,
    cost: f64,
    #[serde(rename = "until")]
    held_until: Option<f64>,
    source: Option<String>,
}

impl Row {
    fn cost(&self) -> f64 {
        if self.cost.is_finite() {
            self.cost.max(0.0)
        } else {
            0.0
        }
    }

    fn held_at(&self, now: i64) -> bool {
        self.held_until.is_some_and(|until| until > now as f64)
    }

    /// Where its cost came from; a reservation never settled is `unknown`.
    fn source(&self) -> &str {
        match (&self.held_until, &self.source) {
            (None, Some(source)) => source,
            _ => "unknown",
        }
    }
}

/// A float as a script argument, exact enough to read back.
fn arg(value: f64) -> String {
    format!("{value}")
}

impl RedisStore {
    pub async fn reserve(
        &self,
        model: &str,
        amount: f64,
        since: i64,
        limit: f64,
        (now, until): (i64, i64),
    ) -> Result<Result<i64, Spend>, StoreError> {
        let mut invocation = RESERVE.key(rows_key());
        invocation.key(index_key()).key(counter_key());
        invocation
            .arg(since)
            .arg(now)
            .arg(arg(amount))
            .arg(arg(limit));
        invocation.arg(until).arg(model);
        let reply: Vec<String> = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        let number = |i: usize| reply.get(i).and_then(|v| v.parse::<f64>().ok());
        match reply.first().map(String::as_str) {
            Some("reserved") => Ok(Ok(number(1).unwrap_or_default() as i64)),
            _ => Ok(Err(Spend {
                settled: pricing::usd(number(1).unwrap_or_default()),
                reserved: pricing::usd(number(2).unwrap_or_default()),
            })),
        }
    }

    pub async fn settle(
        &self,
        id: i64,
        model: &str,
        cost: f64,
        source: &str,
    ) -> Result<(), StoreError> {
        let mut invocation = SETTLE.key(rows_key());
        invocation.arg(id).arg(arg(cost)).arg(model).arg(source);
        self.run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await
            .map(drop)
    }

    pub async fn record(
        &self,
        model: &str,
        cost: f64,
        source: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut invocation = RECORD.key(rows_key());
        invocation.key(index_key()).key(counter_key());
        invocation.arg(at).arg(model).arg(arg(cost)).arg(source);
        self.run(|mut c| async move { invocation.invoke_async::<i64>(&mut c).await })
            .await
            .map(drop)
    }

    async fn rows(&self, since: i64) -> Result<Vec<Row>, StoreError> {
        let mut invocation = ROWS.key(rows_key());
        invocation.key(index_key()).arg(since);
        let raw: Vec<String> = self
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(raw
            .iter()
            .filter_map(|r| serde_json::from_str(r).ok())
            .collect())
    }

    pub async fn spend(&self, since: i64, now: i64) -> Result<Spend, StoreError> {
        let (mut settled, mut reserved) = (0.0, 0.0);
        for row in self.rows(since).await? {
            if row.held_at(now) {
                reserved += row.cost();
            } else {
                settled += row.cost();
            }
        }
        Ok(Spend {
            settled: pricing::usd(settled),
            reserved: pricing::usd(reserved),
        })
    }

    pub async fn ledger(&self, since: i64, now: i64) -> Result<Vec<LedgerRow>, StoreError> {
        let mut groups: BTreeMap<(String, String), (u64, f64)> = BTreeMap::new();
        for row in self.rows(since).await?.iter().filter(|r| !r.held_at(now)) {
            let entry = groups
                .entry((row.model.clone(), row.source().to_string()))
                .or_default();
            entry.0 += 1;
            entry.1 += row.cost();
        }
        let mut rows: Vec<LedgerRow> = groups
            .into_iter()
            .map(|((model, cost_source), (calls, cost))| LedgerRow {
                model,
                cost_source,
                calls,
                cost_usd: pricing::usd(cost),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.cost_usd
                .total_cmp(&a.cost_usd)
                .then_with(|| a.model.cmp(&b.model))
        });
        Ok(rows)
    }

    pub async fn ledger_by_day(
        &self,
        since: i64,
        now: i64,
    ) -> Result<Vec<(i64, LedgerRow)>, StoreError> {
        let mut groups: BTreeMap<(i64, String), (u64, f64, u8)> = BTreeMap::new();
        for row in self.rows(since).await?.iter().filter(|r| !r.held_at(now)) {
            let day = (row.at as i64).div_euclid(DAY_MS);
            let entry = groups.entry((day, row.model.clone())).or_default();
            entry.0 += 1;
            entry.1 += row.cost();
            entry.2 = entry.2.max(uncertainty(row.source()));
        }
        let mut rows: Vec<(i64, LedgerRow)> = groups
            .into_iter()
            .map(|((day, model), (calls, cost, rank))| {
                let cost_source = ["upstream", "catalog", "unknown"][usize::from(rank)];
                let row = LedgerRow {
                    model,
                    cost_source: cost_source.into(),
                    calls,
                    cost_usd: pricing::usd(cost),
                };
                (day, row)
            })
            .collect();
        rows.sort_by(|(day_a, a), (day_b, b)| {
            day_b
                .cmp(day_a)
                .then_with(|| b.cost_usd.total_cmp(&a.cost_usd))
                .then_with(|| a.model.cmp(&b.model))
        });
        Ok(rows)
    }
}

/// How uncertain a cost source is: `unknown` over `catalog` over `upstream`.
fn uncertainty(source: &str) -> u8 {
    match source {
        "unknown" => 2,
        "catalog" => 1,
        _ => 0,
    }
}
