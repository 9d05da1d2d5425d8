//! The Kademlia routing table (BEP 5): buckets of at most [`K`] nodes over the 160-bit
//! XOR space, where only the bucket that holds our own id is ever split.
//!
//! Bucket `i` (for all but the last) holds the nodes whose id shares exactly `i` leading
//! bits with ours; the last bucket holds every node sharing at least `len - 1` bits (so it
//! is the one "holding our id"). Splitting it moves the nodes sharing more bits into a new
//! last bucket.
//!
//! Invariants (checked by the property tests in `tests/routing_table.rs`):
//! - there are 1 to 160 buckets, each holding at most [`K`] nodes and at most [`K`]
//!   replacements, every node in the bucket its shared prefix with our id selects;
//! - an id appears at most once (table and replacement caches together), and our own id
//!   never;
//! - a node merely named in someone's response ([`Contact::Named`]) enters only into free
//!   room: it never replaces a node, never waits in a replacement cache and never causes
//!   a ping; it stays questionable until it answers, and two unanswered queries make it
//!   bad (the first to be replaced), so bogus names cannot crowd out live nodes;
//! - a node's liveness follows BEP 5: *good* if it answered us within
//!   [`GOOD_FOR`], or answered us once and queried us within it; *bad* after
//!   [`BAD_AFTER_FAILURES`] unanswered queries in a row; *questionable* otherwise. Bad
//!   nodes are never handed out by [`RoutingTable::closest`], and are the first replaced.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::compact::NodeAddr;
use crate::id::{ID_LEN, NodeId};

/// Nodes per bucket.
pub const K: usize = 8;
/// How long an answer keeps a node good.
pub const GOOD_FOR: Duration = Duration::from_secs(15 * 60);
/// Unanswered queries in a row that make a node bad.
pub const BAD_AFTER_FAILURES: u8 = 2;
const MAX_BUCKETS: usize = ID_LEN * 8;

/// A node's liveness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// Answered recently.
    Good,
    /// Quiet for a while, or never answered: worth a ping before it is relied on.
    Questionable,
    /// Failed to answer several queries in a row.
    Bad,
}

/// How we heard from a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    /// It answered one of our queries.
    Response,
    /// It sent us a query.
    Query,
    /// Another node named it in a response; nothing proves it exists.
    Named,
}

/// One node in the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Id and address.
    pub node: NodeAddr,
    /// When it last answered us.
    pub last_response: Option<Instant>,
    /// When it last queried us.
    pub last_query: Option<Instant>,
    /// Unanswered queries in a row.
    pub failures: u8,
}

impl Entry {
    fn new(node: NodeAddr, now: Instant, contact: Contact) -> Self {
        let mut entry = Entry {
            node,
            last_response: None,
            last_query: None,
            failures: 0,
        };
        entry.heard(now, contact);
        entry
    }

    fn heard(&mut self, now: Instant, contact: Contact) {
        match contact {
            Contact::Response => {
                self.last_response = Some(now);
                self.failures = 0;
            }
            Contact::Query => self.last_query = Some(now),
            Contact::Named => {}
        }
    }

    /// Its liveness at `now`.
    pub fn liveness(&self, now: Instant) -> Liveness {
        let recent =
            |t: Option<Instant>| t.is_some_and(|t| now.saturating_duration_since(t) < GOOD_FOR);
        if self.failures >= BAD_AFTER_FAILURES {
            Liveness::Bad
        } else if recent(self.last_response)
            || (self.last_response.is_some() && recent(self.last_query))
        {
            Liveness::Good
        } else {
            Liveness::Questionable
        }
    }
}

/// One bucket.
#[derive(Clone, Debug)]
pub struct Bucket {
    nodes: Vec<Entry>,
    /// Nodes that would join if a place were free, newest last.
    replacements: Vec<Entry>,
    /// When a node last joined, answered or was replaced here: buckets quiet for
    /// [`GOOD_FOR`] are refreshed by a lookup.
    pub last_changed: Instant,
}

impl Bucket {
    fn new(now: Instant) -> Self {
        Bucket {
            nodes: Vec::with_capacity(K),
            replacements: Vec::new(),
            last_changed: now,
        }
    }

    /// Its nodes.
    pub fn nodes(&self) -> &[Entry] {
        &self.nodes
    }

    /// Its replacement cache.
    pub fn replacements(&self) -> &[Entry] {
        &self.replacements
    }
}

/// What [`RoutingTable::heard_from`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// The node was known; its times were updated.
    Updated,
    /// The node joined the table.
    Added,
    /// The bucket is full of nodes that may be alive: the node waits in the replacement
    /// cache, and these questionable nodes should be pinged (a ping that fails twice makes
    /// room through [`RoutingTable::failed`]).
    Pending(Vec<NodeAddr>),
    /// The bucket is full of good nodes (or the node is us, or claims a known id from
    /// another address): nothing changed.
    Ignored,
}

/// The table.
#[derive(Clone, Debug)]
pub struct RoutingTable {
    own: NodeId,
    buckets: Vec<Bucket>,
}

impl RoutingTable {
    /// An empty table for a node with id `own`.
    pub fn new(own: NodeId, now: Instant) -> Self {
        RoutingTable {
            own,
            buckets: vec![Bucket::new(now)],
        }
    }

    /// Our id.
    pub fn own_id(&self) -> NodeId {
        self.own
    }

    /// The buckets, from farthest (no shared prefix) to the one holding our id.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// Nodes in the table (replacements not counted).
    pub fn len(&self) -> usize {
        self.buckets.iter().map(|b| b.nodes.len()).sum()
    }

    /// Whether the table holds no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many nodes are good, questionable and bad at `now`.
    pub fn counts(&self, now: Instant) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for entry in self.buckets.iter().flat_map(|b| &b.nodes) {
            match entry.liveness(now) {
                Liveness::Good => counts.0 += 1,
                Liveness::Questionable => counts.1 += 1,
                Liveness::Bad => counts.2 += 1,
            }
        }
        counts
    }

    /// The index of the bucket `id` belongs in.
    pub fn bucket_index(&self, id: &NodeId) -> usize {
        self.own.shared_prefix(id).min(self.buckets.len() - 1)
    }

    /// The entry for `id`, if it is in the table.
    pub fn get(&self, id: &NodeId) -> Option<&Entry> {
        let bucket = &self.buckets[self.bucket_index(id)];
        bucket.nodes.iter().find(|e| e.node.id == *id)
    }

    /// Records that `node` answered us or queried us at `now`, adding it if there is
    /// room, splitting the bucket holding our id if that makes room.
    pub fn heard_from(&mut self, node: NodeAddr, now: Instant, contact: Contact) -> Inserted {
        if node.id == self.own {
            return Inserted::Ignored;
        }
        loop {
            let index = self.bucket_index(&node.id);
            let last = index == self.buckets.len() - 1;
            let bucket = &mut self.buckets[index];
            if let Some(entry) = bucket.nodes.iter_mut().find(|e| e.node.id == node.id) {
                if entry.node.addr != node.addr {
                    // Someone else claims this id; keep the node we know.
                    return Inserted::Ignored;
                }
                if contact == Contact::Named {
                    return Inserted::Ignored;
                }
                entry.heard(now, contact);
                if contact == Contact::Response {
                    bucket.last_changed = now;
                }
                return Inserted::Updated;
            }
            let waiting = bucket
                .replacements
                .iter()
                .position(|e| e.node.id == node.id);
            if let Some(at) = waiting
                && bucket.replacements[at].node.addr != node.addr
            {
                return Inserted::Ignored;
            }
            if bucket.nodes.len() < K {
                let mut entry = Entry::new(node, now, contact);
                if let Some(at) = waiting {
                    let old = bucket.replacements.remove(at);
                    entry.last_response = entry.last_response.max(old.last_response);
                    entry.last_query = entry.last_query.max(old.last_query);
                }
                bucket.nodes.push(entry);
                bucket.last_changed = now;
                return Inserted::Added;
            }
            if last && self.buckets.len() < MAX_BUCKETS {
                self.split_last(now);
                continue;
            }
            if contact == Contact::Named {
                return Inserted::Ignored;
            }
            let bucket = &mut self.buckets[index];
            if let Some(bad) = bucket
                .nodes
                .iter()
                .position(|e| e.liveness(now) == Liveness::Bad)
            {
                if let Some(at) = waiting {
                    bucket.replacements.remove(at);
                }
                bucket.nodes[bad] = Entry::new(node, now, contact);
                bucket.last_changed = now;
                return Inserted::Added;
            }
            let questionable: Vec<NodeAddr> = bucket
                .nodes
                .iter()
                .filter(|e| e.liveness(now) == Liveness::Questionable)
                .map(|e| e.node)
                .collect();
            if questionable.is_empty() {
                return Inserted::Ignored;
            }
            match waiting {
                Some(at) => bucket.replacements[at].heard(now, contact),
                None => {
                    if bucket.replacements.len() == K {
                        bucket.replacements.remove(0);
                    }
                    bucket.replacements.push(Entry::new(node, now, contact));
                }
            }
            return Inserted::Pending(questionable);
        }
    }

    fn split_last(&mut self, now: Instant) {
        let depth = self.buckets.len() - 1;
        let own = self.own;
        let last = self.buckets.last_mut().expect("at least one bucket");
        let (deeper, stay): (Vec<Entry>, Vec<Entry>) = last
            .nodes
            .drain(..)
            .partition(|e| own.shared_prefix(&e.node.id) > depth);
        let (deeper_r, stay_r): (Vec<Entry>, Vec<Entry>) = last
            .replacements
            .drain(..)
            .partition(|e| own.shared_prefix(&e.node.id) > depth);
        last.nodes = stay;
        last.replacements = stay_r;
        let mut new = Bucket::new(now);
        new.nodes = deeper;
        new.replacements = deeper_r;
        self.buckets.push(new);
    }

    /// Records that `id` did not answer a query. A node that becomes bad gives its place
    /// to the newest replacement that is not bad itself; returns whether it was removed.
    pub fn failed(&mut self, id: &NodeId, now: Instant) -> bool {
        let index = self.bucket_index(id);
        let bucket = &mut self.buckets[index];
        if let Some(at) = bucket.replacements.iter().position(|e| e.node.id == *id) {
            bucket.replacements.remove(at);
            return false;
        }
        let Some(at) = bucket.nodes.iter().position(|e| e.node.id == *id) else {
            return false;
        };
        let entry = &mut bucket.nodes[at];
        entry.failures = entry.failures.saturating_add(1);
        if entry.liveness(now) != Liveness::Bad {
            return false;
        }
        match bucket.replacements.pop() {
            Some(replacement) => {
                bucket.nodes[at] = replacement;
                bucket.last_changed = now;
                true
            }
            None => false,
        }
    }

    /// Up to `count` non-bad nodes closest to `target`, closest first.
    pub fn closest(&self, target: &NodeId, count: usize, now: Instant) -> Vec<NodeAddr> {
        let mut all: Vec<(&Entry, [u8; ID_LEN])> = self
            .buckets
            .iter()
            .flat_map(|b| &b.nodes)
            .filter(|e| e.liveness(now) != Liveness::Bad)
            .map(|e| (e, e.node.id.distance(target)))
            .collect();
        if all.len() > count && count > 0 {
            all.select_nth_unstable_by(count - 1, |a, b| a.1.cmp(&b.1));
            all.truncate(count);
        }
        all.sort_unstable_by_key(|a| a.1);
        all.truncate(count);
        all.into_iter().map(|(e, _)| e.node).collect()
    }

    /// Every node in the table, bucket by bucket (for saving).
    pub fn nodes(&self) -> impl Iterator<Item = &Entry> {
        self.buckets.iter().flat_map(|b| &b.nodes)
    }

    /// Buckets not changed since `now - GOOD_FOR`, by index.
    pub fn stale_buckets(&self, now: Instant) -> impl Iterator<Item = usize> + '_ {
        self.buckets
            .iter()
            .enumerate()
            .filter(move |(_, b)| now.saturating_duration_since(b.last_changed) >= GOOD_FOR)
            .map(|(i, _)| i)
    }

    /// Marks bucket `index` as refreshed at `now` (a lookup into it was started).
    pub fn touch_bucket(&mut self, index: usize, now: Instant) {
        if let Some(bucket) = self.buckets.get_mut(index) {
            bucket.last_changed = now;
        }
    }

    /// Whether a node with this address is in the table (under any id).
    pub fn contains_addr(&self, addr: &SocketAddr) -> bool {
        self.nodes().any(|e| e.node.addr == *addr)
    }
}
