//! Properties of the codec: any bytes decode without panicking, every packet round-trips, and
//! how the bytes are chunked on the way in never changes what is decoded.

use bytes::{Bytes, BytesMut};
use presso_mqtt::QoS;
use presso_mqtt::codec::{
    self, Connect, ConnectReturnCode, Packet, Publish, SubscribeReturnCode, Will,
};
use proptest::prelude::*;

const MAX: usize = 128 * 1024;

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn text() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,12}"
}

fn topic() -> impl Strategy<Value = String> {
    "[^\u{0}+#]{1,12}"
}

fn filter() -> impl Strategy<Value = String> {
    "[^\u{0}]{1,12}"
}

fn binary() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..48).prop_map(Bytes::from)
}

fn packet_id() -> impl Strategy<Value = u16> {
    1..=u16::MAX
}

fn connect() -> impl Strategy<Value = Packet> {
    let will =
        (topic(), binary(), qos(), any::<bool>()).prop_map(|(topic, message, qos, retain)| Will {
            topic,
            message,
            qos,
            retain,
        });
    (
        any::<bool>(),
        any::<u16>(),
        text(),
        proptest::option::of(will),
        proptest::option::of(text()),
        proptest::option::of(binary()),
    )
        .prop_map(
            |(clean_session, keep_alive, client_id, will, username, password)| {
                Packet::Connect(Connect {
                    clean_session,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password,
                })
            },
        )
}

fn publish() -> impl Strategy<Value = Packet> {
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic(),
        packet_id(),
        binary(),
    )
        .prop_map(|(qos, dup, retain, topic, id, payload)| {
            let at_least_once = qos != QoS::AtMostOnce;
            Packet::Publish(Publish {
                dup: dup && at_least_once,
                qos,
                retain,
                topic,
                packet_id: at_least_once.then_some(id),
                payload,
            })
        })
}

fn return_code() -> impl Strategy<Value = ConnectReturnCode> {
    prop_oneof![
        Just(ConnectReturnCode::Accepted),
        Just(ConnectReturnCode::UnacceptableProtocolVersion),
        Just(ConnectReturnCode::IdentifierRejected),
        Just(ConnectReturnCode::ServerUnavailable),
        Just(ConnectReturnCode::BadUsernameOrPassword),
        Just(ConnectReturnCode::NotAuthorized),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    let suback_code = prop_oneof![
        qos().prop_map(SubscribeReturnCode::Granted),
        Just(SubscribeReturnCode::Failure)
    ];
    prop_oneof![
        connect(),
        (any::<bool>(), return_code()).prop_map(|(session_present, code)| Packet::ConnAck {
            session_present,
            code
        }),
        publish(),
        packet_id().prop_map(Packet::PubAck),
        packet_id().prop_map(Packet::PubRec),
        packet_id().prop_map(Packet::PubRel),
        packet_id().prop_map(Packet::PubComp),
        (
            packet_id(),
            proptest::collection::vec((filter(), qos()), 1..5)
        )
            .prop_map(|(packet_id, filters)| Packet::Subscribe { packet_id, filters }),
        (packet_id(), proptest::collection::vec(suback_code, 0..5))
            .prop_map(|(packet_id, codes)| Packet::SubAck { packet_id, codes }),
        (packet_id(), proptest::collection::vec(filter(), 1..5))
            .prop_map(|(packet_id, filters)| Packet::Unsubscribe { packet_id, filters }),
        packet_id().prop_map(Packet::UnsubAck),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        Just(Packet::Disconnect),
    ]
}

/// Decodes until the buffer runs dry or an error; never panics, never loops forever.
fn decode_everything(mut buf: BytesMut, max: usize) -> Vec<Packet> {
    let mut packets = Vec::new();
    while let Ok(Some(packet)) = codec::decode(&mut buf, max) {
        packets.push(packet);
    }
    packets
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_the_decoder(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        max in 0usize..512,
    ) {
        decode_everything(BytesMut::from(&bytes[..]), max);
    }

    #[test]
    fn random_bodies_behind_valid_headers_never_panic_the_decoder(
        first in any::<u8>(),
        body in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        // A correct fixed header makes the decoder read the body, where most checks live.
        let mut bytes = vec![first, body.len() as u8];
        bytes.extend_from_slice(&body);
        decode_everything(BytesMut::from(&bytes[..]), MAX);
    }

    #[test]
    fn every_packet_survives_an_encode_decode_round_trip(packet in packet()) {
        let mut buf = BytesMut::new();
        packet.encode(&mut buf);
        prop_assert_eq!(codec::decode(&mut buf, MAX), Ok(Some(packet)));
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn chunking_never_changes_what_is_decoded(
        packets in proptest::collection::vec(packet(), 1..6),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut wire = BytesMut::new();
        for packet in &packets {
            packet.encode(&mut wire);
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        cuts.push(wire.len());
        cuts.sort_unstable();
        let mut buf = BytesMut::new();
        let mut decoded = Vec::new();
        let mut from = 0;
        for to in cuts {
            buf.extend_from_slice(&wire[from..to]);
            from = to;
            while let Some(packet) = codec::decode(&mut buf, MAX).expect("valid stream") {
                decoded.push(packet);
            }
        }
        prop_assert_eq!(decoded, packets);
    }
}
