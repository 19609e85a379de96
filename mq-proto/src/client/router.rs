//! Routing of incoming messages to the handlers an adapter registered per
//! topic filter, shared by every adapter.

use alloc::vec::Vec;

use crate::codec::MqttString;
use crate::topic::matches;

/// Handlers by topic filter; a message goes to every handler whose filter matches.
///
/// ```
/// use mq_proto::client::Router;
/// let mut r = Router::default();
/// let a = r.add("sensors/+/temp".into(), "a");
/// r.add("sensors/#".into(), "b");
/// let got: Vec<_> = r.matching("sensors/1/temp").copied().collect();
/// assert_eq!(got, ["a", "b"]);
/// r.remove(a);
/// assert_eq!(r.matching("sensors/1/temp").count(), 1);
/// ```
#[derive(Debug)]
pub struct Router<H> {
    routes: Vec<(RouteId, MqttString, H)>,
    next: u64,
}

/// Names one registered handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteId(u64);

impl<H> Default for Router<H> {
    fn default() -> Self {
        Router {
            routes: Vec::new(),
            next: 0,
        }
    }
}

impl<H> Router<H> {
    /// Registers `handler` for `filter`.
    pub fn add(&mut self, filter: MqttString, handler: H) -> RouteId {
        self.next += 1;
        let id = RouteId(self.next);
        self.routes.push((id, filter, handler));
        id
    }

    /// Removes one handler.
    pub fn remove(&mut self, id: RouteId) -> Option<H> {
        let i = self.routes.iter().position(|(r, _, _)| *r == id)?;
        Some(self.routes.remove(i).2)
    }

    /// Removes every handler of `filter`.
    pub fn remove_filter(&mut self, filter: &str) {
        self.routes.retain(|(_, f, _)| f != filter);
    }

    /// The handlers whose filter matches `topic`, in registration order.
    pub fn matching<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'a H> + 'a {
        self.routes
            .iter()
            .filter(move |(_, f, _)| matches(f, topic))
            .map(|(_, _, h)| h)
    }

    /// The handler registered as `id`.
    pub fn get_mut(&mut self, id: RouteId) -> Option<&mut H> {
        self.routes
            .iter_mut()
            .find(|(r, _, _)| *r == id)
            .map(|(_, _, h)| h)
    }

    /// Number of handlers.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}
