//! Message and request flow scenarios.
