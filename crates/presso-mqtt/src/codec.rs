//! MQTT 3.1.1 control packets and their wire format (OASIS MQTT 3.1.1, chapter 2 and 3).
//!
//! [`decode`] takes bytes from a growing buffer and yields whole packets; it never panics and never
//! buffers past the size limit: the limit is checked as soon as the fixed header is read, so a peer
//! announcing a huge packet is refused before its body arrives. [`Packet::encode`] writes any packet,
//! which lets tests play the client side and check round trips.
//!
//! The decoder is strict where the specification says a packet is malformed (reserved flags,
//! invalid UTF-8, U+0000 in strings, packet identifier 0, empty filter lists, wildcards in topic
//! names): the session closes the connection on any [`DecodeError`]. It must never allocate more
//! than the announced packet size.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The largest remaining length the four-byte variable integer can express.
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// The protocol level of MQTT 3.1.1 in CONNECT.
pub const PROTOCOL_LEVEL_3_1_1: u8 = 4;

/// Quality of service of a publication or a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for a two-bit wire value; 3 is not a QoS.
    pub fn from_u8(value: u8) -> Option<QoS> {
        match value {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// CONNACK return codes (MQTT 3.1.1 table 3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectReturnCode {
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUsernameOrPassword = 4,
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    fn from_u8(value: u8) -> Option<ConnectReturnCode> {
        Some(match value {
            0 => ConnectReturnCode::Accepted,
            1 => ConnectReturnCode::UnacceptableProtocolVersion,
            2 => ConnectReturnCode::IdentifierRejected,
            3 => ConnectReturnCode::ServerUnavailable,
            4 => ConnectReturnCode::BadUsernameOrPassword,
            5 => ConnectReturnCode::NotAuthorized,
            _ => return None,
        })
    }
}

/// One entry of a SUBACK: the granted QoS or failure (0x80).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscribeReturnCode {
    Granted(QoS),
    Failure,
}

impl SubscribeReturnCode {
    fn to_u8(self) -> u8 {
        match self {
            SubscribeReturnCode::Granted(qos) => qos as u8,
            SubscribeReturnCode::Failure => 0x80,
        }
    }
}

/// The last will a client asks for in CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Will {
    pub topic: String,
    pub message: Bytes,
    pub qos: QoS,
    pub retain: bool,
}

/// A CONNECT packet at protocol level 4 (other levels are reported as
/// [`DecodeError::UnsupportedProtocolLevel`], so the server can answer them with CONNACK 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    pub clean_session: bool,
    pub keep_alive: u16,
    pub client_id: String,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Bytes>,
}

/// A PUBLISH packet; `packet_id` is present exactly when `qos` is above 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    pub topic: String,
    pub packet_id: Option<u16>,
    pub payload: Bytes,
}

/// Every MQTT 3.1.1 control packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    Connect(Connect),
    ConnAck {
        session_present: bool,
        code: ConnectReturnCode,
    },
    Publish(Publish),
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe {
        packet_id: u16,
        filters: Vec<(String, QoS)>,
    },
    SubAck {
        packet_id: u16,
        codes: Vec<SubscribeReturnCode>,
    },
    Unsubscribe {
        packet_id: u16,
        filters: Vec<String>,
    },
    UnsubAck(u16),
    PingReq,
    PingResp,
    Disconnect,
}

/// Why bytes are not a valid MQTT 3.1.1 packet.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("the remaining length is longer than four bytes")]
    MalformedRemainingLength,
    #[error("a packet of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("packet type {0} is reserved")]
    ReservedPacketType(u8),
    #[error("fixed-header flags {flags:#06b} are invalid for packet type {packet_type}")]
    InvalidFlags { packet_type: u8, flags: u8 },
    #[error("the packet ends before its fields do")]
    Truncated,
    #[error("the packet has {0} bytes after its last field")]
    TrailingBytes(usize),
    #[error("a string is not valid UTF-8")]
    InvalidUtf8,
    #[error("a string contains U+0000")]
    NullCharacter,
    #[error("QoS 3 is not a quality of service")]
    InvalidQoS,
    #[error("protocol name {0:?} is not MQTT")]
    InvalidProtocolName(String),
    #[error("protocol level {0} is not supported (only MQTT 3.1.1, level 4)")]
    UnsupportedProtocolLevel(u8),
    #[error("the reserved CONNECT flag is set")]
    ReservedConnectFlag,
    #[error("will QoS or will retain is set without a will")]
    InvalidWillFlags,
    #[error("packet identifier 0 is not allowed")]
    ZeroPacketId,
    #[error("a SUBSCRIBE or UNSUBSCRIBE carries no topic filter")]
    NoTopicFilters,
    #[error("a topic name or filter is empty")]
    EmptyTopic,
    #[error("a PUBLISH topic name contains a wildcard")]
    WildcardInTopicName,
    #[error("the DUP flag is set on a QoS 0 PUBLISH")]
    DupOnQoS0,
    #[error("reserved bits are set in a subscription's options")]
    InvalidSubscriptionOptions,
    #[error("a CONNACK or SUBACK carries an unknown return code {0:#x}")]
    InvalidReturnCode(u8),
}

/// Decodes the next whole packet from the front of `buf`, removing its bytes.
///
/// `Ok(None)` means more bytes are needed. A packet whose total size (fixed header included)
/// exceeds `max_packet_size` is an error as soon as its length is known.
pub fn decode(buf: &mut BytesMut, max_packet_size: usize) -> Result<Option<Packet>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let packet_type = first >> 4;
    let flags = first & 0x0f;
    if packet_type == 0 || packet_type == 15 {
        return Err(DecodeError::ReservedPacketType(packet_type));
    }
    let mut remaining: usize = 0;
    let mut header_len = 1;
    loop {
        let Some(&byte) = buf.get(header_len) else {
            return Ok(None);
        };
        remaining |= usize::from(byte & 0x7f) << (7 * (header_len - 1));
        header_len += 1;
        if byte & 0x80 == 0 {
            break;
        }
        if header_len == 5 {
            return Err(DecodeError::MalformedRemainingLength);
        }
    }
    let size = header_len + remaining;
    if size > max_packet_size {
        return Err(DecodeError::TooLarge {
            size,
            max: max_packet_size,
        });
    }
    if buf.len() < size {
        buf.reserve(size - buf.len());
        return Ok(None);
    }
    let mut packet = buf.split_to(size).freeze();
    packet.advance(header_len);
    decode_body(packet_type, flags, packet).map(Some)
}

fn decode_body(packet_type: u8, flags: u8, body: Bytes) -> Result<Packet, DecodeError> {
    let expect_flags = |expected: u8| {
        if flags == expected {
            Ok(())
        } else {
            Err(DecodeError::InvalidFlags { packet_type, flags })
        }
    };
    let mut r = Reader(body);
    let packet = match packet_type {
        1 => {
            expect_flags(0)?;
            Packet::Connect(decode_connect(&mut r)?)
        }
        2 => {
            expect_flags(0)?;
            let ack_flags = r.u8()?;
            if ack_flags & 0xfe != 0 {
                return Err(DecodeError::InvalidFlags {
                    packet_type,
                    flags: ack_flags,
                });
            }
            let code = r.u8()?;
            Packet::ConnAck {
                session_present: ack_flags & 1 == 1,
                code: ConnectReturnCode::from_u8(code)
                    .ok_or(DecodeError::InvalidReturnCode(code))?,
            }
        }
        3 => Packet::Publish(decode_publish(flags, &mut r)?),
        4 => {
            expect_flags(0)?;
            Packet::PubAck(r.packet_id()?)
        }
        5 => {
            expect_flags(0)?;
            Packet::PubRec(r.packet_id()?)
        }
        6 => {
            expect_flags(0b0010)?;
            Packet::PubRel(r.packet_id()?)
        }
        7 => {
            expect_flags(0)?;
            Packet::PubComp(r.packet_id()?)
        }
        8 => {
            expect_flags(0b0010)?;
            let packet_id = r.packet_id()?;
            let mut filters = Vec::new();
            while !r.is_empty() {
                let filter = r.topic()?;
                let options = r.u8()?;
                if options & 0xfc != 0 {
                    return Err(DecodeError::InvalidSubscriptionOptions);
                }
                let qos = QoS::from_u8(options).ok_or(DecodeError::InvalidQoS)?;
                filters.push((filter, qos));
            }
            if filters.is_empty() {
                return Err(DecodeError::NoTopicFilters);
            }
            Packet::Subscribe { packet_id, filters }
        }
        9 => {
            expect_flags(0)?;
            let packet_id = r.packet_id()?;
            let mut codes = Vec::new();
            while !r.is_empty() {
                let code = r.u8()?;
                codes.push(match code {
                    0x80 => SubscribeReturnCode::Failure,
                    _ => SubscribeReturnCode::Granted(
                        QoS::from_u8(code).ok_or(DecodeError::InvalidReturnCode(code))?,
                    ),
                });
            }
            Packet::SubAck { packet_id, codes }
        }
        10 => {
            expect_flags(0b0010)?;
            let packet_id = r.packet_id()?;
            let mut filters = Vec::new();
            while !r.is_empty() {
                filters.push(r.topic()?);
            }
            if filters.is_empty() {
                return Err(DecodeError::NoTopicFilters);
            }
            Packet::Unsubscribe { packet_id, filters }
        }
        11 => {
            expect_flags(0)?;
            Packet::UnsubAck(r.packet_id()?)
        }
        12 => {
            expect_flags(0)?;
            Packet::PingReq
        }
        13 => {
            expect_flags(0)?;
            Packet::PingResp
        }
        14 => {
            expect_flags(0)?;
            Packet::Disconnect
        }
        other => return Err(DecodeError::ReservedPacketType(other)),
    };
    r.finish()?;
    Ok(packet)
}

fn decode_connect(r: &mut Reader) -> Result<Connect, DecodeError> {
    let name = r.string()?;
    let level = r.u8()?;
    match (name.as_str(), level) {
        ("MQTT", PROTOCOL_LEVEL_3_1_1) => {}
        // MQTT 3.1 ("MQIsdp", level 3) and MQTT 5 ("MQTT", level 5) clients both understand a
        // 3.1.1 CONNACK with return code 1, so they learn why they were turned away.
        ("MQTT" | "MQIsdp", _) => return Err(DecodeError::UnsupportedProtocolLevel(level)),
        _ => return Err(DecodeError::InvalidProtocolName(name)),
    }
    let flags = r.u8()?;
    if flags & 0x01 != 0 {
        return Err(DecodeError::ReservedConnectFlag);
    }
    let clean_session = flags & 0x02 != 0;
    let will_flag = flags & 0x04 != 0;
    let will_qos = QoS::from_u8((flags >> 3) & 0x03).ok_or(DecodeError::InvalidQoS)?;
    let will_retain = flags & 0x20 != 0;
    let has_password = flags & 0x40 != 0;
    let has_username = flags & 0x80 != 0;
    if !will_flag && (will_qos != QoS::AtMostOnce || will_retain) {
        return Err(DecodeError::InvalidWillFlags);
    }
    let keep_alive = r.u16()?;
    let client_id = r.string()?;
    let will = if will_flag {
        let topic = r.topic()?;
        let message = r.binary()?;
        Some(Will {
            topic,
            message,
            qos: will_qos,
            retain: will_retain,
        })
    } else {
        None
    };
    let username = if has_username {
        Some(r.string()?)
    } else {
        None
    };
    // MQTT 3.1.1 forbids a password without a user name, but MQTT 5 and several clients send one
    // (a token as the only credential); accepting it costs nothing and refuses no honest client.
    let password = if has_password {
        Some(r.binary()?)
    } else {
        None
    };
    Ok(Connect {
        clean_session,
        keep_alive,
        client_id,
        will,
        username,
        password,
    })
}

fn decode_publish(flags: u8, r: &mut Reader) -> Result<Publish, DecodeError> {
    let dup = flags & 0x08 != 0;
    let qos = QoS::from_u8((flags >> 1) & 0x03).ok_or(DecodeError::InvalidQoS)?;
    let retain = flags & 0x01 != 0;
    if dup && qos == QoS::AtMostOnce {
        return Err(DecodeError::DupOnQoS0);
    }
    let topic = r.topic()?;
    if topic.contains(['+', '#']) {
        return Err(DecodeError::WildcardInTopicName);
    }
    let packet_id = if qos == QoS::AtMostOnce {
        None
    } else {
        Some(r.packet_id()?)
    };
    Ok(Publish {
        dup,
        qos,
        retain,
        topic,
        packet_id,
        payload: r.rest(),
    })
}

/// A cursor over one packet's body; every read checks the bounds.
struct Reader(Bytes);

impl Reader {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        if self.0.is_empty() {
            return Err(DecodeError::Truncated);
        }
        Ok(self.0.get_u8())
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        if self.0.len() < 2 {
            return Err(DecodeError::Truncated);
        }
        Ok(self.0.get_u16())
    }

    fn packet_id(&mut self) -> Result<u16, DecodeError> {
        match self.u16()? {
            0 => Err(DecodeError::ZeroPacketId),
            id => Ok(id),
        }
    }

    fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = usize::from(self.u16()?);
        if self.0.len() < len {
            return Err(DecodeError::Truncated);
        }
        Ok(self.0.split_to(len))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let raw = self.binary()?;
        let text = std::str::from_utf8(&raw).map_err(|_| DecodeError::InvalidUtf8)?;
        if text.contains('\0') {
            return Err(DecodeError::NullCharacter);
        }
        Ok(text.to_owned())
    }

    fn topic(&mut self) -> Result<String, DecodeError> {
        let topic = self.string()?;
        if topic.is_empty() {
            return Err(DecodeError::EmptyTopic);
        }
        Ok(topic)
    }

    fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.0)
    }

    fn finish(self) -> Result<(), DecodeError> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

impl Packet {
    /// Appends the packet's wire form to `out`.
    ///
    /// Strings and binaries longer than 65,535 bytes cannot be expressed and are the caller's bug;
    /// they are truncated rather than panicking. The broker only encodes what it decoded or checked.
    pub fn encode(&self, out: &mut BytesMut) {
        let mut body = BytesMut::new();
        let first: u8 = match self {
            Packet::Connect(c) => {
                put_binary(&mut body, b"MQTT");
                body.put_u8(PROTOCOL_LEVEL_3_1_1);
                let mut flags = 0u8;
                if c.clean_session {
                    flags |= 0x02;
                }
                if let Some(will) = &c.will {
                    flags |= 0x04 | ((will.qos as u8) << 3);
                    if will.retain {
                        flags |= 0x20;
                    }
                }
                if c.password.is_some() {
                    flags |= 0x40;
                }
                if c.username.is_some() {
                    flags |= 0x80;
                }
                body.put_u8(flags);
                body.put_u16(c.keep_alive);
                put_binary(&mut body, c.client_id.as_bytes());
                if let Some(will) = &c.will {
                    put_binary(&mut body, will.topic.as_bytes());
                    put_binary(&mut body, &will.message);
                }
                if let Some(username) = &c.username {
                    put_binary(&mut body, username.as_bytes());
                }
                if let Some(password) = &c.password {
                    put_binary(&mut body, password);
                }
                0x10
            }
            Packet::ConnAck {
                session_present,
                code,
            } => {
                body.put_u8(u8::from(*session_present));
                body.put_u8(*code as u8);
                0x20
            }
            Packet::Publish(p) => {
                put_binary(&mut body, p.topic.as_bytes());
                if let Some(id) = p.packet_id {
                    body.put_u16(id);
                }
                body.put_slice(&p.payload);
                0x30 | (u8::from(p.dup) << 3) | ((p.qos as u8) << 1) | u8::from(p.retain)
            }
            Packet::PubAck(id) => {
                body.put_u16(*id);
                0x40
            }
            Packet::PubRec(id) => {
                body.put_u16(*id);
                0x50
            }
            Packet::PubRel(id) => {
                body.put_u16(*id);
                0x62
            }
            Packet::PubComp(id) => {
                body.put_u16(*id);
                0x70
            }
            Packet::Subscribe { packet_id, filters } => {
                body.put_u16(*packet_id);
                for (filter, qos) in filters {
                    put_binary(&mut body, filter.as_bytes());
                    body.put_u8(*qos as u8);
                }
                0x82
            }
            Packet::SubAck { packet_id, codes } => {
                body.put_u16(*packet_id);
                for code in codes {
                    body.put_u8(code.to_u8());
                }
                0x90
            }
            Packet::Unsubscribe { packet_id, filters } => {
                body.put_u16(*packet_id);
                for filter in filters {
                    put_binary(&mut body, filter.as_bytes());
                }
                0xa2
            }
            Packet::UnsubAck(id) => {
                body.put_u16(*id);
                0xb0
            }
            Packet::PingReq => 0xc0,
            Packet::PingResp => 0xd0,
            Packet::Disconnect => 0xe0,
        };
        out.reserve(5 + body.len());
        out.put_u8(first);
        put_remaining_length(out, body.len());
        out.put_slice(&body);
    }

    /// The packet's wire form as one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }
}

/// The head of a PUBLISH up to (not including) its packet identifier, for QoS 1 deliveries that
/// share one topic and payload but need a packet identifier per subscriber.
pub(crate) fn publish_head(topic: &str, qos: QoS, payload_len: usize) -> Bytes {
    let id_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
    let remaining = 2 + topic.len() + id_len + payload_len;
    let mut out = BytesMut::with_capacity(5 + 2 + topic.len());
    out.put_u8(0x30 | ((qos as u8) << 1));
    put_remaining_length(&mut out, remaining);
    put_binary(&mut out, topic.as_bytes());
    out.freeze()
}

/// The size on the wire of a PUBLISH with this topic and payload length.
pub(crate) fn publish_size(topic_len: usize, qos: QoS, payload_len: usize) -> usize {
    let id_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
    let remaining = 2 + topic_len + id_len + payload_len;
    1 + remaining_length_len(remaining) + remaining
}

fn remaining_length_len(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

fn put_remaining_length(out: &mut BytesMut, len: usize) {
    let mut len = len.min(MAX_REMAINING_LENGTH);
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if len == 0 {
            break;
        }
    }
}

fn put_binary(out: &mut BytesMut, data: &[u8]) {
    let len = data.len().min(usize::from(u16::MAX));
    out.put_u16(len as u16);
    out.put_slice(&data[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8]) -> Result<Option<Packet>, DecodeError> {
        decode(&mut BytesMut::from(bytes), 128 * 1024)
    }

    #[test]
    fn a_pingreq_decodes_and_consumes_its_two_bytes() {
        let mut buf = BytesMut::from(&[0xc0, 0x00, 0xc0][..]);
        assert_eq!(decode(&mut buf, 1024), Ok(Some(Packet::PingReq)));
        assert_eq!(buf.len(), 1);
        assert_eq!(decode(&mut buf, 1024), Ok(None));
    }

    #[test]
    fn malformed_packets_are_named_by_their_fault() {
        let cases: &[(&[u8], DecodeError)] = &[
            (&[0x00, 0x00], DecodeError::ReservedPacketType(0)),
            (&[0xf0, 0x00], DecodeError::ReservedPacketType(15)),
            (
                &[0x30, 0xff, 0xff, 0xff, 0xff, 0x01],
                DecodeError::MalformedRemainingLength,
            ),
            (
                &[0xc1, 0x00],
                DecodeError::InvalidFlags {
                    packet_type: 12,
                    flags: 1,
                },
            ),
            (
                &[0x80, 0x03, 0x00, 0x01, 0x00],
                DecodeError::InvalidFlags {
                    packet_type: 8,
                    flags: 0,
                },
            ),
            (&[0x82, 0x02, 0x00, 0x01], DecodeError::NoTopicFilters),
            (&[0x82, 0x02, 0x00, 0x00], DecodeError::ZeroPacketId),
            (
                &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x04],
                DecodeError::InvalidSubscriptionOptions,
            ),
            (
                &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x03],
                DecodeError::InvalidQoS,
            ),
            (
                &[0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00],
                DecodeError::EmptyTopic,
            ),
            (
                &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00],
                DecodeError::NullCharacter,
            ),
            (
                &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0xff, 0x00],
                DecodeError::InvalidUtf8,
            ),
            (
                &[0x30, 0x03, 0x00, 0x01, b'#'],
                DecodeError::WildcardInTopicName,
            ),
            (&[0x38, 0x03, 0x00, 0x01, b'a'], DecodeError::DupOnQoS0),
            (&[0x36, 0x03, 0x00, 0x01, b'a'], DecodeError::InvalidQoS),
            (
                &[0x40, 0x03, 0x00, 0x01, 0x00],
                DecodeError::TrailingBytes(1),
            ),
            (&[0x40, 0x01, 0x00], DecodeError::Truncated),
            (
                &[0x10, 0x07, 0x00, 0x04, b'H', b'T', b'T', b'P', 0x04],
                DecodeError::InvalidProtocolName("HTTP".into()),
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                decode_all(bytes).as_ref(),
                Err(expected),
                "decoding {bytes:02x?}"
            );
        }
    }

    #[test]
    fn an_mqtt_5_connect_is_reported_as_an_unsupported_level() {
        // CONNECT, "MQTT", level 5, clean start, keep-alive 60, then v5 properties we never read.
        let bytes = [
            0x10, 0x0d, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00,
            0x00,
        ];
        assert_eq!(
            decode_all(&bytes),
            Err(DecodeError::UnsupportedProtocolLevel(5))
        );
    }

    #[test]
    fn an_oversized_packet_is_refused_from_its_fixed_header_alone() {
        // PUBLISH announcing 200,000 bytes; none of the body has arrived.
        let mut buf = BytesMut::from(&[0x30, 0xc0, 0x9a, 0x0c][..]);
        assert_eq!(
            decode(&mut buf, 128 * 1024),
            Err(DecodeError::TooLarge {
                size: 200_004,
                max: 128 * 1024
            })
        );
    }

    #[test]
    fn a_packet_split_anywhere_decodes_once_complete() {
        let packet = Packet::Subscribe {
            packet_id: 7,
            filters: vec![("serverlesspresso-config-default".into(), QoS::AtLeastOnce)],
        };
        let bytes = packet.to_bytes();
        for split in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..split]);
            assert_eq!(decode(&mut buf, 1024), Ok(None), "split at {split}");
            buf.extend_from_slice(&bytes[split..]);
            assert_eq!(decode(&mut buf, 1024), Ok(Some(packet.clone())));
        }
    }

    #[test]
    fn publish_head_and_size_agree_with_the_full_encoding() {
        for (topic, qos, payload_len) in [
            ("t", QoS::AtMostOnce, 0),
            ("serverlesspresso-user-abc", QoS::AtLeastOnce, 300),
            ("x", QoS::AtLeastOnce, 20_000),
        ] {
            let payload = Bytes::from(vec![7u8; payload_len]);
            let packet_id = (qos != QoS::AtMostOnce).then_some(513);
            let full = Packet::Publish(Publish {
                dup: false,
                qos,
                retain: false,
                topic: topic.into(),
                packet_id,
                payload: payload.clone(),
            })
            .to_bytes();
            let mut assembled = BytesMut::from(&publish_head(topic, qos, payload_len)[..]);
            if let Some(id) = packet_id {
                assembled.put_u16(id);
            }
            assembled.put_slice(&payload);
            assert_eq!(&assembled[..], &full[..]);
            assert_eq!(publish_size(topic.len(), qos, payload_len), full.len());
        }
    }
}
