//! Viewport culling: which tokens intersect a rectangle.
//!
//! A uniform grid of square buckets. Each token is listed in every bucket
//! its bounds overlap, so a query visits only the buckets under the
//! rectangle (or only the occupied buckets, when the rectangle covers more
//! buckets than are occupied) plus the tokens it returns. A move touches the
//! token's old and new buckets only.
//!
//! A token that would cover more than [`MAX_BUCKETS_PER_TOKEN`] buckets is
//! kept in a short list of large tokens that every query checks instead, so
//! no token costs more than a few buckets however large it is made.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::{geometry::Rect, id::TokenId};

/// The most buckets one token is listed in; larger tokens go to the
/// index's list of large tokens.
pub const MAX_BUCKETS_PER_TOKEN: u64 = 16;

/// A spatial index over token bounds.
#[derive(Debug, Clone)]
pub struct SpatialIndex {
    bucket_size: f64,
    buckets: HashMap<(i32, i32), Vec<TokenId>>,
    bounds: HashMap<TokenId, Rect>,
    /// Tokens too large to list in buckets; every query checks them.
    large: BTreeSet<TokenId>,
}

/// Buckets covered by a rectangle: inclusive ranges of columns and rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    x0: i32,
    x1: i32,
    y0: i32,
    y1: i32,
}

impl Span {
    fn buckets(self) -> impl Iterator<Item = (i32, i32)> {
        (self.x0..=self.x1).flat_map(move |x| (self.y0..=self.y1).map(move |y| (x, y)))
    }

    fn count(self) -> u64 {
        (i64::from(self.x1) - i64::from(self.x0) + 1) as u64
            * (i64::from(self.y1) - i64::from(self.y0) + 1) as u64
    }

    fn contains(self, (x, y): (i32, i32)) -> bool {
        (self.x0..=self.x1).contains(&x) && (self.y0..=self.y1).contains(&y)
    }
}

impl SpatialIndex {
    /// An empty index with square buckets of `bucket_size` pixels (a few
    /// token widths suits: a few tokens per bucket, few buckets per token).
    /// A size that is not a positive number falls back to 256.
    pub fn new(bucket_size: f64) -> Self {
        Self {
            bucket_size: if bucket_size.is_finite() && bucket_size > 0.0 {
                bucket_size
            } else {
                256.0
            },
            buckets: HashMap::new(),
            bounds: HashMap::new(),
            large: BTreeSet::new(),
        }
    }

    /// Number of tokens indexed.
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    /// True when no token is indexed.
    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    fn span(&self, rect: &Rect) -> Span {
        let cell = |v: f64| {
            (v / self.bucket_size)
                .floor()
                .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
        };
        // `max` is exclusive: a rectangle ending exactly on a bucket edge
        // does not reach into the next bucket.
        let last = |v: f64| {
            let c = cell(v);
            if (f64::from(c) * self.bucket_size) == v {
                c.saturating_sub(1)
            } else {
                c
            }
        };
        Span {
            x0: cell(rect.min.x),
            x1: last(rect.max.x).max(cell(rect.min.x)),
            y0: cell(rect.min.y),
            y1: last(rect.max.y).max(cell(rect.min.y)),
        }
    }

    /// Adds or moves a token.
    pub fn upsert(&mut self, id: TokenId, rect: Rect) {
        let new_span = self.span(&rect);
        if let Some(old) = self.bounds.insert(id, rect) {
            let old_span = self.span(&old);
            if old_span == new_span {
                return;
            }
            self.unlist(id, old_span);
        }
        if new_span.count() > MAX_BUCKETS_PER_TOKEN {
            self.large.insert(id);
            return;
        }
        for bucket in new_span.buckets() {
            self.buckets.entry(bucket).or_default().push(id);
        }
    }

    /// Removes a token; absent tokens are ignored.
    pub fn remove(&mut self, id: TokenId) {
        if let Some(old) = self.bounds.remove(&id) {
            let span = self.span(&old);
            self.unlist(id, span);
        }
    }

    fn unlist(&mut self, id: TokenId, span: Span) {
        if span.count() > MAX_BUCKETS_PER_TOKEN {
            self.large.remove(&id);
            return;
        }
        for bucket in span.buckets() {
            if let Some(list) = self.buckets.get_mut(&bucket) {
                if let Some(at) = list.iter().position(|t| *t == id) {
                    list.swap_remove(at);
                }
                if list.is_empty() {
                    self.buckets.remove(&bucket);
                }
            }
        }
    }

    /// Every token whose bounds intersect `rect`, each once, in no
    /// particular order.
    pub fn query(&self, rect: &Rect) -> Vec<TokenId> {
        let mut found = Vec::new();
        let span = self.span(rect);
        let mut visit = |bucket: (i32, i32), tokens: &Vec<TokenId>| {
            for id in tokens {
                let Some(bounds) = self.bounds.get(id) else {
                    continue;
                };
                if !bounds.intersects(rect) {
                    continue;
                }
                // A token listed in several buckets is reported from the
                // first of them that lies inside the query's span.
                let own = self.span(bounds);
                if bucket == (own.x0.max(span.x0), own.y0.max(span.y0)) {
                    found.push(*id);
                }
            }
        };
        if span.count() <= self.buckets.len() as u64 {
            for bucket in span.buckets() {
                if let Some(tokens) = self.buckets.get(&bucket) {
                    visit(bucket, tokens);
                }
            }
        } else {
            for (bucket, tokens) in &self.buckets {
                if span.contains(*bucket) {
                    visit(*bucket, tokens);
                }
            }
        }
        found.extend(self.large.iter().filter(|id| {
            self.bounds
                .get(id)
                .is_some_and(|bounds| bounds.intersects(rect))
        }));
        found
    }

    /// Entries in the buckets: what the index costs, for tests.
    pub fn listed(&self) -> usize {
        self.buckets.values().map(Vec::len).sum()
    }

    /// The index in a canonical form, for comparing an incrementally
    /// maintained index with a rebuilt one.
    pub fn canonical(&self) -> BTreeMap<(i32, i32), BTreeSet<TokenId>> {
        self.buckets
            .iter()
            .map(|(bucket, tokens)| (*bucket, tokens.iter().copied().collect()))
            .collect()
    }
}

impl PartialEq for SpatialIndex {
    fn eq(&self, other: &Self) -> bool {
        self.bucket_size == other.bucket_size
            && self.bounds == other.bounds
            && self.large == other.large
            && self.canonical() == other.canonical()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Point;
    use uuid::Uuid;

    fn id(n: u128) -> TokenId {
        TokenId(Uuid::from_u128(n))
    }

    fn square(x: f64, y: f64, side: f64) -> Rect {
        Rect::from_origin(Point::new(x, y), side, side)
    }

    fn sorted(mut ids: Vec<TokenId>) -> Vec<TokenId> {
        ids.sort();
        ids
    }

    #[test]
    fn finds_exactly_the_intersecting_tokens() {
        let mut index = SpatialIndex::new(100.0);
        index.upsert(id(1), square(10.0, 10.0, 50.0));
        index.upsert(id(2), square(500.0, 500.0, 50.0));
        index.upsert(id(3), square(90.0, 90.0, 150.0)); // spans four buckets
        assert_eq!(
            sorted(index.query(&square(0.0, 0.0, 100.0))),
            vec![id(1), id(3)]
        );
        assert_eq!(
            sorted(index.query(&square(200.0, 200.0, 400.0))),
            vec![id(2), id(3)]
        );
        assert_eq!(index.query(&square(1000.0, 1000.0, 10.0)), vec![]);
        // Huge viewport: walks occupied buckets instead of empty ones.
        assert_eq!(
            sorted(index.query(&square(-1e9, -1e9, 2e9))),
            vec![id(1), id(2), id(3)]
        );
    }

    #[test]
    fn moves_and_removals_update_the_buckets() {
        let mut index = SpatialIndex::new(100.0);
        index.upsert(id(1), square(10.0, 10.0, 50.0));
        index.upsert(id(1), square(710.0, 10.0, 50.0));
        assert_eq!(index.query(&square(0.0, 0.0, 100.0)), vec![]);
        assert_eq!(index.query(&square(700.0, 0.0, 100.0)), vec![id(1)]);
        index.remove(id(1));
        assert!(index.is_empty());
        assert!(index.canonical().is_empty());
    }

    #[test]
    fn a_huge_token_costs_no_more_than_a_few_buckets_and_is_still_found() {
        let mut index = SpatialIndex::new(100.0);
        index.upsert(id(1), square(0.0, 0.0, 1e6));
        assert_eq!(index.listed(), 0);
        assert_eq!(index.query(&square(500_000.0, 3.0, 10.0)), vec![id(1)]);
        assert_eq!(index.query(&square(-50.0, -50.0, 10.0)), vec![]);
        // Shrunk, it is listed in its buckets again; removed, it is gone.
        index.upsert(id(1), square(0.0, 0.0, 150.0));
        assert_eq!(index.listed(), 4);
        assert_eq!(index.query(&square(120.0, 120.0, 1.0)), vec![id(1)]);
        index.upsert(id(1), square(0.0, 0.0, 1e6));
        index.remove(id(1));
        assert!(index.is_empty());
        assert_eq!(index.query(&square(10.0, 10.0, 1.0)), vec![]);
    }

    #[test]
    fn negative_coordinates_work() {
        let mut index = SpatialIndex::new(64.0);
        index.upsert(id(7), square(-300.0, -20.0, 70.0));
        assert_eq!(index.query(&square(-280.0, -10.0, 5.0)), vec![id(7)]);
        assert_eq!(index.query(&square(-200.0, -10.0, 5.0)), vec![]);
    }
}
