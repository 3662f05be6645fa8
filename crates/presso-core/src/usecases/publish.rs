//! Fan-out of events: to MQTT topics (the publisher function) and to each order's journey.

use super::UseCaseError;
use crate::events::{Event, MqttMessage};
use crate::ports::{JourneyEntry, OrderRepository, RealtimePublisher};
use crate::time::Timestamp;
use crate::topics::Topic;

/// Publishes `event` to each of its topics ([`Event::topics`]), task tokens stripped. Returns
/// the topics published to. Stops at the first failure, so a retried delivery republishes
/// (MQTT QoS 1 is at-least-once anyway; the apps apply messages idempotently).
pub async fn publish_event(
    realtime: &impl RealtimePublisher,
    event: &Event,
) -> Result<Vec<Topic>, UseCaseError> {
    let message = MqttMessage::from_event(event)?;
    let topics = event.topics();
    for topic in &topics {
        realtime.publish(topic, &message).await?;
    }
    Ok(topics)
}

/// Adds an order event to its order's journey (`at` is the event's time). Returns whether it
/// was added: a redelivered event is not added twice, and events about no order are skipped.
pub async fn record_journey(
    orders: &impl OrderRepository,
    event: &Event,
    at: Timestamp,
) -> Result<bool, UseCaseError> {
    let Some((order_id, _)) = event.order() else {
        return Ok(false);
    };
    let message = MqttMessage::from_event(event)?;
    let text = message
        .detail
        .get("Message")
        .and_then(|m| m.as_str())
        .filter(|m| !m.is_empty())
        .unwrap_or(Event::default_message(event.detail_type()))
        .to_owned();
    let entry = JourneyEntry {
        order_id: order_id.clone(),
        at,
        detail_type: event.detail_type().to_owned(),
        state: event.state_name().to_owned(),
        message: text,
        detail: message.detail,
    };
    Ok(orders.append_journey(&entry).await?)
}
