//! The same workload on rumqttc's blocking client (`--runtime blocking`):
//! `Client` and `Connection`, each connection iterated on a thread of its
//! own, one OS thread per worker. It is the blocking peer of mq-blocking's
//! `blocking_throughput`, which has the same threads.

use std::sync::{Condvar, Mutex};

/// Permits, one per worker, as in the async program's semaphore: a worker
/// takes one before each publish, the publisher's connection thread gives
/// one back per completed publish.
pub(crate) struct Permits {
    /// Free permits, and whether the run is over (no more are given).
    state: Mutex<(usize, bool)>,
    freed: Condvar,
}

impl Permits {
    pub(crate) fn new(n: usize) -> Self {
        Permits {
            state: Mutex::new((n, false)),
            freed: Condvar::new(),
        }
    }

    /// Takes a permit; false once closed.
    pub(crate) fn acquire(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match *state {
                (_, true) => return false,
                (0, false) => state = self.freed.wait(state).unwrap_or_else(|e| e.into_inner()),
                (ref mut free, false) => {
                    *free -= 1;
                    return true;
                }
            }
        }
    }

    pub(crate) fn release(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
        self.freed.notify_one();
    }

    /// Ends the run: every waiting and later `acquire` fails.
    pub(crate) fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.freed.notify_all();
    }
}

/// `run_blocking` for rumqttc's 3.1.1 and 5.0 blocking clients; expects
/// `Client`, `Connection`, `Event`, `Incoming`, `Outgoing`, `QoS`, `options`
/// and `tune` in scope.
macro_rules! blocking_workload {
    () => {
        pub(crate) fn run_blocking(args: &Args, host: &str, port: u16) -> crate::Outcome {
            use std::sync::mpsc;
            use std::time::Instant;

            use crate::blocking::Permits;

            let id = std::process::id();
            let (sub_client, mut sub_conn) = Client::new(
                options(format!("rumqttc-btp-sub-{id}"), args, host, port),
                10,
            );
            let (pub_client, mut pub_conn) = Client::new(
                options(format!("rumqttc-btp-pub-{id}"), args, host, port),
                (args.workers * 2).max(64),
            );
            tune(&mut sub_conn.eventloop);
            tune(&mut pub_conn.eventloop);
            let count = args.count;
            let setup = Duration::from_secs(30).min(args.timeout);
            let qos = match args.qos {
                0 => QoS::AtMostOnce,
                1 => QoS::AtLeastOnce,
                _ => QoS::ExactlyOnce,
            };

            // Subscriber: connect, subscribe, wait for SUBACK, then count.
            let (subscribed_tx, subscribed_rx) = mpsc::channel::<()>();
            let (done_tx, done_rx) = mpsc::channel::<(Seen, Instant)>();
            let (sub_ended_tx, sub_ended_rx) = mpsc::channel::<()>();
            let unique = Arc::new(AtomicUsize::new(0));
            let sub_failed = Arc::new(AtomicBool::new(false));
            {
                let (unique, sub_failed) = (unique.clone(), sub_failed.clone());
                std::thread::spawn(move || {
                    let mut seen = Seen::new(count);
                    let mut done = Some(done_tx);
                    for event in sub_conn.iter() {
                        match event {
                            Ok(Event::Incoming(Incoming::Publish(p))) => {
                                seen.record(&p.payload);
                                unique.store(seen.unique, Ordering::Relaxed);
                                if seen.unique >= count {
                                    if let Some(done) = done.take() {
                                        let seen = std::mem::replace(&mut seen, Seen::new(0));
                                        let _ = done.send((seen, Instant::now()));
                                    }
                                }
                            }
                            Ok(Event::Incoming(Incoming::SubAck(_))) => {
                                let _ = subscribed_tx.send(());
                            }
                            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                            Ok(_) => {}
                            Err(e) => {
                                if done.is_some() {
                                    eprintln!("subscriber: {e}");
                                    sub_failed.store(true, Ordering::Relaxed);
                                }
                                break;
                            }
                        }
                    }
                    let _ = sub_ended_tx.send(());
                });
            }
            sub_client
                .subscribe(args.topic.clone(), qos)
                .map_err(|e| format!("subscribe: {e}"))?;
            subscribed_rx
                .recv_timeout(setup)
                .map_err(|_| "the subscriber did not connect and subscribe".to_string())?;

            // Publisher: its connection thread hands a permit back per completed publish.
            let permits = Arc::new(Permits::new(args.workers));
            let (published_tx, published_rx) = mpsc::channel::<Instant>();
            let (connected_tx, connected_rx) = mpsc::channel::<()>();
            let (pub_ended_tx, pub_ended_rx) = mpsc::channel::<()>();
            let pub_failed = Arc::new(AtomicBool::new(false));
            {
                let (permits, pub_failed) = (permits.clone(), pub_failed.clone());
                let wanted = args.qos;
                std::thread::spawn(move || {
                    let mut acked = 0;
                    for event in pub_conn.iter() {
                        let completed = match event {
                            Ok(Event::Incoming(Incoming::ConnAck(_))) => {
                                let _ = connected_tx.send(());
                                false
                            }
                            Ok(Event::Incoming(Incoming::PubAck(_))) => wanted == 1,
                            Ok(Event::Incoming(Incoming::PubComp(_))) => wanted == 2,
                            Ok(Event::Outgoing(Outgoing::Publish(_))) => wanted == 0,
                            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                            Ok(_) => false,
                            Err(e) => {
                                eprintln!("publisher: {e}");
                                pub_failed.store(true, Ordering::Relaxed);
                                permits.close();
                                break;
                            }
                        };
                        if completed {
                            permits.release();
                            acked += 1;
                            if acked == count {
                                let _ = published_tx.send(Instant::now());
                            }
                        }
                    }
                    let _ = pub_ended_tx.send(());
                });
            }
            connected_rx
                .recv_timeout(setup)
                .map_err(|_| "the publisher did not connect".to_string())?;

            let run = Run::start(args);
            for w in 0..args.workers {
                // Worker w sends indices w, w + workers, w + 2 * workers, ...
                let (client, permits, topic, failed) = (
                    pub_client.clone(),
                    permits.clone(),
                    args.topic.clone(),
                    pub_failed.clone(),
                );
                let (size, step) = (args.size, args.workers);
                std::thread::spawn(move || {
                    let mut index = w;
                    while index < count && permits.acquire() {
                        if let Err(e) =
                            client.publish(topic.as_str(), qos, false, payload(index, size))
                        {
                            eprintln!("publish {index} failed: {e}");
                            failed.store(true, Ordering::Relaxed);
                            return;
                        }
                        index += step;
                    }
                });
            }
            // Checked every 100 ms: a failed publish stops the run at once.
            let published = loop {
                let now = Instant::now();
                let tick =
                    Duration::from_millis(100).min(run.deadline.saturating_duration_since(now));
                match published_rx.recv_timeout(tick) {
                    Ok(at) => break Some(at),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break None,
                    Err(_)
                        if pub_failed.load(Ordering::Relaxed) || Instant::now() >= run.deadline =>
                    {
                        break None
                    }
                    Err(_) => {}
                }
            };
            let finished = published.and_then(|_| {
                done_rx
                    .recv_timeout(run.deadline.saturating_duration_since(Instant::now()))
                    .ok()
            });
            let (seen, last) = match finished {
                Some((seen, at)) => (seen, Some(at)),
                None => {
                    let mut seen = Seen::new(0);
                    seen.unique = unique.load(Ordering::Relaxed);
                    (seen, None)
                }
            };
            // Workers still waiting for a permit return; none is left blocked
            // on a full request channel, as every publish was answered.
            permits.close();
            let _ = pub_client.disconnect();
            let _ = sub_client.disconnect();
            let grace = Duration::from_secs(5);
            let _ = pub_ended_rx.recv_timeout(grace);
            let _ = sub_ended_rx.recv_timeout(grace);
            if pub_failed.load(Ordering::Relaxed) || sub_failed.load(Ordering::Relaxed) {
                run.fail("the publisher or the subscriber failed");
            }
            Ok((run, seen, published, last))
        }
    };
}
