//! The user's own transport, as each async adapter names it: a `Stream`
//! trait over the runtime's I/O traits and a `Connector` that opens one.
//! The shape is the same everywhere, only the I/O traits differ, so it is
//! written once here as a macro.

/// Defines `Stream`, `BoxStream`, `ConnectFuture` and `Connector` over the
/// I/O traits `$read` and `$write` (tokio's, or futures-io's), with the
/// `Connector` docs given first (each adapter shows its own example), and
/// `open_connector`, which opens a connector's stream as the driver's
/// transport through the adapter's wrapper `$transport`.
#[macro_export]
macro_rules! connector_types {
    ($read:path, $write:path, $transport:path, $(#[$connector_doc:meta])*) => {
        /// A bidirectional byte stream to a broker.
        pub trait Stream: $read + $write + Unpin + Send + 'static {}
        impl<T: $read + $write + Unpin + Send + 'static> Stream for T {}

        /// A boxed [`Stream`].
        pub type BoxStream = Box<dyn Stream>;

        /// The future a [`Connector`] returns.
        pub type ConnectFuture<'a> = std::pin::Pin<
            Box<dyn std::future::Future<Output = std::io::Result<BoxStream>> + Send + 'a>,
        >;

        $(#[$connector_doc])*
        pub trait Connector: Send + Sync + 'static {
            /// Opens a new stream.
            fn connect(&self) -> ConnectFuture<'_>;
        }

        impl<F, Fut, S> Connector for F
        where
            F: Fn() -> Fut + Send + Sync + 'static,
            Fut: std::future::Future<Output = std::io::Result<S>> + Send + 'static,
            S: Stream,
        {
            fn connect(&self) -> ConnectFuture<'_> {
                let fut = self();
                Box::pin(async move { Ok(Box::new(fut.await?) as BoxStream) })
            }
        }

        /// `connector` as the driver opens it: its stream as the driver's transport.
        pub(crate) fn open_connector(connector: impl Connector) -> $crate::runtime::OpenConnector {
            let connector = std::sync::Arc::new(connector);
            Box::new(move || {
                let connector = connector.clone();
                Box::pin(async move {
                    let stream = connector.connect().await?;
                    Ok(Box::new($transport(stream)) as $crate::runtime::BoxTransport)
                })
            })
        }
    };
}
