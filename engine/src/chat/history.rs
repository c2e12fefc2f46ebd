//! Reading a chat's events a page at a time, and searching a domain's chats: pure filters
//! over what the store holds.

use super::ChatInfo;
use crate::store::{ChatEvent, ChatEventKind, ChatKind, ChatRecord};

/// The most events or chats one page holds.
pub const MAX_PAGE: usize = 1000;
/// The page size when none is asked for.
pub const DEFAULT_PAGE: usize = 50;

/// Which events of a chat to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    /// Event kinds to keep, by their filter names (`message`, `user_joined`, ...); empty
    /// keeps every kind.
    pub types: Vec<String>,
    /// Keep only messages holding this text, compared without case.
    pub text: Option<String>,
    /// The first event to read (inclusive, in the direction read); none starts at the end
    /// the direction starts from.
    pub start: Option<u64>,
    /// Oldest first (else newest first).
    pub forward: bool,
    /// Matching events to skip.
    pub offset: usize,
    /// Most events to answer (0: the default of 50; at most 1000).
    pub limit: usize,
}

/// A page of a chat's events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryPage {
    /// The events, in the order read.
    pub events: Vec<ChatEvent>,
    /// How many matching events were skipped.
    pub offset: usize,
    /// How many events match in all.
    pub total: usize,
}

impl HistoryQuery {
    fn keeps(&self, e: &ChatEvent, needle: Option<&str>) -> bool {
        if !self.types.is_empty() && !self.types.iter().any(|t| t == e.kind.filter_name()) {
            return false;
        }
        if let Some(start) = self.start {
            if (self.forward && e.number < start) || (!self.forward && e.number > start) {
                return false;
            }
        }
        match needle {
            None => true,
            Some(n) => matches!(&e.kind, ChatEventKind::Message(m) if m.to_lowercase().contains(n)),
        }
    }

    /// The page of `events` (every event of the chat, oldest first) this query asks for.
    pub(super) fn page(&self, mut events: Vec<ChatEvent>) -> HistoryPage {
        let needle = self
            .text
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase);
        events.retain(|e| self.keeps(e, needle.as_deref()));
        if !self.forward {
            events.reverse();
        }
        let total = events.len();
        let limit = match self.limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        let events = events.into_iter().skip(self.offset).take(limit).collect();
        HistoryPage {
            events,
            offset: self.offset,
            total,
        }
    }
}

/// Which chats a search finds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Text the chat's name or topic holds, compared without case (empty: any).
    pub term: String,
    /// Which fields to search: `id`, `name`, `topic` (empty: all three).
    pub fields: Vec<String>,
    /// Which kinds to keep (empty: every kind).
    pub kinds: Vec<ChatKind>,
    /// `Some(true)` keeps private chats only, `Some(false)` public ones.
    pub private: Option<bool>,
    /// Matching chats to skip.
    pub offset: usize,
    /// Most chats to answer (0: the default of 50; at most 1000).
    pub limit: usize,
}

/// A page of search results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchPage {
    /// The chats, by id.
    pub chats: Vec<ChatInfo>,
    /// How many matching chats were skipped.
    pub offset: usize,
    /// How many chats match in all.
    pub total: usize,
}

impl SearchQuery {
    /// Whether a chat matches (before the actor's right to see it is checked).
    pub(super) fn matches(&self, r: &ChatRecord) -> bool {
        if !self.kinds.is_empty() && !self.kinds.contains(&r.kind) {
            return false;
        }
        if self.private.is_some_and(|p| p != r.private) {
            return false;
        }
        if self.term.is_empty() {
            return true;
        }
        let term = self.term.to_lowercase();
        let field = |f: &str| self.fields.is_empty() || self.fields.iter().any(|x| x == f);
        (field("id") && r.id.to_lowercase().contains(&term))
            || (field("name") && r.name.to_lowercase().contains(&term))
            || (field("topic") && r.topic.to_lowercase().contains(&term))
    }

    /// The page of `matching` this query asks for.
    pub(super) fn page(&self, matching: Vec<ChatInfo>) -> SearchPage {
        let total = matching.len();
        let limit = match self.limit {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        };
        SearchPage {
            chats: matching.into_iter().skip(self.offset).take(limit).collect(),
            offset: self.offset,
            total,
        }
    }
}
