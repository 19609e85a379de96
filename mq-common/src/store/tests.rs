//! Tests of both stores: round trips, torn and corrupt logs, crashes during
//! compaction, locking and client ids.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use mq_proto::client::{
    ActiveSubscription, RequestId, SessionSnapshot, StoreUpdate, UnknownRequest,
};
use mq_proto::{
    MqttString, PayloadFormat, ProtocolVersion, Publish, QoS, RetainHandling, SubscriptionOptions,
};
use tempfile::TempDir;

use super::codec::{put_update, Reader};
use super::log::{Header, HEADER_LEN, RECORD_HEAD};
use super::{FileStore, MemoryStore, SessionStore, StoreError};

const CLIENT: &str = "client-1";

/// A QoS 1/2 message with every property a PUBLISH from a client can carry.
fn message(n: u8, qos: QoS) -> Box<Publish> {
    let mut p = Publish::new(format!("sensors/{n}"), vec![n; usize::from(n) + 3]);
    p.qos = qos;
    p.retain = n.is_multiple_of(2);
    p.properties.payload_format_indicator = Some(PayloadFormat::Utf8);
    p.properties.message_expiry_interval = Some(600 + u32::from(n));
    p.properties.content_type = Some("text/plain".into());
    p.properties.response_topic = Some(format!("replies/{n}").into());
    p.properties.correlation_data = Some(Bytes::from(vec![0xC0, n]));
    p.properties.user_properties = vec![
        ("trace".into(), format!("t{n}").into()),
        ("k".into(), "".into()),
    ];
    Box::new(p)
}

fn subscription(filter: &str, identifier: Option<u32>) -> ActiveSubscription {
    ActiveSubscription {
        filter: filter.into(),
        options: SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            no_local: true,
            retain_as_published: true,
            retain_handling: RetainHandling::SendAtSubscribeIfNew,
        },
        subscription_identifier: identifier,
        user_properties: vec![(MqttString::from("a"), MqttString::from("b"))],
    }
}

fn queued(id: u64, qos: QoS) -> StoreUpdate {
    StoreUpdate::PublishQueued {
        id: RequestId(id),
        publish: message(id as u8, qos),
    }
}

/// Batches that use every kind of update and leave something of each kind.
fn batches() -> Vec<Vec<StoreUpdate>> {
    use StoreUpdate::*;
    vec![
        vec![queued(1, QoS::AtLeastOnce), queued(2, QoS::ExactlyOnce)],
        vec![
            PublishSent {
                id: RequestId(1),
                packet_id: 10,
            },
            PublishSent {
                id: RequestId(2),
                packet_id: 11,
            },
            IncomingQoS2Received { packet_id: 7 },
        ],
        vec![SubscriptionAdded(subscription("a/+", Some(5)))],
        vec![
            PublishReleased { id: RequestId(2) },
            queued(3, QoS::AtLeastOnce),
            IncomingQoS2Received { packet_id: 8 },
            IncomingQoS2Released { packet_id: 7 },
        ],
        vec![
            PublishCompleted { id: RequestId(1) },
            SubscriptionAdded(subscription("b/#", None)),
            SubscriptionAdded(subscription("a/+", Some(6))),
        ],
        vec![
            IncomingQoS2Cleared,
            SubscriptionRemoved {
                filter: "b/#".into(),
            },
        ],
        vec![IncomingQoS2Received { packet_id: 9 }],
    ]
}

/// What applying `batches` to an empty snapshot gives.
fn fold(batches: &[Vec<StoreUpdate>]) -> SessionSnapshot {
    let mut state = SessionSnapshot::default();
    for update in batches.iter().flatten() {
        state.apply(update.clone()).unwrap();
    }
    state
}

fn store_dir(dir: &TempDir, client: &str) -> PathBuf {
    dir.path().join(client)
}

fn file_len(path: &Path) -> usize {
    std::fs::metadata(path).unwrap().len() as usize
}

/// A store in a new directory holding `batches`, and the log length after each.
fn filled(batches: &[Vec<StoreUpdate>]) -> (TempDir, Vec<usize>) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), CLIENT).unwrap();
    let log = store_dir(&dir, CLIENT).join("log");
    let mut ends = vec![file_len(&log)];
    for batch in batches {
        store.apply(batch).unwrap();
        ends.push(file_len(&log));
    }
    (dir, ends)
}

fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x40;
    std::fs::write(path, bytes).unwrap();
}

fn corrupt_at(result: Result<FileStore, StoreError>) -> (PathBuf, u64) {
    match result {
        Err(StoreError::Corrupt { path, offset, .. }) => (path, offset),
        other => panic!("expected a corrupt store, got {other:?}"),
    }
}

#[test]
fn every_update_reads_back_as_written_and_a_cut_one_is_refused() {
    for update in batches().into_iter().flatten() {
        let mut bytes = Vec::new();
        put_update(&mut bytes, &update).unwrap();
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.update().unwrap(), update);
        assert!(reader.is_empty());
        for cut in 0..bytes.len() {
            assert!(
                Reader::new(&bytes[..cut]).update().is_err(),
                "{update:?} cut at {cut}"
            );
        }
    }
    let unknown = Reader::new(&[42]).update().unwrap_err();
    assert_eq!(
        (unknown.offset, unknown.reason.as_str()),
        (0, "unknown update kind 42")
    );
}

#[test]
fn memory_store_holds_what_the_updates_add_up_to() {
    let store = MemoryStore::new();
    assert_eq!(store.load().unwrap(), SessionSnapshot::default());
    for batch in batches() {
        store.apply(&batch).unwrap();
    }
    assert_eq!(store.load().unwrap(), fold(&batches()));
}

#[test]
fn memory_store_refuses_an_unknown_request_after_recording_what_precedes_it() {
    let store = MemoryStore::new();
    let completed = StoreUpdate::PublishCompleted { id: RequestId(9) };
    let result = store.apply(&[queued(1, QoS::AtLeastOnce), completed]);
    assert!(matches!(
        result,
        Err(StoreError::UnknownRequest(UnknownRequest(RequestId(9))))
    ));
    assert_eq!(
        store.load().unwrap(),
        fold(&[vec![queued(1, QoS::AtLeastOnce)]])
    );
}

#[test]
fn file_store_holds_the_updates_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), CLIENT).unwrap();
    assert_eq!(store.load().unwrap(), SessionSnapshot::default());
    for batch in batches() {
        store.apply(&batch).unwrap();
    }
    store.apply(&[]).unwrap();
    let expected = fold(&batches());
    assert_eq!(store.load().unwrap(), expected);
    drop(store);
    let store = FileStore::open(dir.path(), CLIENT).unwrap();
    assert_eq!(store.load().unwrap(), expected);
    assert_eq!(store.discarded_tail(), None);
}

#[test]
fn a_stored_message_comes_back_byte_for_byte() {
    let encode = |p: &Publish| {
        let mut buf = Vec::new();
        p.encode(ProtocolVersion::V5, &mut buf).unwrap();
        buf
    };
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), CLIENT).unwrap();
    // Queued only (packet identifier 0 at QoS 1), and sent at QoS 2.
    store
        .apply(&[queued(1, QoS::AtLeastOnce), queued(2, QoS::ExactlyOnce)])
        .unwrap();
    store
        .apply(&[StoreUpdate::PublishSent {
            id: RequestId(2),
            packet_id: 300,
        }])
        .unwrap();
    let mut sent = message(2, QoS::ExactlyOnce);
    sent.packet_id = 300;
    let check = |store: &FileStore| {
        let state = store.load().unwrap();
        assert_eq!(state.outgoing[0].publish, *message(1, QoS::AtLeastOnce));
        assert_eq!(state.outgoing[0].packet_id, None);
        assert_eq!(state.outgoing[1].publish, *sent);
        assert_eq!(state.outgoing[1].packet_id, Some(300));
        assert_eq!(encode(&state.outgoing[1].publish), encode(&sent));
    };
    drop(store);
    let store = FileStore::open(dir.path(), CLIENT).unwrap();
    check(&store);
    // From the snapshot too.
    store.compact_now(None).unwrap();
    drop(store);
    check(&FileStore::open(dir.path(), CLIENT).unwrap());
}

#[test]
fn a_log_cut_at_any_byte_loads_its_longest_valid_prefix() {
    let batches = batches();
    let (source, ends) = filled(&batches);
    let log = std::fs::read(store_dir(&source, CLIENT).join("log")).unwrap();
    let extra = vec![StoreUpdate::IncomingQoS2Received { packet_id: 99 }];
    let dir = tempfile::tempdir().unwrap();
    for cut in HEADER_LEN..=log.len() {
        let client = format!("cut-{cut}");
        std::fs::create_dir(store_dir(&dir, &client)).unwrap();
        let path = store_dir(&dir, &client).join("log");
        std::fs::write(&path, &log[..cut]).unwrap();
        let whole = ends.iter().rposition(|&end| end <= cut).unwrap();
        let store = FileStore::open(dir.path(), &client).unwrap();
        assert_eq!(
            store.load().unwrap(),
            fold(&batches[..whole]),
            "cut at {cut}"
        );
        assert_eq!(file_len(&path), ends[whole], "cut at {cut}");
        let discarded = (cut > ends[whole]).then(|| (cut - ends[whole]) as u64);
        assert_eq!(store.discarded_tail(), discarded, "cut at {cut}");
        store.apply(&extra).unwrap();
        drop(store);
        let mut expected = batches[..whole].to_vec();
        expected.push(extra.clone());
        let store = FileStore::open(dir.path(), &client).unwrap();
        assert_eq!(store.load().unwrap(), fold(&expected), "cut at {cut}");
        assert_eq!(store.discarded_tail(), None);
    }
}

#[test]
fn a_crash_between_any_two_steps_of_compaction_loses_nothing() {
    let batches = batches();
    let extra = vec![StoreUpdate::IncomingQoS2Received { packet_id: 99 }];
    let mut with_extra = batches.clone();
    with_extra.push(extra.clone());
    // After step 1 the temporary snapshot may also be half written; after
    // step 2 the temporary empty log may exist.
    let half_snapshot = ("snapshot.tmp", b"mq-snap\x01\x01".to_vec());
    let new_log = ("log.tmp", Header::new(1).encode().to_vec());
    let leftovers = [
        (Some(1), None),
        (Some(1), Some(half_snapshot)),
        (Some(2), None),
        (Some(2), Some(new_log)),
        (None, None),
    ];
    for (stop_after, leftover) in leftovers {
        let (dir, _) = filled(&batches);
        let store = FileStore::open(dir.path(), CLIENT).unwrap();
        store.compact_now(stop_after).unwrap();
        drop(store);
        if let Some((name, bytes)) = &leftover {
            std::fs::write(store_dir(&dir, CLIENT).join(name), bytes).unwrap();
        }
        let case = format!("stopped after {stop_after:?}, leftover {leftover:?}");
        let store = FileStore::open(dir.path(), CLIENT).unwrap();
        assert_eq!(store.load().unwrap(), fold(&batches), "{case}");
        store.apply(&extra).unwrap();
        drop(store);
        let store = FileStore::open(dir.path(), CLIENT).unwrap();
        assert_eq!(store.load().unwrap(), fold(&with_extra), "{case}");
        for name in ["snapshot.tmp", "log.tmp"] {
            assert!(!store_dir(&dir, CLIENT).join(name).exists(), "{case}");
        }
    }
}

#[test]
fn a_growing_log_is_compacted_into_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), CLIENT)
        .unwrap()
        .with_compaction_threshold(2048);
    let mut all = vec![vec![StoreUpdate::SubscriptionAdded(subscription(
        "a/+",
        Some(1),
    ))]];
    for id in 1..=200 {
        all.push(vec![queued(id, QoS::AtLeastOnce)]);
        all.push(vec![StoreUpdate::PublishCompleted { id: RequestId(id) }]);
    }
    all.push(vec![queued(201, QoS::ExactlyOnce)]);
    for batch in &all {
        store.apply(batch).unwrap();
    }
    let path = store_dir(&dir, CLIENT);
    let snapshot = file_len(&path.join("snapshot"));
    let log = file_len(&path.join("log"));
    assert!(log <= 2048 + 1024, "log of {log} bytes was not compacted");
    assert!(snapshot < 1024, "snapshot of {snapshot} bytes");
    assert_eq!(store.load().unwrap(), fold(&all));
    drop(store);
    assert_eq!(
        FileStore::open(dir.path(), CLIENT).unwrap().load().unwrap(),
        fold(&all)
    );
}

#[test]
fn a_damaged_middle_record_is_an_error_naming_its_offset() {
    let (dir, ends) = filled(&batches());
    let path = store_dir(&dir, CLIENT).join("log");
    let original = std::fs::read(&path).unwrap();
    let middle = ends[3];
    // In its payload, then in its length.
    for offset in [middle + RECORD_HEAD + 5, middle + 1] {
        std::fs::write(&path, &original).unwrap();
        flip_byte(&path, offset);
        let (file, at) = corrupt_at(FileStore::open(dir.path(), CLIENT));
        assert_eq!(
            (file, at),
            (path.clone(), middle as u64),
            "flipped byte {offset}"
        );
    }
}

#[test]
fn a_damaged_last_record_is_cut_off_as_a_torn_tail() {
    let batches = batches();
    let (dir, ends) = filled(&batches);
    let path = store_dir(&dir, CLIENT).join("log");
    let last = ends[ends.len() - 2];
    flip_byte(&path, last + RECORD_HEAD + 1);
    let store = FileStore::open(dir.path(), CLIENT).unwrap();
    assert_eq!(
        store.discarded_tail(),
        Some((ends[ends.len() - 1] - last) as u64)
    );
    assert_eq!(store.load().unwrap(), fold(&batches[..batches.len() - 1]));
    assert_eq!(file_len(&path), last);
}

#[test]
fn a_record_naming_an_unknown_request_is_an_error_on_replay() {
    let batches = [
        vec![queued(1, QoS::AtLeastOnce)],
        vec![StoreUpdate::PublishCompleted { id: RequestId(1) }],
    ];
    let (dir, ends) = filled(&batches);
    let path = store_dir(&dir, CLIENT).join("log");
    // Without the record that queued the message.
    let mut log = std::fs::read(&path).unwrap();
    log.drain(ends[0]..ends[1]);
    std::fs::write(&path, log).unwrap();
    let (file, at) = corrupt_at(FileStore::open(dir.path(), CLIENT));
    assert_eq!((file, at), (path, ends[0] as u64));
}

#[test]
fn a_damaged_or_missing_snapshot_is_an_error() {
    let (dir, _) = filled(&batches());
    FileStore::open(dir.path(), CLIENT)
        .unwrap()
        .compact_now(None)
        .unwrap();
    let path = store_dir(&dir, CLIENT).join("snapshot");
    let original = std::fs::read(&path).unwrap();
    flip_byte(&path, original.len() - 3);
    assert_eq!(corrupt_at(FileStore::open(dir.path(), CLIENT)).0, path);
    std::fs::write(&path, &original[..original.len() - 1]).unwrap();
    assert_eq!(corrupt_at(FileStore::open(dir.path(), CLIENT)).0, path);
    // The log follows a snapshot that is gone.
    std::fs::remove_file(&path).unwrap();
    let log = store_dir(&dir, CLIENT).join("log");
    assert_eq!(corrupt_at(FileStore::open(dir.path(), CLIENT)).0, log);
}

#[test]
fn file_store_refuses_an_unknown_request_after_recording_what_precedes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path(), CLIENT).unwrap();
    let completed = StoreUpdate::PublishCompleted { id: RequestId(9) };
    let updates = [
        queued(1, QoS::AtLeastOnce),
        completed,
        queued(2, QoS::AtLeastOnce),
    ];
    let result = store.apply(&updates);
    assert!(matches!(
        result,
        Err(StoreError::UnknownRequest(UnknownRequest(RequestId(9))))
    ));
    let expected = fold(&[vec![queued(1, QoS::AtLeastOnce)]]);
    assert_eq!(store.load().unwrap(), expected);
    drop(store);
    assert_eq!(
        FileStore::open(dir.path(), CLIENT).unwrap().load().unwrap(),
        expected
    );
}

#[test]
fn a_second_opener_is_refused_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let first = FileStore::open(dir.path(), CLIENT).unwrap();
    match FileStore::open(dir.path(), CLIENT) {
        Err(StoreError::Locked { path }) => assert_eq!(path, store_dir(&dir, CLIENT)),
        other => panic!("expected Locked, got {other:?}"),
    }
    // Another client's store is its own.
    FileStore::open(dir.path(), "client-2").unwrap();
    drop(first);
    FileStore::open(dir.path(), CLIENT).unwrap();
}

#[test]
fn client_ids_that_could_escape_the_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(256);
    for id in [
        "",
        ".",
        "..",
        "a/b",
        "/abs",
        "../up",
        "a\\b",
        "nul\0",
        "tab\t",
        "del\u{7f}",
        &long,
    ] {
        let result = FileStore::open(dir.path().join("stores"), id);
        assert!(matches!(result, Err(StoreError::InvalidClientId)), "{id:?}");
    }
    assert!(!dir.path().join("stores").exists());
    for id in ["...", "a.b", "émetteur 1", &long[1..]] {
        FileStore::open(dir.path(), id).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn files_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let (dir, _) = filled(&batches());
    FileStore::open(dir.path(), CLIENT)
        .unwrap()
        .compact_now(None)
        .unwrap();
    let path = store_dir(&dir, CLIENT);
    assert_eq!(mode(&path), 0o700);
    for name in ["lock", "log", "snapshot"] {
        assert_eq!(mode(&path.join(name)), 0o600, "{name}");
    }
}
